"""IMDN, the information multi-distillation network (Hui et al., ACM MM 2019), as a x2 residual upscaler.

TPSRM runs it on temporal profiles (x2 in height and x2 in time); FSM's cascaded super-resolution
sub-module runs it on frames (x2 in height and width). Both are a 2x2 pixel shuffle of the last
features. The last convolution starts at zero so that, with the caller adding a fixed upsampled base,
an untrained IMDN returns that base exactly.
"""

import torch
import torch.nn as nn

from .pointwise import Pointwise


def _lrelu() -> nn.Module:
    return nn.LeakyReLU(0.05, inplace=True)


class ContrastChannelAttention(nn.Module):
    """IMDN's CCA layer: channel weights from the per-channel std + mean."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.body = nn.Sequential(
            Pointwise(channels, hidden), nn.ReLU(inplace=True), Pointwise(hidden, channels), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = (x - mean).pow(2).mean(dim=(2, 3), keepdim=True).add(1e-8).sqrt()
        return x * self.body(std + mean)


class IMDBlock(nn.Module):
    """Three distillation steps keep a quarter of the channels each; the rest is refined further."""

    def __init__(self, channels: int):
        super().__init__()
        self.keep = channels // 4
        rest = channels - self.keep
        self.c1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.c2 = nn.Conv2d(rest, channels, 3, padding=1)
        self.c3 = nn.Conv2d(rest, channels, 3, padding=1)
        self.c4 = nn.Conv2d(rest, self.keep, 3, padding=1)
        self.act = _lrelu()
        self.cca = ContrastChannelAttention(self.keep * 4)
        self.fuse = Pointwise(self.keep * 4, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rest = x.shape[1] - self.keep
        d1, r1 = torch.split(self.act(self.c1(x)), [self.keep, rest], dim=1)
        d2, r2 = torch.split(self.act(self.c2(r1)), [self.keep, rest], dim=1)
        d3, r3 = torch.split(self.act(self.c3(r2)), [self.keep, rest], dim=1)
        d4 = self.c4(r3)
        return self.fuse(self.cca(torch.cat([d1, d2, d3, d4], dim=1))) + x


class IMDN(nn.Module):
    """[N, in_ch, H, W] -> residual [N, out_ch, 2H, 2W] (zero at initialisation)."""

    def __init__(self, in_ch: int = 3, out_ch: int = 3, channels: int = 64, blocks: int = 6):
        super().__init__()
        self.head = nn.Conv2d(in_ch, channels, 3, padding=1)
        self.blocks = nn.ModuleList(IMDBlock(channels) for _ in range(blocks))
        self.fuse = nn.Sequential(Pointwise(channels * blocks, channels), _lrelu())
        self.body_tail = nn.Conv2d(channels, channels, 3, padding=1)
        self.upsample = nn.Conv2d(channels, out_ch * 4, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)
        nn.init.zeros_(self.upsample.weight)
        nn.init.zeros_(self.upsample.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.head(x)
        outs, h = [], feat
        for block in self.blocks:
            h = block(h)
            outs.append(h)
        h = self.body_tail(self.fuse(torch.cat(outs, dim=1))) + feat
        return self.shuffle(self.upsample(h))
