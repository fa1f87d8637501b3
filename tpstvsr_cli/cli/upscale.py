"""`tpstvsr upscale`: parse options, call conversion.convert.upscale."""

import json
import shlex
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .options import (
    Chunk,
    Codec,
    Crf,
    Deinterlace,
    Device,
    Duration,
    EncoderOpt,
    EncoderPreset,
    Ensemble,
    Fps,
    JsonOut,
    KeepRate,
    KeepSize,
    MaxMemory,
    Overlap,
    Overwrite,
    PixFmt,
    Precision,
    Quality,
    Quiet,
    Scale,
    SceneThreshold,
    SegmentFrames,
    Source,
    Start,
    Strict,
    Tile,
    TileOverlap,
    Weights,
    encoder_options,
    memory_cap,
    rate,
)
from .root import app

err = Console(stderr=True)
Resume = Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its complete segments.")]


@contextmanager
def sigterm_as_interrupt():
    """SIGTERM (a `kill`, a shutting-down machine) ends the run like Ctrl-C: complete segments are kept."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def warn(msg: str) -> None:
    err.print(f"[yellow]warning:[/] {escape(msg)}", highlight=False, soft_wrap=True)


class WarningLog:
    """A command's on_warning: prints each warning and keeps its line for --json, which lists every one said
    (the result's own list lacks those said before the conversion, e.g. a precision falling back)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, msg: str) -> None:
        self.lines.append(msg)
        warn(msg)


def _interrupted(exc: KeyboardInterrupt) -> typer.Exit:
    from ..conversion.convert import Interrupted

    kept = exc.kept if isinstance(exc, Interrupted) else 0
    what = (
        f"{kept} complete segment(s) kept in {exc.work_dir}"
        if kept
        else "no segment was complete yet, so nothing was kept"
    )
    again = " ".join(shlex.quote(a) for a in sys.argv[1:] if a != "--resume")
    err.print(
        f"[yellow]interrupted:[/] {escape(what)}\nto continue: tpstvsr {escape(again)} --resume",
        highlight=False,
        soft_wrap=True,
    )
    return typer.Exit(130)


def _report(result, as_json: bool, quiet: bool, warnings: list[str]) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                {  # batch --json's fields for one file, and frames_in/frames_out
                    "input": str(result.input),
                    "output": str(result.output),
                    "status": "converted",  # a failure is an error line and exit code 2, not a document
                    "frames": result.frames_out,
                    "frames_in": result.frames_in,
                    "frames_out": result.frames_out,
                    "seconds": round(result.seconds, 3),
                    "fps": rate(result.frames_out, result.seconds),
                    "warnings": warnings,
                },
                indent=2,
            )
        )
    elif not quiet:
        err.print(
            f"wrote {result.output}: {result.frames_out} frames from {result.frames_in} in {result.seconds:.1f} s",
            highlight=False,
        )


@app.command("upscale")
def upscale_command(  # one parameter per flag: typer reads the signature
    input: Annotated[Path, typer.Argument(help="A video file, or a folder of frames (PNG/JPG, natural order).")],
    output: Annotated[
        Path, typer.Argument(help="A video file (container from the extension), or a folder for 00000000.png, ...")
    ],
    weights: Weights = None,
    source: Source = None,
    device: Device = "auto",
    precision: Precision = "auto",
    chunk: Chunk = 16,
    overlap: Overlap = 2,
    tile: Tile = None,
    tile_overlap: TileOverlap = 16,
    fps: Fps = 25.0,
    codec: Codec = None,
    crf: Crf = 18,
    encoder_preset: EncoderPreset = None,
    pix_fmt: PixFmt = "yuv420p",
    encoder_opt: EncoderOpt = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    deinterlace: Deinterlace = None,
    strict: Strict = False,
    resume: Resume = False,
    scene_threshold: SceneThreshold = 0.3,
    segment_frames: SegmentFrames = 64,
    ensemble: Ensemble = None,
    quality: Quality = "balanced",
    max_memory: MaxMemory = None,
    json_out: JsonOut = False,
    start: Start = None,
    duration: Duration = None,
    scale: Scale = None,
    keep_rate: KeepRate = False,
    keep_size: KeepSize = False,
) -> None:
    """Convert a video to twice the frame rate and four times the width and height (--scale, --keep-rate,
    --keep-size for less; --start and --duration for a piece)."""
    from ..conversion.convert import upscale
    from ..models.quality import check_quality
    from ..models.sources import choose_weights

    cap = memory_cap(max_memory)
    said = WarningLog()
    try:
        with sigterm_as_interrupt():
            check_quality(quality)  # a bad level is refused before --source auto judges the input
            choice = choose_weights(source, weights, input)
            if (choice.judgement is not None or source is not None) and not quiet:
                err.print(f"{choice.source} weights ({choice.reason})", style="dim", highlight=False, soft_wrap=True)
            result = upscale(
                input,
                output,
                weights=choice.weights,
                device=device,
                precision=precision,
                chunk=chunk,
                overlap=overlap,
                tile=tile,
                tile_overlap=tile_overlap,
                fps=fps,
                overwrite=overwrite,
                quiet=quiet,
                encoder=encoder_options(codec, crf, encoder_preset, pix_fmt, encoder_opt),
                on_warning=said,
                deinterlace=deinterlace,
                strict=strict,
                resume=resume,
                scene_threshold=scene_threshold,
                segment_frames=segment_frames,
                ensemble=ensemble,
                quality=quality,
                max_memory=cap,
                start=start or 0.0,
                duration=duration,
                scale=scale,
                keep_rate=keep_rate,
                keep_size=keep_size,
            )
    except KeyboardInterrupt as exc:  # Interrupted, or Ctrl-C before the work started (loading, checking)
        raise _interrupted(exc) from None
    _report(result, json_out, quiet, said.lines)
