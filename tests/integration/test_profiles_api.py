"""Profiles through the API handler: claiming a handle, reading and updating one's own profile, and the
public view of someone else's."""

import pytest

from tests.integration.support import (
    Api,
    error_code,
    fresh,
    get_object,
    raw_item,
    upload_media,
)

PUBLIC_FIELDS = {"id", "handle", "displayName", "bio", "avatarUrl", "isArtist"}


def create(api: Api, user: str | None, handle: str, **fields: object) -> tuple[int, dict]:
    status, body, _ = api(
        "POST", "/api/users", user=user, body={"handle": handle, "displayName": "Dee", **fields}
    )
    return status, body


def test_creating_a_profile_normalises_the_handle(api: Api) -> None:
    # Given a signed-in user without a profile
    user, name = fresh("user-"), fresh("mixed_case.")
    # When they claim "@Mixed_Case..." with surrounding spaces
    status, body = create(api, user, f"  @{name.upper()} ", bio="hello", isArtist=True)
    # Then the profile is created under the lowercase handle without the @
    assert status == 201
    assert body["id"] == user
    assert body["handle"] == name
    assert (body["displayName"], body["bio"], body["isArtist"]) == ("Dee", "hello", True)
    assert body["stripeOnboardingComplete"] is False
    # And the handle is claimed for this user in the Handles table
    assert raw_item("HANDLES_TABLE", {"handle": name})["userId"] == {"S": user}


def test_me_returns_the_callers_profile(api: Api) -> None:
    user, handle = fresh("user-"), fresh("h")
    create(api, user, handle, bio="about me")

    status, body, _ = api("GET", "/api/users/me", user=user)

    assert status == 200
    assert (body["id"], body["handle"], body["bio"]) == (user, handle, "about me")
    assert body["createdAt"] == body["updatedAt"]


def test_me_without_a_profile_is_not_found(api: Api) -> None:
    assert error_code(api("GET", "/api/users/me", user=fresh("user-"))) == (404, "PROFILE_NOT_FOUND")


def test_a_taken_handle_cannot_be_claimed_in_another_spelling(api: Api) -> None:
    # Given someone owns a handle
    owner, handle = fresh("user-"), fresh("h")
    assert create(api, owner, handle)[0] == 201
    # When another user claims it with an @ and in capitals
    other = fresh("user-")
    status, body = create(api, other, "@" + handle.upper())
    # Then it is refused, the claim still points at the owner and the other user has no profile
    assert (status, body["code"]) == (409, "HANDLE_TAKEN")
    assert raw_item("HANDLES_TABLE", {"handle": handle})["userId"] == {"S": owner}
    assert error_code(api("GET", "/api/users/me", user=other)) == (404, "PROFILE_NOT_FOUND")


def test_a_user_cannot_create_a_second_profile(api: Api) -> None:
    user, first, second = fresh("user-"), fresh("h"), fresh("h")
    assert create(api, user, first)[0] == 201

    status, body = create(api, user, second)

    assert (status, body["code"]) == (409, "PROFILE_EXISTS")
    # The second handle was not claimed (the transaction wrote nothing), so someone else can take it
    assert raw_item("HANDLES_TABLE", {"handle": second}) is None
    assert create(api, fresh("user-"), second)[0] == 201
    # And the first profile is untouched
    assert api("GET", "/api/users/me", user=user)[1]["handle"] == first


def hex_chars(count: int) -> str:
    return (fresh("") * 3)[:count]


@pytest.mark.parametrize(
    ("make_handle", "stored"),
    [
        (lambda h: h[:3], lambda h: h[:3]),  # the shortest: 3 characters
        (lambda h: h[:30], lambda h: h[:30]),  # the longest: 30
        (lambda h: "@" + h[:30], lambda h: h[:30]),  # 31 with the @, which is not part of the handle
        (lambda h: "_" + h[:8] + ".x", lambda h: "_" + h[:8] + ".x"),  # underscores and dots
    ],
    ids=["3-chars", "30-chars", "at-plus-30-chars", "underscore-and-dot"],
)
def test_handles_at_the_edges_of_the_rules_are_accepted(api: Api, make_handle, stored) -> None:
    unique = hex_chars(30)

    status, body = create(api, fresh("user-"), make_handle(unique))

    assert status == 201, body
    assert body["handle"] == stored(unique)


