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
   lost of the input's own content (models/back_projection.py: one shrink and one enlargement for all steps);
5. `passes` > 1 repeats 1-4 on the refined key frames, so detail reaches further in time (2 passes of reach 2
   see 4 key frames each side).

No parameters: it works on any weights. Gradients flow through the warps and the back-projection, not the
flow. The flow between each pair of key frames is found anew only every `flow_every` passes (and the first
flows serve the in-between frames' vote too, through TPNet): refined frames show the same scene, and finding the flow
again every pass was most of the fusion's time; refined frames do align a little better, so `default` finds it
twice in its four passes (docs/design-keyframes.md, section 6), the second time by refining the first set on the
refined frames rather than by DIS anew (section 11). Measured on val crops in docs/design-keyframes.md
(sections 5 and 6).

Shapes: keys [B, K, 3, sH, sW] and their input frames [B, K, 3, H, W] (K >= 1); `targets` picks which key
frames to refine (indices into K); the result is [B, len(targets), 3, sH, sW]. Flows: {(i, j): [B, 2, sH, sW]}
from key i to key j (dense_flow's convention), for every pair within reach (pair_flows makes them).
"""

import torch
import torch.nn as nn

from ..engine.stage_clock import timed
from ..engine.team import each
from .back_projection import back_project
from .dense_flow import OPS_PER_PIXEL, REFINE_OPS_PER_PIXEL, flows_for_pairs, grey_u8, half_grey, warp_flow
from .profiles import resize_frames


class NeighbourFusion(nn.Module):
    def __init__(self, reach: int = 2, sigma: float = 5.0, steps: int = 3, passes: int = 1, flow_every: int = 1):
        super().__init__()
        if reach < 1 or passes < 1 or flow_every < 1:
            raise ValueError(f"reach, passes and flow_every must be 1 or more, got {reach}, {passes}, {flow_every}")
        self.reach, self.steps, self.passes, self.flow_every = reach, steps, passes, flow_every
        self.sigma = sigma / 255.0  # given in 8-bit grey levels; frames are 0..1

    def neighbours(self, target: int, count: int) -> list[int]:
        """The key frames fused into `target`, of `count`: up to `reach` each side."""
        return [j for j in range(max(0, target - self.reach), min(count, target + self.reach + 1)) if j != target]

    def ops_per_key(self, h: int, w: int, scale: int = 4) -> float:
        """Estimated arithmetic to refine one key frame from h x w inputs (no FLOP counter sees it), all passes.

        Per output pixel and neighbour: DIS for the first flow set, dense_flow.OPS_PER_PIXEL, and its refinement for
        each later one (every `flow_every` passes), dense_flow.REFINE_OPS_PER_PIXEL. Per pass and
        neighbour: the bicubic warp of 3 channels ~100, its shrinking and weight ~100; per pass, the
        back-projection ~300 (one shrink, one enlargement) and ~5 for each step after the first (two 7-tap passes
        at the input's size).
        """
        pixels = scale * scale * h * w
        per_pass = 2 * self.reach * 200 + (300 + 5 * (self.steps - 1) if self.steps else 0)
        flow_sets = -(-self.passes // self.flow_every)
        flow_ops = OPS_PER_PIXEL + (flow_sets - 1) * REFINE_OPS_PER_PIXEL
        return float(pixels * (2 * self.reach * flow_ops + self.passes * per_pass))

    def pairs(self, count: int) -> list[tuple[int, int]]:
        """The (key, neighbour) pairs the fusion of `count` key frames reads, each once."""
        return [(t, j) for t in range(count) for j in self.neighbours(t, count)]

    @torch.no_grad()
    def pair_flows(
        self, keys: torch.Tensor, pairs: list[tuple[int, int]] | None = None, start: dict | None = None
    ) -> dict:
        """{(i, j): flow from key i to key j} for keys [B, K, 3, sH, sW] (default: every pair the fusion reads); with
        `start`, the earlier set's flows of these pairs refined on these keys (dense_flow.make_refinement)."""
        pairs = self.pairs(keys.shape[1]) if pairs is None else pairs
        with timed("flow"):
            greys = {k: half_grey(grey_u8(keys[:, k])) for k in sorted({k for pair in pairs for k in pair})}
            return flows_for_pairs(greys, pairs, keys.shape[-2:], keys.device, start)

    def forward(self, keys: torch.Tensor, inputs: torch.Tensor, targets: list[int]) -> torch.Tensor:
        return self.refine(keys, inputs, targets)[0]

    def refine(
        self, keys: torch.Tensor, inputs: torch.Tensor, targets: list[int], flows: dict | None = None
    ) -> tuple[torch.Tensor, dict]:
        """(the refined targets, the first pass's flows between adjacent key frames): `flows` given are the
        first pass's (pair_flows of keys). The first flows, found on the key frames as the network made them, served the
        in-between frames' vote better on val crops than the last (docs/design-keyframes.md, section 6)."""
        if keys.dim() != 5 or inputs.dim() != 5 or keys.shape[:3] != inputs.shape[:3]:
            raise ValueError(
                f"expected keys [B, K, 3, sH, sW] and inputs [B, K, 3, H, W], got "
                f"{tuple(keys.shape)} and {tuple(inputs.shape)}"
            )
        flows = self.pair_flows(keys) if flows is None else flows
        first = {(i, j): f for (i, j), f in flows.items() if abs(i - j) == 1}
        for done in range(self.passes):
            if done and done % self.flow_every == 0:  # the new set starts from the old one
                flows = self.pair_flows(keys, list(flows), start=flows)
            last = done == self.passes - 1  # earlier passes refine every key frame: the next pass's neighbours
            with timed("fusion"):
                keys = self._refine_all(keys, inputs, targets if last else range(keys.shape[1]), flows)
        return keys, first

    def _refine_all(self, keys: torch.Tensor, inputs: torch.Tensor, targets, flows: dict) -> torch.Tensor:
        """[B, len(targets), 3, sH, sW], written frame by frame (no list of frames and a stacked copy)."""
        out = keys.new_empty((keys.shape[0], len(targets), *keys.shape[2:]))

        def refine(i: int) -> None:  # key frames of one pass are independent: the engine's team may run two at once
            out[:, i] = self._refine(keys, inputs, targets[i], flows)

        each(refine, range(len(targets)))
        return out

    def _refine(self, keys: torch.Tensor, inputs: torch.Tensor, target: int, flows: dict) -> torch.Tensor:
        """Key frame `target` [B, 3, sH, sW] fused with its neighbours and back-projected onto its input."""
        near = self.neighbours(target, keys.shape[1])
        return self.fuse(
            keys[:, target], inputs[:, target], [keys[:, j] for j in near], [flows[target, j] for j in near]
        )

    def fuse(self, own: torch.Tensor, seen: torch.Tensor, near: list, flows: list) -> torch.Tensor:
        """One key frame own [B, 3, sH, sW] fused with the key frames `near` (each aligned by the flow from own to
        it, in `flows`) and back-projected onto its input seen [B, 3, H, W]: one pass for one key frame."""
        small, large = seen.shape[-2:], own.shape[-2:]
        fused, total = own, 1.0
        for key, flow in zip(near, flows):  # one at a time: a conversion's memory is planned per frame
            aligned = warp_flow(key, flow)
            error = (resize_frames(aligned, small) - seen).abs().mean(1, keepdim=True)
            weight = resize_frames(torch.exp(-((error / self.sigma) ** 2)), large).clamp(0, 1)
            fused, total = torch.addcmul(fused, weight, aligned), total + weight
        return back_project(fused / total, seen, self.steps)
