"""In-between frames from three motion estimates, each weighted by how well its two warped key frames agree.

A departure from the paper (the `default` preset), with no parameters. KeyframeInterp's block matching finds
robust motion at the input's size; dense optical flow between the two super-resolved key frames
(models/dense_flow.py) is finer but fails differently (large motion, flat areas). Each estimate m gives a
midpoint (A_m + B_m) / 2 from key frame k warped forward (A_m) and key frame k+1 warped back (B_m); where the
motion is right the two warps agree. So per output pixel the midpoints are averaged with weights
exp(-(d_m / sigma)^2), d_m the mean absolute difference |A_m - B_m| over the channels and a 5x5 neighbourhood,
in grey levels. The estimates: the block matching's, the flow from k to k+1 halved, and the flow from k+1 to k
halved (the flow at the midpoint taken as the flow at the same pixel of the key frame: exact for smooth motion).
Measured on val crops in docs/design-keyframes.md (section 5).

Shapes: key0, key1 [N, C, sH, sW] and the block matching's two warps of them (back, ahead) -> [N, C, sH, sW].
"""

import torch

from ..engine.stage_clock import timed
from .dense_flow import OPS_PER_PIXEL, dense_flow, full_flow, warp_flow
from .motion import box_filter

SIGMA = 4.0 / 255  # agreement scale: grey levels of 0..1 frames
RADIUS = 2  # the agreement is averaged over (2 * RADIUS + 1)^2 pixels


def _agreement(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """exp(-(d / SIGMA)^2) [N, 1, H, W] for d the local mean absolute difference of a and b."""
    d = (a - b).abs().mean(1, keepdim=True)
    d = box_filter(d, 2 * RADIUS + 1)
    return torch.exp(-((d / SIGMA) ** 2)) + 1e-6  # never all zero: then the three count alike


def voted_midpoint(
    key0: torch.Tensor,
    key1: torch.Tensor,
    back: torch.Tensor,
    ahead: torch.Tensor,
    flows: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """The agreement-weighted midpoint of the block matching's warps (back, ahead) and two flow estimates, for
    each pair of the batch (KeyframeInterp.warp_midpoint passes one pair at a time to bound memory).

    flows: (key0 -> key1, key1 -> key0) found already (the neighbour fusion's, on the key frames before it
    refined them: the same motion); None finds them here."""
    if flows is None:
        with torch.no_grad():
            flows = dense_flow(key0, key1), dense_flow(key1, key0)
    with timed("vote"):
        forward, backward = (full_flow(f, key0.shape[-2:]) for f in flows)  # once each, not once per warp
        pairs = [
            (back, ahead),
            (warp_flow(key0, -0.5 * forward), warp_flow(key1, 0.5 * forward)),
            (warp_flow(key0, 0.5 * backward), warp_flow(key1, -0.5 * backward)),
        ]
        total, weights = 0.0, 0.0
        for a, b in pairs:
            w = _agreement(a, b)
            total, weights = total + w * 0.5 * (a + b), weights + w
        return total / weights


def ops_per_midpoint(h: int, w: int, scale: int = 4, own_flows: bool = True) -> float:
    """Estimated arithmetic per midpoint from h x w inputs: two DIS flows at the output's size
    (dense_flow.OPS_PER_PIXEL each; none when the fusion's are reused: own_flows False), four bicubic warps of
    3 channels (~100 each) and three agreements and the blend (~150)."""
    return float(scale * scale * h * w * ((2 * OPS_PER_PIXEL if own_flows else 0) + 4 * 100 + 150))
