"""The hook preview is exactly the hook: its length, and audio from the hook's range only."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from casset.media.preview import cut_preview
from casset.media.probe import ProbeRejected, probe_audio

RATE = 44_100


def _silence_then_tone(path: Path, silent_sec: float, tone_sec: float) -> Path:
    """A WAV that is silent, then loud: where a clip was cut from shows in its loudness."""
    silent = np.zeros(int(silent_sec * RATE), dtype=np.int16)
    tone = (np.sin(2 * np.pi * 440 * np.arange(int(tone_sec * RATE)) / RATE) * 20_000).astype(np.int16)
    samples = np.concatenate([silent, tone])
    with av.open(str(path), mode="w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=RATE)
        stream.layout = "mono"
        for offset in range(0, len(samples), 4096):
            frame = av.AudioFrame.from_ndarray(
                samples[None, offset : offset + 4096], format="s16", layout="mono"
            )
            frame.sample_rate, frame.pts, frame.time_base = RATE, offset, Fraction(1, RATE)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _rms(path: Path) -> float:
    with av.open(str(path)) as container:
        chunks = [frame.to_ndarray() for frame in container.decode(audio=0)]
    return float(np.sqrt(np.mean(np.concatenate(chunks, axis=1) ** 2)))


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _silence_then_tone(tmp_path_factory.mktemp("preview") / "source.wav", 6.0, 6.0)


def test_the_clip_lasts_the_hook_and_is_aac_in_m4a(source: Path, tmp_path: Path) -> None:
    clip = tmp_path / "clip.m4a"
    clip.write_bytes(cut_preview(source, 6.5, 5.0))
    probed = probe_audio(clip)
    assert probed.codec == "aac" and probed.duration_sec == pytest.approx(5.0, abs=0.05)


def test_the_clip_holds_the_hook_range_and_nothing_before_it(source: Path, tmp_path: Path) -> None:
    silent, loud = tmp_path / "silent.m4a", tmp_path / "loud.m4a"
    silent.write_bytes(cut_preview(source, 0.5, 5.0))
    loud.write_bytes(cut_preview(source, 6.5, 5.0))
    assert _rms(silent) < 0.01 < 0.2 < _rms(loud)


def test_a_hook_past_the_end_of_the_audio_is_refused(source: Path) -> None:
    with pytest.raises(ProbeRejected):
        cut_preview(source, 20.0, 5.0)
