"""Temporal profiles and the resampling the network is built around.

A video clip is a 3D volume V(w, h, t). A *temporal profile* (TP) is a 2D slice of it with one spatial
coordinate fixed: the vertical TP of column w* is the H x T image P(h, t) = V(w*, h, t), the horizontal
TP of row h* is the W x T image P(w, t) = V(w, h*, t). Objects moving through the scene draw lines and
curves in a TP that look much like image structure, so a single-image super-resolution network can
super-resolve a TP in height and in time at once (paper, section 3.1).

Shape convention everywhere in this package: a clip is [B, T, C, H, W], float, RGB in 0..1.
"""

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .polyphase import resize_polyphase


def to_vertical_profiles(clip: torch.Tensor) -> torch.Tensor:
    """[B, T, C, H, W] -> [B*W, C, H, T]: one H x T image per column."""
    b, t, c, h, w = clip.shape
    return clip.permute(0, 4, 2, 3, 1).reshape(b * w, c, h, t)


def from_vertical_profiles(profiles: torch.Tensor, batch: int) -> torch.Tensor:
    """[B*W, C, H, T] -> [B, T, C, H, W] (inverse of to_vertical_profiles)."""
    bw, c, h, t = profiles.shape
    return profiles.reshape(batch, bw // batch, c, h, t).permute(0, 4, 2, 3, 1)


def to_horizontal_profiles(clip: torch.Tensor) -> torch.Tensor:
    """[B, T, C, H, W] -> [B*H, C, W, T]: one W x T image per row."""
    b, t, c, h, w = clip.shape
    return clip.permute(0, 3, 2, 4, 1).reshape(b * h, c, w, t)


def from_horizontal_profiles(profiles: torch.Tensor, batch: int) -> torch.Tensor:
    """[B*H, C, W, T] -> [B, T, C, H, W] (inverse of to_horizontal_profiles)."""
    bh, c, w, t = profiles.shape
    return profiles.reshape(batch, bh // batch, c, w, t).permute(0, 4, 2, 1, 3)


def resize_frames(frames: torch.Tensor, size: tuple[int, int], antialias: bool = True) -> torch.Tensor:
    """Bicubic resize of [..., C, H, W] to (h, w); antialiased when shrinking (the data's degradation).

    Float32 CPU frames with no gradient wanted are resized by OpenCV: without antialiasing by cv2.resize
    (_bicubic_cv2), antialiased by whole factors from 256x256 pixels up by polyphase filters (models/polyphase.py).
    Half-precision frames are resized in float32 (torch's CPU antialiased kernels have no half
    version) and come back in their own dtype."""
    lead = frames.shape[:-3]
    if _cv2_applies(frames):
        fast = resize_polyphase(frames, tuple(size)) if antialias else _bicubic_cv2(frames, tuple(size))
        if fast is not None:
            return fast
    flat = frames.reshape(-1, *frames.shape[-3:])
    half = flat.dtype in (torch.float16, torch.bfloat16)
    out = F.interpolate(
        flat.float() if half else flat, size=size, mode="bicubic", align_corners=False, antialias=antialias
    )
    return out.reshape(*lead, *out.shape[-3:]).to(frames.dtype)


def _cv2_applies(frames: torch.Tensor) -> bool:
    """Whether OpenCV may stand in for torch here: float32 CPU frames and no gradient wanted through them."""
    wants_grad = torch.is_grad_enabled() and frames.requires_grad
    return frames.device.type == "cpu" and frames.dtype == torch.float32 and not wants_grad


def _bicubic_cv2(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """resize_frames without antialiasing by cv2.resize, plane by plane: INTER_CUBIC takes the same taps as torch's
    bicubic (Keys a = -0.75, half-pixel centres, clamped border; within 4e-6 of it) about 10x faster (FSM's two
    enlargements of a 288x360 key frame: 13.4 -> 1.6 ms on 2 threads), and each pixel alone, so the same for any
    thread count."""
    h, w = size
    planes = frames.detach().contiguous().numpy().reshape(-1, *frames.shape[-2:])
    out = np.empty((planes.shape[0], h, w), np.float32)
    cv2.setNumThreads(max(1, torch.get_num_threads()))
    for plane, dst in zip(planes, out):
        cv2.resize(plane, (w, h), dst=dst, interpolation=cv2.INTER_CUBIC)
    return torch.from_numpy(out).reshape(*frames.shape[:-2], h, w)


def interleave(frames: torch.Tensor, mids: torch.Tensor) -> torch.Tensor:
    """frames [B, T, ...] and mids [B, T-1, ...] -> [B, 2T-1, ...]: frame 2k is frames[k], 2k+1 is mids[k]."""
    b, t = frames.shape[:2]
    out = torch.stack([frames[:, :-1], mids], dim=2).reshape(b, 2 * (t - 1), *frames.shape[2:])
    return torch.cat([out, frames[:, -1:]], dim=1)


def blend_time(clip: torch.Tensor) -> torch.Tensor:
    """[B, T, ...] -> [B, 2T-1, ...]: frame 2k is frame k, frame 2k+1 the mean of k and k+1.

    This is the 'averaging of neighbours' baseline and the base the network's time residuals add to.
    """
    return interleave(clip, 0.5 * (clip[:, :-1] + clip[:, 1:]))


def degrade_clip(clip: torch.Tensor, scale: int = 4) -> torch.Tensor:
    """The degradation of the evaluation protocol: keep even frames, shrink 4x (antialiased bicubic).

    [B, 2T-1, C, 4H, 4W] -> [B, T, C, H, W]. Used for training inputs and the cycle-consistency loss.
    """
    even = clip[:, 0::2]
    h, w = even.shape[-2:]
    return resize_frames(even, (h // scale, w // scale))
