"""Feature flags on the real API: a disabled feature is a 403 FEATURE_DISABLED on every route it covers,
which each of those operations declares in the OpenAPI document; it can be switched on for chosen
(launch-partner) artists and staff groups, and nothing is written meanwhile."""

from typing import Any

import pytest

from tests.conftest import FeatureFlagsFile
from tests.integration.support import (
    Api,
    Artist,
    Media,
    add_visual,
    assert_declared,
    create_profile,
    create_track,
)

V1, V2 = "visual_pairing_v1", "visual_pairing_v2"


def ready_visual(api: Api, artist: Artist, media: Media) -> str:
    visual = add_visual(api, artist.user_id, artist.track_id, media.clip)
    assert visual["status"] == "READY", visual
    return str(visual["id"])


def v2_routes(artist: Artist, visual_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, keyword arguments for `api`) of everything behind visual_pairing_v2."""
    track, user = artist.track_id, artist.user_id
    return [
        ("GET", f"/api/tracks/{track}/visuals", {}),
        ("GET", f"/api/tracks/{track}/visuals/suggestions", {"user": user}),
        ("GET", "/api/studio/visuals", {"user": user}),
        ("PATCH", f"/api/tracks/{track}/visuals/{visual_id}", {"user": user, "body": {"tags": ["dark"]}}),
        (
            "PUT",
            f"/api/tracks/{track}/visuals/{visual_id}/position",
            {"user": user, "body": {"afterVisualId": None}},
        ),
        ("POST", f"/api/tracks/{track}/visuals", {"user": user, "body": {"reuseVisualId": visual_id}}),
        (
            "POST",
            f"/api/tracks/{track}/visuals",
            {"user": user, "body": {"contentType": "video/mp4", "tags": ["dark"]}},
        ),
        (
            "POST",
            "/api/hooks/tiktok-video",
            {"user": user, "body": {"trackId": track}, "query": {"v": visual_id}},
        ),
        ("POST", "/api/shares", {"user": user, "body": {"trackId": track, "visualAssetId": visual_id}}),
        ("POST", f"/api/visuals/{visual_id}/event", {"body": {"type": "impression"}}),
        ("POST", f"/api/me/visuals/{visual_id}/event", {"user": user, "body": {"type": "pairing"}}),
        ("PATCH", f"/api/tracks/{track}", {"user": user, "body": {"tags": ["lofi"]}}),
        ("POST", "/api/tracks", {"user": user, "body": {"title": "T", "tags": ["lofi"]}}),
    ]


def test_with_v2_off_every_library_route_answers_403_and_writes_nothing(
    api: Api, artist: Artist, media: Media, feature_flags: FeatureFlagsFile
) -> None:
    # Given a READY visual, and the visual library (v2) switched off
    visual_id = ready_visual(api, artist, media)
    feature_flags.disable(V2)

    # When every route behind v2 is called
    answers = [api(method, path, **options) for method, path, options in v2_routes(artist, visual_id)]

    # Then each answers a declared 403 FEATURE_DISABLED naming v2, and nothing was written
    for (method, path, _), (status, body, _) in zip(v2_routes(artist, visual_id), answers, strict=True):
        assert (status, body["code"]) == (403, "FEATURE_DISABLED"), (method, path, body)
        assert_declared(method, path, status)
        assert body["details"] == [{"feature": V2}]
        assert "visual library" in body["message"]
    feature_flags.enable(V2)
    studio = api("GET", f"/api/studio/tracks/{artist.track_id}/visuals", user=artist.user_id)[1]
    assert [visual["id"] for visual in studio["items"]] == [visual_id]
    assert studio["items"][0]["tags"] == []


def test_v1_features_keep_working_with_v2_off(
    api: Api, artist: Artist, media: Media, feature_flags: FeatureFlagsFile
) -> None:
    feature_flags.disable(V2)

    visual_id = ready_visual(api, artist, media)
    status, _, _ = api(
        "PATCH",
        f"/api/tracks/{artist.track_id}/visuals/{visual_id}/active",
        user=artist.user_id,
        body={"active": True},
    )

    assert status == 200
    assert api("GET", f"/api/visuals/{visual_id}")[0] == 200


def test_with_v1_off_visuals_cannot_be_added_or_activated(
    api: Api, artist: Artist, media: Media, feature_flags: FeatureFlagsFile
) -> None:
    # Given a READY visual, and visual pairing (v1) switched off
    visual_id = ready_visual(api, artist, media)
    feature_flags.disable(V1)

    # When the artist adds or activates a visual, or anyone reads one
    added = api(
        "POST",
        f"/api/tracks/{artist.track_id}/visuals",
        user=artist.user_id,
        body={"contentType": "video/mp4"},
    )
    activated = api(
        "PATCH",
        f"/api/tracks/{artist.track_id}/visuals/{visual_id}/active",
        user=artist.user_id,
        body={"active": True},
    )
    reads = [
        ("GET", f"/api/visuals/{visual_id}", None),
        ("GET", f"/api/studio/visuals/{visual_id}", artist.user_id),
        ("GET", f"/api/studio/tracks/{artist.track_id}/visuals", artist.user_id),
    ]
    fetched = [api(method, path, user=user) for method, path, user in reads]

    # Then each is a 403 FEATURE_DISABLED naming v1, which each read declares, and nothing was activated
    for status, body, _ in (added, activated, *fetched):
        assert (status, body["code"], body["details"]) == (403, "FEATURE_DISABLED", [{"feature": V1}])
    for (method, path, _), (status, _, _) in zip(reads, fetched, strict=True):
        assert_declared(method, path, status)
    feature_flags.enable(V1)
    assert api("GET", f"/api/tracks/{artist.track_id}")[1]["activeVisualId"] is None


def test_a_feature_can_be_on_for_launch_partner_artists_only(
    api: Api, media: Media, feature_flags: FeatureFlagsFile
) -> None:
    partner_user = create_profile(api)
    partner = Artist(partner_user, create_track(api, partner_user)["track"]["id"])
    other_user = create_profile(api)
    other = Artist(other_user, create_track(api, other_user)["track"]["id"])
    feature_flags.target(V2, artist_ids=(partner.user_id,))

    partner_list = api("GET", f"/api/tracks/{partner.track_id}/visuals")
    other_list = api("GET", f"/api/tracks/{other.track_id}/visuals")

    # Fans of a partner artist see the switcher (the rule looks at the track's artist, not the caller).
    assert partner_list[0] == 200
    assert (other_list[0], other_list[1]["code"]) == (403, "FEATURE_DISABLED")


@pytest.mark.parametrize(("groups", "allowed"), [(["internal"], True), (["fans"], False), (None, False)])
def test_a_feature_can_be_on_for_a_staff_group(
    api: Api, artist: Artist, feature_flags: FeatureFlagsFile, groups: list[str] | None, allowed: bool
) -> None:
    feature_flags.target(V2, groups=("internal",))

    status, body, _ = api(
        "GET", f"/api/tracks/{artist.track_id}/visuals/suggestions", user=artist.user_id, groups=groups
    )

    assert status == (200 if allowed else 403), body
