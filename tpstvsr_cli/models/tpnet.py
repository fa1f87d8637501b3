"""The whole network of the paper: TPSRM -> FSM -> RM, x2 in time and x4 in space.

Input  [B, T, 3, H, W], T >= 2, float RGB 0..1, any H and W (padded inside, cropped back).
Output [B, 2T-1, 3, 4H, 4W]; frame 2k is the super-resolved input frame k, frame 2k+1 lies halfway
between input frames k and k+1. No file I/O here: presets.build_model makes one, weights load elsewhere.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from .fsm import FSM
from .refine_unet import RefineUNet
from .tpsrm import TPSRM

STAGES = ("tpsrm", "fsm", "rm")


class TPNet(nn.Module):
    def __init__(self, tpsrm: TPSRM, fsm: FSM, rm: RefineUNet, pad_multiple: int = 1, kib_per_input_px: float | None = None):
        super().__init__()
        self.tpsrm, self.fsm, self.rm = tpsrm, fsm, rm
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
        if outputs is not None:
            inter = inter[:, outputs]
        if upto == "tpsrm":
            return inter[..., : 2 * h, :w]
        frames = inter.reshape(-1, *inter.shape[2:])
        step = frames.shape[0] if frames_per_pass is None else frames_per_pass
        outs = []
        for i in range(0, frames.shape[0], step):
            sr = self.fsm(frames[i : i + step])
            outs.append(self.rm(sr) if upto == "rm" else sr)
        out = torch.cat(outs, dim=0)
        return out.reshape(b, inter.shape[1], 3, *out.shape[-2:])[..., : 4 * h, : 4 * w]
