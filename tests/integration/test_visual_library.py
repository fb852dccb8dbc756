"""V2: a track's visual library through the API handler on moto: reuse an earlier upload, order, tags,
filters, the fan switcher's pagination while the library changes, and suggestions."""

import os
from typing import Any

import boto3
import pytest

from tests.integration.support import (
    Api,
    Artist,
    Media,
    add_visual,
    bucket,
    create_profile,
    create_track,
    error_code,
    object_tags,
    s3,
    studio_visual,
    visual_item,
)


def ready_visual(api: Api, artist: Artist, media: Media, **fields: Any) -> dict:
    visual = add_visual(api, artist.user_id, artist.track_id, media.clip, **fields)
    assert visual["status"] == "READY", visual
    return visual


def reuse(api: Api, user: str, track_id: str, visual_id: str, **fields: Any) -> tuple[int, dict]:
    status, body, _ = api(
        "POST", f"/api/tracks/{track_id}/visuals", user=user, body={"reuseVisualId": visual_id, **fields}
    )
    return status, body


def move(api: Api, artist: Artist, visual_id: str, after: str | None) -> tuple[int, dict]:
    status, body, _ = api(
        "PUT",
        f"/api/tracks/{artist.track_id}/visuals/{visual_id}/position",
        user=artist.user_id,
        body={"afterVisualId": after},
    )
    return status, body


def public_ids(api: Api, track_id: str, **query: str) -> list[str]:
    status, body, _ = api("GET", f"/api/tracks/{track_id}/visuals", query={"limit": "100", **query})
    assert status == 200, body
    return [visual["id"] for visual in body["items"]]


def studio_ids(api: Api, artist: Artist) -> list[str]:
    status, body, _ = api(
        "GET", f"/api/studio/tracks/{artist.track_id}/visuals", user=artist.user_id, query={"limit": "100"}
    )
    assert status == 200, body
    return [visual["id"] for visual in body["items"]]


def second_track(api: Api, artist: Artist, **fields: Any) -> Artist:
    return Artist(artist.user_id, create_track(api, artist.user_id, **fields)["track"]["id"])


def object_count() -> int:
    return int(s3().list_objects_v2(Bucket=bucket()).get("KeyCount", 0))


# Reusing an earlier upload


def test_an_earlier_upload_is_reused_without_copying_its_media(
    api: Api, artist: Artist, media: Media
) -> None:
    original = ready_visual(api, artist, media, tags=["Dark", "films"], bpmMin=80, bpmMax=95)
    other = second_track(api, artist)
    objects_before = object_count()

    status, body = reuse(api, artist.user_id, other.track_id, original["id"])

    assert status == 201, body
    reused = body["visual"]
    assert body["upload"] is None
    assert reused["status"] == "READY" and reused["trackId"] == other.track_id
    assert reused["id"] != original["id"] and reused["reusedFrom"] == original["id"]
    assert (reused["tags"], reused["bpmMin"], reused["bpmMax"]) == (["dark", "film"], 80, 95)
    assert (reused["durationSec"], reused["widthPx"]) == (original["durationSec"], original["widthPx"])
    assert visual_item(reused["id"])["sourceKey"] == visual_item(original["id"])["sourceKey"]
    assert object_count() == objects_before
    assert public_ids(api, other.track_id) == [reused["id"]]


def test_a_reuse_can_bring_its_own_description(api: Api, artist: Artist, media: Media) -> None:
    original = ready_visual(api, artist, media, tags=["dark"])
    other = second_track(api, artist)

    status, body = reuse(api, artist.user_id, other.track_id, original["id"], tags=["chill"], bpmMax=100)

    assert status == 201, body
    assert (body["visual"]["tags"], body["visual"]["bpmMin"], body["visual"]["bpmMax"]) == (
        ["chill"],
        None,
        100,
    )


