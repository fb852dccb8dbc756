"""Feature flags without AWS: the shipped document and its rules, the file store reading a changed file,
what happens when the store cannot be read or serves a broken document, the AppConfig path (through a
stubbed AppConfigData client), the template deploying exactly the repo's document, and the error mapping."""

import io
import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.feature_flags import AppConfigStore, FeatureFlags
from aws_lambda_powertools.utilities.feature_flags.base import StoreProvider
from aws_lambda_powertools.utilities.feature_flags.exceptions import (
    ConfigurationStoreError,
    SchemaValidationError,
)
from botocore.response import StreamingBody
from botocore.stub import Stubber

from casset import flags
from casset.data.flag_store import REQUIRED_FLAGS, FileStore, LastGoodStore, build_store, validate_document
from casset.errors import FeatureDisabled, FlagsUnavailable
from casset.flags import Feature
from casset.settings import Settings, get_settings
from infra.local.functions import LambdaContext
from infra.translate import load_template
from tests.conftest import FeatureFlagsFile, http_event

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "infra" / "feature-flags.json"
RESOURCES = load_template()["Resources"]
CONTEXT: Any = LambdaContext("api", 512, 15)


def shipped(feature: Feature, **context: Any) -> bool:
    """The repo's document evaluated by Powertools for an explicit context."""
    evaluator = FeatureFlags(store=LastGoodStore(FileStore(DOCUMENT), retry_after_sec=0))
    value = evaluator.evaluate(name=feature.value, context=context, default=None)
    assert isinstance(value, bool)
    return value


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedStore(StoreProvider):
    """Serves its documents in turn; an Exception in the script is raised instead. Counts reads."""

    def __init__(self, *script: Any):
        self.script = list(script)
        self.reads = 0

    @property
    def get_raw_configuration(self) -> dict[str, Any]:
        return self.get_configuration()

    def get_configuration(self) -> dict[str, Any]:
        self.reads += 1
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, Exception):
            raise item
        return dict(item)


