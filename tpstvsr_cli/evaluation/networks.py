"""The network(s) `tpstvsr eval` scores: one for --weights or --model, else the shipped weights --source picks
for each sequence's input (auto: judged per sequence, as upscale judges a video; models/sources.py)."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..errors import TpstvsrError
from ..models.loading import get_model
from ..models.quality import apply_quality
from ..models.sources import DEFAULT_SOURCE, WeightsChoice, check_source, choose_weights


def load(weights: Path | None, preset: str | None) -> tuple[torch.nn.Module, str]:
    if weights is not None and preset is not None:
        raise TpstvsrError("give --weights or --model, not both")
    if preset is not None:
        torch.manual_seed(0)  # random weights, but the same ones every run
        return get_model(preset)[0], f"preset {preset}, random weights"
    model, meta = get_model(weights=weights)
    name = Path(weights).name if weights is not None else "default weights"
    return model, f"{name} (preset {meta.get('preset')})"


class EvalNetworks:
    def __init__(
        self, weights: Path | None, preset: str | None, source: str | None, quality: str, log: Callable[[str], None]
    ):
        if source is not None and (weights is not None or preset is not None):
            raise TpstvsrError("give --source, or --weights or --model, not both")
        self.quality, self.log, self.cache = quality, log, {}
        self.fixed = weights is not None or preset is not None
        self.source = None if self.fixed else check_source(source or DEFAULT_SOURCE)
        if self.fixed:
            model, self.label = load(weights, preset)
            self.cache[None] = self._apply(model)
        else:
            self.label = f"shipped weights, --source {self.source}"

    def _apply(self, model: torch.nn.Module) -> torch.nn.Module:
        model, note = apply_quality(model, self.quality)  # the same network upscale runs at this --quality
        if note:
            self.log(f"warning: {note}")
        return model

    def for_inputs(self, inputs: np.ndarray) -> tuple[torch.nn.Module, WeightsChoice | None]:
        """The network for these (possibly degraded) input frames, and --source's choice (None: fixed)."""
        if self.fixed:
            return self.cache[None], None
        choice = choose_weights(self.source, None, frames=inputs)
        if choice.weights not in self.cache:
            self.cache[choice.weights] = self._apply(load(choice.weights, None)[0])
        return self.cache[choice.weights], choice
