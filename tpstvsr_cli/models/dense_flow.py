"""Dense sub-pixel optical flow between frames: OpenCV's DIS (Kroeger et al., ECCV 2016), no parameters.

The block matching of models/motion.py moves in steps of half a pixel at twice the input's size, which is
enough to warp a key frame to the midpoint but not to line up neighbouring key frames at 4x for fusion: there
the flow must be right to a fraction of an output pixel. DIS (inverse-search patches, then variational
refinement) gives that at a few milliseconds per 480x272 pair on one core. It runs on the CPU on 8-bit grey
frames, whatever the network's device; the flow comes back on the frames' device.

flow(a, b)[n, :, y, x] = (dx, dy): where pixel (x, y) of a[n] lies in b[n], in pixels.
"""

import cv2
import numpy as np
import torch

from .motion import warp_by

# DIS presets trade speed for accuracy: FAST instead of MEDIUM saved a fifth of the whole network's time on val
# crops and lost up to 0.29 dB on all frames (docs/design-keyframes.md §5); ULTRAFAST is untried.
PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
# DIS refuses frames under 12 pixels on both sides; smaller frames are edge-padded to this and the flow cropped.
MIN_SIDE = 16


def _grey_u8(frames: torch.Tensor) -> np.ndarray:
    """[N, 3, H, W] RGB 0..1 -> [N, H, W] uint8 luma (BT.601 weights, as the matching needs no exact colour)."""
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=frames.dtype, device=frames.device).view(1, 3, 1, 1)
    luma = (frames.detach() * weights).sum(1).clamp(0, 1).mul(255).round()
    return luma.to(device="cpu", dtype=torch.uint8).numpy()


def dense_flow(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Flow [N, 2, H, W] (dx, dy) from each frame of a [N, 3, H, W] to the same frame of b."""
    if a.shape != b.shape or a.dim() != 4 or a.shape[1] != 3:
        raise ValueError(
            f"expected two frame batches [N, 3, H, W] of one shape, got {tuple(a.shape)}, {tuple(b.shape)}"
        )
    cv2.setNumThreads(max(1, torch.get_num_threads()))
    dis = cv2.DISOpticalFlow_create(PRESET)
    h, w = a.shape[-2:]
    pad = ((0, 0), (0, max(0, MIN_SIDE - h)), (0, max(0, MIN_SIDE - w)))
    grey_a, grey_b = (np.pad(_grey_u8(x), pad, mode="edge") for x in (a, b))
    flows = np.stack([dis.calc(x, y, None) for x, y in zip(grey_a, grey_b)])[:, :h, :w]  # [N, H, W, 2] float32
    return torch.from_numpy(np.ascontiguousarray(flows)).permute(0, 3, 1, 2).to(device=a.device, dtype=a.dtype)


def warp_flow(frames: torch.Tensor, flow: torch.Tensor, mode: str = "bicubic") -> torch.Tensor:
    """frames [N, C, H, W] sampled at p + flow(p) (border values outside): frames moved onto flow's source."""
    return warp_by(frames, flow[:, 1:2], flow[:, 0:1], mode)
