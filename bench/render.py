"""How fast the render engine makes a 30 s hook video, against ffmpeg and against the encoder alone.

`python -m bench.render [--rounds N]` generates its inputs once (a 60 s music-like track, a 720x1280
8 s H.264 visual that has to loop, cover art and an avatar), then runs, each in its own subprocess so
peak RSS (ru_maxrss) is that run's alone:

- ours: render_hook_video() at the standard preset with every overlay, the attribution line and the
  contrast scrim (the visual is declared bright);
- ffmpeg: the equivalent command line with imageio-ffmpeg's binary: the visual stream_loop'ed, scaled
  and cropped to 1080x1920, `showfreqs` bars and our overlay layer (as a PNG) overlaid, libx264 at the
  same preset, bitrate and VBV, AAC at the same bitrate;
- floor: PyAV encoding the same number of pre-made 1080x1920 yuv420p frames (decoded from our output
  beforehand) at the same settings, with no decoding or compositing: the cost of the encoder alone.

The machine may be shared, so the three runs are interleaved for N rounds and medians are reported;
each run also measures how much CPU other processes took meanwhile (/proc/stat) and is repeated when
that exceeds OTHER_LOAD_LIMIT. The last line is the summary:
`render 30s: ours 11.2s, ffmpeg 20.1s, ratio 0.56, floor 8.9s, peak RSS 410 MB, size 13.8 MB`
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream
from PIL import Image

HOOK_START_SEC = 15.0
HOOK_SEC = 30.0
TRACK_SEC = 60.0
VISUAL_SIZE = (720, 1280)
VISUAL_SEC = 8.0
FPS = 30
PRESET = "standard"
FLOOR_POOL_FRAMES = 90
TITLE = "Midnight Drive (Extended Mix)"
ARTIST = "Nova Lights"
SHARE_URL = "https://casset.app/s/h00k42"
HANDLE = "pixelwitch"
LUMINANCE = 0.72  # bright: the scrim is drawn
# A run during which other processes used more than this many cores is repeated.
OTHER_LOAD_LIMIT = 0.15
RETRY_PAUSE_SEC = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument(
        "--max-attempts", type=int, default=4, help="tries per run while other processes disturb it"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_CHILDREN[args.child](Path(args.workdir))))
        return
    with tempfile.TemporaryDirectory(prefix="bench-render-") as workdir_name:
        workdir = Path(workdir_name)
        started = time.perf_counter()
        _make_inputs(workdir)
        print(f"inputs generated in {time.perf_counter() - started:.1f} s: {_describe_inputs(workdir)}")
        runs: dict[str, list[dict]] = {"ours": [], "ffmpeg": [], "floor": []}
        for round_index in range(args.rounds):
            for name in runs:
                result = _run_undisturbed(name, workdir, args.max_attempts)
                runs[name].append(result)
                print(
                    f"  round {round_index + 1} {name:6s}: wall {result['wall']:6.2f} s, "
                    f"cpu {result['cpu']:6.2f} s, peak RSS {result['rss_mb']:5.0f} MB, "
                    f"output {result['size_mb']:5.2f} MB, other processes {result['other_cores']:.2f} cores"
                )
    medians = {name: _median_run(results) for name, results in runs.items()}
    for name, run in medians.items():
        print(
            f"{name:6s} median of {args.rounds}: wall {run['wall']:6.2f} s, cpu {run['cpu']:6.2f} s, "
            f"peak RSS {run['rss_mb']:5.0f} MB, output {run['size_mb']:5.2f} MB"
        )
    disturbed = sum(
        result["other_cores"] > OTHER_LOAD_LIMIT for results in runs.values() for result in results
    )
    if disturbed:
        print(f"note: {disturbed} run(s) kept despite other processes using the CPU; figures are pessimistic")
    ours, ffmpeg, floor = medians["ours"], medians["ffmpeg"], medians["floor"]
    print(
        f"ours / ffmpeg {ours['wall'] / ffmpeg['wall']:.2f} (target <= 0.6), "
        f"ours / floor {ours['wall'] / floor['wall']:.2f} (target <= 1.3), "
        f"peak RSS target <= 700 MB, size target <= 15 MB"
    )
    if ours.get("timings"):
        print("ours phases: " + ", ".join(f"{phase} {sec:.2f}s" for phase, sec in ours["timings"].items()))
    print(
        f"render {HOOK_SEC:.0f}s: ours {ours['wall']:.1f}s, ffmpeg {ffmpeg['wall']:.1f}s, "
        f"ratio {ours['wall'] / ffmpeg['wall']:.2f}, floor {floor['wall']:.1f}s, "
        f"peak RSS {ours['rss_mb']:.0f} MB, size {ours['size_mb']:.1f} MB"
    )


def _median_run(results: list[dict]) -> dict:
    ordered = sorted(results, key=lambda result: result["wall"])
    median = dict(ordered[len(ordered) // 2])
    median["wall"] = statistics.median(result["wall"] for result in results)
    median["cpu"] = statistics.median(result["cpu"] for result in results)
    median["rss_mb"] = max(result["rss_mb"] for result in results)
    return median


def _run_undisturbed(name: str, workdir: Path, max_attempts: int) -> dict:
    """Run a child, again if other processes took more than OTHER_LOAD_LIMIT cores meanwhile (the
    machine is shared: a neighbour's test suite would otherwise decide the result)."""
    result: dict = {}
    for attempt in range(max_attempts):
        if attempt:
            time.sleep(RETRY_PAUSE_SEC)
        result = _run_child(name, workdir)
        if result["other_cores"] <= OTHER_LOAD_LIMIT:
            break
        print(f"  ({name}: other processes used {result['other_cores']:.2f} cores; running it again)")
    return result


def _run_child(name: str, workdir: Path) -> dict:
    command = [sys.executable, "-m", "bench.render", "--child", name, "--workdir", str(workdir)]
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = _busy_cpu_sec()
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    busy = _busy_cpu_sec() - busy_before
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"{name} run failed:\n{completed.stderr}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    child_cpu = (usage_after.ru_utime + usage_after.ru_stime) - (
        usage_before.ru_utime + usage_before.ru_stime
    )
    result["other_cores"] = max(0.0, (busy - child_cpu) / elapsed)
    return result


