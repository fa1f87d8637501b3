"""Antialiased bicubic resizes by whole factors as OpenCV polyphase filters: torch's numbers, about 2.5x faster.

The neighbour fusion shrinks every aligned neighbour 4x and enlarges its weights and the back-projection's
correction 4x (models/neighbour_fusion.py), all with torch's antialiased bicubic, whose CPU kernel for float32
is a scalar loop over each output pixel's taps: about 7 ms for a 3-channel 1280x720 shrink, 10 ms for the
enlargement, on one thread; a tenth of the whole network's time at 320x180.

A resize along one axis is a matrix M [n_out, n_in] (out = M @ in), read here off torch itself by resizing unit
images. By a whole factor s its rows repeat with period s away from the borders:
- shrinking, out[i] = sum over phases e and blocks d of kernel[e, d] * in[s * (i + first + d) + e]: the input's
  rows (or columns) of phase e are a strided view, each filtered by its own short kernel, the s results added;
- enlarging, out[s * i + p] = sum over d of kernel[p, d] * in[i + first + d]: s filters of the input, their
  results interleaved (cv2.merge interleaves columns; rows interleave by writing into strided row views).
cv2.filter2D pads with zeros; the few rows near each border whose weights torch renormalised over the taps inside
the image are computed from M's own rows. The plan is built only where M is exactly that periodic matrix plus
border rows; otherwise the caller falls back to torch. The sums run in another order than torch's, so results
agree to a few float32 ulps (1e-7 on 0..1 frames), and each pixel is summed alone: the same for any thread count.
"""

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import torch
import torch.nn.functional as F

SMALLEST = 256 * 256  # pixels on the larger side of the resize


@dataclass(frozen=True)
class AxisPlan:
    """One axis's resize: `kernels` [factor, taps] over blocks first .. first + taps - 1 (shrinking) or input
    samples (enlarging); `borders` (output index, first input index, weights) are summed directly."""

    factor: int
    shrink: bool
    kernels: np.ndarray
    first: int
    borders: tuple[tuple[int, int, np.ndarray], ...]


def axis_matrix(n_in: int, n_out: int) -> np.ndarray:
    """torch's antialiased bicubic along one axis as M [n_out, n_in] (out = M @ in), read off torch by resizing unit
    images. The other axis is 2 pixels, not 1: torch 2.13's antialiased kernel returns zeros for [N, 1, H, 1] (an
    ambiguous layout)."""
    units = torch.eye(n_in).reshape(n_in, 1, n_in, 1).expand(n_in, 1, n_in, 2).contiguous()
    out = F.interpolate(units, size=(n_out, 2), mode="bicubic", align_corners=False, antialias=True)
    return out[..., 0].reshape(n_in, n_out).T.contiguous().numpy()


def _periodic(kernels: np.ndarray, first: int, n_in: int, n_out: int, shrink: bool) -> np.ndarray:
    """The matrix the polyphase filters with zero padding compute, to compare with torch's."""
    matrix = np.zeros((n_out, n_in), np.float32)
    factor, taps = kernels.shape
    for p in range(factor):
        for d in range(taps):
            i = np.arange(n_out if shrink else n_in)
            col = factor * (i + first + d) + p if shrink else i + first + d
            row = i if shrink else factor * i + p
            inside = (col >= 0) & (col < n_in)
            matrix[row[inside], col[inside]] = kernels[p, d]
    return matrix


