"""The one conversion between uint8 RGB frames (numpy, [..., H, W, 3]) and float tensors ([..., 3, H, W], 0..1)."""

import numpy as np
import torch


def frames_to_tensor(frames: np.ndarray, dtype: torch.dtype = torch.float32, device="cpu") -> torch.Tensor:
    """uint8 [..., H, W, 3] -> [..., 3, H, W] in 0..1, converted to `dtype` on `device` before dividing."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).to(device)
    return x.movedim(-1, -3).to(dtype).div_(255)


def tensor_to_frames(x: torch.Tensor) -> np.ndarray:
    """[..., 3, H, W] float 0..1 (unclamped) -> uint8 [..., H, W, 3] on the CPU."""
    return x.clamp(0, 1).mul(255).round().to(torch.uint8).movedim(-3, -1).contiguous().cpu().numpy()
