"""Twice the frame rate at the input's own size (--keep-size), with no network: the default preset's way.

The default network makes its in-between output 2k+1 by warping the two super-resolved key frames around it to
the midpoint, with a parameter-free motion search on the input frames (models.keyframe_interp). At the input's
size the key frames are the input frames themselves, so the in-between frame is the same warp of the input
frames: the motion field (found at twice the input's size) is brought down to it in KeyframeInterp.warp_midpoint.
A network with a learned blend (MidBlend) uses it; one without key-frame interpolation (`paper`) gets the
default's motion search, since its own in-between frames exist only at 4x.

uint8 RGB frames [H, W, 3] in (N of them), 2N-1 out: output 2k is input k unchanged, 2k+1 the midpoint.
"""

from collections.abc import Iterable, Iterator

import numpy as np
import torch

from ..models.keyframe_interp import KeyframeInterp
from .tensors import frames_to_tensor, tensor_to_frames


def interpolator(model) -> tuple[KeyframeInterp, torch.nn.Module | None]:
    """The model's motion search and learned blend (None), or the default's parameter-free motion search."""
    interp = getattr(model, "interp", None)
    if interp is None:
        return KeyframeInterp(), None
    return interp, getattr(model, "blend", None)


@torch.no_grad()
def midpoint(model, first: np.ndarray, second: np.ndarray, device="cpu") -> np.ndarray:
    """The frame halfway between two uint8 [H, W, 3] frames, at their size."""
    interp, blend = interpolator(model)
    pair = frames_to_tensor(np.stack([first, second]), torch.float32, torch.device(device))
    in0, in1 = pair[:1], pair[1:]
    dy, dx = interp.motion(in0, in1)
    weight0 = None
    if blend is not None:  # in the blend's own dtype (half on a GPU), the weight back in float32
        dt = next(blend.parameters()).dtype
        weight0 = blend(in0.to(dt), in1.to(dt), dy.to(dt), dx.to(dt)).float()
    return tensor_to_frames(interp.warp_midpoint(in0, in1, dy, dx, weight0).clamp_(0, 1)[0])


def interpolate_frames(model, frames: Iterable[np.ndarray], device="cpu") -> Iterator[np.ndarray]:
    """N uint8 frames -> 2N-1: each input frame, and the midpoint between it and the next (one pair at a time)."""
    previous = None
    for frame in frames:
        if previous is not None:
            yield midpoint(model, previous, frame, device)
        yield frame
        previous = frame
