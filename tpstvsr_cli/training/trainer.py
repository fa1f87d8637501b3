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

from ..engine.device import resolve_device
from ..errors import TpstvsrError
from ..models.loading import get_model
from ..models.release import save_release
from .checkpoint import load_checkpoint, restore_rngs, save_checkpoint
from .config import STAGE_NAMES, TrainConfig
from .degradations import DegradeOptions
from .frame_pool import load_pool
from .losses import VGGLoss, joint_loss, l1, tpsrm_loss
from .progress import TrainProgress
from .samples import clip_probabilities, make_batch
from .stop_signals import StopSignals
from .validate import VAL_DEGRADE, load_val_clips, validate


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


class _Run:
    """One training run's state; train() drives it. Statement order matters: the RNG draws follow it."""

    def __init__(self, cfg: TrainConfig, resume: bool, console: Console):
        self.cfg, self.console = cfg, console
        self.distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
        self.rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
        self.device = pick_device(cfg.device, local_rank)
        if self.distributed:
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        self.main = self.rank == 0
        if cfg.crop % 4 or cfg.crop < 16:
            raise TpstvsrError("--crop must be a multiple of 4 and at least 16")
        self.ckpt_path = Path(cfg.run_dir) / "last.ckpt"
        torch.manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed + self.rank)
        self.model = get_model(cfg.preset, device=self.device)[0].train()
        if cfg.train_only is not None and not isinstance(getattr(self.model, cfg.train_only, None), torch.nn.Module):
            raise TpstvsrError(f"--train-only {cfg.train_only!r}: preset {cfg.preset!r} has no such module")
        self.step, self.stage, self.stage_step, self.history = 0, 0, 0, []
        self.state = None
        if resume:
            self._resume()
        elif cfg.init_from:
            self._init_from_release()
        self._load_data()
        self.start = self.last_ckpt = time.monotonic()
        self.stopped = "done"

    def _resume(self) -> None:
        if not self.ckpt_path.exists():
            raise TpstvsrError(f"--resume: no checkpoint at {self.ckpt_path}")
        state = self.state = load_checkpoint(self.ckpt_path)
        self.model.load_state_dict(state["model"])
        self.step, self.stage, self.stage_step = state["step"], state["stage"], state["stage_step"]
        self.history = state["history"]
        restore_rngs(state, self.rng)
        if self.rank:  # each rank draws its own samples
            self.rng = np.random.default_rng([self.cfg.seed, self.rank, self.step])

    def _init_from_release(self) -> None:
        """Continue from release weights (the checkpoint is gone): optimizer and RNGs start anew."""
        cfg = self.cfg
        released, meta = get_model(weights=cfg.init_from)
        shapes = [{k: v.shape for k, v in m.state_dict().items()} for m in (released, self.model)]
        if meta["preset"] != cfg.preset and shapes[0] != shapes[1]:  # a preset of the same parameters may go on
            raise TpstvsrError(f"--init-from {cfg.init_from} holds preset {meta['preset']!r}, not {cfg.preset!r}")
        self.model.load_state_dict(released.state_dict())
        self.step, self.stage_step = int(meta.get("step", 0)), int(meta.get("stage_step", 0))
        self.stage = STAGE_NAMES.index(meta["stage"]) if meta.get("stage") in STAGE_NAMES else 2
        if cfg.restart_stage:  # e.g. a module was added: its stage's steps and learning-rate schedule start anew
            self.stage_step = 0
        self.rng = np.random.default_rng([cfg.seed, self.rank, self.step])

    def _load_data(self) -> None:
        cfg, device = self.cfg, self.device
        log = self.console.log if self.main else (lambda *_: None)
        self.clips = load_pool(cfg.data, cfg.cache_dir, 2 * cfg.in_frames - 1, log=log)
        self.clip_probs = clip_probabilities(self.clips, 2 * cfg.in_frames - 1, cfg.detail_power)
        self.degrade = DegradeOptions() if cfg.degrade else None
        self.val_clips = load_val_clips(cfg.val) if (cfg.val and self.main) else []
        self.vgg = VGGLoss(torch.load(cfg.vgg_weights, map_location="cpu")).to(device) if cfg.vgg_weights else None
        cuda = device.type == "cuda"
        self.amp = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else torch.autocast("cpu", enabled=False)

    def checkpoint(self, opt) -> None:
        if not self.main:
            return
        cfg = self.cfg
        save_checkpoint(
            self.ckpt_path,
            model=self.model,
            optimizer=opt,
            step=self.step,
            stage=self.stage,
            stage_step=self.stage_step,
            rng=self.rng,
            config=cfg.to_dict(),
            history=self.history,
        )
        if cfg.release:
            meta = {
                "step": self.step,
                "stage": STAGE_NAMES[min(self.stage, 2)],
                "stage_step": self.stage_step,
                "last_val": self.history[-1] if self.history else {},
            }
            save_release(self.model, cfg.preset, cfg.release, meta)

    def optimizer(self):
        params = _trainable(self.model, self.stage, self.cfg.train_only)
        net = self.model
        if self.distributed:
            net = torch.nn.parallel.DistributedDataParallel(self.model, find_unused_parameters=True)
        opt = torch.optim.Adam(params, lr=stage_lr(self.cfg, self.stage, self.stage_step), betas=(0.9, 0.999))
        if self.state is not None and self.state["stage"] == self.stage:
            opt.load_state_dict(self.state["optimizer"])
        self.state = None
        return net, opt

    def stop_reason(self, signals) -> str | None:
        cfg = self.cfg
        if cfg.max_steps is not None and self.step >= cfg.max_steps:
            return "max-steps"
        if cfg.max_minutes is not None and time.monotonic() - self.start > cfg.max_minutes * 60:
            return "time budget"
        if signals.received:
            return f"signal {signals.received}"
        return None

    def train_step(self, net, opt, progress) -> None:
        cfg = self.cfg
        for group in opt.param_groups:
            group["lr"] = stage_lr(cfg, self.stage, self.stage_step)
        shape = (cfg.batch, cfg.in_frames, cfg.crop, cfg.max_stride, cfg.crop_tries)
        lr_clip, gt = make_batch(self.clips, self.rng, *shape, self.clip_probs, self.degrade)
        with self.amp:
            loss, terms = _stage_loss(net, self.stage, lr_clip.to(self.device), gt.to(self.device), self.vgg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        self.step, self.stage_step = self.step + 1, self.stage_step + 1
        progress.advance(terms, opt.param_groups[0]["lr"])
        if self.main and self.step % cfg.log_every == 0:
            progress.log_line(self.step, terms)
        if self.val_clips and self.step % cfg.val_every == 0:
            self.validate()
        if time.monotonic() - self.last_ckpt > cfg.ckpt_minutes * 60:
            self.checkpoint(opt)
            self.last_ckpt = time.monotonic()

    def validate(self) -> None:
        self.model.eval()
        v = validate(self.model, self.val_clips, self.device)
        if self.cfg.degrade:  # the same crops, input through VAL_DEGRADE
            d = validate(self.model, self.val_clips, self.device, VAL_DEGRADE)
            v.update({f"deg_{k}": d[k] for k in ("psnr", "gain", "gain_odd")})
        self.model.train()
        minutes = round((time.monotonic() - self.start) / 60, 2)
        self.history.append(
            {
                "step": self.step,
                "stage": STAGE_NAMES[self.stage],
                "minutes": minutes,
                **{k: round(x, 3) for k, x in v.items()},
            }
        )
        deg = f"; {VAL_DEGRADE}: gain {v['deg_gain']:+.2f}, odd {v['deg_gain_odd']:+.2f}" if "deg_gain" in v else ""
        self.console.log(
            f"val step {self.step}: psnr {v['psnr']:.2f} (base {v['base']:.2f}, "
            f"gain {v['gain']:+.2f}; odd {v['gain_odd']:+.2f}){deg}"
        )

    def run_stages(self, progress, signals):
        """Stage after stage until all are done or a budget or signal stops it; returns the last optimizer."""
        while self.stage < 3:
            net, opt = self.optimizer()
            progress.start_stage(STAGE_NAMES[self.stage], self.stage_step, self.cfg.stage_steps[self.stage])
            while self.stage_step < self.cfg.stage_steps[self.stage]:
                reason = self.stop_reason(signals)
                if reason is not None:
                    self.stopped = reason
                    return opt
                self.train_step(net, opt, progress)
            self.checkpoint(opt)
            self.stage, self.stage_step = self.stage + 1, 0
        return opt


def train(cfg: TrainConfig, resume: bool = False, console: Console | None = None) -> dict:
    """Run (or continue) training until every stage is done or a budget runs out; returns the last state."""
    run = _Run(cfg, resume, console or Console())
    progress = TrainProgress(run.console, enabled=run.main)
    with progress, StopSignals() as signals:
        opt = run.run_stages(progress, signals)
        run.checkpoint(opt)
    if run.main:
        stage = STAGE_NAMES[min(run.stage, 2)]
        run.console.log(
            f"stopped ({run.stopped}) at step {run.step}, stage {stage}; checkpoint {run.ckpt_path} "
            "(continue with --resume)"
        )
    if run.distributed:
        dist.destroy_process_group()
    return {"step": run.step, "stage": run.stage, "stopped": run.stopped, "history": run.history}
