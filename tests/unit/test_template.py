"""template.yaml agrees with the code: tables with the PynamoDB items, routes with the API, triggers
with the key layout; and it is cfn-lint clean before and after SAM translation."""

import json
import re
from pathlib import Path

import pytest
from pynamodb.attributes import TTLAttribute
from pynamodb.indexes import AllProjection, IncludeProjection, KeysOnlyProjection

from casset.data.tables import ALL_ITEMS, TABLE_SETTINGS
from casset.media_types import AUDIO_EXTENSIONS, VIDEO_EXTENSIONS
from casset.settings import Settings
from infra.translate import TEMPLATE, lint, load_template, translated

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DOC = load_template()
RESOURCES = TEMPLATE_DOC["Resources"]
ENVIRONMENT = TEMPLATE_DOC["Globals"]["Function"]["Environment"]["Variables"]
_DYNAMO_TYPES = {"UnicodeAttribute": "S", "UTCDateTimeAttribute": "S", "NumberAttribute": "N"}


def _table_of(item: type) -> dict:
    """Follow the item's table through Settings' env var to the template's table resource."""
    variable = Settings.model_fields[TABLE_SETTINGS[item]].alias
    assert variable is not None
    return RESOURCES[ENVIRONMENT[variable]["Ref"]]["Properties"]


def _key_schema(schema: list[dict]) -> dict[str, str]:
    return {entry["KeyType"]: entry["AttributeName"] for entry in schema}


@pytest.mark.parametrize("item", ALL_ITEMS, ids=lambda item: item.__name__)
def test_tables_match_the_pynamodb_items(item: type) -> None:
    table = _table_of(item)
    attributes = item.get_attributes()
    declared = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}

    key = {"HASH": item._hash_keyname}
    if item._range_keyname:
        key["RANGE"] = item._range_keyname
    assert _key_schema(table["KeySchema"]) == {kind: attributes[name].attr_name for kind, name in key.items()}

    indexes = {index.Meta.index_name: index for index in item._indexes.values()}
    template_indexes = {gsi["IndexName"]: gsi for gsi in table.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == set(template_indexes)
    for name, index in indexes.items():
        keys = {
            ("RANGE" if attribute.is_range_key else "HASH"): attribute.attr_name
            for attribute in index.Meta.attributes.values()
        }
        assert _key_schema(template_indexes[name]["KeySchema"]) == keys
        projection = index.Meta.projection
        expected = {AllProjection: "ALL", KeysOnlyProjection: "KEYS_ONLY", IncludeProjection: "INCLUDE"}
        assert template_indexes[name]["Projection"]["ProjectionType"] == expected[type(projection)]
        if isinstance(projection, IncludeProjection):
            assert sorted(template_indexes[name]["Projection"]["NonKeyAttributes"]) == sorted(
                projection.non_key_attributes
            )

    for attribute in attributes.values():
        if attribute.attr_name in declared:
            assert declared[attribute.attr_name] == _DYNAMO_TYPES[type(attribute).__name__]
    ttl = [attribute.attr_name for attribute in attributes.values() if isinstance(attribute, TTLAttribute)]
    assert ttl == (
        [table["TimeToLiveSpecification"]["AttributeName"]] if "TimeToLiveSpecification" in table else []
    )


def test_tables_bill_per_request_and_keep_backups_unless_ephemeral() -> None:
    for name, resource in RESOURCES.items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        properties = resource["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST", name
        ephemeral = "TimeToLiveSpecification" in properties
        assert ephemeral or properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], name


def test_template_is_cfn_lint_clean() -> None:
    from cfnlint.api import ManualArgs, lint_file

    assert [str(match) for match in lint_file(TEMPLATE, config=ManualArgs(regions=["us-east-1"]))] == []


def test_translated_template_is_cfn_lint_clean() -> None:
    assert lint(translated()) == []


def _template_routes() -> dict[tuple[str, str], bool]:
    body = translated()["Resources"]["HttpApi"]["Properties"]["Body"]
    return {
        (method.upper(), path): operation.get("security") != [{"NONE": []}]
        for path, operations in body["paths"].items()
        for method, operation in operations.items()
    }


def _openapi_routes() -> dict[tuple[str, str], bool]:
    from api.openapi import document

    paths = json.loads(document())["paths"]
    return {
        (method.upper(), path): bool(operation.get("security"))
        for path, operations in paths.items()
        for method, operation in operations.items()
    }


def test_every_template_route_is_served_with_the_same_auth() -> None:
    assert _template_routes() == _openapi_routes()


def test_committed_openapi_document_is_current() -> None:
    from api.openapi import document

    committed = (ROOT / "openapi.json").read_text()
    assert json.loads(committed) == json.loads(document()), "openapi.json is stale: run `make openapi`"


def test_probe_triggers_cover_every_accepted_media_extension() -> None:
    events = RESOURCES["ProbeFunction"]["Properties"]["Events"].values()
    triggers = set()
    for event in events:
        rules = {rule["Name"]: rule["Value"] for rule in event["Properties"]["Filter"]["S3Key"]["Rules"]}
        triggers.add((rules["prefix"], rules["suffix"]))
    expected = {("visuals/", f".{ext}") for ext in VIDEO_EXTENSIONS} | {
        ("tracks/", f".{ext}") for ext in AUDIO_EXTENSIONS
    }
    assert triggers == expected


def _requirement_names(lines: list[str]) -> dict[str, str]:
    pattern = re.compile(r"^([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)(.*)$")
    found = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line and (match := pattern.match(line)):
            found[match.group(1).lower()] = match.group(2).strip()
    return found


def test_deployment_requirements_match_pyproject() -> None:
    import tomllib

    declared = _requirement_names(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    zip_functions = _requirement_names((ROOT / "functions/requirements.txt").read_text().splitlines())
    layer = _requirement_names((ROOT / "layers/ffmpeg/requirements.txt").read_text().splitlines())
    render_only = _requirement_names((ROOT / "functions/render/requirements.txt").read_text().splitlines())
    provided_by_the_lambda_runtime = {"boto3": declared["boto3"]}
    assert zip_functions | layer | render_only | provided_by_the_lambda_runtime == declared
    assert not set(zip_functions) & set(layer)
