"""`tpstvsr upscale`, `tpstvsr batch`, `tpstvsr bench`: parse options, call one library function each."""

import json
import shlex
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ..cli import app
from ..errors import TpstvsrError
from .options import MaxMemory, memory_cap

_err = Console(stderr=True)

Weights = Annotated[Optional[Path], typer.Option("--weights", help="Weights file (.safetensors); default: the weights shipped with tpstvsr.")]
Device = Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")]
Precision = Annotated[str, typer.Option("--precision", help="auto (fp16/bf16 on a GPU, fp32 on the CPU), fp32, fp16 or bf16.")]
Chunk = Annotated[int, typer.Option("--chunk", help="Input frames whose outputs each network pass supplies.")]
Overlap = Annotated[int, typer.Option("--overlap", help="Context frames the network also sees on each side of a chunk (outputs discarded), hiding seams between chunks.")]
Tile = Annotated[Optional[int], typer.Option("--tile", help="Split frames into overlapping tiles of this many input pixels; 0: whole frames always. Default: whole frames when they fit half the free memory, else as few even tiles as fit.")]
TileOverlap = Annotated[int, typer.Option("--tile-overlap", help="Input pixels shared by neighbouring tiles.")]
Ensemble = Annotated[int, typer.Option("--ensemble", help="Average 1, 2 or 8 transposed/flipped network passes: 2 lets the temporal profiles follow horizontal motion too (better in-between frames, 2x the time).")]
Fps = Annotated[float, typer.Option("--fps", help="Frame rate of a frame-folder input.")]
Codec = Annotated[Optional[str], typer.Option("--codec", help="Video encoder (default libx264; libvpx-vp9 for .webm).")]
Crf = Annotated[int, typer.Option("--crf", help="Constant-quality level of the encoder (lower is better and bigger).")]
EncPreset = Annotated[Optional[str], typer.Option("--preset", help="Encoder speed preset, e.g. libx264's ultrafast .. veryslow.")]
PixFmt = Annotated[str, typer.Option("--pix-fmt", help="Output pixel format.")]
EncOpt = Annotated[Optional[list[str]], typer.Option("--encoder-opt", help="Further ffmpeg output option KEY=VALUE, e.g. tune=film (repeatable).")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Deinterlace = Annotated[Optional[bool], typer.Option("--deinterlace/--no-deinterlace", help="Deinterlace (bwdif) before upscaling; default: when the file flags interlaced fields.", show_default=False)]
SceneThreshold = Annotated[float, typer.Option("--scene-threshold", help="Scene-cut sensitivity, 0..1 (lower finds more cuts; 0 turns detection off). No frame is interpolated across a cut.")]
SegmentFrames = Annotated[int, typer.Option("--segment-frames", help="Input frames per resumable segment of work.")]
Strict = Annotated[bool, typer.Option("--strict", help="Refuse a damaged or truncated video instead of converting what decodes.")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print what was written (frames, seconds, fps) as JSON on stdout.")]


def _rate(frames: int | None, seconds: float) -> float | None:
    return round(frames / seconds, 4) if frames and seconds > 0 else None


def encoder_options(codec, crf, preset, pix_fmt, opts):
    from ..video.writer import EncoderOptions

    extra = {}
    for item in opts or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise TpstvsrError(f"--encoder-opt expects KEY=VALUE, got {item!r}")
        extra[key.strip().lstrip("-")] = value
    return EncoderOptions(codec=codec, crf=crf, preset=preset, pix_fmt=pix_fmt, extra=extra)


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a `kill`, a shutting-down machine) ends the run like Ctrl-C: complete segments are kept."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _warn(msg: str) -> None:
    _err.print(f"[yellow]warning:[/] {escape(msg)}", highlight=False, soft_wrap=True)


@app.command("upscale")
def upscale_command(
    input: Annotated[Path, typer.Argument(help="A video file, or a folder of frames (PNG/JPG, natural order).")],
    output: Annotated[Path, typer.Argument(help="A video file (container from the extension), or a folder for 00000000.png, ...")],
    weights: Weights = None, device: Device = "auto", precision: Precision = "auto",
    chunk: Chunk = 8, overlap: Overlap = 2, tile: Tile = None, tile_overlap: TileOverlap = 16, fps: Fps = 25.0,
    codec: Codec = None, crf: Crf = 18, preset: EncPreset = None, pix_fmt: PixFmt = "yuv420p", encoder_opt: EncOpt = None,
    overwrite: Overwrite = False, quiet: Quiet = False, deinterlace: Deinterlace = None, strict: Strict = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its last complete segment.")] = False,
    scene_threshold: SceneThreshold = 0.3, segment_frames: SegmentFrames = 64, ensemble: Ensemble = 1,
    max_memory: MaxMemory = None, json_out: JsonOut = False,
) -> None:
    """Convert a video to twice the frame rate and four times the width and height."""
    from ..upscale import Interrupted, upscale

    cap = memory_cap(max_memory)
    try:
        with _sigterm_as_interrupt():
            result = upscale(input=input, output=output, weights=weights, device=device, precision=precision, chunk=chunk,
                             overlap=overlap, tile=tile, tile_overlap=tile_overlap, fps=fps, overwrite=overwrite, quiet=quiet,
                             encoder=encoder_options(codec, crf, preset, pix_fmt, encoder_opt), on_warning=_warn,
                             deinterlace=deinterlace, strict=strict, resume=resume, scene_threshold=scene_threshold,
                             segment=segment_frames, ensemble=ensemble, max_memory=cap)
    except KeyboardInterrupt as exc:  # Interrupted, or Ctrl-C before the work started (loading, checking)
        kept = exc.kept if isinstance(exc, Interrupted) else 0
        what = (f"{kept} complete segment(s) kept in {exc.work_dir}" if kept else
                "no segment was complete yet, so nothing was kept")
        again = " ".join(shlex.quote(a) for a in sys.argv[1:] if a != "--resume")
        _err.print(f"[yellow]interrupted:[/] {escape(what)}\nto continue: tpstvsr {escape(again)} --resume",
                   highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    if json_out:
        typer.echo(json.dumps({"input": str(result.input), "output": str(result.output), "frames_in": result.frames_in,
                               "frames_out": result.frames_out, "seconds": round(result.seconds, 3),
                               "fps": _rate(result.frames_out, result.seconds), "warnings": result.warnings}, indent=2))
    elif not quiet:
        _err.print(f"wrote {result.output}: {result.frames_out} frames from {result.frames_in} in {result.seconds:.1f} s", highlight=False)


@app.command("batch")
def batch_command(
    in_dir: Annotated[Path, typer.Argument(help="Folder of videos.")],
    out_dir: Annotated[Path, typer.Argument(help="Where the converted videos go, in the same layout.")],
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also convert videos in subfolders.")] = False,
    ext: Annotated[Optional[str], typer.Option("--ext", help="Output container, e.g. mp4 (default: keep each file's).")] = None,
    weights: Weights = None, device: Device = "auto", precision: Precision = "auto",
    chunk: Chunk = 8, overlap: Overlap = 2, tile: Tile = None, tile_overlap: TileOverlap = 16,
    codec: Codec = None, crf: Crf = 18, preset: EncPreset = None, pix_fmt: PixFmt = "yuv420p", encoder_opt: EncOpt = None,
    quiet: Quiet = False, scene_threshold: SceneThreshold = 0.3, segment_frames: SegmentFrames = 64, ensemble: Ensemble = 1,
    max_memory: MaxMemory = None, json_out: JsonOut = False,
) -> None:
    """Convert every video in a folder; skip finished ones, resume interrupted ones, keep going past failures."""
    from ..batch import batch, print_report

    cap = memory_cap(max_memory)
    try:
        with _sigterm_as_interrupt():
            outcomes = batch(in_dir=in_dir, out_dir=out_dir, recursive=recursive, ext=ext, weights=weights, device=device,
                             precision=precision, chunk=chunk, overlap=overlap, tile=tile, tile_overlap=tile_overlap,
                             encoder=encoder_options(codec, crf, preset, pix_fmt, encoder_opt), quiet=quiet, on_warning=_warn,
                             scene_threshold=scene_threshold, segment=segment_frames, ensemble=ensemble, max_memory=cap)
    except KeyboardInterrupt:
        _err.print("[yellow]interrupted:[/] run the same command again to continue: finished files are skipped "
                   "and the interrupted one resumes from its last complete segment", highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    if json_out:
        files = [{"input": str(o.input), "output": str(o.output), "status": o.status, "frames": o.frames,
                  "seconds": round(o.seconds, 3), "fps": _rate(o.frames, o.seconds) if o.status == "converted" else None,
                  "reason": o.reason} for o in outcomes]
        counts = {status: sum(o.status == status for o in outcomes) for status in ("converted", "skipped", "failed")}
        typer.echo(json.dumps({"files": files, **counts}, indent=2))
    else:
        print_report(outcomes, in_dir)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)


@app.command("bench")
def bench_command(
    sizes: Annotated[str, typer.Option("--sizes", help="Synthetic input sizes WxH, comma-separated.")] = "320x180,640x360",
    input: Annotated[Optional[Path], typer.Option("--input", help="Time this video instead of synthetic clips.")] = None,
    frames: Annotated[int, typer.Option("--frames", help="Input frames per clip.")] = 8,
    weights: Weights = None,
    preset: Annotated[Optional[str], typer.Option("--preset", help="Time random weights of this network preset (default, paper, tiny) instead of a weights file.")] = None,
    device: Device = "auto", precision: Precision = "auto", chunk: Chunk = 8, overlap: Overlap = 2, tile: Tile = None,
    ensemble: Ensemble = 1, max_memory: MaxMemory = None,
    reference: Annotated[bool, typer.Option("--reference/--no-reference", help="Also time ffmpeg's lanczos + minterpolate.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Measure decode, network, encode and end-to-end speed and peak memory on this machine."""

    from ..bench import bench, bench_table

    cap = memory_cap(max_memory)
    result = bench(sizes=sizes, input=input, frames=frames, weights=weights, preset=preset, device=device,
                   precision=precision, chunk=chunk, overlap=overlap, tile=tile, reference=reference, ensemble=ensemble,
                   max_memory=cap)
    if json_out:
        typer.echo(json.dumps(result, indent=2))
    else:
        Console().print(bench_table(result))
