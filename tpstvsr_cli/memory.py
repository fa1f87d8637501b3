"""How much memory one window of the network needs, and how much the device has: automatic tiling plans with these.

The per-pixel figure is measured per preset (presets.NetConfig.kib_per_input_px, fp32, a window of 13 input
frames); it is scaled here for other window lengths and half precision. The budget is a fraction of what the
device has free when a conversion starts, leaving room for the decoder, the encoder and the queues between them.
"""

import os
from pathlib import Path

import torch

MEASURED_WINDOW = 13  # chunk 8 + 2 * overlap 2 + 1: the window the per-pixel figures were measured with
HOST_SHARE = 0.5  # of the host's available memory
GPU_SHARE = 0.7  # of the GPU's free memory (the caching allocator fragments)
FALLBACK_KIB_PER_PX = 17.0  # a network that does not say (the default preset's figure)


def available_bytes(device: torch.device) -> int:
    """Free memory the network may use on `device` now: GPU free memory, or the host's MemAvailable."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free * GPU_SHARE)
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(int(line.split()[1]) * 1024 * HOST_SHARE)
    except OSError:
        pass
    try:  # not Linux: physical memory, as an upper bound
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * HOST_SHARE / 2)
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def window_bytes_per_pixel(model, window_frames: int, dtype: torch.dtype) -> float:
    """Peak bytes per input pixel for one window of `window_frames` frames through `model`."""
    kib = getattr(model, "kib_per_input_px", None) or FALLBACK_KIB_PER_PX
    scale = max(1.0, window_frames / MEASURED_WINDOW)  # TPSRM and the kept outputs grow with the window
    if dtype in (torch.float16, torch.bfloat16):
        scale /= 2
    return kib * 1024 * scale


def stitch_bytes_per_pixel(kept_frames: int) -> float:
    """Host bytes per input pixel for the stitched float32 outputs of a tiled window (4x4 pixels, 3 channels)."""
    return kept_frames * 3 * 16 * 4 * 1.25  # the buffer, plus one tile's weighted piece at a time