def test_reuse_refuses_other_peoples_unprocessed_and_duplicate_media(
    api: Api, artist: Artist, media: Media
) -> None:
    mine = ready_visual(api, artist, media)
    other = second_track(api, artist)
    someone = create_profile(api)
    their_track = create_track(api, someone)["track"]["id"]
    processing = api(
        "POST",
        f"/api/tracks/{artist.track_id}/visuals",
        user=artist.user_id,
        body={"contentType": "video/mp4"},
    )[1]["visual"]

    assert reuse(api, someone, their_track, mine["id"])[0] == 403
    assert reuse(api, someone, their_track, mine["id"])[1]["code"] == "VISUAL_NOT_OWNED"
    assert reuse(api, artist.user_id, other.track_id, processing["id"])[1]["code"] == "VISUAL_NOT_READY"
    assert (
        reuse(api, artist.user_id, other.track_id, "01jzzzzzzzzzzzzzzzzzzzzzzz")[1]["code"]
        == "VISUAL_NOT_FOUND"
    )
    status, duplicate = reuse(api, artist.user_id, artist.track_id, mine["id"])
    assert (status, duplicate["code"]) == (409, "VISUAL_ALREADY_ON_TRACK")
    # A reuse of a reuse is still one piece of media: it cannot land twice on the same track either.
    first = reuse(api, artist.user_id, other.track_id, mine["id"])[1]["visual"]
    third = second_track(api, artist)
    again = reuse(api, artist.user_id, third.track_id, first["id"])[1]["visual"]
    assert again["reusedFrom"] == mine["id"]
    assert reuse(api, artist.user_id, third.track_id, mine["id"])[1]["code"] == "VISUAL_ALREADY_ON_TRACK"


def test_unarchiving_cannot_make_the_same_media_live_twice_on_a_track(
    api: Api, artist: Artist, media: Media
) -> None:
    original = ready_visual(api, artist, media)
    api("POST", f"/api/tracks/{artist.track_id}/visuals/{original['id']}/archive", user=artist.user_id)
    reused = reuse(api, artist.user_id, artist.track_id, original["id"])[1]["visual"]["id"]

    refused = api(
        "POST", f"/api/tracks/{artist.track_id}/visuals/{original['id']}/unarchive", user=artist.user_id
    )

    assert error_code(refused) == (409, "VISUAL_ALREADY_ON_TRACK")
    assert studio_visual(api, artist.user_id, original["id"])["status"] == "ARCHIVED"
    assert public_ids(api, artist.track_id) == [reused]


def test_an_archived_reuse_is_brought_back_by_unarchiving_not_by_reusing_again(
    api: Api, artist: Artist, media: Media
) -> None:
    original = ready_visual(api, artist, media)
    other = second_track(api, artist)
    first = reuse(api, artist.user_id, other.track_id, original["id"])[1]["visual"]["id"]
    api("POST", f"/api/tracks/{other.track_id}/visuals/{first}/archive", user=artist.user_id)

    status, again = reuse(api, artist.user_id, other.track_id, original["id"])
    restored = api("POST", f"/api/tracks/{other.track_id}/visuals/{first}/unarchive", user=artist.user_id)

    assert (status, again["code"]) == (409, "VISUAL_ALREADY_ON_TRACK")
    assert "unarchive" in again["message"]
    assert restored[0] == 200
    assert public_ids(api, other.track_id) == [first]


def test_exactly_one_source_is_required(api: Api, artist: Artist, media: Media) -> None:
    mine = ready_visual(api, artist, media)
    path = f"/api/tracks/{artist.track_id}/visuals"

    both = api(
        "POST", path, user=artist.user_id, body={"contentType": "video/mp4", "reuseVisualId": mine["id"]}
    )
    none = api("POST", path, user=artist.user_id, body={})

    assert error_code(both) == (400, "INVALID_VISUAL_SOURCE")
    assert error_code(none) == (400, "INVALID_VISUAL_SOURCE")


