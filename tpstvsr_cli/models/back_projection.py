"""Iterative back-projection onto an input frame with one shrink and one enlargement, however many steps.

The fusion (models/neighbour_fusion.py) repeats x <- x + up(s - down(x)) `steps` times: s the input frame, x its
super-resolved estimate, down and up the antialiased bicubic resizes (models/profiles.resize_frames). Both are
linear, so with r_0 = s - down(x_0) the residual after each step is r_{i+1} = r_i - down(up(r_i)), and

    x_n = x_0 + up(r_0 + r_1 + ... + r_{n-1}).

down(up(.)) never leaves the input's size: it is separable, one small banded matrix per axis (7 taps at 4x),
the product of torch's two resize matrices along that axis (models/polyphase.axis_matrix), so the result is the
step-by-step one up to float rounding. Three steps cost one shrink and one enlargement at 4x the size instead
of three of each.
"""

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from .polyphase import axis_matrix
from .profiles import resize_frames


@lru_cache(maxsize=16)
def _axis_band(small: int, large: int) -> tuple[torch.Tensor, int]:
    """down(up(.)) along one axis of `small` pixels enlarged to `large`, as diagonals: (coef [2b + 1, small], b)
    with out[i] = sum_k coef[k, i] * in[i + k - b] (in zero outside 0..small-1, where coef is zero too)."""
    down, up = axis_matrix(large, small).astype(np.float64), axis_matrix(small, large).astype(np.float64)
    matrix = torch.from_numpy((down @ up).astype(np.float32))  # [small, small]: in float64, rounded once
    rows, cols = torch.nonzero(matrix, as_tuple=True)
    band = int((cols - rows).abs().max()) if rows.numel() else 0
    coef = torch.zeros(2 * band + 1, small)
    for k in range(2 * band + 1):
        i = torch.arange(max(0, band - k), min(small, small + band - k))
        coef[k, i] = matrix[i, i + k - band]
    return coef, band


def _apply_band(x: torch.Tensor, coef: torch.Tensor, band: int, dim: int) -> torch.Tensor:
    """The banded matrix (coef, band) applied along `dim` (-2: rows, -1: columns) of x [..., H, W]."""
    n = x.shape[dim]
    pad = (0, 0, band, band) if dim == -2 else (band, band)
    padded = F.pad(x, pad)
    shape = (-1, 1) if dim == -2 else (-1,)
    out = None
    for k in range(2 * band + 1):
        term = padded.narrow(dim, k, n) * coef[k].view(shape).to(x.dtype)
        out = term if out is None else out.add_(term)
    return out


def shrink_enlarge(residual: torch.Tensor, large: tuple[int, int]) -> torch.Tensor:
    """down(up(residual)) for residual [..., h, w] enlarged to `large` (H, W) and shrunk back, at the small size."""
    h, w = residual.shape[-2:]
    rows, row_band = _axis_band(h, large[0])
    cols, col_band = _axis_band(w, large[1])
    return _apply_band(
        _apply_band(residual, rows.to(residual.device), row_band, -2), cols.to(residual.device), col_band, -1
    )


def back_project(estimate: torch.Tensor, seen: torch.Tensor, steps: int) -> torch.Tensor:
    """estimate [..., C, H, W] after `steps` of x <- x + up(seen - down(x)), seen [..., C, h, w]; in place
    where no gradient is wanted."""
    if steps <= 0:
        return estimate
    large = tuple(estimate.shape[-2:])
    residual = seen - resize_frames(estimate, tuple(seen.shape[-2:]))
    total = residual
    for _ in range(steps - 1):
        residual = residual - shrink_enlarge(residual, large)
        total = total + residual
    correction = resize_frames(total, large)
    grad = torch.is_grad_enabled() and (estimate.requires_grad or seen.requires_grad)
    return estimate + correction if grad else estimate.add_(correction)
