"""The sample events under events/ (the ones `sam local invoke` uses) drive the real handlers."""

import json
from typing import Any

from api.app import lambda_handler as api_handler
from infra.local.functions import LambdaContext
from probe.handler import lambda_handler as probe_handler
from tests.conftest import load_event

CONTEXT = LambdaContext("sample", 512, 15)


def _call(name: str) -> tuple[int, Any]:
    response = api_handler(load_event(name), CONTEXT)
    return response["statusCode"], json.loads(response["body"])


def test_sample_profile_track_and_upload_events_succeed_in_order(aws: Any) -> None:
    assert _call("http-create-profile.json")[0] == 201
    status, created = _call("http-create-track.json")
    assert status == 201
    assert created["track"]["title"] == "Night Drive"
    assert created["audioUpload"]["key"].startswith(f"tracks/{created['track']['id']}/audio/")
    status, upload = _call("http-create-upload.json")
    assert status == 200
    assert upload["key"].startswith("uploads/video/artist-1/")


def test_sample_list_event_answers_404_for_its_unknown_track(aws: Any) -> None:
    status, body = _call("http-list-visuals.json")
    assert status == 404
    assert body["code"] == "TRACK_NOT_FOUND"


def test_sample_s3_event_for_an_unknown_visual_is_dropped(aws: Any) -> None:
    result = probe_handler(load_event("s3-visual-uploaded.json"), CONTEXT)
    assert [r["outcome"] for r in result["results"]] == ["UNKNOWN_RECORD"]
