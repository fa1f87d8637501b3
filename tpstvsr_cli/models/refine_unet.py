"""RM, the refining module (paper, section 3.3 and Fig. 5): a U-Net of ResBlocks, per frame.

5x5 input conv -> encoder levels (ResBlocks, then a stride-2 conv down) -> bottleneck ResBlocks ->
decoder levels (pixel-shuffle up, add the encoder's skip, ResBlocks) -> 5x5 output conv, added to the
input frame. The output conv starts at zero so an untrained RM is the identity. The paper uses 15
ResBlocks; presets choose how many sit at each level (the full-resolution ones cost the most).
"""

import torch
import torch.nn as nn

from .pointwise import Pointwise


class ResBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _stack(channels: int, count: int) -> nn.Sequential:
    return nn.Sequential(*(ResBlock(channels) for _ in range(count)))


class RefineUNet(nn.Module):
    """[N, 3, H, W] -> [N, 3, H, W]; H and W must be divisible by 2 ** (len(channels) - 1)."""

    def __init__(
        self, channels: tuple[int, ...], enc_blocks: tuple[int, ...], mid_blocks: int, dec_blocks: tuple[int, ...]
    ):
        super().__init__()
        levels = len(channels) - 1
        assert len(enc_blocks) == levels and len(dec_blocks) == levels, "one block count per U-Net level"
        self.head = nn.Conv2d(3, channels[0], 5, padding=2)
        self.enc = nn.ModuleList(_stack(channels[i], enc_blocks[i]) for i in range(levels))
        self.down = nn.ModuleList(
            nn.Conv2d(channels[i], channels[i + 1], 3, stride=2, padding=1) for i in range(levels)
        )
        self.mid = _stack(channels[-1], mid_blocks)
        self.up = nn.ModuleList(
            nn.Sequential(Pointwise(channels[i + 1], channels[i] * 4), nn.PixelShuffle(2)) for i in range(levels)
        )
        self.dec = nn.ModuleList(_stack(channels[i], dec_blocks[i]) for i in range(levels))
        self.tail = nn.Conv2d(channels[0], 3, 5, padding=2)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        skips = []
        for enc, down in zip(self.enc, self.down):
            h = enc(h)
            skips.append(h)
            h = down(h)
        h = self.mid(h)
        for i in reversed(range(len(self.up))):
            h = self.dec[i](self.up[i](h) + skips[i])
        return x + self.tail(h)
