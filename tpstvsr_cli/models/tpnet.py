"""The whole network of the paper: TPSRM -> FSM -> RM, x2 in time and x4 in space.

With a KeyframeInterp (the default preset; a departure from the paper), FSM and RM run on the key frames only
(outputs 2k) and the in-between frames are warped from the two super-resolved key frames around them.

Input  [B, T, 3, H, W], T >= 2, float RGB 0..1, any H and W (padded inside, cropped back).
Output [B, 2T-1, 3, 4H, 4W]; frame 2k is the super-resolved input frame k, frame 2k+1 lies halfway
between input frames k and k+1. No file I/O here: presets.build_model makes one, weights load elsewhere.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..engine.stage_clock import timed
from ..engine.team import each, groups, workers
from .artifact_removal import ArtifactRemoval
from .fsm import FSM
from .key_fusion import KeyFusion
from .keyframe_interp import KeyframeInterp, warp_neighbour
from .mid_blend import MidBlend
from .neighbour_fusion import NeighbourFusion
from .output_refine import OutputRefine
from .refine_unet import RefineUNet
from .tpsrm import TPSRM

STAGES = ("tpsrm", "fsm", "rm")


class TPNet(nn.Module):
    def __init__(
        self,
        tpsrm: TPSRM,
        fsm: FSM,
        rm: RefineUNet,
        pad_multiple: int = 1,
        kib_per_input_px: float | None = None,
        interp: KeyframeInterp | None = None,
        fusion: KeyFusion | None = None,
        blend: MidBlend | None = None,
        neighbours: NeighbourFusion | None = None,
        restore: ArtifactRemoval | None = None,
        refine: OutputRefine | None = None,
    ):
        super().__init__()
        if (fusion is not None or blend is not None or neighbours is not None) and interp is None:
            raise ValueError("KeyFusion, MidBlend and NeighbourFusion work on the key-frame design: give its interp")
        self.tpsrm, self.fsm, self.rm = tpsrm, fsm, rm
        self.interp, self.fusion, self.blend, self.neighbours = interp, fusion, blend, neighbours
        self.restore = restore
        self.refine = refine  # run by the engine on its finished uint8 frames (engine/refine.py), not in forward
        self.pad_multiple = pad_multiple
        self.kib_per_input_px = kib_per_input_px  # memory a caller should plan per input pixel of a window (presets.py)

    def forward(
        self, clip: torch.Tensor, upto: str = "rm", frames_per_pass: int | None = None, outputs: slice | None = None
    ) -> torch.Tensor:
        """Run the modules up to `upto` ('tpsrm' returns V_inter at 2H x W, others 4H x 4W).

        frames_per_pass bounds memory at inference: FSM and RM work on frames independently, so they
        run over that many output frames at a time (None: all at once). `outputs` selects which of the
        2T-1 output frames to compute past TPSRM (a streaming caller discards those of its context frames).
        """
        if clip.dim() != 5 or clip.shape[1] < 2 or clip.shape[2] != 3:
            raise ValueError(f"expected a clip [B, T>=2, 3, H, W], got {tuple(clip.shape)}")
        b, t, _, h, w = clip.shape
        clip = self.prepared(clip)
        with timed("convolutions"):
            inter = self.tpsrm(clip)
        if upto == "rm" and self.interp is not None:
            return self._from_keyframes(clip, inter, outputs, frames_per_pass)[..., : 4 * h, : 4 * w]
        if outputs is not None:
            inter = inter[:, outputs]
        if upto == "tpsrm":
            return inter[..., : 2 * h, :w]
        out = self._per_frame(inter.reshape(-1, *inter.shape[2:]), upto, frames_per_pass)
        return out.reshape(b, inter.shape[1], 3, *out.shape[-2:])[..., : 4 * h, : 4 * w]

    def prepared(self, clip: torch.Tensor) -> torch.Tensor:
        """What the rest of the network reads: the input clip [B, T, 3, H, W] through the artifact removal (where
        the preset has one) and padded. The key frames' fusion weighs and back-projects onto these frames too."""
        if self.restore is not None:
            with timed("convolutions"):
                clip = self.restore(clip)
        return self.padded(clip)

    def padded(self, clip: torch.Tensor) -> torch.Tensor:
        """clip [B, T, 3, H, W] replicate-padded bottom and right to multiples of pad_multiple, so that the U-Net's
        strides divide evenly (outputs are cropped back to 4H x 4W)."""
        b, t, _, h, w = clip.shape
        ph, pw = (-h) % self.pad_multiple, (-w) % self.pad_multiple
        if not (ph or pw):
            return clip
        flat = F.pad(clip.reshape(b * t, 3, h, w), (0, pw, 0, ph), mode="replicate")
        return flat.reshape(b, t, 3, h + ph, w + pw)

    def _per_frame(self, frames: torch.Tensor, upto: str, frames_per_pass: int | None) -> torch.Tensor:
        """FSM (and RM unless upto='fsm') over [N, 3, 2H, W] frames, frames_per_pass at a time."""
        step = frames.shape[0] if frames_per_pass is None else frames_per_pass

        def run(i: int) -> torch.Tensor:  # independent pieces: the engine's team may run two at once
            with timed("convolutions"):
                sr = self.fsm(frames[i : i + step])
                return self.rm(sr) if upto == "rm" else sr

        outs = each(run, range(0, frames.shape[0], step))
        return outs[0] if len(outs) == 1 else torch.cat(outs, dim=0)

    # Parameters that start at zero (an untrained module changes nothing): weights files without them still load.
    zero_start_prefixes = ("fusion.", "blend.", "restore.", "refine.")

    def _from_keyframes(
        self, clip: torch.Tensor, inter: torch.Tensor, outputs: slice | None, frames_per_pass: int | None
    ) -> torch.Tensor:
        """The selected outputs: key frames 2k through FSM and RM (plus KeyFusion's multi-frame residual), frames
        2k+1 warped from keys k and k+1.

        Only the learnt layers may run in half precision (autocast or half weights): the parameter-free rest
        (motion, flow, fusion weights in grey levels, back-projection, warps) runs in float32 on float32 frames,
        where bf16's 8 bits of mantissa cost 1.9 dB (issue 19)."""
        t = clip.shape[1]
        wanted = list(range(2 * t - 1)[outputs] if outputs is not None else range(2 * t - 1))
        keys = sorted({j // 2 for j in wanted} | {j // 2 + 1 for j in wanted if j % 2})
        used = keys
        if self.neighbours is not None:  # the neighbours within reach are super-resolved too
            keys = list(range(max(0, keys[0] - self.neighbours.reach), min(t, keys[-1] + self.neighbours.reach + 1)))
        mid_pairs = [j // 2 for j in wanted if j % 2]
        sr, motion = self.key_frames(clip, keys, mid_pairs, frames_per_pass, inter)
        with torch.autocast(clip.device.type, enabled=False):
            return self._parameter_free(clip.float(), sr, keys, used, wanted, motion)

    def key_frames(
        self,
        clip: torch.Tensor,
        keys: list[int],
        pairs: list[int],
        frames_per_pass: int | None = None,
        inter: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict]:
        """(key frames `keys` of a padded clip through TPSRM, FSM and RM with KeyFusion's residual, as float32
        [B, len(keys), 3, 4H, 4W]; {k: (dy, dx)} the midpoint motion of the pairs (k, k+1) for k in `pairs`), before
        the neighbour fusion: what a key-frame stream (models/key_stream.py) takes in. `inter`: TPSRM's output,
        when the caller has it."""
        b, t = clip.shape[:2]
        if inter is None:
            with timed("convolutions"):
                inter = self.tpsrm(clip)
        sr = self._per_frame(inter[:, [2 * k for k in keys]].flatten(0, 1), "rm", frames_per_pass)
        sr = sr.reshape(b, len(keys), *sr.shape[1:])
        with torch.autocast(clip.device.type, enabled=False):
            clip, sr = clip.float(), sr.float()
            wanted = set(pairs)
            if self.fusion is not None:
                wanted |= {k - 1 for k in keys if k > 0} | {k for k in keys if k < t - 1}
            motion = self._pair_motion(clip, sorted(wanted))
            if self.fusion is not None:
                residual = self._fusion_residual(clip, keys, motion, sr.flatten(0, 1).to(self._dtype()))
                sr = sr + residual.float().reshape(sr.shape)
        return sr, {k: motion[k] for k in pairs}

    def _parameter_free(self, clip: torch.Tensor, sr: torch.Tensor, keys: list, used: list, wanted: list, motion):
        """The neighbour fusion and the in-between frames from the key frames sr [B, len(keys), 3, sH, sW]."""
        b = clip.shape[0]
        mid_pairs = [j // 2 for j in wanted if j % 2]
        at = {k: i for i, k in enumerate(keys)}
        pair_flows = None  # the fusion's first flows serve the vote too, per pair and batch item
        if self.neighbours is not None:  # pair-major as the motion below: pair i of batch item n is row i * b + n
            sr, flows = self.neighbours.refine(sr, clip[:, keys], [at[k] for k in used])
            pair_flows = [
                (flows[at[k], at[k + 1]][n : n + 1], flows[at[k + 1], at[k]][n : n + 1])
                for k in mid_pairs
                for n in range(b)
            ]
            del flows
            at = {k: i for i, k in enumerate(used)}
        mids = {}
        if mid_pairs and workers() > 1:  # pair by pair (each alone: the same numbers), two at once on the team

            def midpoint(i: int) -> torch.Tensor:
                k = mid_pairs[i]
                flows = None if pair_flows is None else pair_flows[i * b : (i + 1) * b]
                ins = clip[:, k], clip[:, k + 1]
                return self.midpoints(sr[:, at[k]], sr[:, at[k + 1]], *ins, *motion[k], flows)

            mids = dict(zip(mid_pairs, each(midpoint, range(len(mid_pairs)))))
        elif mid_pairs:
            dy = torch.cat([motion[p][0] for p in mid_pairs])
            dx = torch.cat([motion[p][1] for p in mid_pairs])
            first = sr[:, [at[k] for k in mid_pairs]].transpose(0, 1).flatten(0, 1)  # pair-major, as dy
            second = sr[:, [at[k + 1] for k in mid_pairs]].transpose(0, 1).flatten(0, 1)
            in0 = clip[:, mid_pairs].transpose(0, 1).flatten(0, 1)
            in1 = clip[:, [k + 1 for k in mid_pairs]].transpose(0, 1).flatten(0, 1)
            made = self.midpoints(first, second, in0, in1, dy, dx, pair_flows)
            made = made.reshape(len(mid_pairs), b, *sr.shape[2:])
            mids = {k: made[i] for i, k in enumerate(mid_pairs)}
        return torch.stack([sr[:, at[j // 2]] if j % 2 == 0 else mids[j // 2] for j in wanted], dim=1)

    def midpoints(self, first, second, in0, in1, dy, dx, flows: list | None = None) -> torch.Tensor:
        """The in-between frames [N, 3, sH, sW] of key frames first and second [N, 3, sH, sW] (final: fused), their
        input frames in0 and in1 [N, 3, H, W], the pairs' midpoint motion and, per pair, the fusion's first flows
        (key0 -> key1, key1 -> key0) or None (the vote finds them). Runs in float32 but for MidBlend's layers."""
        weight0 = None
        if self.blend is not None:
            half = self._dtype()
            weight0 = self.blend(in0.to(half), in1.to(half), dy.to(half), dx.to(half)).float()
        return self.interp.warp_midpoint(first, second, dy, dx, weight0, flows)

    def _dtype(self) -> torch.dtype:
        """The learnt layers' dtype (half when a GPU cast the weights), for the small learnt modules of this path."""
        params = next(self.parameters(), None)
        return torch.float32 if params is None else params.dtype

    def _pair_motion(self, clip: torch.Tensor, pairs: list[int]) -> dict:
        """{k: (dy, dx)} midpoint motion between input frames k and k+1, each [B, 1, 2H, 2W]."""
        if not pairs:
            return {}
        # the pairs in as many batches as the engine's team runs at once (each search alone: the same numbers)
        found = each(lambda part: self._motion_batch(clip, part), groups(pairs, -(-len(pairs) // workers())))
        return {k: motion for part in found for k, motion in part.items()}

    def _motion_batch(self, clip: torch.Tensor, pairs: list[int]) -> dict:
        b = clip.shape[0]
        first = clip[:, pairs].transpose(0, 1).flatten(0, 1).float()  # pair-major: pair i of item n is row i * b + n
        second = clip[:, [k + 1 for k in pairs]].transpose(0, 1).flatten(0, 1).float()
        dy, dx = self.interp.motion(first, second)
        return {k: (dy[i * b : (i + 1) * b], dx[i * b : (i + 1) * b]) for i, k in enumerate(pairs)}

    def _fusion_residual(self, clip: torch.Tensor, keys: list[int], motion: dict, sr: torch.Tensor) -> torch.Tensor:
        """KeyFusion over each key frame's aligned stack (previous, own, next) and its super-resolved frame
        sr [B * K, 3, 4H, 4W] (batch-major): the residual, shaped like sr."""
        t = clip.shape[1]
        stacks = []
        for k in keys:
            own = clip[:, k]
            prev = warp_neighbour(clip[:, k - 1], *motion[k - 1], -1) if k > 0 else own
            nxt = warp_neighbour(clip[:, k + 1], *motion[k], 1) if k < t - 1 else own
            stacks.append(torch.cat([prev, own, nxt], dim=1))
        return self.fusion(torch.stack(stacks, dim=1).flatten(0, 1).to(sr.dtype), sr)
