"""TPSRM, the temporal-profile super-resolution module (paper, section 3.1).

The clip's W vertical temporal profiles (each an H x T image) are super-resolved by an IMDN by 2 in
height and 2 in time, giving 2T profile columns, of which the last is cut (2T -> 2T-1) so that output
frame 2k lines up with input frame k. The IMDN predicts a residual over a fixed base: bicubic x2 in
height and linear blending in time, so an untrained TPSRM is exactly that classical baseline. With a
`motion` module (models/motion.py, a departure from the paper) the in-between frames of the base are
motion-compensated midpoints instead of plain averages.
"""

import torch
import torch.nn as nn

from ..engine.team import each, workers
from .imdn import IMDN
from .motion import BilateralMidpoint
from .profiles import blend_time, from_vertical_profiles, interleave, resize_frames, to_vertical_profiles


class TPSRM(nn.Module):
    """[B, T, 3, H, W] -> V_inter [B, 2T-1, 3, 2H, W]."""

    def __init__(
        self, channels: int, blocks: int, profiles_per_pass: int = 64, motion: BilateralMidpoint | None = None
    ):
        super().__init__()
        self.imdn = IMDN(3, 3, channels, blocks)
        self.motion = motion
        # Profiles are independent of each other: without gradients, run them in groups to bound memory.
        self.profiles_per_pass = profiles_per_pass

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        b, t, _, h, w = clip.shape
        profiles = to_vertical_profiles(clip)
        if torch.is_grad_enabled():
            residual = self.imdn(profiles)
        else:
            # as many groups as the engine's team has workers at least (a 180-column clip in 64s: 64 + 64 + 52)
            per = min(self.profiles_per_pass, -(-profiles.shape[0] // workers()))
            residual = torch.cat(each(self.imdn, profiles.split(per)))
        residual = residual[..., : 2 * t - 1]  # [B*W, 3, 2H, 2T-1]: the 2T-th time step is cut
        base = self.base(clip)
        return base + from_vertical_profiles(residual, b)

    def base(self, clip: torch.Tensor) -> torch.Tensor:
        """What the residual adds to: [B, T, 3, H, W] -> [B, 2T-1, 3, 2H, W]."""
        h, w = clip.shape[-2:]
        frames = resize_frames(clip, (2 * h, w), antialias=False)
        if self.motion is None:
            return blend_time(frames)
        mids = self.motion(clip)  # [B, T-1, 3, sH, sW]
        return interleave(frames, resize_frames(mids, (2 * h, w), antialias=True))