@pytest.mark.parametrize(
    "handle",
    ["ab", "has space", ".dotfirst", "dash-ed", "x" * 31, "@@double", "emoji😀", "@", "   "],
)
def test_an_invalid_handle_is_rejected(api: Api, handle: str) -> None:
    user = fresh("user-")

    status, body = create(api, user, handle)

    assert (status, body["code"]) == (400, "INVALID_HANDLE")
    assert error_code(api("GET", "/api/users/me", user=user)) == (404, "PROFILE_NOT_FOUND")


def test_a_reserved_handle_counts_as_taken(api: Api) -> None:
    status, body = create(api, fresh("user-"), "@Admin")

    assert (status, body["code"]) == (409, "HANDLE_TAKEN")


def test_the_public_profile_hides_private_fields(api: Api) -> None:
    # Given an artist with a profile
    user, handle = fresh("user-"), fresh("h")
    create(api, user, handle, bio="public bio", isArtist=True)
    # When anyone looks them up by handle, spelled with an @ and in capitals
    status, body, _ = api("GET", f"/api/users/@{handle.upper()}")
    # Then they see only the public fields: nothing about Stripe or timestamps
    assert status == 200
    assert set(body) == PUBLIC_FIELDS
    assert body == {
        "id": user,
        "handle": handle,
        "displayName": "Dee",
        "bio": "public bio",
        "avatarUrl": None,
        "isArtist": True,
    }


def test_an_unknown_handle_is_not_found(api: Api) -> None:
    assert error_code(api("GET", f"/api/users/{fresh('h')}")) == (404, "USER_NOT_FOUND")


def test_updating_a_profile_with_a_null_bio_clears_it(api: Api) -> None:
    # Given a profile with a bio
    user = fresh("user-")
    _, created = create(api, user, fresh("h"), bio="old bio")
    # When the user renames themselves and sends bio: null (and displayName is not sent as null)
    status, body, _ = api(
        "PATCH",
        "/api/users/me",
        user=user,
        body={"displayName": "  New Name ", "bio": None, "isArtist": True},
    )
    # Then the bio is gone, the rest changed, and GET /me agrees
    assert status == 200
    assert (body["displayName"], body["bio"], body["isArtist"]) == ("New Name", None, True)
    assert body["updatedAt"] > created["updatedAt"]
    assert api("GET", "/api/users/me", user=user)[1] == body
    assert "bio" not in raw_item("USERS_TABLE", {"id": user})


def test_null_for_a_required_profile_field_is_ignored(api: Api) -> None:
    user = fresh("user-")
    create(api, user, fresh("h"), bio="kept", isArtist=True)

    status, body, _ = api("PATCH", "/api/users/me", user=user, body={"displayName": None, "isArtist": None})

    assert status == 200
    assert (body["displayName"], body["bio"], body["isArtist"]) == ("Dee", "kept", True)


def test_updating_without_a_profile_is_not_found(api: Api) -> None:
    reply = api("PATCH", "/api/users/me", user=fresh("user-"), body={"bio": "x"})

    assert error_code(reply) == (404, "PROFILE_NOT_FOUND")


def test_an_uploaded_image_becomes_the_avatar(api: Api, media) -> None:
    # Given a user with a profile and an image uploaded through /api/upload/media
    user = fresh("user-")
    create(api, user, fresh("h"))
    upload_key = upload_media(api, user, media.png, "image/png")
    upload_id = upload_key.rsplit("/", 1)[1].split(".")[0]
    # When they adopt it as their avatar
    status, body, _ = api("PATCH", "/api/users/me", user=user, body={"avatarUploadKey": upload_key})
    # Then the image is copied under users/<id>/avatar/ and the profile links to it
    assert status == 200
    avatar_key = f"users/{user}/avatar/{upload_id}.png"
    assert raw_item("USERS_TABLE", {"id": user})["avatarKey"] == {"S": avatar_key}
    assert get_object(avatar_key) == (media.png, "image/png")
    assert avatar_key in body["avatarUrl"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/users", {"handle": "anonymous", "displayName": "Anon"}),
        ("PATCH", "/api/users/me", {"bio": "x"}),
        ("GET", "/api/users/me", None),
    ],
)
def test_anonymous_callers_cannot_use_their_own_profile(api: Api, method: str, path: str, body) -> None:
    # Given a request without JWT claims (the route is behind the authorizer in production)
    status, reply, _ = api(method, path, body=body)
    # Then it is refused before anything is written
    assert (status, reply["code"]) == (401, "UNAUTHORIZED")
    assert raw_item("HANDLES_TABLE", {"handle": "anonymous"}) is None
