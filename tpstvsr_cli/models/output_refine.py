"""A learnt correction of each finished output frame from compressed input (issue 21).

A departure from the paper, in the experiment preset `compressed-refine` (session 19: +0.08 dB at x264 CRF 32 on mid
val, -0.07 at CRF 23, so no shipped preset has it; weights/README.md). The rest of the network makes its frames as
for clean input; on x264 or DVD input they keep the input's compression error (its low frequencies: block steps,
smeared texture), which the network's own fine-tunes did not learn to take out in the steps a CPU gives
(weights/README.md). This module reads the finished output frame t, pixel-unshuffled 4x (so it works at the input's
size, 16x cheaper than at the output's), beside the input frames it lies between (t // 2 and (t + 1) // 2: the same
frame twice for a key frame), and adds a residual: a 3x3 head, ResBlocks, a 3x3 tail that starts at zero, so an
untrained module changes nothing. It is trained apart from the network, on the network's own uint8 outputs of
degraded training clips (scripts/train_output_refine.py), and runs on the uint8 frames the engine hands out
(engine/stream.py), so it sees at inference exactly what it saw in training.

Shapes: frame [N, 3, 4H, 4W] and inputs [N, 2, 3, H, W], both 0..1 -> [N, 3, 4H, 4W] in 0..1. Its reach is
`halo` input pixels (one per 3x3 convolution): strips of a large frame run one at a time with that much margin.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from .refine_unet import ResBlock

SCALE = 4


class OutputRefine(nn.Module):
    def __init__(self, channels: int = 48, blocks: int = 4):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3 * SCALE * SCALE + 2 * 3, channels, 3, padding=1), nn.ReLU(inplace=True))
        self.body = nn.Sequential(*(ResBlock(channels) for _ in range(blocks)))
        self.tail = nn.Conv2d(channels, 3 * SCALE * SCALE, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)
        self.halo = 2 + 2 * blocks  # input pixels each side that one output pixel reads

    def forward(self, frame: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        n, _, h, w = inputs.shape[0], 3, *inputs.shape[-2:]
        if frame.shape[-2:] != (SCALE * h, SCALE * w):
            raise ValueError(f"frame {tuple(frame.shape)} is not {SCALE}x inputs {tuple(inputs.shape)}")
        x = torch.cat([F.pixel_unshuffle(frame, SCALE), inputs.reshape(n, 6, h, w)], dim=1)
        return (frame + F.pixel_shuffle(self.tail(self.body(self.head(x))), SCALE)).clamp(0, 1)

    def strips(self, frame: torch.Tensor, inputs: torch.Tensor, rows: int = 96) -> torch.Tensor:
        """forward over strips of `rows` input rows (each with `halo` rows of margin), for bounded memory: the
        same numbers as one pass, as every output row reads only rows within its margin."""
        h = inputs.shape[-2]
        if h <= rows:
            return self(frame, inputs)
        out = []
        for top in range(0, h, rows):
            lo, hi = max(0, top - self.halo), min(h, top + rows + self.halo)
            part = self(frame[..., SCALE * lo : SCALE * hi, :], inputs[..., lo:hi, :])
            out.append(part[..., SCALE * (top - lo) : SCALE * (min(h, top + rows) - lo), :])
        return torch.cat(out, dim=-2)