def test_the_library_picker_lists_each_upload_once_newest_first(api: Api, media: Media) -> None:
    user = create_profile(api)
    artist = Artist(user, create_track(api, user)["track"]["id"])
    first = ready_visual(api, artist, media)
    failed = add_visual(api, user, artist.track_id, b"not a video at all" * 8)
    second = ready_visual(api, artist, media)
    reuse(api, user, second_track(api, artist).track_id, first["id"])

    status, body, _ = api("GET", "/api/studio/visuals", user=user, query={"limit": "1"})
    status2, body2, _ = api(
        "GET", "/api/studio/visuals", user=user, query={"limit": "1", "cursor": body["nextCursor"]}
    )

    assert failed["status"] == "FAILED"
    assert status == status2 == 200
    assert [item["id"] for item in body["items"] + body2["items"]] == [second["id"], first["id"]]
    assert body2["nextCursor"] is None


def test_archiving_shared_media_keeps_it_warm_while_another_track_uses_it(
    api: Api, artist: Artist, media: Media
) -> None:
    original = ready_visual(api, artist, media)
    other = second_track(api, artist)
    reused = reuse(api, artist.user_id, other.track_id, original["id"])[1]["visual"]
    key = visual_item(original["id"])["sourceKey"]["S"]
    archive = "/api/tracks/{}/visuals/{}/archive"

    api("POST", archive.format(artist.track_id, original["id"]), user=artist.user_id)
    tags_while_shared = object_tags(key)
    api("POST", archive.format(other.track_id, reused["id"]), user=artist.user_id)
    tags_when_unused = object_tags(key)
    api("POST", f"/api/tracks/{other.track_id}/visuals/{reused['id']}/unarchive", user=artist.user_id)

    assert tags_while_shared == {}
    assert tags_when_unused == {"status": "archived"}
    assert object_tags(key) == {}


# Order


def test_moving_a_visual_changes_its_place_and_nothing_else(api: Api, artist: Artist, media: Media) -> None:
    a, b, c, d = (ready_visual(api, artist, media)["id"] for _ in range(4))
    positions_before = {visual_id: visual_item(visual_id)["position"] for visual_id in (a, b, c)}

    assert move(api, artist, d, None)[0] == 200
    assert public_ids(api, artist.track_id) == [d, a, b, c]
    assert move(api, artist, a, c)[0] == 200
    assert public_ids(api, artist.track_id) == [d, b, c, a]
    assert move(api, artist, d, b)[0] == 200

    assert public_ids(api, artist.track_id) == [b, d, c, a]
    assert studio_ids(api, artist) == [b, d, c, a]
    assert {visual_id: visual_item(visual_id)["position"] for visual_id in (b, c)} == {
        b: positions_before[b],
        c: positions_before[c],
    }


def test_many_moves_into_the_same_gap_keep_a_strict_order(api: Api, artist: Artist, media: Media) -> None:
    first, last, *movers = (ready_visual(api, artist, media)["id"] for _ in range(6))
    for mover in movers:
        assert move(api, artist, mover, first)[0] == 200  # each lands right after `first`

    assert public_ids(api, artist.track_id) == [first, *reversed(movers), last]


def test_a_new_visual_joins_the_end_even_after_moves(api: Api, artist: Artist, media: Media) -> None:
    a, b = (ready_visual(api, artist, media)["id"] for _ in range(2))
    move(api, artist, a, b)

    c = ready_visual(api, artist, media)["id"]

    assert public_ids(api, artist.track_id) == [b, a, c]


