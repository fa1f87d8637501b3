"""FSM's residual stacking (RS) block, made of dilated-feature-fusion (DFF) sub-blocks (paper, Fig. 4b-c).

A DFF sub-block extracts features with one convolution, looks at them through four dilated convolutions
(one filter size, growing context, no extra parameters per rate), adds the branches hierarchically
(branch k receives the sum of branches 1..k, which removes the gridding of dilated filters), concatenates
them and fuses with a 1x1 convolution and LeakyReLU. Sub-blocks and the RS block are residual, scaled
by alpha (0.2 in the paper) as in EDSR/ESRGAN.
"""

import torch
import torch.nn as nn

from .pointwise import Pointwise


class DilatedFeatureFusion(nn.Module):
    """[N, C, H, W] -> [N, C, H, W]; C must be divisible by the number of dilation rates."""

    def __init__(self, channels: int, dilations: tuple[int, ...] = (1, 2, 3, 4)):
        super().__init__()
        branch = channels // len(dilations)
        self.extract = nn.Sequential(nn.Conv2d(channels, branch, 3, padding=1), nn.LeakyReLU(0.2, inplace=True))
        self.branches = nn.ModuleList(nn.Conv2d(branch, branch, 3, padding=d, dilation=d) for d in dilations)
        self.fuse = nn.Sequential(Pointwise(branch * len(dilations), channels), nn.LeakyReLU(0.2, inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.extract(x)
        outs, acc = [], None
        for conv in self.branches:
            y = conv(feat)
            acc = y if acc is None else acc + y
            outs.append(acc)
        return self.fuse(torch.cat(outs, dim=1))


class ResidualStacking(nn.Module):
    """Three stacked DFF sub-blocks with scaled skip connections around each and around all three."""

    def __init__(self, channels: int, dilations: tuple[int, ...], alpha: float = 0.2, sub_blocks: int = 3):
        super().__init__()
        self.alpha = alpha
        self.subs = nn.ModuleList(DilatedFeatureFusion(channels, dilations) for _ in range(sub_blocks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for sub in self.subs:
            h = h + self.alpha * sub(h)
        return x + self.alpha * h