def _busy_cpu_sec() -> float:
    """CPU time all processes have used since boot (the first line of /proc/stat, less idle and iowait)."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


# Children: each runs in a fresh interpreter and reports one JSON line.


def _child_ours(workdir: Path) -> dict:
    from casset.media.render import RenderInputs, render_hook_video

    output = workdir / "ours.mp4"
    inputs = RenderInputs(
        audio_path=str(workdir / "track.m4a"),
        hook_start_sec=HOOK_START_SEC,
        hook_duration_sec=HOOK_SEC,
        visual_path=str(workdir / "visual.mp4"),
        visual_mean_luminance=LUMINANCE,
        cover_path=str(workdir / "cover.jpg"),
        avatar_path=str(workdir / "avatar.png"),
        title=TITLE,
        artist=ARTIST,
        share_url=SHARE_URL,
        attribution_handle=HANDLE,
        preset=PRESET,
    )
    started, cpu = time.perf_counter(), time.process_time()
    result = render_hook_video(inputs, str(output))
    return {
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "size_mb": result.size_bytes / 1e6,
        "frames": result.frames,
        "timings": result.timings,
        "warnings": list(result.warnings),
    }


def _child_ffmpeg(workdir: Path) -> dict:
    import imageio_ffmpeg

    from casset.media.render.overlays import OverlayText, load_image, static_layer
    from casset.media.render.quality import encode_plan

    plan = encode_plan(PRESET, HOOK_SEC)
    layer = static_layer(
        OverlayText(TITLE, ARTIST, SHARE_URL, HANDLE), load_image(str(workdir / "avatar.png")), scrim=True
    )
    Image.fromarray(layer.rgba, "RGBA").save(workdir / "overlay.png")
    output = workdir / "ffmpeg.mp4"
    filters = ";".join(
        [
            f"[0:v]scale=1080:1920:force_original_aspect_ratio=increase:flags={plan.quality.scale_flags},"
            f"crop=1080:1920,fps={FPS}[bg]",
            "[1:a]asplit=2[for_bars][for_output]",
            # Mono downmix, then one 2048-sample Hann FFT per video frame on a log frequency axis.
            f"[for_bars]aformat=channel_layouts=mono,showfreqs=s=960x260:r={FPS}:mode=bar:ascale=log:fscale=log:"
            "win_size=2048:colors=0xEC4899[bars]",
            "[bg][2:v]overlay=0:0:shortest=1[layered]",
            "[layered][bars]overlay=60:1330:shortest=1,format=yuv420p[video]",
            f"[for_output]afade=t=in:d=0.075,afade=t=out:st={HOOK_SEC - 0.075}:d=0.075[audio]",
        ]
    )
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error",
        "-stream_loop", "-1", "-i", str(workdir / "visual.mp4"),
        "-ss", str(HOOK_START_SEC), "-t", str(HOOK_SEC), "-i", str(workdir / "track.m4a"),
        "-loop", "1", "-framerate", str(FPS), "-i", str(workdir / "overlay.png"),
        "-filter_complex", filters,
        "-map", "[video]", "-map", "[audio]", "-t", str(HOOK_SEC), "-r", str(FPS),
        "-c:v", "libx264", "-preset", plan.quality.x264_preset, "-b:v", str(plan.video_bitrate),
        "-maxrate", str(plan.video_bitrate), "-bufsize", str(plan.vbv_bufsize), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", str(plan.audio_bitrate), "-ar", "48000", "-ac", "2",
        "-map_metadata", "-1", "-movflags", "+faststart", str(output),
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall": time.perf_counter() - started,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "size_mb": output.stat().st_size / 1e6,
    }


def _child_floor(workdir: Path) -> dict:
    from casset.media.render.quality import encode_plan

    plan = encode_plan(PRESET, HOOK_SEC)
    frame_count = round(HOOK_SEC * FPS)
    # Pre-made frames: the first seconds of our own output, so the encoder sees the same kind of picture.
    pool = []
    with av.open(str(workdir / "ours.mp4")) as source:
        for frame in source.decode(video=0):
            pool.append(frame.reformat(format="yuv420p"))
            if len(pool) == FLOOR_POOL_FRAMES:
                break
    output_path = workdir / "floor.mp4"
    started, cpu = time.perf_counter(), time.process_time()
    with av.open(str(output_path), mode="w", format="mp4", options={"movflags": "+faststart"}) as output:
        stream = output.add_stream("libx264", rate=FPS, options=plan.x264_options())
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = 1080, 1920, "yuv420p"
        stream.codec_context.bit_rate = plan.video_bitrate
        stream.codec_context.thread_type = "AUTO"
        stream.codec_context.thread_count = 0
        for index in range(frame_count):
            frame = pool[index % len(pool)]
            frame.pts = index
            frame.time_base = Fraction(1, FPS)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return {
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "size_mb": output_path.stat().st_size / 1e6,
        "frames": frame_count,
    }


_CHILDREN = {"ours": _child_ours, "ffmpeg": _child_ffmpeg, "floor": _child_floor}


# Inputs


def _make_inputs(workdir: Path) -> None:
    _write_track(workdir / "track.m4a")
    _write_visual(workdir / "visual.mp4")
    _write_cover(workdir / "cover.jpg")
    _write_avatar(workdir / "avatar.png")


def _describe_inputs(workdir: Path) -> str:
    visual = workdir / "visual.mp4"
    bitrate = visual.stat().st_size * 8 / VISUAL_SEC / 1e6
    return (
        f"visual {VISUAL_SIZE[0]}x{VISUAL_SIZE[1]} {VISUAL_SEC:g} s H.264 at {bitrate:.1f} Mbps, "
        f"track {TRACK_SEC:g} s AAC, hook {HOOK_START_SEC:g}+{HOOK_SEC:g} s"
    )


def _write_track(path: Path) -> None:
    """A 120 bpm loop: kick, hats, a bass line and a chord pad, so every part of the spectrum moves."""
    rate = 48_000
    times = np.arange(round(TRACK_SEC * rate)) / rate
    beat = 0.5
    phase = times % beat
    kick = np.sin(2 * np.pi * (50 + 90 * np.exp(-phase * 30)) * phase) * np.exp(-phase * 9)
    hat_phase = (times + beat / 2) % beat
    hats = np.random.default_rng(5).uniform(-1, 1, times.size) * np.exp(-hat_phase * 60) * 0.25
    bass_notes = np.array([55.0, 55.0, 65.41, 49.0])
    bass = 0.35 * np.sin(2 * np.pi * bass_notes[(times // 2).astype(int) % 4] * times)
    chord = sum(np.sin(2 * np.pi * f * times) for f in (261.63, 329.63, 392.0, 523.25, 1046.5)) * 0.06
    mix = (0.55 * kick + hats + bass + chord * (0.6 + 0.4 * np.sin(2 * np.pi * times / 8))).astype(np.float32)
    stereo = np.stack([mix, np.roll(mix, 64)]) * 0.7
    with av.open(str(path), mode="w", format="mp4") as output:
        stream = output.add_stream("aac", rate=rate, layout="stereo")
        stream.codec_context.bit_rate = 256_000
        for start in range(0, stereo.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(stereo[:, start : start + 1024]), format="fltp", layout="stereo"
            )
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))


def _write_visual(path: Path) -> None:
    """Footage-like test clip: a detailed texture (several octaves of value noise, colour washes)
    panned like a handheld shot, with sensor grain, encoded like a phone export (~3 Mbps). The pan
    runs one full cycle per clip, so it loops seamlessly."""
    width, height = VISUAL_SIZE
    frame_count = round(VISUAL_SEC * FPS)
    rng = np.random.default_rng(3)
    scene_w, scene_h = width + 680, height + 720
    texture = np.zeros((scene_h, scene_w), dtype=np.float32)
    for cells, amplitude in ((8, 70), (32, 45), (128, 35), (512, 28), (1400, 18)):
        coarse = rng.uniform(-1, 1, (scene_h * cells // 2000 + 2, scene_w * cells // 2000 + 2)).astype(
            np.float32
        )
        texture += amplitude * np.asarray(
            Image.fromarray(coarse).resize((scene_w, scene_h), Image.Resampling.BICUBIC)
        )
    luma_scene = np.clip(118 + texture, 16, 235).astype(np.uint8)
    chroma_scenes = [
        np.asarray(
            Image.fromarray(rng.uniform(90, 166, (20, 14)).astype(np.uint8)).resize(
                (scene_w // 2, scene_h // 2), Image.Resampling.BICUBIC
            )
        )
        for _ in range(2)
    ]
    grain = rng.normal(0.0, 4.0, size=(8, height, width)).astype(np.float32)
    with av.open(str(path), mode="w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=FPS, options={"preset": "veryfast", "crf": "23"})
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frame_count):
            phase = 2 * np.pi * index / frame_count
            x = int(340 + 300 * np.sin(phase)) // 2 * 2
            y = int(360 + 150 * np.sin(2 * phase) + 200 * np.cos(phase)) // 2 * 2
            frame = av.VideoFrame(width, height, "yuv420p")
            planes = [
                np.clip(luma_scene[y : y + height, x : x + width] + grain[index % len(grain)], 16, 235),
                *(scene[y // 2 : (y + height) // 2, x // 2 : (x + width) // 2] for scene in chroma_scenes),
            ]
            for plane, values in zip(frame.planes, planes, strict=True):
                view = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
                view[:, : plane.width] = values
            frame.pts = index
            frame.time_base = Fraction(1, FPS)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))


def _write_cover(path: Path) -> None:
    rows = np.linspace(0, 1, 1000)[:, None, None]
    columns = np.linspace(0, 1, 1000)[None, :, None]
    rgb = (np.array([240, 90, 60]) * (1 - rows) + np.array([40, 30, 120]) * rows) * (0.7 + 0.3 * columns)
    Image.fromarray(rgb.astype(np.uint8), "RGB").save(path, quality=90)


def _write_avatar(path: Path) -> None:
    yy, xx = np.mgrid[0:400, 0:400]
    rgb = np.stack([xx * 255 // 400, yy * 255 // 400, np.full_like(xx, 180)], axis=-1).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(path)


if __name__ == "__main__":
    main()