def document(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {feature.value: {"default": False} for feature in Feature}
    return base | overrides


# The shipped document


def test_the_shipped_document_is_valid_and_defines_every_feature() -> None:
    loaded = json.loads(DOCUMENT.read_text())
    assert validate_document(loaded) is loaded
    assert set(loaded) == {feature.value for feature in Feature}


def test_v1_and_v2_are_on_for_everyone_by_default() -> None:
    for feature in (Feature.VISUAL_PAIRING_V1, Feature.VISUAL_PAIRING_V2):
        assert shipped(feature, stage="prod", groups=[]) is True
        assert shipped(feature, stage="prod", groups=[], artist_id="any-artist", user_id="any-fan") is True


@pytest.mark.parametrize("feature", [Feature.VISUAL_MARKETPLACE, Feature.VISUAL_GENERATION])
def test_marketplace_and_generation_are_off_except_for_internal_staff_and_launch_partners(
    feature: Feature,
) -> None:
    # Off for an ordinary artist and caller, in any stage
    assert shipped(feature, stage="prod", groups=["admin"], artist_id="a-1", user_id="u-1") is False
    # On for internal staff and for signed-in launch partners (their JWT groups)
    assert shipped(feature, stage="prod", groups=["internal"], user_id="staff-1") is True
    assert shipped(feature, stage="prod", groups=["launch-partner"], user_id="a-2") is True
    # The local stack's partner artist by id, in the local stage only
    assert shipped(feature, stage="local", groups=[], artist_id="artist-1") is True
    assert shipped(feature, stage="prod", groups=[], artist_id="artist-1") is False
    assert shipped(feature, stage="local", groups=[], artist_id="artist-12") is False


def test_the_template_deploys_exactly_the_shipped_document() -> None:
    version = RESOURCES["FeatureFlagsVersion"]["Properties"]
    assert version["ContentType"] == "application/json"
    assert json.loads(version["Content"]) == json.loads(DOCUMENT.read_text())
    assert version["ConfigurationProfileId"] == {"Ref": "FeatureFlagsProfile"}
    profile = RESOURCES["FeatureFlagsProfile"]["Properties"]
    assert (profile["LocationUri"], profile["Type"]) == ("hosted", "AWS.Freeform")
    deployment = RESOURCES["FeatureFlagsDeployment"]["Properties"]
    assert deployment["ConfigurationVersion"] == {"Ref": "FeatureFlagsVersion"}
    assert deployment["EnvironmentId"] == {"Ref": "FeatureFlagsEnvironment"}
    assert deployment["DeploymentStrategyId"] == "AppConfig.AllAtOnce"


def test_the_api_function_is_pointed_at_the_profile_and_may_read_only_it() -> None:
    api = RESOURCES["ApiFunction"]["Properties"]
    variables = api["Environment"]["Variables"]
    fields = Settings.model_fields
    assert variables[fields["feature_flags_application"].alias] == {"Ref": "FeatureFlagsApplication"}
    assert variables[fields["feature_flags_environment"].alias] == {"Ref": "FeatureFlagsEnvironment"}
    assert variables[fields["feature_flags_profile"].alias] == {"Ref": "FeatureFlagsProfile"}
    statements = [s for p in api["Policies"] if "Statement" in p for s in p["Statement"]]
    (statement,) = [s for s in statements if any(a.startswith("appconfig:") for a in s["Action"])]
    assert sorted(statement["Action"]) == [
        "appconfig:GetLatestConfiguration",
        "appconfig:StartConfigurationSession",
    ]
    resource = statement["Resource"]["Fn::Sub"]
    assert resource.endswith(
        "application/${FeatureFlagsApplication}/environment/${FeatureFlagsEnvironment}"
        "/configuration/${FeatureFlagsProfile}"
    )


# is_enabled / require / features over a file the test controls


def test_is_enabled_follows_the_document(feature_flags: FeatureFlagsFile) -> None:
    # Given the shipped defaults
    assert flags.is_enabled(Feature.VISUAL_PAIRING_V2) is True
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, artist_id="a-1") is False
    # When v2 is switched off and the marketplace on
    feature_flags.disable(Feature.VISUAL_PAIRING_V2)
    feature_flags.enable(Feature.VISUAL_MARKETPLACE)
    # Then the next evaluations say so (same cached FeatureFlags: the file was read again)
    assert flags.is_enabled(Feature.VISUAL_PAIRING_V2) is False
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, artist_id="a-1") is True


def test_targeting_by_artist_and_by_group(feature_flags: FeatureFlagsFile) -> None:
    feature_flags.target(
        Feature.VISUAL_MARKETPLACE, artist_ids=("partner-1", "partner-2"), groups=("internal",)
    )
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, artist_id="partner-2") is True
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, artist_id="partner-3") is False
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, artist_id="partner-1x") is False
    # A staff member looking at anyone's page, groups as the JWT gives them (a frozenset)
    staff = frozenset({"admin", "internal"})
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, artist_id="x", user_id="s-1", groups=staff) is True
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, user_id="s-2", groups={"admin"}) is False
    # Nobody known: no rule can match
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE) is False


def test_the_context_carries_ids_groups_and_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "prod")
    get_settings.cache_clear()
    try:
        context = flags.evaluation_context(artist_id="a-1", user_id="u-1", groups=frozenset({"b", "a"}))
        assert context == {"artist_id": "a-1", "user_id": "u-1", "groups": ["a", "b"], "stage": "prod"}
        # Unknown ids are left out, so even negative conditions cannot match them
        assert flags.evaluation_context() == {"groups": [], "stage": "prod"}
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_require_raises_feature_disabled_naming_the_feature(feature_flags: FeatureFlagsFile) -> None:
    feature_flags.target(Feature.VISUAL_MARKETPLACE, artist_ids=("partner-1",))
    flags.require(Feature.VISUAL_MARKETPLACE, artist_id="partner-1")
    with pytest.raises(FeatureDisabled) as raised:
        flags.require(Feature.VISUAL_MARKETPLACE, artist_id="someone-else", user_id="fan-1")
    error = raised.value
    assert (error.status, error.code) == (403, "FEATURE_DISABLED")
    assert error.message == "The visual marketplace is not available yet."
    assert error.details == [{"feature": "visual_marketplace"}]


