"""`tpstvsr batch`: parse options, call conversion.batch.batch."""

import json
from pathlib import Path
from typing import Annotated

import typer

from .options import (
    Chunk,
    Codec,
    Crf,
    Device,
    EncoderOpt,
    EncoderPreset,
    Ensemble,
    JsonOut,
    MaxMemory,
    Overlap,
    PixFmt,
    Precision,
    Quiet,
    SceneThreshold,
    SegmentFrames,
    Tile,
    TileOverlap,
    Weights,
    encoder_options,
    memory_cap,
    rate,
)
from .root import app
from .upscale import err, sigterm_as_interrupt, warn


def _json(outcomes) -> str:
    files = [
        {
            "input": str(o.input),
            "output": str(o.output),
            "status": o.status,
            "frames": o.frames,
            "seconds": round(o.seconds, 3),
            "fps": rate(o.frames, o.seconds) if o.status == "converted" else None,
            "reason": o.reason,
        }
        for o in outcomes
    ]
    counts = {status: sum(o.status == status for o in outcomes) for status in ("converted", "skipped", "failed")}
    return json.dumps({"files": files, **counts}, indent=2)


@app.command("batch")
def batch_command(  # one parameter per flag: typer reads the signature
    in_dir: Annotated[Path, typer.Argument(help="Folder of videos.")],
    out_dir: Annotated[Path, typer.Argument(help="Where the converted videos go, in the same layout.")],
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also convert videos in subfolders.")] = False,
    ext: Annotated[
        str | None, typer.Option("--ext", help="Output container, e.g. mp4 (default: keep each file's).")
    ] = None,
    weights: Weights = None,
    device: Device = "auto",
    precision: Precision = "auto",
    chunk: Chunk = 8,
    overlap: Overlap = 2,
    tile: Tile = None,
    tile_overlap: TileOverlap = 16,
    codec: Codec = None,
    crf: Crf = 18,
    encoder_preset: EncoderPreset = None,
    pix_fmt: PixFmt = "yuv420p",
    encoder_opt: EncoderOpt = None,
    quiet: Quiet = False,
    scene_threshold: SceneThreshold = 0.3,
    segment_frames: SegmentFrames = 64,
    ensemble: Ensemble = 1,
    max_memory: MaxMemory = None,
    json_out: JsonOut = False,
) -> None:
    """Convert every video in a folder; skip finished ones, resume interrupted ones, keep going past failures."""
    from ..conversion.batch import batch, print_report

    cap = memory_cap(max_memory)
    try:
        with sigterm_as_interrupt():
            outcomes = batch(
                in_dir,
                out_dir,
                recursive=recursive,
                ext=ext,
                weights=weights,
                device=device,
                precision=precision,
                chunk=chunk,
                overlap=overlap,
                tile=tile,
                tile_overlap=tile_overlap,
                encoder=encoder_options(codec, crf, encoder_preset, pix_fmt, encoder_opt),
                quiet=quiet,
                on_warning=warn,
                scene_threshold=scene_threshold,
                segment_frames=segment_frames,
                ensemble=ensemble,
                max_memory=cap,
            )
    except KeyboardInterrupt:
        err.print(
            "[yellow]interrupted:[/] run the same command again to continue: finished files are skipped "
            "and the interrupted one resumes from its complete segments",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    if json_out:
        typer.echo(_json(outcomes))
    else:
        print_report(outcomes, in_dir)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)
