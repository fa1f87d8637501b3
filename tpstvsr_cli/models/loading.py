"""The one way to get a network: a preset name (random weights) or a weights file -> a model on a device in a dtype.

upscale, batch, bench, eval and train all come through here, so the rules are the same everywhere: an unknown
preset is an error naming the choices, a weights file builds the preset named in its header, and the model is
in eval mode (train switches it back to training itself).
"""

from pathlib import Path

import torch

from ..errors import TpstvsrError
from .presets import PRESETS, build_model


def check_preset(preset: str) -> str:
    if preset not in PRESETS:
        raise TpstvsrError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    return preset


def get_model(
    preset: str | None = None,
    weights: Path | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.nn.Module, dict]:
    """(model, metadata): the preset's network with random weights when `preset` is given, else the weights file
    (None: the shipped default weights). Metadata holds at least "preset"."""
    if preset is not None:
        model = build_model(check_preset(preset))
        return model.to(device=device, dtype=dtype).eval(), {"preset": preset}
    from .release import load_model

    return load_model(weights, device=device, dtype=dtype)
