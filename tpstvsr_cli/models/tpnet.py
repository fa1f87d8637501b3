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
from .fsm import FSM
from .key_fusion import KeyFusion
from .keyframe_interp import KeyframeInterp, warp_neighbour
from .mid_blend import MidBlend
from .neighbour_fusion import NeighbourFusion
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
    ):
        super().__init__()
        if (fusion is not None or blend is not None or neighbours is not None) and interp is None:
            raise ValueError("KeyFusion, MidBlend and NeighbourFusion work on the key-frame design: give its interp")
        self.tpsrm, self.fsm, self.rm = tpsrm, fsm, rm
        self.interp, self.fusion, self.blend, self.neighbours = interp, fusion, blend, neighbours
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
        m = self.pad_multiple
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:  # replicate-pad bottom/right so U-Net strides divide evenly; cropped below
            clip = F.pad(clip.reshape(b * t, 3, h, w), (0, pw, 0, ph), mode="replicate").reshape(
                b, t, 3, h + ph, w + pw
            )
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

    def _per_frame(self, frames: torch.Tensor, upto: str, frames_per_pass: int | None) -> torch.Tensor:
        """FSM (and RM unless upto='fsm') over [N, 3, 2H, W] frames, frames_per_pass at a time."""
        step = frames.shape[0] if frames_per_pass is None else frames_per_pass
        outs = []
        with timed("convolutions"):
            for i in range(0, frames.shape[0], step):
                sr = self.fsm(frames[i : i + step])
                outs.append(self.rm(sr) if upto == "rm" else sr)
            return torch.cat(outs, dim=0)

    # Parameters that start at zero (an untrained module changes nothing): weights files without them still load.
    zero_start_prefixes = ("fusion.", "blend.")

    def _from_keyframes(
        self, clip: torch.Tensor, inter: torch.Tensor, outputs: slice | None, frames_per_pass: int | None
    ) -> torch.Tensor:
        """The selected outputs: key frames 2k through FSM and RM (plus KeyFusion's multi-frame residual), frames
        2k+1 warped from keys k and k+1.

        Only the learnt layers may run in half precision (autocast or half weights): the parameter-free rest
        (motion, flow, fusion weights in grey levels, back-projection, warps) runs in float32 on float32 frames,
        where bf16's 8 bits of mantissa cost 1.9 dB (issue 19)."""
        b, t = clip.shape[:2]
        wanted = list(range(2 * t - 1)[outputs] if outputs is not None else range(2 * t - 1))
        keys = sorted({j // 2 for j in wanted} | {j // 2 + 1 for j in wanted if j % 2})
        used = keys
        if self.neighbours is not None:  # the neighbours within reach are super-resolved too
            keys = list(range(max(0, keys[0] - self.neighbours.reach), min(t, keys[-1] + self.neighbours.reach + 1)))
        sr = self._per_frame(inter[:, [2 * k for k in keys]].flatten(0, 1), "rm", frames_per_pass)
        sr = sr.reshape(b, len(keys), *sr.shape[1:])
        with torch.autocast(clip.device.type, enabled=False):
            return self._parameter_free(clip.float(), sr.float(), keys, used, wanted)

    def _parameter_free(self, clip: torch.Tensor, sr: torch.Tensor, keys: list, used: list, wanted: list):
        """Fusion and in-between frames from the super-resolved key frames sr [B, len(keys), 3, sH, sW]."""
        b, t = clip.shape[:2]
        mid_pairs = [j // 2 for j in wanted if j % 2]
        pairs = set(mid_pairs)
        if self.fusion is not None:
            pairs |= {k - 1 for k in keys if k > 0} | {k for k in keys if k < t - 1}
        motion = self._pair_motion(clip, sorted(pairs))
        if self.fusion is not None:
            residual = self._fusion_residual(clip, keys, motion, sr.flatten(0, 1).to(self._dtype()))
            sr = sr + residual.float().reshape(sr.shape)
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
        if mid_pairs:
            dy = torch.cat([motion[p][0] for p in mid_pairs])
            dx = torch.cat([motion[p][1] for p in mid_pairs])
            first = sr[:, [at[k] for k in mid_pairs]].transpose(0, 1).flatten(0, 1)  # pair-major, as dy
            second = sr[:, [at[k + 1] for k in mid_pairs]].transpose(0, 1).flatten(0, 1)
            weight0 = None
            if self.blend is not None:
                in0 = clip[:, mid_pairs].transpose(0, 1).flatten(0, 1)
                in1 = clip[:, [k + 1 for k in mid_pairs]].transpose(0, 1).flatten(0, 1)
                half = self._dtype()
                weight0 = self.blend(in0.to(half), in1.to(half), dy.to(half), dx.to(half)).float()
            made = self.interp.warp_midpoint(first, second, dy, dx, weight0, pair_flows)
            made = made.reshape(len(mid_pairs), b, *sr.shape[2:])
            mids = {k: made[i] for i, k in enumerate(mid_pairs)}
        return torch.stack([sr[:, at[j // 2]] if j % 2 == 0 else mids[j // 2] for j in wanted], dim=1)

    def _dtype(self) -> torch.dtype:
        """The learnt layers' dtype (half when a GPU cast the weights), for the small learnt modules of this path."""
        params = next(self.parameters(), None)
        return torch.float32 if params is None else params.dtype

    def _pair_motion(self, clip: torch.Tensor, pairs: list[int]) -> dict:
        """{k: (dy, dx)} midpoint motion between input frames k and k+1, each [B, 1, 2H, 2W]."""
        if not pairs:
            return {}
        b = clip.shape[0]
        first = clip[:, pairs].transpose(0, 1).flatten(0, 1).float()
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
