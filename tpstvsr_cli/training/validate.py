"""Quick validation during training: luma PSNR of the model and of bicubic + averaging on small crops.

Training with --degrade also validates on input degraded with VAL_DEGRADE (both methods get the same input)."""

from pathlib import Path

import numpy as np
import torch

from ..engine.tensors import frames_to_tensor, tensor_to_frames
from ..evaluation.metrics import psnr, rgb_to_y
from ..media.degrade import DegradeSpec, degrade_frames, parse_degrade
from ..media.frame_folder import list_frames, read_frame
from ..models.profiles import blend_time, degrade_clip, resize_frames
from .frame_pool import halve_if_large

VAL_DEGRADE = parse_degrade("x264:crf=28:fps=12")


def psnr_y(a: torch.Tensor, b: torch.Tensor) -> float:
    """Luma PSNR of two clips [..., 3, H, W] in 0..1, rounded to 8 bits first (as a video), as `tpstvsr eval`."""
    return psnr(rgb_to_y(tensor_to_frames(a)), rgb_to_y(tensor_to_frames(b)))


def load_val_clips(folders: list[Path], frames: int = 9, crop: int = 256) -> list[torch.Tensor]:
    """Center crops [1, frames, 3, crop, crop] of each folder's first frames (720p+ halved first)."""
    clips = []
    for folder in folders:
        arr = halve_if_large(np.stack([read_frame(p) for p in list_frames(Path(folder))[:frames]]))
        h, w = arr.shape[1:3]
        c = min(crop, h, w) // 4 * 4
        y0, x0 = (h - c) // 2, (w - c) // 2
        clip = frames_to_tensor(arr[:, y0 : y0 + c, x0 : x0 + c])
        clips.append(clip.unsqueeze(0))
    return clips


@torch.no_grad()
def validate(model, clips: list[torch.Tensor], device, degrade: DegradeSpec | None = None) -> dict:
    """Mean PSNR-Y over clips: model, baseline, and both on the interpolated (odd) frames; the input further
    degraded by `degrade` when given."""
    rows = []
    for gt in clips:
        lr = degrade_clip(gt).mul(255).round().div(255)
        if degrade is not None:
            lr = frames_to_tensor(degrade_frames(tensor_to_frames(lr[0]), degrade).frames)[None]
        out = model(lr.to(device), frames_per_pass=4).float().cpu()
        base = blend_time(resize_frames(lr, gt.shape[-2:], antialias=False))
        rows.append(
            (psnr_y(out, gt), psnr_y(base, gt), psnr_y(out[:, 1::2], gt[:, 1::2]), psnr_y(base[:, 1::2], gt[:, 1::2]))
        )
    m = np.mean(rows, axis=0)
    return {
        "psnr": m[0],
        "base": m[1],
        "psnr_odd": m[2],
        "base_odd": m[3],
        "gain": m[0] - m[1],
        "gain_odd": m[2] - m[3],
    }
