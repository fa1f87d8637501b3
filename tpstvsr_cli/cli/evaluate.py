"""`tpstvsr eval`: score the model and two classical baselines on sequences under the evaluation protocol."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .options import (
    Chunk,
    Device,
    Ensemble,
    MaxMemory,
    NetPreset,
    Overlap,
    Precision,
    Quality,
    Source,
    Tile,
    Weights,
    memory_cap,
)
from .root import app


@app.command("eval")
def eval_command(
    sequences: Annotated[
        list[Path],
        typer.Argument(help="Ground-truth sequences: folders of frames (PNG/JPG) or video files.", show_default=False),
    ],
    weights: Weights = None,
    source: Source = None,
    model: NetPreset = None,
    center_crop: Annotated[
        str | None,
        typer.Option("--center-crop", metavar="WxH", help="Center-crop the ground truth to WxH (after --gt-scale)."),
    ] = None,
    gt_scale: Annotated[
        float | None,
        typer.Option(help="Downscale the ground truth by this factor first (antialiased bicubic), e.g. 0.5 for 1080p."),
    ] = None,
    max_frames: Annotated[
        int | None, typer.Option(help="Use at most this many ground-truth frames per sequence (an odd count is kept).")
    ] = None,
    degrade: Annotated[
        str | None,
        typer.Option(
            "--degrade",
            metavar="SPEC",
            help="Degrade the 4x-down input as old footage is, the same for every method: steps applied in the order "
            "written, e.g. x264:crf=23:fps=12 (an H.264 encode), mpeg2:q=8:fps=25 (a DVD's MPEG-2, constant "
            "quantizer 2..31), mpeg4:q=8 (DivX), noise:sigma=5 (Gaussian, grey levels), blur:sigma=1, "
            "or x264:crf=32,noise:sigma=3.",
        ),
    ] = None,
    device: Device = "auto",
    precision: Precision = "auto",
    quality: Quality = "balanced",
    chunk: Chunk = 16,
    overlap: Overlap = 2,
    tile: Tile = None,
    ensemble: Ensemble = None,
    max_memory: MaxMemory = None,
    json: Annotated[bool, typer.Option("--json", help="Print the results as JSON instead of a table.")] = False,
    no_ffmpeg: Annotated[
        bool, typer.Option("--no-ffmpeg", help="Skip the ffmpeg lanczos+minterpolate baseline.")
    ] = False,
) -> None:
    """Score the model beside bicubic+averaging and ffmpeg (lanczos + minterpolate) with luma PSNR/SSIM.

    Each sequence's first 2N-1 frames are the ground truth; the input is its N even frames shrunk 4x (then
    degraded with --degrade).
    """
    from ..evaluation.evaluate import evaluate
    from ..evaluation.protocol import parse_size
    from ..evaluation.report import print_result
    from ..media.degrade import parse_degrade

    err = Console(stderr=True)
    cap = memory_cap(max_memory)
    result = evaluate(
        sequences,
        weights=weights,
        source=source,
        preset=model,
        center_crop=parse_size(center_crop) if center_crop else None,
        gt_scale=gt_scale,
        max_frames=max_frames,
        degrade=parse_degrade(degrade) if degrade is not None else None,
        device=device,
        precision=precision,
        quality=quality,
        chunk=chunk,
        overlap=overlap,
        tile=tile,
        use_ffmpeg=not no_ffmpeg,
        ensemble=ensemble,
        max_memory=cap,
        log=lambda msg: err.print(msg, style="dim", highlight=False),
    )
    print_result(result, as_json=json)