def test_only_the_artist_moves_and_only_within_the_track(api: Api, artist: Artist, media: Media) -> None:
    a, b = (ready_visual(api, artist, media)["id"] for _ in range(2))
    elsewhere = ready_visual(api, second_track(api, artist), media)["id"]
    someone = create_profile(api)
    path = f"/api/tracks/{artist.track_id}/visuals/{a}/position"

    assert error_code(api("PUT", path, user=someone, body={"afterVisualId": b})) == (403, "NOT_TRACK_OWNER")
    assert error_code(api("PUT", path, body={"afterVisualId": b}))[0] == 401
    assert move(api, artist, a, elsewhere)[1]["code"] == "VISUAL_NOT_FOUND"
    assert move(api, artist, a, a)[1]["code"] == "INVALID_POSITION"
    assert public_ids(api, artist.track_id) == [a, b]


# Tags and filters


def test_tags_are_normalised_on_create_and_on_edit(api: Api, artist: Artist, media: Media) -> None:
    visual = ready_visual(api, artist, media, tags=["Lo-Fi", " DARK ", "films", "moody"])
    path = f"/api/tracks/{artist.track_id}/visuals/{visual['id']}"

    assert visual["tags"] == ["dark", "film", "lofi"]
    status, edited, _ = api(
        "PATCH", path, user=artist.user_id, body={"tags": ["3-D", "chilled"], "bpmMin": 70}
    )
    assert status == 200, edited
    assert (edited["tags"], edited["bpmMin"], edited["bpmMax"]) == (["chill", "3d"], 70, None)
    status, kept, _ = api("PATCH", path, user=artist.user_id, body={"bpmMax": 90})
    assert (kept["tags"], kept["bpmMin"], kept["bpmMax"]) == (["chill", "3d"], 70, 90)
    assert set(visual_item(visual["id"])["tags"]["SS"]) == {"chill", "3d"}
    status, cleared, _ = api("PATCH", path, user=artist.user_id, body={"tags": []})
    assert cleared["tags"] == [] and "tags" not in visual_item(visual["id"])


def test_null_clears_a_bpm_bound_and_an_absent_field_keeps_it(api: Api, artist: Artist, media: Media) -> None:
    visual = ready_visual(api, artist, media, tags=["dark"], bpmMin=80, bpmMax=90)
    path = f"/api/tracks/{artist.track_id}/visuals/{visual['id']}"

    status, body, _ = api("PATCH", path, user=artist.user_id, body={"bpmMin": None})

    assert status == 200, body
    assert (body["tags"], body["bpmMin"], body["bpmMax"]) == (["dark"], None, 90)
    assert "bpmMin" not in visual_item(visual["id"]) and visual_item(visual["id"])["bpmMax"] == {"N": "90"}


def test_unknown_tags_and_bad_bpm_ranges_are_refused_and_change_nothing(
    api: Api, artist: Artist, media: Media
) -> None:
    visual = ready_visual(api, artist, media, tags=["dark"], bpmMin=80, bpmMax=90)
    path = f"/api/tracks/{artist.track_id}/visuals/{visual['id']}"

    status, body, _ = api("PATCH", path, user=artist.user_id, body={"tags": ["dark", "polka"]})
    assert (status, body["code"]) == (400, "INVALID_TAG")
    assert body["details"][0]["rejected"] == ["polka"] and "dark" in body["details"][0]["allowed"]
    assert "Allowed: mood: chill" in body["message"]
    assert error_code(api("PATCH", path, user=artist.user_id, body={"bpmMin": 120})) == (
        400,
        "INVALID_BPM_RANGE",
    )
    assert error_code(api("PATCH", path, user=artist.user_id, body={"bpmMax": 500})) == (
        422,
        "VALIDATION_FAILED",
    )
    assert error_code(
        api(
            "POST",
            f"/api/tracks/{artist.track_id}/visuals",
            user=artist.user_id,
            body={"contentType": "video/mp4", "tags": ["kazoo"]},
        )
    ) == (400, "INVALID_TAG")
    after = studio_visual(api, artist.user_id, visual["id"])
    assert (after["tags"], after["bpmMin"], after["bpmMax"]) == (["dark"], 80, 90)
    assert len(studio_ids(api, artist)) == 1