@lru_cache(maxsize=32)
def axis_plan(n_in: int, n_out: int) -> AxisPlan | None:
    """The polyphase plan of torch's resize from n_in to n_out samples, or None where there is none (a factor that
    is not whole, too short an axis, or weights that do not repeat)."""
    shrink = n_out < n_in
    factor, rest = divmod(n_in, n_out) if shrink else divmod(n_out, n_in)
    if rest or factor < 2 or min(n_in, n_out) < 8:
        return None
    matrix = axis_matrix(n_in, n_out)
    middle = (n_out if shrink else n_in) // 2
    if shrink:  # taps of output `middle`, as offsets from input factor * middle
        offsets = np.nonzero(matrix[middle])[0] - factor * middle
        first, last = min(offsets.min() // factor, 0), max(offsets.max() // factor, 0)
        kernels = np.zeros((factor, last - first + 1), np.float32)
        for k in offsets:
            kernels[k % factor, k // factor - first] = matrix[middle, factor * middle + k]
    else:  # the `factor` outputs of input `middle`, over input offsets
        rows = matrix[factor * middle : factor * (middle + 1)]
        offsets = np.nonzero(rows.any(0))[0] - middle
        first, last = min(offsets.min(), 0), max(offsets.max(), 0)
        kernels = np.ascontiguousarray(rows[:, middle + first : middle + last + 1])
    differ = np.nonzero((_periodic(kernels, first, n_in, n_out, shrink) != matrix).any(1))[0]
    if len(differ) > n_out // 4:
        return None
    borders = []
    for row in differ:
        taps = np.nonzero(matrix[row])[0]
        borders.append((int(row), int(taps.min()), matrix[row, taps.min() : taps.max() + 1].copy()))
    return AxisPlan(factor, shrink, kernels, int(first), tuple(borders))


def _filter(plane: np.ndarray, kernel: np.ndarray, first: int, axis: int, dst=None) -> np.ndarray:
    """out[x] = sum_d kernel[d] * plane[x + first + d] along `axis` (0: down the rows, 1: along each row), with zeros
    outside the plane. cv2.filter2D correlates: dst(x) = sum_d k[d] * src(x + d - anchor), so anchor = -first."""
    shape, anchor = ((len(kernel), 1), (0, -first)) if axis == 0 else ((1, len(kernel)), (-first, 0))
    return cv2.filter2D(plane, -1, kernel.reshape(shape), dst=dst, anchor=anchor, borderType=cv2.BORDER_CONSTANT)


def _resize_axis(plane: np.ndarray, plan: AxisPlan, n_out: int, axis: int) -> np.ndarray:
    """plane [H, W] float32 resized along `axis` to n_out samples by `plan`."""
    s = plan.factor
    if plan.shrink and axis == 0:
        phases = [plane.reshape(n_out, s, -1)[:, e] for e in range(s)]  # strided row views: no copy
    elif plan.shrink:
        phases = cv2.split(plane.reshape(plane.shape[0], n_out, s))  # columns of each phase, made contiguous
    if plan.shrink:
        out = _filter(phases[0], plan.kernels[0], plan.first, axis)
        for e in range(1, s):
            cv2.add(out, _filter(phases[e], plan.kernels[e], plan.first, axis), dst=out)
    elif axis == 0:
        out = np.empty((n_out, plane.shape[1]), np.float32)
        for p in range(s):
            _filter(plane, plan.kernels[p], plan.first, 0, dst=out.reshape(-1, s, plane.shape[1])[:, p])
    else:
        out = cv2.merge([_filter(plane, plan.kernels[p], plan.first, 1) for p in range(s)])
        out = out.reshape(plane.shape[0], n_out)
    for row, start, weights in plan.borders:  # the renormalised border taps
        if axis == 0:
            out[row] = weights @ plane[start : start + len(weights)]
        else:
            out[:, row] = plane[:, start : start + len(weights)] @ weights
    return out


def resize_polyphase(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor | None:
    """F.interpolate(frames, size, bicubic, antialias=True) for float32 CPU frames [..., H, W] with no gradient
    wanted, or None where an axis has no polyphase plan or the frames are small (the caller then asks torch: below
    about 256x256 pixels, the calls per plane cost more than torch's loop)."""
    (h_in, w_in), (h, w) = frames.shape[-2:], size
    if max(h_in * w_in, h * w) < SMALLEST:
        return None
    plans = [None if n_in == n_out else axis_plan(n_in, n_out) for n_in, n_out in ((h_in, h), (w_in, w))]
    if any(plan is None and n_in != n_out for plan, n_in, n_out in zip(plans, (h_in, w_in), (h, w))):
        return None
    planes = frames.detach().contiguous().numpy().reshape(-1, h_in, w_in)
    out = np.empty((planes.shape[0], h, w), np.float32)
    cv2.setNumThreads(max(1, torch.get_num_threads()))
    for plane, dst in zip(planes, out):
        for axis, (plan, n_out) in enumerate(zip(plans, (h, w))):
            plane = plane if plan is None else _resize_axis(plane, plan, n_out, axis)
        dst[...] = plane
    return torch.from_numpy(out).reshape(*frames.shape[:-2], h, w)
