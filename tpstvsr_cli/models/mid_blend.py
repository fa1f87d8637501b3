"""Occlusion-aware weights for the in-between frames: which of the two warped key frames to trust, per pixel.

A departure from the paper (the `default` preset). The in-between frame 2k+1 is warped from the super-resolved
key frames k and k+1 (models/keyframe_interp.py). Where something is covered or uncovered between them, only one
of the two warps shows the right content, and the plain average ghosts it. This module reads both input frames
warped to the midpoint (at twice the input's size, where the motion lives), their difference and the motion
itself, and predicts the weight of key frame k, per pixel; the midpoint becomes w * warp(k) + (1 - w) * warp(k+1).
The last convolution starts at zero, so an untrained MidBlend gives w = 0.5 everywhere, the plain average, and
weights files without it load unchanged (TPNet.zero_start_prefixes).

Shapes: in0, in1 [N, 3, H, W]; dy, dx [N, 1, 2H, 2W] (KeyframeInterp.motion) -> weight [N, 1, 2H, 2W] in (0, 1).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from .motion import warp_by


class MidBlend(nn.Module):
    def __init__(self, channels: int = 24, layers: int = 3):
        super().__init__()
        act = nn.LeakyReLU(0.1, inplace=True)
        body: list[nn.Module] = [nn.Conv2d(3 + 3 + 3 + 2, channels, 3, padding=1), act]
        for _ in range(layers - 2):
            body += [nn.Conv2d(channels, channels, 3, padding=1), act]
        self.body = nn.Sequential(*body)
        self.tail = nn.Conv2d(channels, 1, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, in0: torch.Tensor, in1: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        up0 = F.interpolate(in0, size=dy.shape[-2:], mode="bicubic", align_corners=False)
        up1 = F.interpolate(in1, size=dy.shape[-2:], mode="bicubic", align_corners=False)
        dy, dx = dy.to(in0.dtype), dx.to(in0.dtype)
        back, ahead = warp_by(up0, -dy, -dx), warp_by(up1, dy, dx)
        # Motion in pixels at 2x reaches ~+-12; a quarter keeps the inputs near the images' 0..1 range.
        features = torch.cat([back, ahead, back - ahead, 0.25 * dy, 0.25 * dx], dim=1)
        return torch.sigmoid(self.tail(self.body(features)))
