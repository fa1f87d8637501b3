"""The seam between the engine and a runtime: a Backend runs one window of one tile through the network.

The runner (runner.py) decides windows, tiles and retries; a backend only computes. TorchBackend is the eager
PyTorch one (CPU or CUDA, autocast for half precision, the transform ensemble). A CUDA fast path (CUDA graphs,
TensorRT) or another runtime is a second class with the same two members, chosen where the runner is made.
"""

from typing import Protocol

import torch

from .ensemble import ensembled
from .refine import refine_on
from .team import installed, team_for


class Backend(Protocol):
    input_dtype: torch.dtype  # what the uint8 frames are converted to before they are handed over
    pad_multiple: int  # tile starts are multiples of this (the network's stride-2 grids)
    team: object  # engine/team.Team for the work around the network (the key-frame stream's), or None

    def __call__(self, clip: torch.Tensor, keep: slice) -> torch.Tensor:
        """clip [1, L, 3, h, w] in 0..1 on the device -> the kept outputs as float32 [K, 3, 4h, 4w] on the CPU."""

    def key_frames(self, clip: torch.Tensor, keys: list[int], pairs: list[int]) -> tuple:
        """For a key-frame stream (models/key_stream.py): the clip's key frames `keys` before the neighbour fusion,
        their input frames and the midpoint motion of pairs (k, k + 1), all float32 on the device at the network's
        padded size (TPNet.key_frames)."""


class TorchBackend:
    def __init__(self, model, device: torch.device, dtype: torch.dtype, frames_per_pass: int = 1, ensemble: int = 1):
        self.model, self.device, self.dtype = model.to(device).eval(), device, dtype
        if device.type == "cpu":
            # Weights in channels-last make oneDNN run every convolution in that layout (the activations follow):
            # bf16 convolutions took 40% less time, fp32 a fifth less (docs/converter.md, issue 19).
            self.model.to(memory_format=torch.channels_last)
        self.frames_per_pass, self.ensemble = frames_per_pass, ensemble
        params = next(model.parameters(), None)
        self.param_dtype = params.dtype if params is not None else torch.float32
        # The frames go in as the weights are: float32 under autocast (which runs only the convolutions in half
        # precision; the network's parameter-free arithmetic stays float32), half where a GPU cast the weights.
        self.input_dtype = self.param_dtype
        self.pad_multiple = int(getattr(model, "pad_multiple", 1))
        # independent pieces of a window (key frames, midpoints, ...) two at once on the CPU (team.py)
        self.team = team_for(device)

    def _autocast(self) -> torch.autocast:
        """Autocast where the weights are float32 but the precision asked for is half (only convolutions go half)."""
        enabled = self.dtype != torch.float32 and self.param_dtype == torch.float32
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=enabled)

    def __call__(self, clip: torch.Tensor, keep: slice) -> torch.Tensor:
        with torch.no_grad(), self._autocast(), installed(self.team):
            out = ensembled(self._forward(keep), clip, self.ensemble)
        return out[0].cpu()

    def key_frames(self, clip: torch.Tensor, keys: list[int], pairs: list[int]) -> tuple:
        with torch.no_grad(), self._autocast(), installed(self.team):
            clip = self.model.prepared(clip)
            sr, motion = self.model.key_frames(clip, keys, pairs, self.frames_per_pass)
        return sr, clip[:, keys].float(), motion

    def refine(self, frame, pair):
        """A finished uint8 output frame through the model's OutputRefine (engine/refine.py), with its input pair."""
        return refine_on(self.model.refine, frame, pair, self.device, self._autocast())

    def _forward(self, keep: slice):
        return lambda c: self.model(c, frames_per_pass=self.frames_per_pass, outputs=keep).float()
