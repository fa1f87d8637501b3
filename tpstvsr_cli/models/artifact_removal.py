"""Compression artefacts and noise taken out of the low-res input before it is super-resolved (issue 21).

A departure from the paper, in the `compressed-restore` preset (an experiment of issue 21: it matched the shipped
compressed weights on val within 0.04 dB, so no shipped preset has it; weights/README.md). The rest of the network
was trained on clean bicubic input; on x264, DVD or noisy input it sharpens the blocks, ringing and noise with the
detail. This module maps each degraded input frame back towards the clean frame the network knows, at the input's
size (cheap: no upscaling here), reading the frame with its neighbours before and after (compression quality and
noise differ from frame to frame; no alignment, so the convolutions use them where the picture stands still). A 3x3
head over the stacked frames, ResBlocks, a 3x3 tail that predicts a residual added to the frame; the tail starts at
zero, so an untrained module changes nothing. Trained alone on (degraded, clean) pairs (scripts/train_restore.py),
then through the frozen network (scripts/train_compressed_restore.sh).

Shapes: clip [B, T, 3, H, W] in 0..1 -> the same shape, each frame restored; the first and last frames repeat
themselves as their missing neighbours. Frames run one at a time (bounded memory on large inputs).
"""

import torch
import torch.nn as nn

from .refine_unet import ResBlock


class ArtifactRemoval(nn.Module):
    def __init__(self, channels: int = 32, blocks: int = 4, reach: int = 1):
        super().__init__()
        self.reach = reach
        self.head = nn.Sequential(nn.Conv2d(3 * (2 * reach + 1), channels, 3, padding=1), nn.ReLU(inplace=True))
        self.body = nn.Sequential(*(ResBlock(channels) for _ in range(blocks)))
        self.tail = nn.Conv2d(channels, 3, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def restore(self, stack: torch.Tensor) -> torch.Tensor:
        """stack [N, 2*reach+1, 3, H, W] (the frame in the middle) -> the middle frame restored, [N, 3, H, W]."""
        own = stack[:, self.reach]
        return (own + self.tail(self.body(self.head(stack.flatten(1, 2))))).clamp(0, 1)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        t = clip.shape[1]
        out = []
        for k in range(t):
            near = [min(max(k + d, 0), t - 1) for d in range(-self.reach, self.reach + 1)]
            out.append(self.restore(clip[:, near]))
        return torch.stack(out, dim=1)
