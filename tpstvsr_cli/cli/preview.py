"""`tpstvsr preview`: parse options, call conversion.preview.preview."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import TpstvsrError
from .options import (
    Deinterlace,
    Device,
    Ensemble,
    Fps,
    JsonOut,
    MaxMemory,
    Overlap,
    Overwrite,
    Precision,
    Quality,
    Quiet,
    Tile,
    TileOverlap,
    Weights,
    memory_cap,
)
from .root import app
from .upscale import warn

err = Console(stderr=True)
PreviewSource = Annotated[
    str | None,
    typer.Option(
        "--source",
        metavar="clean|compressed|auto|both",
        show_default=False,
        help="Which shipped weights, as on upscale (auto, the default: the input judged); both: a third column, "
        "the clean weights beside the compressed ones. Not with --weights.",
    ),
]
At = Annotated[
    str,
    typer.Option("--at", metavar="TIME", help="Where in the input: seconds, or HH:MM:SS[.ms]."),
]


@app.command("preview")
def preview_command(  # one parameter per flag: typer reads the signature
    input: Annotated[Path, typer.Argument(help="A video file, or a folder of frames (PNG/JPG, natural order).")],
    output: Annotated[Path, typer.Argument(help="The PNG to write.")],
    at: At = "0",
    weights: Weights = None,
    source: PreviewSource = None,
    device: Device = "auto",
    precision: Precision = "auto",
    overlap: Overlap = 2,
    tile: Tile = None,
    tile_overlap: TileOverlap = 16,
    ensemble: Ensemble = None,
    quality: Quality = "balanced",
    max_memory: MaxMemory = None,
    fps: Fps = 25.0,
    deinterlace: Deinterlace = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    json_out: JsonOut = False,
) -> None:
    """Look before converting: the frame at --at and the in-between frame after it, 4x, as one PNG; left
    bicubic (+ averaging for the in-between frame), right tpstvsr, captioned. Seconds, not hours."""
    from ..conversion.preview import preview
    from ..models.quality import check_quality
    from ..models.sources import choose_weights, source_weights

    check_quality(quality)  # a bad level is refused before --source auto judges the input
    label, also = "tpstvsr", None
    if source == "both":  # clean and compressed side by side
        choice = choose_weights("clean", weights)
        compressed = source_weights("compressed")
        if not compressed.is_file():
            raise TpstvsrError(f"--source both: weights file not found: {compressed}")
        label, also = "tpstvsr clean", ("tpstvsr compressed", compressed)
    else:
        choice = choose_weights(source, weights, input)
        if (choice.judgement is not None or source is not None) and not quiet and not json_out:
            err.print(f"{choice.source} weights ({choice.reason})", style="dim", highlight=False, soft_wrap=True)
    result = preview(
        input,
        output,
        at,
        weights=choice.weights,
        label=label,
        also=also,
        device=device,
        precision=precision,
        overlap=overlap,
        tile=tile,
        tile_overlap=tile_overlap,
        ensemble=ensemble,
        quality=quality,
        max_memory=memory_cap(max_memory),
        fps=fps,
        deinterlace=deinterlace,
        overwrite=overwrite,
        on_warning=warn,
    )
    if json_out:
        fields = ("input", "output", "frame", "time", "width", "height", "seconds")
        typer.echo(
            json.dumps(
                {k: str(v) if isinstance(v, Path) else v for k, v in vars(result).items() if k in fields}, indent=2
            )
        )
    elif not quiet:
        err.print(
            f"wrote {result.output} ({result.width}x{result.height}): input frame {result.frame} "
            f"({result.time:.3f} s) and the in-between frame after it; left bicubic, right tpstvsr; "
            f"{result.seconds:.1f} s",
            highlight=False,
            soft_wrap=True,
        )
