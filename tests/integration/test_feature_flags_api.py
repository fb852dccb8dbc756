"""GET /api/features and /api/studio/features through the API handler on the moto stack: the shipped
flags, flags switched on and off while the stack runs, targeting by artist and by group, and a flag store
that cannot be read."""

from tests.conftest import FeatureFlagsFile
from tests.integration.support import Api, error_code

ALL_FLAGS = {"visual_pairing_v1", "visual_pairing_v2", "visual_marketplace", "visual_generation"}


def test_anonymous_callers_get_the_shipped_defaults(api: Api) -> None:
    status, body, _ = api("GET", "/api/features")
    assert status == 200
    assert body == {
        "artistId": None,
        "features": {
            "visual_pairing_v1": True,
            "visual_pairing_v2": True,
            "visual_marketplace": False,
            "visual_generation": False,
        },
    }


def test_the_local_launch_partner_sees_the_marketplace(api: Api) -> None:
    # The shipped document names artist-1 as the local stack's launch partner (STAGE=local here)
    status, body, _ = api("GET", "/api/features", query={"artistId": "artist-1"})
    assert status == 200
    assert body["artistId"] == "artist-1"
    assert body["features"]["visual_marketplace"] is True
    _, other, _ = api("GET", "/api/features", query={"artistId": "artist-2"})
    assert other["features"]["visual_marketplace"] is False


def test_switching_flags_while_the_stack_runs(api: Api, feature_flags: FeatureFlagsFile) -> None:
    _, before, _ = api("GET", "/api/features")
    assert (before["features"]["visual_pairing_v2"], before["features"]["visual_marketplace"]) == (
        True,
        False,
    )
    # When an operator switches v2 off and the marketplace on
    feature_flags.disable("visual_pairing_v2")
    feature_flags.enable("visual_marketplace")
    # Then the next request says so
    _, after, _ = api("GET", "/api/features")
    assert (after["features"]["visual_pairing_v2"], after["features"]["visual_marketplace"]) == (False, True)
    assert set(after["features"]) == ALL_FLAGS
    # And back
    feature_flags.enable("visual_pairing_v2")
    _, again, _ = api("GET", "/api/features")
    assert again["features"]["visual_pairing_v2"] is True


def test_targeting_launch_partners_by_artist(api: Api, feature_flags: FeatureFlagsFile) -> None:
    feature_flags.target("visual_marketplace", artist_ids=("partner-7",))
    _, partner, _ = api("GET", "/api/features", query={"artistId": "partner-7"})
    _, other, _ = api("GET", "/api/features", query={"artistId": "partner-8"})
    assert partner["features"]["visual_marketplace"] is True
    assert other["features"]["visual_marketplace"] is False


def test_the_studio_route_targets_the_caller_and_their_groups(
    api: Api, feature_flags: FeatureFlagsFile
) -> None:
    feature_flags.target("visual_generation", artist_ids=("partner-9",), groups=("internal",))
    # A partner artist signed in: the artist defaults to themselves
    status, mine, _ = api("GET", "/api/studio/features", user="partner-9")
    assert status == 200
    assert mine["artistId"] == "partner-9"
    assert mine["features"]["visual_generation"] is True
    # Staff (JWT group "internal") looking at any artist
    _, staff, _ = api(
        "GET", "/api/studio/features", user="staff-1", groups=["internal"], query={"artistId": "a-5"}
    )
    assert (staff["artistId"], staff["features"]["visual_generation"]) == ("a-5", True)
    # Anyone else
    _, fan, _ = api("GET", "/api/studio/features", user="fan-1", groups=["admin"], query={"artistId": "a-5"})
    assert fan["features"]["visual_generation"] is False


def test_the_studio_route_needs_a_caller(api: Api) -> None:
    assert error_code(api("GET", "/api/studio/features")) == (401, "UNAUTHORIZED")


def test_an_unreadable_store_answers_503_not_a_crash(api: Api, feature_flags: FeatureFlagsFile) -> None:
    # Given a flag file that was never valid (this process has no last good document)
    feature_flags.write_text("{ this is not JSON")
    reply = api("GET", "/api/features")
    # Then the launched features' state is unknown: a retryable 503 with a stable code
    assert error_code(reply) == (503, "FLAGS_UNAVAILABLE")
    # And once the file is fixed, the next request answers
    feature_flags.disable("visual_generation")
    status, body, _ = api("GET", "/api/features")
    assert status == 200
    assert body["features"]["visual_pairing_v1"] is True


def test_artist_id_is_validated(api: Api) -> None:
    reply = api("GET", "/api/features", query={"artistId": "x" * 129})
    assert error_code(reply) == (422, "VALIDATION_FAILED")