def test_features_lists_every_flag(feature_flags: FeatureFlagsFile) -> None:
    feature_flags.target(Feature.VISUAL_GENERATION, groups=("beta",))
    assert flags.features(user_id="s-1", groups=["beta"]) == {
        Feature.VISUAL_PAIRING_V1: True,
        Feature.VISUAL_PAIRING_V2: True,
        Feature.VISUAL_MARKETPLACE: False,
        Feature.VISUAL_GENERATION: True,
    }


# The file store


def test_the_file_store_reads_the_file_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(document()))
    store = FileStore(path)
    first = store.get_configuration()
    assert first[Feature.VISUAL_MARKETPLACE]["default"] is False
    # Unchanged file: the same parsed document, not a new read
    assert store.get_configuration() is first
    # Edited in place (same inode), with a new mtime
    stamp = path.stat().st_mtime_ns
    path.write_text(json.dumps(document(visual_marketplace={"default": True})))
    os.utime(path, ns=(stamp + 1_000_000_000, stamp + 1_000_000_000))
    assert store.get_configuration()[Feature.VISUAL_MARKETPLACE]["default"] is True


def test_the_file_store_keys_on_the_stamp_not_on_every_call(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    text = json.dumps(document(visual_generation={"default": True}))
    path.write_text(text)
    store = FileStore(path)
    assert store.get_configuration()[Feature.VISUAL_GENERATION]["default"] is True
    # Same size, same mtime, same inode: taken as unchanged, so an evaluation costs a stat, not a parse
    stat = path.stat()
    path.write_text(text.replace("true", "null"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert store.get_configuration()[Feature.VISUAL_GENERATION]["default"] is True
    # A missing file is a store error, not a crash
    path.unlink()
    with pytest.raises(ConfigurationStoreError, match="cannot read feature flags"):
        store.get_configuration()


@pytest.mark.parametrize("content", ["", "{not json", "[1, 2]"])
def test_the_file_store_turns_bad_json_into_a_store_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "flags.json"
    path.write_text(content)
    with pytest.raises(ConfigurationStoreError):
        FileStore(path).get_configuration()


# Unreadable or broken stores


@pytest.mark.parametrize("content", ["{not json", '{"visual_pairing_v1": {"default": true}}'])
def test_never_read_flags_fail_closed_or_answer_503(feature_flags: FeatureFlagsFile, content: str) -> None:
    # Given a store that never served a valid document (broken JSON, or features missing)
    feature_flags.write_text(content)
    # Then the unlaunched features are off
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, groups=["internal"]) is False
    assert flags.is_enabled(Feature.VISUAL_GENERATION, groups=["internal"]) is False
    # And the launched ones are unknown: 503 FLAGS_UNAVAILABLE, not a guess
    for feature in (Feature.VISUAL_PAIRING_V1, Feature.VISUAL_PAIRING_V2):
        with pytest.raises(FlagsUnavailable) as raised:
            flags.require(feature)
        assert (raised.value.status, raised.value.code) == (503, "FLAGS_UNAVAILABLE")


def test_a_broken_edit_keeps_the_last_good_document_until_fixed(feature_flags: FeatureFlagsFile) -> None:
    feature_flags.target(Feature.VISUAL_MARKETPLACE, artist_ids=("partner-1",))
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, artist_id="partner-1") is True
    # A half-saved edit, then one that breaks the schema: the last good document still answers
    feature_flags.write_text('{"visual_marketplace": {"default": tr')
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, artist_id="partner-1") is True
    assert flags.is_enabled(Feature.VISUAL_PAIRING_V1) is True
    feature_flags.write_text(json.dumps(document(visual_marketplace={"default": "yes"})))
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, artist_id="partner-1") is True
    # The fix takes effect on the next evaluation
    feature_flags.disable(Feature.VISUAL_MARKETPLACE)
    assert flags.is_enabled(Feature.VISUAL_MARKETPLACE, artist_id="partner-1") is False


