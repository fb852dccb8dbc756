"""casset-render: the command line around render_hook_video()."""

import subprocess
import sys
from pathlib import Path

import av
import pytest

from casset.media.render.cli import main
from tests.media_factory import make_audio, make_corrupt_mp4

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def track(tmp_path_factory) -> Path:
    return make_audio(tmp_path_factory.mktemp("cli") / "track.m4a", seconds=7.0)


def test_renders_and_prints_a_summary_and_a_progress_bar(track, tmp_path, capsys):
    output = tmp_path / "out.mp4"
    corrupt = make_corrupt_mp4(tmp_path / "corrupt.mp4")
    code = main(
        [str(track), "--start", "1", "--duration", "5", "--visual", str(corrupt), "--title", "Song",
         "--artist", "Band", "--attribution", "someone", "--preset", "low", "-o", str(output)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    assert f"{output}:" in captured.out and "1080x1920 @ 30 fps, 150 frames" in captured.out
    assert "warning: VISUAL_DECODE_FAILED: " in captured.out
    assert "rendering [" in captured.err and "100%" in captured.err
    with av.open(str(output)) as container:
        assert container.streams.video[0].codec_context.name == "h264"


def test_exits_non_zero_with_the_reason_when_the_hook_is_out_of_range(track, tmp_path, capsys):
    code = main([str(track), "--start", "5", "--duration", "5", "-o", str(tmp_path / "out.mp4"), "-q"])
    captured = capsys.readouterr()
    assert code == 2
    assert "HOOK_OUT_OF_RANGE" in captured.err
    assert captured.out == ""
    assert not (tmp_path / "out.mp4").exists()


def test_the_module_runs_as_a_program():
    completed = subprocess.run(
        [sys.executable, "-m", "casset.media.render", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT / 'functions'}:{ROOT}", "PATH": ""},
        check=False,
    )
    assert completed.returncode == 0
    assert "--attribution HANDLE" in completed.stdout and "--preset {high,standard,low}" in completed.stdout


def test_bad_arguments_are_refused_by_argparse(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["track.m4a", "--start", "1", "--duration", "5", "--preset", "ultra", "-o", "x.mp4"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
