"""`tpstvsr eval`: score the model and two classical baselines on sequences under the evaluation protocol."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..cli import app
from .options import MaxMemory, memory_cap
from ..evaluation.evaluate import evaluate
from ..evaluation.protocol import parse_size
from ..evaluation.report import print_result


@app.command("eval")
def eval_command(
    sequences: Annotated[list[Path], typer.Argument(help="Ground-truth sequences: folders of frames (PNG/JPG) or video files.", show_default=False)],
    weights: Annotated[Path | None, typer.Option(help="Release weights (.safetensors). Default: the shipped default weights.")] = None,
    preset: Annotated[str | None, typer.Option(help="Evaluate a randomly initialised network of this preset instead (for tests; untrained ≈ the bicubic baseline).")] = None,
    center_crop: Annotated[str | None, typer.Option("--center-crop", metavar="WxH", help="Center-crop the ground truth to WxH (after --gt-scale).")] = None,
    gt_scale: Annotated[float | None, typer.Option(help="Downscale the ground truth by this factor first (antialiased bicubic), e.g. 0.5 for 1080p.")] = None,
    max_frames: Annotated[int | None, typer.Option(help="Use at most this many ground-truth frames per sequence (an odd count is kept).")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    precision: Annotated[str, typer.Option(help="Model precision: fp32, fp16, bf16 or auto.")] = "fp32",
    chunk: Annotated[int, typer.Option(help="Input frames per network window.")] = 8,
    tile: Annotated[int | None, typer.Option(help="Run the network on tiles of this many input pixels (bounds memory).")] = None,
    ensemble: Annotated[int, typer.Option(help="Average 1, 2 or 8 transposed/flipped network passes (as tpstvsr upscale --ensemble).")] = 1,
    max_memory: MaxMemory = None,
    json: Annotated[bool, typer.Option("--json", help="Print the results as JSON instead of a table.")] = False,
    no_ffmpeg: Annotated[bool, typer.Option("--no-ffmpeg", help="Skip the ffmpeg lanczos+minterpolate baseline.")] = False,
) -> None:
    """Score the model beside bicubic+averaging and ffmpeg (lanczos + minterpolate) with luma PSNR/SSIM.

    Each sequence's first 2N-1 frames are the ground truth; the input is its N even frames shrunk 4x.
    """
    err = Console(stderr=True)
    cap = memory_cap(max_memory)
    result = evaluate(
        sequences, weights=weights, preset=preset, center_crop=parse_size(center_crop) if center_crop else None, gt_scale=gt_scale, max_frames=max_frames,
        device=device, precision=precision, chunk=chunk, tile=tile, use_ffmpeg=not no_ffmpeg, ensemble=ensemble, max_memory=cap,
        log=lambda msg: err.print(msg, style="dim", highlight=False),
    )
    print_result(result, as_json=json)
