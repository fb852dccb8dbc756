"""How long the probe takes on the largest visual we accept, and how much memory it needs.

A 30 s 1080x1920 H.264 clip at 30 fps (the spec's upper bound) and a 5 s 720x1280 clip are generated
once, then each is probed in a fresh subprocess (so peak RSS is the probe's alone), several times.
"""

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.media_factory import make_video

RUNS = 5
_CHILD = """
import json, resource, sys, time
from casset.media.probe import probe_video
started, cpu = time.perf_counter(), time.process_time()
probe = probe_video(sys.argv[1])
print(json.dumps({
    "wall": time.perf_counter() - started,
    "cpu": time.process_time() - cpu,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "duration": probe.duration_sec,
    "size": [probe.width_px, probe.height_px],
}))
"""


def _probe_once(path: Path) -> dict:
    output = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(output.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        clips = {
            "30s 1080x1920@30": make_video(
                Path(workdir) / "big.mp4", seconds=30, width=1080, height=1920, fps=30
            ),
            "5s 720x1280@30": make_video(
                Path(workdir) / "small.mp4", seconds=5, width=720, height=1280, fps=30
            ),
        }
        for name, path in clips.items():
            started = time.perf_counter()
            runs = [_probe_once(path) for _ in range(RUNS)]
            walls = sorted(run["wall"] for run in runs)
            print(
                f"probe {name} ({path.stat().st_size / 1e6:.1f} MB): "
                f"median {statistics.median(walls) * 1000:.0f} ms, max {walls[-1] * 1000:.0f} ms, "
                f"cpu {statistics.median(run['cpu'] for run in runs) * 1000:.0f} ms, "
                f"peak RSS {max(run['rss_mb'] for run in runs):.0f} MB "
                f"(process incl. PyAV import; {RUNS} runs in {time.perf_counter() - started:.1f} s)"
            )


if __name__ == "__main__":
    main()
