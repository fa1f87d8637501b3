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
    KeepRate,
    KeepSize,
    MaxMemory,
    Overlap,
    PixFmt,
    Precision,
    Quality,
    Quiet,
    Scale,
    SceneThreshold,
    SegmentFrames,
    Source,
    Tile,
    TileOverlap,
    Weights,
    encoder_options,
    memory_cap,
    rate,
)
from .root import app
from .upscale import WarningLog, err, sigterm_as_interrupt, warn


def _json(outcomes, summary=None, warnings: list[str] = ()) -> str:
    """Per file its fields and the warnings said while it ran; `warnings` at the top: those said for no one file
    (before the first, e.g. a precision falling back)."""
    files = [
        {
            "input": str(o.input),
            "output": str(o.output),
            "status": o.status,
            "frames": o.frames,
            "seconds": round(o.seconds, 3),
            "fps": rate(o.frames, o.seconds) if o.status == "converted" else None,
            "reason": o.reason,
            "warnings": o.warnings,
            "source": getattr(o, "source", None),
            **(o.extra_json() if hasattr(o, "extra_json") else {}),
        }
        for o in outcomes
    ]
    counts = {status: sum(o.status == status for o in outcomes) for status in ("converted", "skipped", "failed")}
    job = [w for w in warnings if not any(w in o.warnings for o in outcomes)]
    return json.dumps({"files": files, **counts, "warnings": job, **(summary.to_json() if summary else {})}, indent=2)


def _ray_weights(source: str | None, weights: Path | None) -> Path | None:
    """--engine ray runs one weights file for the whole job: --source compressed's, else --weights or the clean
    ones (auto judges no film there)."""
    from ..models.sources import check_weights_or_source, choose_weights

    if source in (None, "auto"):
        check_weights_or_source(source, weights)
        if source == "auto":
            warn("--engine ray does not judge films: the clean weights (--source compressed for compressed films)")
        return weights
    return choose_weights(source, weights).weights


Engine = Annotated[
    str,
    typer.Option(
        "--engine",
        help="local: one film after another on this machine. ray: segments of every film as tasks on a Ray cluster "
        # rich markup would take [ray] for a style tag and drop it; \[ is a literal bracket.
        '(from a checkout: pip install ".\\[ray]"; docs/distributed.md).',
    ),
]
Address = Annotated[
    str | None,
    typer.Option(
        "--address",
        metavar="HOST:PORT",
        help="With --engine ray: join this Ray cluster (default: RAY_ADDRESS, else Ray starts on this machine). "
        "Paths must then be absolute, on storage every worker sees.",
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers", help="With --engine ray: at most this many tasks at once (default: every GPU, else core)."
    ),
]


@app.command("batch")
def batch_command(  # one parameter per flag: typer reads the signature
    in_dir: Annotated[Path, typer.Argument(help="Folder of videos.")],
    out_dir: Annotated[Path, typer.Argument(help="Where the converted videos go, in the same layout.")],
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also convert videos in subfolders.")] = False,
    ext: Annotated[
        str | None, typer.Option("--ext", help="Output container, e.g. mp4 (default: keep each file's).")
    ] = None,
    weights: Weights = None,
    source: Source = None,
    device: Device = "auto",
    precision: Precision = "auto",
    chunk: Chunk = 16,
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
    ensemble: Ensemble = None,
    quality: Quality = "balanced",
    max_memory: MaxMemory = None,
    json_out: JsonOut = False,
    engine: Engine = "local",
    address: Address = None,
    workers: Workers = None,
    scale: Scale = None,
    keep_rate: KeepRate = False,
    keep_size: KeepSize = False,
) -> None:
    """Convert every video in a folder; skip finished ones, resume interrupted ones, keep going past failures."""
    from ..conversion.batch import batch, print_report
    from ..errors import TpstvsrError

    cap = memory_cap(max_memory)
    said = WarningLog()
    run_batch, summary, more = batch, None, {}
    if engine not in ("local", "ray"):
        raise TpstvsrError(f"--engine must be local or ray, got {engine!r}")
    if engine == "ray":
        from ..distributed.ray_engine import ray_batch
        from ..distributed.summary import print_summary

        run_batch, more = ray_batch, {"address": address, "workers": workers}
        weights = _ray_weights(source, weights)
    elif address is not None or workers is not None:
        raise TpstvsrError("--address and --workers need --engine ray")
    else:
        more["source"] = source
    try:
        with sigterm_as_interrupt():
            outcomes = run_batch(
                in_dir,
                out_dir,
                **more,
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
                on_warning=said,
                scene_threshold=scene_threshold,
                segment_frames=segment_frames,
                ensemble=ensemble,
                quality=quality,
                max_memory=cap,
                scale=scale,
                keep_rate=keep_rate,
                keep_size=keep_size,
            )
            if engine == "ray":
                outcomes, summary = outcomes
    except KeyboardInterrupt:
        err.print(
            "[yellow]interrupted:[/] run the same command again to continue: finished files are skipped "
            "and the interrupted one resumes from its complete segments",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    if json_out:
        typer.echo(_json(outcomes, summary, said.lines))
    else:
        print_report(outcomes, in_dir)
        if summary is not None:
            print_summary(summary)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)