def test_a_broken_file_is_logged_once_not_once_per_evaluation(
    feature_flags: FeatureFlagsFile, caplog: pytest.LogCaptureFixture
) -> None:
    assert flags.is_enabled(Feature.VISUAL_PAIRING_V1) is True
    feature_flags.write_text("{broken")
    for _ in range(3):
        flags.features()
    warnings = [record for record in caplog.records if "serving the last good" in record.getMessage()]
    assert len(warnings) == 1


def test_no_store_configured_is_unavailable_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEATURE_FLAGS_FILE")
    get_settings.cache_clear()
    flags.reset()
    try:
        assert isinstance(flags.feature_flags().store, LastGoodStore)
        assert flags.is_enabled(Feature.VISUAL_MARKETPLACE) is False
        with pytest.raises(FlagsUnavailable):
            flags.is_enabled(Feature.VISUAL_PAIRING_V1)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        flags.reset()


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        (document(visual_marketplace={"default": "yes"}), "default"),
        ({k: v for k, v in document().items() if k != "visual_generation"}, "lacks visual_generation"),
        (
            document(
                visual_marketplace={
                    "default": False,
                    "rules": {
                        "partners": {
                            "when_match": True,
                            "conditions": [
                                {"action": "KEY_IN_VALUE", "key": "artist_id", "value": "artist-12"}
                            ],
                        }
                    },
                }
            ),
            "needs a list value",
        ),
        (document(visual_pairing_v1={"default": "on", "boolean_type": False}), "must be a boolean flag"),
    ],
)
def test_documents_that_would_misbehave_are_rejected(broken: dict[str, Any], reason: str) -> None:
    with pytest.raises(SchemaValidationError, match=reason):
        validate_document(broken)


def test_after_a_failure_the_store_is_asked_again_only_after_the_retry_interval() -> None:
    clock = Clock()
    inner = ScriptedStore(
        document(visual_marketplace={"default": True}),
        ConfigurationStoreError("AppConfig timed out"),
        document(),
    )
    store = LastGoodStore(inner, retry_after_sec=60, clock=clock)
    assert store.get_configuration()["visual_marketplace"]["default"] is True
    # The store fails: the last good document answers, and for 60 s the store is left alone
    assert store.get_configuration()["visual_marketplace"]["default"] is True
    clock.now += 59
    assert store.get_configuration()["visual_marketplace"]["default"] is True
    assert inner.reads == 2
    # Then it is asked again, and its new document answers
    clock.now += 1
    assert store.get_configuration()["visual_marketplace"]["default"] is False
    assert inner.reads == 3


def test_with_nothing_read_a_failing_store_is_not_hammered_either() -> None:
    clock = Clock()
    inner = ScriptedStore(ConfigurationStoreError("AccessDenied"), document())
    store = LastGoodStore(inner, retry_after_sec=60, clock=clock)
    for _ in range(3):
        with pytest.raises(ConfigurationStoreError, match="AccessDenied"):
            store.get_configuration()
    assert inner.reads == 1
    clock.now += 60
    assert store.get_configuration() == document()


# The AppConfig path (production), through a stubbed AppConfigData client


