"""In-between frames from the super-resolved key frames: coarse-to-fine bilateral motion, then warp and average.

A departure from the paper (named in the `default` preset). The paper's network makes every output frame the
same way: TPSRM interpolates the temporal profiles in time, then FSM and RM super-resolve each frame. Measured
on val crops with the step-8002 weights, warping the network's own super-resolved key frames to the midpoint
scored as well as or better than running FSM and RM on TPSRM's in-between frames, for none of their cost; with
this module's motion it scored about 1 dB better (docs/design-keyframes.md). So FSM and RM run on the key
frames only, and this module, with no parameters, makes the frames between them:

1. motion at the input's size: bilateral block matching (models/motion.py) within `radius` pixels, over a large
   `window` (19: robust on the wide flat areas of real footage, where an 11-pixel window was noisy);
2. refined at twice the input's size: +-1 pixel around it, then +-1/2 pixel, over an 11-pixel window;
3. a 3x3 median of the motion field (removes single wrong blocks), bilinear upsampling to the key frames' size;
4. midpoint(x) = (key0(x - d) + key1(x + d)) / 2, differentiable in the key frames, so training through it
   teaches the key frames to interpolate well.

Shapes: keys [N, C, sH, sW] (pairs: first and second), the input frames the motion is found on [N, C', H, W].
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..engine.stage_clock import timed
from . import midpoint_vote
from .motion import BilateralMidpoint, box_filter, candidates, first_minimum, warp_by
from .profiles import resize_frames


def upscale_field(
    field: torch.Tensor, factor: float, mode: str = "nearest", size: tuple[int, int] | None = None
) -> torch.Tensor:
    """A displacement map [N, 1, H, W] in pixels -> the same motion at `factor` times the size (values scaled)."""
    size = size or (round(field.shape[-2] * factor), round(field.shape[-1] * factor))
    if mode == "nearest":
        out = F.interpolate(field, size=size, mode="nearest")
    else:
        out = F.interpolate(field, size=size, mode="bilinear", align_corners=False)
    return out * factor


# Devillard's opt_med9: 19 compare-exchanges leave the median of 9 values in position 4.
_MEDIAN9 = [(int(p[0]), int(p[1])) for p in "12 45 78 01 34 67 12 45 78 03 58 47 36 14 25 47 42 64 42".split()]


def median3(field: torch.Tensor) -> torch.Tensor:
    """3x3 median of [N, 1, H, W] (replicate border), by a sorting network over the 9 shifted views: the same values
    as torch's median of the unfolded patches, 5x faster. (cv2.medianBlur gave them 50x faster, but with it a
    320x180 conversion under `ulimit -v 1300000` no longer finished: docs/design-keyframes.md §10.)"""
    h, w = field.shape[-2:]
    padded = F.pad(field, (1, 1, 1, 1), mode="replicate")
    v = [padded[..., dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    for i, j in _MEDIAN9:
        v[i], v[j] = torch.minimum(v[i], v[j]), torch.maximum(v[i], v[j])
    return v[4]


@torch.no_grad()
def refine_motion(
    a: torch.Tensor,
    b: torch.Tensor,
    dy: torch.Tensor,
    dx: torch.Tensor,
    *,
    step: float,
    window: int,
    penalty: float,
    stride: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilateral search of the 3x3 displacements `step` apart around (dy, dx), one choice per stride x stride block.

    a, b [N, C, H, W]; dy, dx [N, 1, H, W] in pixels of a. Cost: window mean of |a(x - d) - b(x + d)| over the
    channels plus `penalty` per pixel of |d|, as in the search of models/motion.py.
    """
    h, w = a.shape[-2:]
    moves = candidates(1)

    def costs():
        for cy, cx in moves:
            ty, tx = dy + cy * step, dx + cx * step
            err = (warp_by(a, -ty, -tx) - warp_by(b, ty, tx)).abs_().mean(1, keepdim=True)
            yield box_filter(err.add_(penalty * torch.sqrt(ty * ty + tx * tx)), window, stride)

    best = first_minimum(costs())
    best_y, best_x = (torch.tensor([m[i] * step for m in moves], dtype=a.dtype)[best] for i in (0, 1))
    if stride > 1:
        best_y = F.interpolate(best_y, scale_factor=stride, mode="nearest")[..., :h, :w]
        best_x = F.interpolate(best_x, scale_factor=stride, mode="nearest")[..., :h, :w]
    return dy + best_y, dx + best_x