def test_the_switcher_filters_by_tag_kind_and_bpm(api: Api, artist: Artist, media: Media) -> None:
    dark_slow = ready_visual(api, artist, media, tags=["dark", "film"], bpmMin=60, bpmMax=90)["id"]
    dark_open = ready_visual(api, artist, media, tags=["dark"], bpmMin=85)["id"]
    chill = ready_visual(api, artist, media, tags=["chill"], bpmMax=100)["id"]
    untagged = ready_visual(api, artist, media)["id"]
    track = artist.track_id

    assert public_ids(api, track) == [dark_slow, dark_open, chill, untagged]
    assert public_ids(api, track, tag="Dark") == [dark_slow, dark_open]
    assert public_ids(api, track, tag="dark,films") == [dark_slow]
    assert public_ids(api, track, bpm="88") == [dark_slow, dark_open, chill]
    assert public_ids(api, track, bpm="120") == [dark_open]
    assert public_ids(api, track, bpm="70", tag="dark") == [dark_slow]
    assert public_ids(api, track, kind="ARTIST", tag="chill") == [chill]
    assert public_ids(api, track, kind="COMMUNITY") == []
    assert error_code(api("GET", f"/api/tracks/{track}/visuals", query={"tag": "polka"})) == (
        400,
        "INVALID_TAG",
    )


def test_the_tag_allowlist_is_public(api: Api) -> None:
    status, body, _ = api("GET", "/api/tags")

    assert status == 200
    assert {"slug": "lofi", "label": "Lo-fi", "category": "genre"} in body["items"]
    assert {item["category"] for item in body["items"]} == {"mood", "aesthetic", "genre"}
    assert body["trackCategories"] == ["mood", "genre"]


def test_a_track_takes_genre_and_mood_tags_only(api: Api, artist: Artist) -> None:
    path = f"/api/tracks/{artist.track_id}"

    status, track, _ = api("PATCH", path, user=artist.user_id, body={"tags": ["Lo fi", "nostalgia"]})
    refused = api("PATCH", path, user=artist.user_id, body={"tags": ["film"]})

    assert status == 200 and track["tags"] == ["nostalgic", "lofi"]
    assert error_code(refused) == (400, "INVALID_TAG")
    assert api("GET", path)[1]["tags"] == ["nostalgic", "lofi"]


# The fan switcher's pages while the library changes


def test_pages_neither_repeat_nor_skip_while_visuals_are_added_and_archived(
    api: Api, artist: Artist, media: Media
) -> None:
    original = [ready_visual(api, artist, media)["id"] for _ in range(7)]
    archived_later = original[5]
    seen: list[str] = []
    added: list[str] = []
    query = {"limit": "2"}
    while True:
        status, page, _ = api("GET", f"/api/tracks/{artist.track_id}/visuals", query=query)
        assert status == 200, page
        seen += [visual["id"] for visual in page["items"]]
        if not page["nextCursor"]:
            break
        # Between pages: a new visual arrives and, once, one not yet seen is archived.
        added.append(ready_visual(api, artist, media)["id"])
        if archived_later not in seen and len(added) == 1:
            api(
                "POST", f"/api/tracks/{artist.track_id}/visuals/{archived_later}/archive", user=artist.user_id
            )
        query = {"limit": "2", "cursor": page["nextCursor"]}
        assert len(seen) < 40

    assert len(seen) == len(set(seen)), "an item was served twice"
    assert seen[:6] == [visual for visual in original if visual != archived_later]
    assert seen[6:] == added  # every arrival is served once, in the order it arrived


