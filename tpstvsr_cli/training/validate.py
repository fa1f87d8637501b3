"""Quick validation during training: luma PSNR of the model and of bicubic + averaging on small crops."""

from pathlib import Path

import numpy as np
import torch

from ..frame_folder import list_frames, read_frame
from ..models.profiles import blend_time, degrade_clip, resize_frames
from .frame_pool import halve_if_large


def luma(x: torch.Tensor) -> torch.Tensor:
    """BT.601 Y in 0..255 (MATLAB rgb2ycbcr) of [..., 3, H, W] RGB in 0..1."""
    r, g, b = x.unbind(-3)
    return 16 + 65.481 * r + 128.553 * g + 24.966 * b


def psnr_y(a: torch.Tensor, b: torch.Tensor) -> float:
    q = lambda x: x.clamp(0, 1).mul(255).round().div(255)  # noqa: E731 (8-bit output, as a video)
    mse = (luma(q(a)) - luma(q(b))).pow(2).mean().item()
    return 10 * np.log10(255**2 / max(mse, 1e-10))


def load_val_clips(folders: list[Path], frames: int = 9, crop: int = 256) -> list[torch.Tensor]:
    """Center crops [1, frames, 3, crop, crop] of each folder's first frames (720p+ halved first)."""
    clips = []
    for folder in folders:
        arr = halve_if_large(np.stack([read_frame(p) for p in list_frames(Path(folder))[:frames]]))
        h, w = arr.shape[1:3]
        c = min(crop, h, w) // 4 * 4
        y0, x0 = (h - c) // 2, (w - c) // 2
        clip = torch.from_numpy(arr[:, y0 : y0 + c, x0 : x0 + c].copy()).permute(0, 3, 1, 2).float().div(255)
        clips.append(clip.unsqueeze(0))
    return clips


@torch.no_grad()
def validate(model, clips: list[torch.Tensor], device) -> dict:
    """Mean PSNR-Y over clips: model, baseline, and both on the interpolated (odd) frames."""
    rows = []
    for gt in clips:
        lr = degrade_clip(gt).mul(255).round().div(255)
        out = model(lr.to(device), frames_per_pass=4).float().cpu()
        base = blend_time(resize_frames(lr, gt.shape[-2:], antialias=False))
        rows.append((psnr_y(out, gt), psnr_y(base, gt), psnr_y(out[:, 1::2], gt[:, 1::2]), psnr_y(base[:, 1::2], gt[:, 1::2])))
    m = np.mean(rows, axis=0)
    return {"psnr": m[0], "base": m[1], "psnr_odd": m[2], "base_odd": m[3], "gain": m[0] - m[1], "gain_odd": m[2] - m[3]}
