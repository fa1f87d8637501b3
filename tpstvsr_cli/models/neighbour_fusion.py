"""Multi-frame key frames without training: super-resolved neighbours aligned by dense flow, fused, back-projected.

A departure from the paper (the `default` preset). FSM and RM super-resolve each key frame alone, so two key
frames make two independent guesses at the same detail; where the scene lines up, their guesses can be
averaged, and each neighbour's detail is checked against the key frame's own input first. For key frame k:

1. the super-resolved key frames k-reach .. k+reach are aligned onto k by dense optical flow found on the
   super-resolved frames themselves (models/dense_flow.py: sub-pixel at the output's size);
2. each aligned neighbour is shrunk as the input was (antialiased bicubic) and compared with input frame k:
   its weight per input pixel is exp(-(e / sigma)^2) for the mean absolute difference e over the channels, so a
   neighbour counts where it explains what the camera saw in frame k and not where the flow failed
   (occlusions, new content); the weights are upsampled bicubically;
3. key k = (own + sum of weight x aligned neighbour) / (1 + sum of weights);
4. `steps` iterations of back-projection onto input k (x += up(input - down(x))) put back what the average
   lost of the input's own content;
5. `passes` > 1 repeats 1-4 on the refined key frames, so detail reaches further in time (2 passes of reach 2
   see 4 key frames each side).

No parameters: it works on any weights. Gradients flow through the warps and the back-projection, not the
flow. Measured on val crops in docs/design-keyframes.md (section 5).

Shapes: keys [B, K, 3, sH, sW] and their input frames [B, K, 3, H, W] (K >= 1); `targets` picks which key
frames to refine (indices into K); the result is [B, len(targets), 3, sH, sW].
"""

import torch
import torch.nn as nn

from .dense_flow import dense_flow, warp_flow
from .profiles import resize_frames


class NeighbourFusion(nn.Module):
    def __init__(self, reach: int = 2, sigma: float = 5.0, steps: int = 3, passes: int = 1):
        super().__init__()
        if reach < 1 or passes < 1:
            raise ValueError(f"reach and passes must be 1 or more, got {reach} and {passes}")
        self.reach, self.steps, self.passes = reach, steps, passes
        self.sigma = sigma / 255.0  # given in 8-bit grey levels; frames are 0..1

    def neighbours(self, target: int, count: int) -> list[int]:
        """The key frames fused into `target`, of `count`: up to `reach` each side."""
        return [j for j in range(max(0, target - self.reach), min(count, target + self.reach + 1)) if j != target]

    def ops_per_key(self, h: int, w: int, scale: int = 4) -> float:
        """Estimated arithmetic to refine one key frame from h x w inputs (no FLOP counter sees it), per pass.

        Per output pixel and neighbour: DIS ~1,000 operations (the MEDIUM preset stops at half size: 8x8 patches
        every 3 pixels, 25 gradient steps of ~14 operations per patch pixel, densification, 5 variational
        iterations, the pyramid above it), the bicubic warp of 3 channels ~100, its shrinking and weight ~100;
        each back-projection step ~300 (shrink, difference, bicubic enlargement of 3 channels).
        """
        pixels = scale * scale * h * w
        return float(self.passes * pixels * (2 * self.reach * 1200 + self.steps * 300))

    def forward(self, keys: torch.Tensor, inputs: torch.Tensor, targets: list[int]) -> torch.Tensor:
        if keys.dim() != 5 or inputs.dim() != 5 or keys.shape[:3] != inputs.shape[:3]:
            raise ValueError(
                f"expected keys [B, K, 3, sH, sW] and inputs [B, K, 3, H, W], got "
                f"{tuple(keys.shape)} and {tuple(inputs.shape)}"
            )
        for _ in range(self.passes - 1):  # every key frame, as the next pass's neighbours
            keys = self._refine_all(keys, inputs, range(keys.shape[1]))
        return self._refine_all(keys, inputs, targets)

    def _refine_all(self, keys: torch.Tensor, inputs: torch.Tensor, targets) -> torch.Tensor:
        """[B, len(targets), 3, sH, sW], written frame by frame (no list of frames and a stacked copy)."""
        out = keys.new_empty((keys.shape[0], len(targets), *keys.shape[2:]))
        for i, t in enumerate(targets):
            out[:, i] = self._refine(keys, inputs, t)
        return out

    def _refine(self, keys: torch.Tensor, inputs: torch.Tensor, target: int) -> torch.Tensor:
        """Key frame `target` [B, 3, sH, sW] fused with its neighbours and back-projected onto its input."""
        count = keys.shape[1]
        own, seen = keys[:, target], inputs[:, target]
        small, large = seen.shape[-2:], own.shape[-2:]
        fused, total = own, 1.0
        for j in self.neighbours(target, count):  # one at a time: a conversion's memory is planned per frame
            with torch.no_grad():
                flow = dense_flow(own, keys[:, j])
            aligned = warp_flow(keys[:, j], flow)
            error = (resize_frames(aligned, small) - seen).abs().mean(1, keepdim=True)
            weight = resize_frames(torch.exp(-((error / self.sigma) ** 2)), large).clamp(0, 1)
            fused, total = fused + weight * aligned, total + weight
        fused = fused / total
        for _ in range(self.steps):
            fused = fused + resize_frames(seen - resize_frames(fused, small), large)
        return fused
