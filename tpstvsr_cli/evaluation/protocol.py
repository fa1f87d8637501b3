"""The evaluation protocol of ../shared/data/README.md, on uint8 RGB frame stacks [T, H, W, 3].

ground truth: 2N-1 consecutive frames (an even count loses its last frame), H and W center-cropped to
              multiples of 4;
input:        its N even-indexed frames (0, 2, 4, ...) shrunk 4x with antialiased bicubic, rounded to 8 bits;
output:       2N-1 frames at the ground truth's size; frame 2k lines up with input frame k.
"""

import numpy as np
import torch.nn.functional as F

from ..engine.tensors import frames_to_tensor, tensor_to_frames
from ..errors import TpstvsrError

SCALE = 4
# Smallest ground truth: ffmpeg's minterpolate refuses frames under 32 pixels, and an 8x8 input says little.
MIN_SIZE = 32


def parse_size(text: str) -> tuple[int, int]:
    """'WxH' -> (W, H), both positive."""
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or min(int(p) for p in parts) <= 0:
        raise TpstvsrError(f"expected a size as WxH (for example 480x272), got {text!r}")
    return int(parts[0]), int(parts[1])


def center_crop(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """Crop [T, H, W, 3] to [T, height, width, 3] around the center (odd margins leave the extra pixel at the end)."""
    h, w = frames.shape[1:3]
    if width > w or height > h:
        raise TpstvsrError(f"cannot crop {w}x{h} frames to {width}x{height}")
    top, left = (h - height) // 2, (w - width) // 2
    return frames[:, top : top + height, left : left + width]


def crop_to_multiple(frames: np.ndarray, multiple: int = SCALE) -> np.ndarray:
    """Center-crop H and W down to multiples of `multiple` so the 4x input has an exact size."""
    h, w = frames.shape[1:3]
    return center_crop(frames, w - w % multiple, h - h % multiple)


def odd_length(count: int) -> int:
    """The number of ground-truth frames used from `count`: the largest odd number <= count."""
    return count if count % 2 else count - 1


def resize_uint8(frames: np.ndarray, size: tuple[int, int], antialias: bool) -> np.ndarray:
    """Bicubic resize of uint8 [T, H, W, 3] to size (H', W') in float, rounded and clamped back to uint8."""
    y = F.interpolate(frames_to_tensor(frames), size=size, mode="bicubic", align_corners=False, antialias=antialias)
    return tensor_to_frames(y)


def downscale_input(truth: np.ndarray) -> np.ndarray:
    """Ground truth [2N-1, H, W, 3] -> the protocol's input [N, H/4, W/4, 3] (even frames, 4x down)."""
    h, w = truth.shape[1:3]
    if h % SCALE or w % SCALE:
        raise ValueError(f"ground truth {w}x{h} is not a multiple of {SCALE}; crop it first")
    return resize_uint8(truth[0::2], (h // SCALE, w // SCALE), antialias=True)


def prepare_truth(
    frames: np.ndarray, *, gt_scale: float | None = None, crop: tuple[int, int] | None = None
) -> np.ndarray:
    """Raw frames -> the protocol's ground truth: odd count, optional downscale then center crop, multiples of 4."""
    frames = frames[: odd_length(len(frames))]
    if len(frames) < 3:
        raise TpstvsrError(f"a sequence needs at least 3 frames (2 input frames), got {len(frames)}")
    if gt_scale is not None and not 0.0 < gt_scale <= 1.0:
        raise TpstvsrError(f"--gt-scale must be in (0, 1], got {gt_scale}")
    if gt_scale is not None and gt_scale != 1.0:
        h, w = frames.shape[1:3]
        size = (max(1, round(h * gt_scale)), max(1, round(w * gt_scale)))
        # Antialiased bicubic, as training halves 720p-and-up footage; done in chunks to bound memory.
        frames = np.concatenate(
            [resize_uint8(frames[i : i + 8], size, antialias=True) for i in range(0, len(frames), 8)]
        )
    if crop is not None:
        frames = center_crop(frames, *crop)
    frames = crop_to_multiple(frames)
    h, w = frames.shape[1:3]
    if h < MIN_SIZE or w < MIN_SIZE:
        raise TpstvsrError(f"frames of {w}x{h} are too small to evaluate (need at least {MIN_SIZE}x{MIN_SIZE})")
    return np.ascontiguousarray(frames)
