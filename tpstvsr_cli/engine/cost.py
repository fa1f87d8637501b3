"""What the network costs per output frame, as the converter runs it: FLOPs of convolutions and matmuls
(torch.utils.flop_counter) plus an estimate of the motion searches' and optical flow's other arithmetic.

Counted on a short stream of small frames through the same engine as a conversion (windows with their context
frames, key frames only where the model interpolates from them), then scaled to the frame size asked for:
convolution FLOPs grow with the pixel count exactly, so a small count scales without error beyond the padding.
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from .stream import upscale_frames


@dataclass(frozen=True)
class FrameCost:
    conv_gflop: float  # convolutions and matmuls per output frame, counted
    other_gflop: float  # motion searches, optical flow and warps per output frame, estimated
    total_gflop: float


def _motion_ops_per_output(model, h: int, w: int, frames_in: int, frames_out: int) -> float:
    """Estimated non-convolution operations per output frame for inputs of h x w."""
    ops = 0.0
    interp = getattr(model, "interp", None)
    neighbours = getattr(model, "neighbours", None)
    if interp is not None:  # one midpoint per pair of input frames; the vote reuses the fusion's flows
        ops += interp.ops_per_midpoint(h, w, own_flows=neighbours is None) * (frames_in - 1)
    if neighbours is not None:  # every key frame is refined once
        ops += neighbours.ops_per_key(h, w) * frames_in
    motion = getattr(getattr(model, "tpsrm", None), "motion", None)
    if motion is not None:
        ops += motion.ops_per_midpoint(h, w) * (frames_in - 1)
    return ops / frames_out


def frame_cost(
    model,
    width: int,
    height: int,
    *,
    chunk: int = 16,
    overlap: int = 2,
    ensemble: int = 1,
    sample: tuple[int, int] = (48, 32),
    frames: int = 17,
) -> FrameCost:
    """GFLOP per output frame for width x height input frames (output 4x that size), counted on `frames`
    frames of `sample` (W, H) size and scaled by pixels."""
    sw, sh = sample
    rng = np.random.default_rng(0)
    clip = [rng.integers(0, 256, (sh, sw, 3), dtype=np.uint8) for _ in range(frames)]
    counter = FlopCounterMode(display=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # no team (team.py): the counter sees the operations of its own thread only
    try:
        with counter:
            stream = upscale_frames(model, clip, chunk=chunk, overlap=overlap, tile=0, ensemble=ensemble)
            produced = sum(1 for _ in stream)
    finally:
        torch.set_num_threads(threads)
    scale = (width * height) / (sw * sh)
    conv = counter.get_total_flops() / produced * scale / 1e9
    other = ensemble * _motion_ops_per_output(model, height, width, frames, produced) / 1e9
    return FrameCost(conv, other, conv + other)