def _configuration(content: dict[str, Any], token: str) -> dict[str, Any]:
    raw = json.dumps(content).encode()
    return {
        "Configuration": StreamingBody(io.BytesIO(raw), len(raw)),
        "NextPollConfigurationToken": token,
        "ContentType": "application/json",
    }


def test_settings_without_a_file_select_the_appconfig_profile() -> None:
    settings = Settings.model_validate(
        {
            "FEATURE_FLAGS_APPLICATION": "app-id",
            "FEATURE_FLAGS_ENVIRONMENT": "env-id",
            "FEATURE_FLAGS_PROFILE": "profile-id",
            "FEATURE_FLAGS_MAX_AGE_SEC": "45",
        }
    )
    store = build_store(settings)
    assert isinstance(store.store, AppConfigStore)
    assert (store.store.application, store.store.environment, store.store.name) == (
        "app-id",
        "env-id",
        "profile-id",
    )
    assert store.store.cache_seconds == 45
    assert store.retry_after_sec == 45
    # A file, when set, wins (make dev and the tests)
    assert isinstance(
        build_store(settings.model_copy(update={"feature_flags_file": "x.json"})).store, FileStore
    )


def test_appconfig_documents_are_evaluated_and_an_outage_serves_the_last_good_one() -> None:
    client = boto3.client("appconfigdata", region_name="us-east-1")
    stubber = Stubber(client)
    identifiers = {
        "ApplicationIdentifier": "app-id",
        "EnvironmentIdentifier": "env-id",
        "ConfigurationProfileIdentifier": "profile-id",
    }
    stubber.add_response("start_configuration_session", {"InitialConfigurationToken": "t0"}, identifiers)
    shipped_document = json.loads(DOCUMENT.read_text())
    stubber.add_response(
        "get_latest_configuration", _configuration(shipped_document, "t1"), {"ConfigurationToken": "t0"}
    )
    stubber.add_client_error("get_latest_configuration", "InternalServerException", http_status_code=500)
    stubber.add_response(
        "get_latest_configuration", _configuration(document(), "t2"), {"ConfigurationToken": "t1"}
    )
    clock = Clock()
    appconfig = AppConfigStore(
        environment="env-id", application="app-id", name="profile-id", max_age=0, boto3_client=client
    )
    evaluator = FeatureFlags(store=LastGoodStore(appconfig, retry_after_sec=60, clock=clock))
    internal = {"groups": ["internal"], "stage": "prod"}
    with stubber:
        assert evaluator.evaluate(name="visual_marketplace", context=internal, default=None) is True
        # AppConfig errors: the document read before still answers
        assert evaluator.evaluate(name="visual_marketplace", context=internal, default=None) is True
        # After the retry interval AppConfig is asked again (with the token it handed out last)
        clock.now += 60
        assert evaluator.evaluate(name="visual_marketplace", context=internal, default=None) is False
        stubber.assert_no_pending_responses()


# The error mapping


def test_flag_errors_reach_the_client_as_403_and_503() -> None:
    from api import errors

    app = APIGatewayHttpResolver()
    errors.register(app)

    @app.get("/disabled")
    def disabled() -> dict:
        raise FeatureDisabled(Feature.VISUAL_GENERATION.value, Feature.VISUAL_GENERATION.label)

    @app.get("/unknown")
    def unknown() -> dict:
        raise FlagsUnavailable("Feature flags could not be read; try again in a moment.")

    response = app.resolve(http_event("GET", "/disabled"), CONTEXT)
    assert response["statusCode"] == 403
    assert json.loads(response["body"]) == {
        "code": "FEATURE_DISABLED",
        "message": "Visual generation is not available yet.",
        "details": [{"feature": "visual_generation"}],
    }
    response = app.resolve(http_event("GET", "/unknown"), CONTEXT)
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["code"] == "FLAGS_UNAVAILABLE"


def test_the_store_requires_exactly_the_features_the_code_knows() -> None:
    assert set(REQUIRED_FLAGS) == {feature.value for feature in Feature}
