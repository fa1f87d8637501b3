"""Resumable training state: model, optimizer, step, stage and every RNG, written atomically."""

import random
from pathlib import Path

import numpy as np
import torch


def save_checkpoint(
    path: Path,
    *,
    model,
    optimizer,
    step: int,
    stage: int,
    stage_step: int,
    rng: np.random.Generator,
    config: dict,
    history: list,
) -> None:
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "stage": stage,
        "stage_step": stage_step,
        "numpy_rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "python_rng": random.getstate(),
        "config": config,
        "history": history,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    torch.save(state, tmp)
    tmp.replace(path)  # a crash mid-write never leaves a broken checkpoint behind


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


def restore_rngs(state: dict, rng: np.random.Generator) -> None:
    rng.bit_generator.state = state["numpy_rng"]
    torch.set_rng_state(state["torch_rng"])
    random.setstate(state["python_rng"])
