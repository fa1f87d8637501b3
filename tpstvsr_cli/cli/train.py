"""`tpstvsr train`: parse options, call training.trainer.train."""

from pathlib import Path
from typing import Annotated

import typer

from ..errors import TpstvsrError
from ..models import PRESETS
from ..models.loading import check_preset
from ..training.config import TrainConfig
from .options import Device
from .root import app


def _ints(text: str, n: int) -> tuple[int, ...]:
    try:
        vals = tuple(int(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != n or min(vals) < 0:
        raise TpstvsrError(f"expected {n} non-negative integers separated by commas, got {text!r}")
    return vals


@app.command("train")
def train_command(
    data: Annotated[
        list[Path],
        typer.Argument(help="Video files and/or folders (searched recursively for videos and frame folders)."),
    ],
    run_dir: Annotated[Path, typer.Option("--run-dir", help="Where checkpoints go (last.ckpt).")] = Path(
        "runs/default"
    ),
    preset: Annotated[
        str,
        typer.Option(
            "--model",
            "--preset",
            metavar="PRESET",
            help=f"Network preset: {', '.join(PRESETS)} (--preset is the old spelling).",
        ),
    ] = "default",
    stage_steps: Annotated[
        str, typer.Option("--stage-steps", help="Steps of the three stages: TPSRM, FSM, joint.")
    ] = "2000,4000,30000",
    batch: Annotated[int, typer.Option(help="Clips per step.")] = 8,
    crop: Annotated[int, typer.Option(help="Ground-truth crop size in pixels (multiple of 4).")] = 64,
    frames: Annotated[int, typer.Option("--frames", help="Input frames T per sample (2T-1 ground-truth frames).")] = 4,
    max_stride: Annotated[
        int, typer.Option("--max-stride", help="Draw a temporal stride from 1..N per sample (larger motion).")
    ] = 1,
    crop_tries: Annotated[
        int,
        typer.Option("--crop-tries", help="Take the most detailed of N random crops (1: uniform; 3-4 favour texture)."),
    ] = 1,
    detail_power: Annotated[
        float,
        typer.Option(
            "--detail-power",
            help="Draw clips in proportion to their detail to this power (0: by length alone; 1 favours texture).",
        ),
    ] = 0.0,
    degrade: Annotated[
        bool,
        typer.Option(
            "--degrade",
            help="Train for compressed footage: each input clip through a random chain of x264 encodes (CRF 18-35), "
            "Gaussian noise and mild blur in random order (10% stay clean). Off: clean bicubic input.",
        ),
    ] = False,
    lr: Annotated[float, typer.Option(help="Adam learning rate at the start of each stage.")] = 4e-4,
    max_minutes: Annotated[
        float | None, typer.Option("--max-minutes", help="Stop (with a checkpoint) after this long.")
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option("--max-steps", help="Stop (with a checkpoint) after this many steps in all.")
    ] = None,
    ckpt_minutes: Annotated[float, typer.Option("--ckpt-minutes", help="Minutes between checkpoints.")] = 10.0,
    val: Annotated[
        list[Path] | None, typer.Option(help="Frame folder(s) for periodic validation PSNR (repeatable).")
    ] = None,
    val_every: Annotated[int, typer.Option("--val-every", help="Steps between validations.")] = 500,
    vgg_weights: Annotated[
        Path | None, typer.Option("--vgg-weights", help="torchvision VGG-19 state dict; enables the VGG loss term.")
    ] = None,
    release: Annotated[
        Path | None, typer.Option(help="Write fp16 safetensors release weights here at every checkpoint.")
    ] = None,
    init_from: Annotated[
        Path | None,
        typer.Option(
            "--init-from", help="Start from release weights (their step and stage), e.g. when the checkpoint is lost."
        ),
    ] = None,
    restart_stage: Annotated[
        bool,
        typer.Option(
            "--restart-stage",
            help="With --init-from: start that stage's steps and learning-rate schedule anew (after adding a module).",
        ),
    ] = False,
    train_only: Annotated[
        str | None,
        typer.Option(
            "--train-only",
            help="Joint stage: train only this module (tpsrm, fsm, rm, fusion, restore); the rest stays frozen.",
        ),
    ] = None,
    cache_dir: Annotated[Path, typer.Option("--cache-dir", help="Decoded-frame cache.")] = Path.home()
    / ".cache"
    / "tpstvsr"
    / "frames",
    device: Device = "auto",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from RUN_DIR/last.ckpt.")] = False,
) -> None:
    """Train the network with the paper's three-stage schedule (resumable)."""
    from ..training.trainer import train

    check_preset(preset)
    if crop_tries < 1:
        raise TpstvsrError(f"--crop-tries must be at least 1, got {crop_tries}")
    if not 0 <= detail_power <= 4:
        raise TpstvsrError(f"--detail-power must be between 0 and 4, got {detail_power}")
    if restart_stage and init_from is None:
        raise TpstvsrError("--restart-stage needs --init-from")
    if vgg_weights is not None and not vgg_weights.is_file():
        raise TpstvsrError(f"VGG weights not found: {vgg_weights}")
    cfg = TrainConfig(
        data=data,
        run_dir=run_dir,
        preset=preset,
        cache_dir=cache_dir,
        stage_steps=_ints(stage_steps, 3),
        batch=batch,
        crop=crop,
        in_frames=frames,
        max_stride=max_stride,
        crop_tries=crop_tries,
        detail_power=detail_power,
        degrade=degrade,
        lr=lr,
        max_minutes=max_minutes,
        max_steps=max_steps,
        ckpt_minutes=ckpt_minutes,
        val=val or [],
        val_every=val_every,
        vgg_weights=vgg_weights,
        release=release,
        init_from=init_from,
        device=device,
        seed=seed,
        restart_stage=restart_stage,
        train_only=train_only,
    )
    train(cfg=cfg, resume=resume)
