"""casset-render: render a hook video from local files (also `python -m casset.media.render`)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from casset.media.render.engine import render_hook_video
from casset.media.render.errors import RenderError
from casset.media.render.model import RenderInputs, RenderResult
from casset.media.render.quality import PRESETS

_BAR_WIDTH = 30


class ProgressBar:
    """A one-line text progress bar, redrawn in place; silent unless the percentage moved."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._started = time.monotonic()
        self._percent = -1

    def __call__(self, fraction: float) -> None:
        percent = int(fraction * 100)
        if percent == self._percent:
            return
        self._percent = percent
        filled = round(fraction * _BAR_WIDTH)
        elapsed = time.monotonic() - self._started
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        self._stream.write(f"\rrendering [{bar}] {percent:3d}% {elapsed:5.1f}s")
        self._stream.flush()

    def finish(self) -> None:
        if self._percent >= 0:
            self._stream.write("\n")
            self._stream.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casset-render", description="Render a 1080x1920 hook video (H.264 + AAC MP4, at most 15 MB)."
    )
    parser.add_argument("audio", help="the track's audio file")
    parser.add_argument("--start", type=float, required=True, help="hook start in seconds")
    parser.add_argument("--duration", type=float, required=True, help="hook length in seconds (5..30)")
    parser.add_argument("--visual", help="a looping visual (MP4, MOV or WebM); without it, the cover is used")
    parser.add_argument(
        "--visual-luminance", type=float, help="the visual's mean luminance 0..1 (>= 0.6 adds a scrim)"
    )
    parser.add_argument("--cover", help="cover art (JPEG, PNG or WebP)")
    parser.add_argument("--avatar", help="artist avatar (JPEG, PNG or WebP)")
    parser.add_argument("--title", default="", help="track title")
    parser.add_argument("--artist", default="", help="artist name")
    parser.add_argument("--share-url", help="share link drawn under the Casset watermark")
    parser.add_argument("--attribution", metavar="HANDLE", help='adds "visuals by @HANDLE" to the watermark')
    parser.add_argument("--preset", choices=PRESETS, default="standard", help="quality preset")
    parser.add_argument("-o", "--output", required=True, help="where to write the MP4")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    inputs = RenderInputs(
        audio_path=args.audio,
        hook_start_sec=args.start,
        hook_duration_sec=args.duration,
        visual_path=args.visual,
        visual_mean_luminance=args.visual_luminance,
        cover_path=args.cover,
        avatar_path=args.avatar,
        title=args.title,
        artist=args.artist,
        share_url=args.share_url,
        attribution_handle=args.attribution,
        preset=args.preset,
    )
    progress = None if args.quiet else ProgressBar(sys.stderr)
    try:
        result = render_hook_video(inputs, args.output, on_progress=progress)
    except RenderError as error:
        if progress is not None:
            progress.finish()
        print(f"casset-render: {error.reason}: {error.message}", file=sys.stderr)
        return 2
    if progress is not None:
        progress.finish()
    print(summary(result))
    return 0


def summary(result: RenderResult) -> str:
    lines = [
        f"{result.path}: {result.size_bytes / 1e6:.2f} MB, {result.duration_sec:.2f} s, "
        f"{result.width}x{result.height} @ {result.fps} fps, {result.frames} frames",
        f"video {result.video_bitrate / 1e6:.2f} Mbps, audio {result.audio_bitrate // 1000} kbps",
        "timings: " + ", ".join(f"{phase} {seconds:.2f}s" for phase, seconds in result.timings.items()),
    ]
    lines += [f"warning: {warning}" for warning in result.warnings]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
