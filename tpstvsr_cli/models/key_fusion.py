"""Multi-frame detail for the key frames: a small network at the input's size over motion-aligned neighbours.

A departure from the paper (the `default` preset). TPSRM reads each column through time, so its key frames use the
neighbouring frames only along vertical motion; in video super-resolution most of the gain of multi-frame
methods comes from aligning the neighbours first. Here the neighbours k-1 and k+1 are warped onto key frame k
with the motion the in-between frames already use (models/keyframe_interp.py: no new search), and a few
convolutions at the input's size read the aligned stack together with the key frame the rest of the network
made (folded to the input's size by a pixel unshuffle, so the fusion sees what it corrects) and predict a
x`scale` residual through a pixel shuffle, added to that key frame. The last convolution starts at zero, so an
untrained KeyFusion changes nothing and release weights without it load unchanged (TPNet.zero_start_prefixes).

Shapes: aligned [N, 3 * 3, H, W] (previous, own, next), key [N, 3, scale*H, scale*W] -> residual like key.
"""

import torch
import torch.nn as nn


class KeyFusion(nn.Module):
    def __init__(self, channels: int = 32, layers: int = 4, neighbours: int = 2, scale: int = 4):
        super().__init__()
        act = nn.LeakyReLU(0.1, inplace=True)
        body: list[nn.Module] = [nn.Conv2d(3 * (neighbours + 1) + 3 * scale * scale, channels, 3, padding=1), act]
        for _ in range(layers - 1):
            body += [nn.Conv2d(channels, channels, 3, padding=1), act]
        self.body = nn.Sequential(*body)
        self.tail = nn.Conv2d(channels, 3 * scale * scale, 3, padding=1)
        self.shuffle, self.unshuffle = nn.PixelShuffle(scale), nn.PixelUnshuffle(scale)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, aligned: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.tail(self.body(torch.cat([aligned, self.unshuffle(key)], dim=1))))
