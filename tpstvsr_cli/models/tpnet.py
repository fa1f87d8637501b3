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

from .fsm import FSM
from .keyframe_interp import KeyframeInterp
from .refine_unet import RefineUNet
from .tpsrm import TPSRM

STAGES = ("tpsrm", "fsm", "rm")


class TPNet(nn.Module):
    def __init__(self, tpsrm: TPSRM, fsm: FSM, rm: RefineUNet, pad_multiple: int = 1, kib_per_input_px: float | None = None,
                 interp: KeyframeInterp | None = None):
        super().__init__()
        self.tpsrm, self.fsm, self.rm = tpsrm, fsm, rm
        self.interp = interp
        self.pad_multiple = pad_multiple
        self.kib_per_input_px = kib_per_input_px  # memory a caller should plan per input pixel of a window (presets.py)

    def forward(self, clip: torch.Tensor, upto: str = "rm", frames_per_pass: int | None = None, outputs: slice | None = None) -> torch.Tensor:
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
            clip = F.pad(clip.reshape(b * t, 3, h, w), (0, pw, 0, ph), mode="replicate").reshape(b, t, 3, h + ph, w + pw)
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
        for i in range(0, frames.shape[0], step):
            sr = self.fsm(frames[i : i + step])
            outs.append(self.rm(sr) if upto == "rm" else sr)
        return torch.cat(outs, dim=0)

    def _from_keyframes(self, clip: torch.Tensor, inter: torch.Tensor, outputs: slice | None, frames_per_pass: int | None) -> torch.Tensor:
        """The selected outputs: key frames 2k through FSM and RM, frames 2k+1 warped from keys k and k+1."""
        b, t = clip.shape[:2]
        wanted = list(range(2 * t - 1)[outputs] if outputs is not None else range(2 * t - 1))
        keys = sorted({j // 2 for j in wanted} | {j // 2 + 1 for j in wanted if j % 2})
        sr = self._per_frame(inter[:, [2 * k for k in keys]].flatten(0, 1), "rm", frames_per_pass)
        sr = sr.reshape(b, len(keys), *sr.shape[1:])
        at = {k: i for i, k in enumerate(keys)}
        pairs = [j // 2 for j in wanted if j % 2]
        mids = {}
        if pairs:
            first, second = [at[k] for k in pairs], [at[k + 1] for k in pairs]
            made = self.interp(sr[:, first].flatten(0, 1), sr[:, second].flatten(0, 1),
                               clip[:, pairs].flatten(0, 1), clip[:, [k + 1 for k in pairs]].flatten(0, 1))
            made = made.reshape(b, len(pairs), *made.shape[1:])
            mids = {k: made[:, i] for i, k in enumerate(pairs)}
        return torch.stack([sr[:, at[j // 2]] if j % 2 == 0 else mids[j // 2] for j in wanted], dim=1)