def test_fans_see_ready_unarchived_visuals_only(api: Api, artist: Artist, media: Media) -> None:
    shown = ready_visual(api, artist, media)["id"]
    hidden = ready_visual(api, artist, media)["id"]
    add_visual(api, artist.user_id, artist.track_id, b"nope" * 64)  # FAILED
    api(
        "POST",
        f"/api/tracks/{artist.track_id}/visuals",
        user=artist.user_id,
        body={"contentType": "video/mp4"},
    )
    api("POST", f"/api/tracks/{artist.track_id}/visuals/{hidden}/archive", user=artist.user_id)

    assert public_ids(api, artist.track_id) == [shown]
    assert len(studio_ids(api, artist)) == 4


# Suggestions


def test_suggestions_rank_the_artists_visuals_for_the_track_and_say_why(api: Api, media: Media) -> None:
    user = create_profile(api)
    track = Artist(user, create_track(api, user, tags=["lofi", "dark"])["track"]["id"])
    elsewhere = Artist(user, create_track(api, user)["track"]["id"])
    on_track = ready_visual(api, track, media, tags=["dark"])["id"]
    best = ready_visual(api, elsewhere, media, tags=["lofi", "dark", "film"])["id"]
    unrelated = ready_visual(api, elsewhere, media, tags=["euphoric"])["id"]
    reused_here = reuse(api, user, track.track_id, unrelated)[1]["visual"]["id"]

    status, body, _ = api("GET", f"/api/tracks/{track.track_id}/visuals/suggestions", user=user)

    assert status == 200, body
    items = body["items"]
    assert [item["visual"]["id"] for item in items] == [best, on_track, reused_here]
    assert [item["onTrack"] for item in items] == [False, True, True]
    assert items[0]["matchedTags"] == ["dark", "lofi"]
    assert items[0]["reason"] == "matched on: dark, lo-fi · 0 pairings · new this week"
    assert items[2]["reason"].startswith("no shared tags")


def test_suggestions_are_for_the_tracks_artist(api: Api, artist: Artist) -> None:
    someone = create_profile(api)
    path = f"/api/tracks/{artist.track_id}/visuals/suggestions"

    assert error_code(api("GET", path, user=someone)) == (403, "NOT_TRACK_OWNER")
    assert api("GET", path)[0] == 401


@pytest.mark.parametrize("limit", ["0", "51"])
def test_suggestion_limits_are_validated(api: Api, artist: Artist, limit: str) -> None:
    path = f"/api/tracks/{artist.track_id}/visuals/suggestions"
    assert error_code(api("GET", path, user=artist.user_id, query={"limit": limit})) == (
        422,
        "VALIDATION_FAILED",
    )


# Visuals stored before V2 (no position; the list key was the id)


def make_pre_v2(visual_id: str) -> None:
    boto3.client("dynamodb").update_item(
        TableName=os.environ["VISUALS_TABLE"],
        Key={"id": {"S": visual_id}},
        UpdateExpression="REMOVE #position SET listKey = :id",
        ExpressionAttributeNames={"#position": "position"},
        ExpressionAttributeValues={":id": {"S": visual_id}},
    )


def test_a_library_from_before_v2_is_listed_paged_and_reordered(
    api: Api, artist: Artist, media: Media
) -> None:
    old = [ready_visual(api, artist, media)["id"] for _ in range(3)]
    for visual_id in old:
        make_pre_v2(visual_id)
    newer = ready_visual(api, artist, media)["id"]

    first = api("GET", f"/api/tracks/{artist.track_id}/visuals", query={"limit": "2"})[1]
    rest = api(
        "GET", f"/api/tracks/{artist.track_id}/visuals", query={"limit": "2", "cursor": first["nextCursor"]}
    )[1]
    assert [item["id"] for item in first["items"] + rest["items"]] == [*old, newer]
    assert api("GET", f"/api/visuals/{old[0]}")[0] == 200

    assert move(api, artist, newer, old[0])[0] == 200
    assert move(api, artist, old[0], old[2])[0] == 200

    assert public_ids(api, artist.track_id) == [newer, old[1], old[2], old[0]]
    assert all("position" in visual_item(visual_id) for visual_id in old)
