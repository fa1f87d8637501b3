"""The training loop: the paper's three stages, resumable, time-budgeted, single device or DDP.

Stage 0 trains TPSRM alone (Eq. 2), stage 1 FSM with TPSRM frozen (Eq. 4), stage 2 all modules
with Eq. 10. Each stage has its own Adam and step count; the learning rate drops x0.2 at fixed
fractions of each stage (the paper: every 2 of 4 epochs). Multi-GPU runs go through torchrun and
DistributedDataParallel; rank 0 logs, validates and writes checkpoints.
"""

import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from rich.console import Console

from ..errors import TpstvsrError
from ..inference import resolve_device
from ..models import build_model
from ..weights import load_model, save_release
from .checkpoint import load_checkpoint, restore_rngs, save_checkpoint
from .config import STAGE_NAMES, TrainConfig
from .frame_pool import load_pool
from .losses import VGGLoss, joint_loss, l1, tpsrm_loss
from .progress import TrainProgress
from .stop_signals import StopSignals
from .samples import make_batch
from .validate import load_val_clips, validate


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """As the converter's --device, except that under torchrun 'auto' takes this rank's GPU."""
    if name == "auto" and torch.cuda.is_available():
        return torch.device(f"cuda:{local_rank}")
    return resolve_device(name)


def stage_lr(cfg: TrainConfig, stage: int, stage_step: int) -> float:
    done = stage_step / max(cfg.stage_steps[stage], 1)
    return cfg.lr * 0.2 ** sum(done >= m for m in cfg.lr_milestones)


def _trainable(model, stage: int, only: str | None = None) -> list:
    """Stage 0: TPSRM; stage 1: FSM (TPSRM frozen; RM unused); stage 2: everything (KeyFusion too), or only the
    module named `only` (the rest frozen: its forward builds no graph, so a step costs little more than inference)."""
    parts = {0: [model.tpsrm], 1: [model.fsm], 2: [getattr(model, only)] if only else [model]}[stage]
    model.requires_grad_(False)
    for p in parts:
        p.requires_grad_(True)
    return [p for part in parts for p in part.parameters()]


def _stage_loss(net, stage: int, lr_clip, gt, vgg) -> tuple[torch.Tensor, dict]:
    if stage == 0:
        loss = tpsrm_loss(net(lr_clip, upto="tpsrm"), gt)
        return loss, {"l1": float(loss.detach())}
    if stage == 1:
        loss = l1(net(lr_clip, upto="fsm"), gt)
        return loss, {"l1": float(loss.detach())}
    return joint_loss(net(lr_clip), gt, lr_clip, vgg)


