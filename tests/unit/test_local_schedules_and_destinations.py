"""The local stack reads scheduled rules and Lambda on-failure destinations from the template, so the
upload expiry sweep and the probe's failure path run locally as deployed."""

import subprocess
import sys
from pathlib import Path

from infra.local.blueprint import ScheduleSpec, blueprint
from infra.local.scheduler import scheduled_event

ROOT = Path(__file__).resolve().parents[2]


def test_scheduled_functions_come_from_the_templates_rules() -> None:
    schedules = blueprint().schedules
    assert ScheduleSpec("UploadExpiryFunction", 300) in schedules
    assert ScheduleSpec("StripeReconcileFunction", 3600) in schedules


def test_the_probe_fails_over_to_its_queue_after_two_retries() -> None:
    plan = blueprint()
    probe = plan.functions["ProbeFunction"]
    assert probe.on_failure_queue == plan.physical_names["ProbeFailureQueue"]
    assert probe.max_retry_attempts == 2
    consumers = {trigger.function for trigger in plan.queue_triggers if trigger.queue == "ProbeFailureQueue"}
    assert consumers == {"ProbeFailureFunction"}


def test_a_scheduled_event_looks_like_eventbridges() -> None:
    event = scheduled_event("UploadExpiryFunction")
    assert (event["source"], event["detail-type"], event["detail"]) == ("aws.events", "Scheduled Event", {})


def test_the_stalled_media_handlers_import_without_pyav() -> None:
    # Their functions ship without the ffmpeg layer: importing av or numpy there would fail at cold start.
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'av', 'numpy', 'PIL'}:\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import stalled_media.handler\n"
    )
    env = {"PYTHONPATH": f"{ROOT / 'functions'}", "AWS_DEFAULT_REGION": "us-east-1", "PATH": ""}
    result = subprocess.run([sys.executable, "-c", blocker], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
