"""Baseline (a): bicubic x4 upscaling of every input frame, and the mean of two neighbours for the frames between.

Frame 2k is the bicubic upscale of input frame k; frame 2k+1 is the average of the upscales of k and k+1,
taken in float before rounding to 8 bits. This is what the paper preset's zero-initialised residuals start
from (models/profiles.blend_time); the default preset's in-between frames start from a motion-compensated
midpoint instead (models/motion.py), part of what the model's score measures.
"""

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from .protocol import SCALE


def _upscale(frame: np.ndarray) -> torch.Tensor:
    """uint8 [h, w, 3] -> float [3, 4h, 4w] in 0..255, clamped (bicubic overshoots)."""
    x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()
    return F.interpolate(x, scale_factor=SCALE, mode="bicubic", align_corners=False)[0].clamp_(0, 255)


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    return x.round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


def bicubic_blend(inputs: np.ndarray) -> Iterator[np.ndarray]:
    """Input frames [N, h, w, 3] uint8 -> 2N-1 frames [4h, 4w, 3] uint8, one at a time."""
    previous = None
    for frame in inputs:
        current = _upscale(frame)
        if previous is not None:
            yield _to_uint8(0.5 * (previous + current))
        yield _to_uint8(current)
        previous = current
