"""A classical motion-compensated midpoint: the base the network's in-between frames start from.

A departure from the paper (named in the `default` preset). TPSRM reads vertical temporal profiles, so it
can follow vertical motion only; across horizontal or large motion its in-between frames fall back to the
average of the neighbours. This module gives them a better start, with no parameters to train:
bilateral block matching (the symmetric search of classical frame-rate converters). For every block x of
the midpoint (one per input pixel) it picks the displacement d that minimises the mean absolute difference between
frame0(x - d) and frame1(x + d) over a window, plus a small penalty per pixel of |d| so that flat or
ambiguous areas keep d = 0 (the plain average), and returns (frame0(x - d) + frame1(x + d)) / 2.

Matching runs on the frames upscaled `scale` times (bicubic), so displacements of half an input pixel are
found. Shapes: [B, T, C, H, W] -> [B, T-1, C, scale*H, scale*W].
"""

import functools
import itertools
import math
from collections.abc import Iterable

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .profiles import resize_frames


def box_filter(x: torch.Tensor, size: int, stride: int = 1) -> torch.Tensor:
    """Mean over a size x size window (separable, replicate border); [N, 1, H, W] -> [N, 1, H/stride, W/stride].

    On the CPU without gradients cv2.boxFilter's running sums (constant work per pixel whatever the size: the
    block matching's 19-pixel windows took 8x less time than avg_pool2d), then every stride-th value."""
    if remap_applies(x):
        planes = x.detach().float().numpy().reshape(-1, *x.shape[-2:])
        out = np.stack(
            [cv2.boxFilter(p, -1, (size, size), borderType=cv2.BORDER_REPLICATE)[::stride, ::stride] for p in planes]
        )
        return torch.from_numpy(out).reshape(*x.shape[:-2], *out.shape[-2:]).to(x.dtype)
    r = size // 2
    x = F.avg_pool2d(F.pad(x, (r, r, 0, 0), mode="replicate"), (1, size), stride=(1, stride))
    return F.avg_pool2d(F.pad(x, (0, 0, r, r), mode="replicate"), (size, 1), stride=(stride, 1))


def candidates(radius: int) -> list[tuple[int, int]]:
    """Displacements (dy, dx) in the square of `radius`, nearest first, so ties keep the smaller motion."""
    square = [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)]
    return sorted(square, key=lambda d: (math.hypot(*d), d))


def first_minimum(costs: Iterable[torch.Tensor], chunk: int = 12) -> torch.Tensor:
    """Per pixel, the index of the first smallest of a sequence of cost maps (what a loop that keeps a candidate only
    when it is strictly better picks), `chunk` maps at a time: torch.min over a stack of them, instead of a compare
    and two masked fills per candidate, which took half of the motion search's time."""
    best = index = None
    costs, start = iter(costs), 0
    while group := list(itertools.islice(costs, chunk)):  # only `chunk` maps held at once
        values, where = torch.stack(group).min(0)  # ties: the first
        where += start
        if best is None:
            best, index = values, where
        else:
            better = values < best
            best, index = torch.minimum(best, values), torch.where(better, where, index)
        start += len(group)
    return index