class KeyframeInterp(nn.Module):
    """(key0, key1 [N, C, sH, sW], in0, in1 [N, C, H, W]) -> midpoints [N, C, sH, sW]; no parameters."""

    def __init__(
        self, radius: int = 5, window: int = 19, fine_window: int = 11, penalty: float = 0.005, vote: bool = False
    ):
        super().__init__()
        self.coarse = BilateralMidpoint(radius, window, penalty, scale=1)
        self.fine_window, self.penalty = fine_window, penalty
        # blend with two optical-flow midpoints by agreement (models/midpoint_vote.py); a MidBlend's weight
        # (warp_midpoint's weight0) replaces it
        self.vote = vote

    @torch.no_grad()
    def motion(self, in0: torch.Tensor, in1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Displacement maps (dy, dx) [N, 1, 2H, 2W], in pixels of the input at twice its size."""
        with timed("motion"):
            return self._motion(in0, in1)

    def _motion(self, in0: torch.Tensor, in1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        dy, dx = self.coarse.search(in0, in1)
        h, w = in0.shape[-2:]
        up0 = resize_frames(in0, (2 * h, 2 * w), antialias=False)
        up1 = resize_frames(in1, (2 * h, 2 * w), antialias=False)
        dy, dx = upscale_field(dy, 2, size=(2 * h, 2 * w)), upscale_field(dx, 2, size=(2 * h, 2 * w))
        for step in (1.0, 0.5):
            dy, dx = refine_motion(up0, up1, dy, dx, step=step, window=self.fine_window, penalty=self.penalty, stride=2)
        return median3(dy), median3(dx)

    def ops_per_midpoint(self, h: int, w: int, scale: int = 4, own_flows: bool = True) -> float:
        """Estimated arithmetic of one midpoint from h x w inputs (not convolutions, so no FLOP counter sees it).

        Per candidate and pixel: the coarse search ~20 operations (difference, abs and channel mean of 3
        channels, two box-filter passes, compare and select); a refinement at 2x ~75 (two bilinear warps of
        3 channels at ~8 each, then as the coarse); the final warp ~50 per output pixel (two warps, average).
        """
        coarse = 20 * (2 * self.coarse.radius + 1) ** 2 * h * w
        refine = 2 * 9 * 75 * 4 * h * w
        vote = midpoint_vote.ops_per_midpoint(h, w, scale, own_flows) if self.vote else 0.0
        return float(coarse + refine + 50 * scale * scale * h * w + vote)

    def warp_midpoint(
        self,
        key0: torch.Tensor,
        key1: torch.Tensor,
        dy: torch.Tensor,
        dx: torch.Tensor,
        weight0: torch.Tensor | None = None,
        flows: list | None = None,
    ) -> torch.Tensor:
        """Midpoints of key frames [N, C, sH, sW] for motion (dy, dx) from `motion` (any multiple of its size).

        weight0 [N, 1, h, w] (models/mid_blend.py, the motion's size): key0's share per pixel; None: one half.
        flows: for the vote, per pair n the dense flows (key0 -> key1, key1 -> key0) [1, 2, sH, sW] found already,
        or None to find them.
        """
        size = key0.shape[-2:]
        factor = size[-1] / dy.shape[-1]
        if not math.isclose(size[-2] / dy.shape[-2], factor):
            raise ValueError(
                f"key frames {tuple(size)} are not a uniform multiple of the motion field {tuple(dy.shape[-2:])}"
            )
        dy = upscale_field(dy, factor, "bilinear", size).to(key0.dtype)
        dx = upscale_field(dx, factor, "bilinear", size).to(key0.dtype)
        if self.vote and weight0 is None:  # one pair at a time, into the output: memory is planned per frame
            out = key0.new_empty(key0.shape)
            for n in range(key0.shape[0]):
                pair = slice(n, n + 1)
                back, ahead = warp_by(key0[pair], -dy[pair], -dx[pair]), warp_by(key1[pair], dy[pair], dx[pair])
                found = None if flows is None else flows[n]
                out[pair] = midpoint_vote.voted_midpoint(key0[pair], key1[pair], back, ahead, found)
            return out
        back, ahead = warp_by(key0, -dy, -dx), warp_by(key1, dy, dx)
        if weight0 is None:
            return 0.5 * (back + ahead)
        weight0 = F.interpolate(weight0.to(key0.dtype), size=size, mode="bilinear", align_corners=False)
        return ahead + weight0 * (back - ahead)

    def forward(self, key0: torch.Tensor, key1: torch.Tensor, in0: torch.Tensor, in1: torch.Tensor) -> torch.Tensor:
        dy, dx = self.motion(in0.float(), in1.float())
        return self.warp_midpoint(key0, key1, dy, dx)


def warp_neighbour(frame: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, direction: int) -> torch.Tensor:
    """A neighbouring input frame [N, C, H, W] warped onto the key frame between it and the pair's other frame.

    dy, dx [N, 1, 2H, 2W]: the pair's midpoint motion from KeyframeInterp.motion, half the motion in pixels at
    twice the size, which is the whole motion in pixels at the input's size; it is pooled to that size and used
    at the key frame (the midpoint's field: close for smooth motion). direction +1: the frame after the key
    frame (pair key, next); -1: the frame before it (pair previous, key).
    """
    size = frame.shape[-2:]
    my, mx = F.adaptive_avg_pool2d(dy, size), F.adaptive_avg_pool2d(dx, size)
    return warp_by(frame, direction * my.to(frame.dtype), direction * mx.to(frame.dtype))