def train(cfg: TrainConfig, resume: bool = False, console: Console | None = None) -> dict:
    """Run (or continue) training until every stage is done or a budget runs out; returns the last state."""
    console = console or Console()
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(cfg.device, local_rank)
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    main = rank == 0
    if cfg.crop % 4 or cfg.crop < 16:
        raise TpstvsrError("--crop must be a multiple of 4 and at least 16")
    ckpt_path = Path(cfg.run_dir) / "last.ckpt"

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed + rank)
    model = build_model(cfg.preset).to(device)
    if cfg.train_only is not None and not isinstance(getattr(model, cfg.train_only, None), torch.nn.Module):
        raise TpstvsrError(f"--train-only {cfg.train_only!r}: preset {cfg.preset!r} has no such module")
    step, stage, stage_step, history = 0, 0, 0, []
    state = None
    if resume:
        if not ckpt_path.exists():
            raise TpstvsrError(f"--resume: no checkpoint at {ckpt_path}")
        state = load_checkpoint(ckpt_path)
        model.load_state_dict(state["model"])
        step, stage, stage_step, history = state["step"], state["stage"], state["stage_step"], state["history"]
        restore_rngs(state, rng)
        if rank:  # each rank draws its own samples
            rng = np.random.default_rng([cfg.seed, rank, step])
    elif cfg.init_from:  # continue from release weights (the checkpoint is gone): optimizer and RNGs start anew
        released, meta = load_model(cfg.init_from)
        if meta["preset"] != cfg.preset:
            raise TpstvsrError(f"--init-from {cfg.init_from} holds preset {meta['preset']!r}, not {cfg.preset!r}")
        model.load_state_dict(released.state_dict())
        step, stage_step = int(meta.get("step", 0)), int(meta.get("stage_step", 0))
        stage = STAGE_NAMES.index(meta["stage"]) if meta.get("stage") in STAGE_NAMES else 2
        if cfg.restart_stage:  # e.g. a module was added: its stage's steps and learning-rate schedule start anew
            stage_step = 0
        rng = np.random.default_rng([cfg.seed, rank, step])

    clips = load_pool(cfg.data, cfg.cache_dir, 2 * cfg.in_frames - 1, log=console.log if main else (lambda *_: None))
    val_clips = load_val_clips(cfg.val) if (cfg.val and main) else []
    vgg = VGGLoss(torch.load(cfg.vgg_weights, map_location="cpu")).to(device) if cfg.vgg_weights else None
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)

    start, last_ckpt = time.monotonic(), time.monotonic()

    def checkpoint(opt):
        if not main:
            return
        save_checkpoint(ckpt_path, model=model, optimizer=opt, step=step, stage=stage, stage_step=stage_step, rng=rng, config=cfg.to_dict(), history=history)
        if cfg.release:
            save_release(model, cfg.preset, cfg.release, {"step": step, "stage": STAGE_NAMES[min(stage, 2)], "stage_step": stage_step, "last_val": history[-1] if history else {}})

    progress = TrainProgress(console, enabled=main)
    stopped = "done"
    with progress, StopSignals() as signals:
        while stage < 3:
            params = _trainable(model, stage, cfg.train_only)
            net = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True) if distributed else model
            opt = torch.optim.Adam(params, lr=stage_lr(cfg, stage, stage_step), betas=(0.9, 0.999))
            if state is not None and state["stage"] == stage:
                opt.load_state_dict(state["optimizer"])
            state = None
            progress.start_stage(STAGE_NAMES[stage], stage_step, cfg.stage_steps[stage])
            while stage_step < cfg.stage_steps[stage]:
                if cfg.max_steps is not None and step >= cfg.max_steps:
                    stopped = "max-steps"
                    break
                if cfg.max_minutes is not None and time.monotonic() - start > cfg.max_minutes * 60:
                    stopped = "time budget"
                    break
                if signals.received:
                    stopped = f"signal {signals.received}"
                    break
                for group in opt.param_groups:
                    group["lr"] = stage_lr(cfg, stage, stage_step)
                lr_clip, gt = make_batch(clips, rng, cfg.batch, cfg.in_frames, cfg.crop, cfg.max_stride)
                with amp:
                    loss, terms = _stage_loss(net, stage, lr_clip.to(device), gt.to(device), vgg)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step, stage_step = step + 1, stage_step + 1
                progress.advance(terms, opt.param_groups[0]["lr"])
                if main and step % cfg.log_every == 0:
                    progress.log_line(step, terms)
                if val_clips and step % cfg.val_every == 0:
                    model.eval()
                    v = validate(model, val_clips, device)
                    model.train()
                    history.append({"step": step, "stage": STAGE_NAMES[stage], "minutes": round((time.monotonic() - start) / 60, 2), **{k: round(x, 3) for k, x in v.items()}})
                    console.log(f"val step {step}: psnr {v['psnr']:.2f} (base {v['base']:.2f}, gain {v['gain']:+.2f}; odd {v['gain_odd']:+.2f})")
                if time.monotonic() - last_ckpt > cfg.ckpt_minutes * 60:
                    checkpoint(opt)
                    last_ckpt = time.monotonic()
            else:
                checkpoint(opt)
                stage, stage_step = stage + 1, 0
                continue
            break
        checkpoint(opt)
    if main:
        console.log(f"stopped ({stopped}) at step {step}, stage {STAGE_NAMES[min(stage, 2)]}; checkpoint {ckpt_path} (continue with --resume)")
    if distributed:
        dist.destroy_process_group()
    return {"step": step, "stage": stage, "stopped": stopped, "history": history}