def warp_by(frames: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """frames(y + dy, x + dx) for per-pixel displacement maps [N, 1, H, W] (border values outside).
    cv2.remap on the CPU without gradients (remap_warp), else grid_sample."""
    if remap_applies(frames, dy, dx):
        return remap_warp(frames, torch.cat([dx, dy], dim=1), mode)
    h, w = frames.shape[-2:]
    ys = torch.arange(h, dtype=frames.dtype, device=frames.device).view(1, h, 1)
    xs = torch.arange(w, dtype=frames.dtype, device=frames.device).view(1, 1, w)
    gy = (ys + dy[:, 0]) * (2.0 / max(h - 1, 1)) - 1.0
    gx = (xs + dx[:, 0]) * (2.0 / max(w - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(frames, grid, mode=mode, padding_mode="border", align_corners=True)


class BilateralMidpoint(nn.Module):
    """[B, T, C, H, W] -> the T-1 motion-compensated midpoints [B, T-1, C, scale*H, scale*W]."""

    def __init__(self, radius: int = 6, window: int = 11, penalty: float = 0.005, scale: int = 2):
        super().__init__()
        self.radius, self.window, self.penalty, self.scale = radius, window, penalty, scale

    @torch.no_grad()
    def search(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Best displacement maps (dy, dx), each [N, 1, H, W], for frame pairs a, b [N, C, H, W].

        Matching compares all channels (grey alone lost 0.1 dB on val's in-between frames) and picks one
        displacement per block of scale x scale pixels, one per input pixel: the window means are pooled with
        that stride, which made the search 3x faster at scale 2 and scored the same.
        """
        h, w = a.shape[-2:]
        r, s = self.radius, self.scale
        ap = F.pad(a, (r, r, r, r), mode="replicate")
        bp = F.pad(b, (r, r, r, r), mode="replicate")
        moves = candidates(r)

        def costs():
            for dy, dx in moves:
                sa = ap[..., r - dy : r - dy + h, r - dx : r - dx + w]  # a(x - d)
                sb = bp[..., r + dy : r + dy + h, r + dx : r + dx + w]  # b(x + d)
                err = (sa - sb).abs_().mean(1, keepdim=True)
                yield box_filter(err, self.window, s).add_(self.penalty * math.hypot(dy, dx))

        best = first_minimum(costs())
        best_dy, best_dx = (torch.tensor([float(m[i]) for m in moves], dtype=a.dtype)[best] for i in (0, 1))
        if s > 1:  # one displacement per block, back to every pixel (blocks at the edge of odd sizes too)
            best_dy = F.interpolate(best_dy, scale_factor=s, mode="nearest")[..., :h, :w]
            best_dx = F.interpolate(best_dx, scale_factor=s, mode="nearest")[..., :h, :w]
        return best_dy, best_dx

    def ops_per_midpoint(self, h: int, w: int) -> float:
        """Estimated arithmetic of one midpoint from h x w inputs: ~20 operations per candidate and pixel at the
        search's scale (difference, abs and mean of 3 channels, box filter, compare and select), ~50 per output
        pixel for the two warps and their average."""
        px = self.scale * self.scale * h * w
        return float(20 * (2 * self.radius + 1) ** 2 * px + 50 * px)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        b, t, c, h, w = clip.shape
        s = self.scale
        frames = clip.reshape(b * t, c, h, w)
        if s > 1:
            frames = resize_frames(frames, (s * h, s * w), antialias=False)
        frames = frames.reshape(b, t, c, s * h, s * w)
        first = frames[:, :-1].reshape(-1, c, s * h, s * w)
        second = frames[:, 1:].reshape(-1, c, s * h, s * w)
        dy, dx = self.search(first, second)
        # Differentiable in the frames (the search is not): gradients reach whatever produced the clip.
        mids = 0.5 * (warp_by(first, -dy, -dx) + warp_by(second, dy, dx))
        return mids.reshape(b, t - 1, c, s * h, s * w)


@functools.lru_cache(maxsize=2)  # a frame size and a tile size: each grid is 8 bytes per pixel
def _pixel_grid(h: int, w: int) -> np.ndarray:
    """[h, w, 2] float32 (x, y) of every pixel: what a flow is added to for cv2.remap's two-channel map."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.ascontiguousarray(np.stack([xs, ys], axis=-1))


def remap_applies(frames: torch.Tensor, *moves: torch.Tensor) -> bool:
    """Whether remap_warp serves: CPU tensors and no gradient wanted through them."""
    wants_grad = torch.is_grad_enabled() and any(t.requires_grad for t in (frames, *moves))
    return frames.device.type == "cpu" and not wants_grad


def remap_warp(frames: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """frames [N, C, H, W] sampled at p + flow(p) by cv2.remap, flow [N, 2, h, w] (dx, dy) at the frames' size or
    half of it (then enlarged bilinearly and doubled, as models/dense_flow.full_flow does), border clamped.

    The same taps as grid_sample with align_corners=True and border padding (bicubic: Keys a = -0.75), within
    1e-4 of it, about 6x faster on 2 threads, and the same for any thread count (each pixel alone); no gradient.
    """
    interpolation = {"bicubic": cv2.INTER_CUBIC, "bilinear": cv2.INTER_LINEAR}[mode]
    n, c, h, w = frames.shape
    grid = _pixel_grid(h, w)
    src = frames.detach().float().contiguous().numpy()
    moves = flow.detach().float().numpy()
    out = np.empty((n, c, h, w), np.float32)
    cv2.setNumThreads(max(1, torch.get_num_threads()))
    for i in range(n):
        move = moves[i].transpose(1, 2, 0)  # [h', w', 2] (dx, dy): DIS's flows are laid out so already
        if not move.flags.c_contiguous:  # channel-first maps: cv2 interleaves them 15x faster than numpy copies
            move = cv2.merge([moves[i, 0], moves[i, 1]])
        if move.shape[:2] != (h, w):  # half size: enlarged as full_flow does, doubled as it is added (exactly)
            where = cv2.scaleAdd(cv2.resize(move, (w, h), interpolation=cv2.INTER_LINEAR), 2.0, grid)
        else:
            where = move + grid  # [h, w, 2] (x, y): remap's two-channel map
        for ch in range(c):  # one plane at a time, straight into the NCHW output: no layout copies
            cv2.remap(src[i, ch], where, None, interpolation, dst=out[i, ch], borderMode=cv2.BORDER_REPLICATE)
    return torch.from_numpy(out).to(frames.dtype)
