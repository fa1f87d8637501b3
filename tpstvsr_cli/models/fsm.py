"""FSM, the feature shuffling module (paper, section 3.2): V_inter (W x 2H) -> V_sr (4W x 4H), per frame.

feature extractor (two convs) -> two RS blocks -> feature shuffling (C channels at width W become C/2
channels at width 2W: a pixel shuffle along width only) -> frame reconstructor (frame V_fs at 2W x 2H)
-> cascaded super-resolution (an IMDN, x2 in both axes). The reconstructor and the IMDN predict residuals
over bicubic upsampling and start at zero, so an untrained FSM is bicubic.
"""

import torch
import torch.nn as nn

from .dilated_fusion import ResidualStacking
from .imdn import IMDN
from .profiles import resize_frames


def feature_shuffle(feat: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [N, C/2, H, 2W]: channel pairs become horizontally adjacent pixels."""
    n, c, h, w = feat.shape
    return feat.reshape(n, c // 2, 2, h, w).permute(0, 1, 3, 4, 2).reshape(n, c // 2, h, 2 * w)


class FSM(nn.Module):
    """[N, 3, 2H, W] -> [N, 3, 4H, 4W] for N independent frames."""

    def __init__(self, channels: int, dilations: tuple[int, ...], alpha: float, csr_channels: int, csr_blocks: int):
        super().__init__()
        lrelu = nn.LeakyReLU(0.2, inplace=True)
        self.extract = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1), lrelu, nn.Conv2d(channels, channels, 3, padding=1)
        )
        self.rs = nn.Sequential(*(ResidualStacking(channels, dilations, alpha) for _ in range(2)))
        half = channels // 2
        self.reconstruct = nn.Sequential(
            nn.Conv2d(half, half, 3, padding=1), nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(half, 3, 3, padding=1)
        )
        nn.init.zeros_(self.reconstruct[-1].weight)
        nn.init.zeros_(self.reconstruct[-1].bias)
        self.csr = IMDN(3, 3, csr_channels, csr_blocks)

    def forward(self, inter: torch.Tensor) -> torch.Tensor:
        _, _, h2, w = inter.shape
        shuffled = feature_shuffle(self.rs(self.extract(inter)))
        frame = resize_frames(inter, (h2, 2 * w), antialias=False) + self.reconstruct(shuffled)
        return resize_frames(frame, (2 * h2, 4 * w), antialias=False) + self.csr(frame)
