"""How much memory one window of the network needs, and how much the device has: automatic tiling plans with these.

The per-pixel figure is measured per preset (presets.NetConfig.kib_per_input_px, fp32, a window of 13 input
frames); it is scaled here for other window lengths and half precision. The budget is a fraction of what the
device has free when a conversion starts, leaving room for the decoder, the encoder and the queues between them.
"""

import os
import resource
from pathlib import Path

import torch

MEASURED_WINDOW = 13  # chunk 8 + 2 * overlap 2 + 1: the window the per-pixel figures were measured with
HOST_SHARE = 0.5  # of the host's available memory
ADDRESS_SPACE_SHARE = 0.75  # of the address space left under `ulimit -v` (the plan over-predicts by 7-15%)
GPU_SHARE = 0.7  # of the GPU's free memory (the caching allocator fragments)
FALLBACK_KIB_PER_PX = 17.0  # a network that does not say (conservative: above the default preset's figure)
# What a conversion holds beyond its frame-size terms (thread stacks, pipe buffers, the plan): the intercept of
# predicted vs measured peaks in docs/robustness.md (scripts/check_memory_plan.py).
PIPELINE_FIXED_BYTES = 48 << 20


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # cgroup v2 says "max" for no limit


def _cgroup_paths() -> list[tuple[Path, Path]]:
    """(limit file, usage file) of this process's memory cgroup, v2 and v1, where they exist."""
    found = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _id, controllers, rel = line.split(":", 2)
        rel = rel.lstrip("/")
        if controllers == "":  # v2 unified hierarchy
            base = Path("/sys/fs/cgroup") / rel
            found.append((base / "memory.max", base / "memory.current"))
        elif "memory" in controllers.split(","):
            base = Path("/sys/fs/cgroup/memory") / rel
            found.append((base / "memory.limit_in_bytes", base / "memory.usage_in_bytes"))
    # Inside a container the cgroup path is often not mounted under its own name: the mount root is the cgroup.
    found += [
        (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory.current")),
        (Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"), Path("/sys/fs/cgroup/memory/memory.usage_in_bytes")),
    ]
    return found


def cgroup_room() -> int | None:
    """Bytes left under this process's cgroup memory limit (v2 or v1), or None where there is no limit."""
    rooms = []
    for limit_file, usage_file in _cgroup_paths():
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None and limit < 1 << 60:  # v1 reports "no limit" as a huge number
            rooms.append(max(limit - usage, 0))
    return min(rooms) if rooms else None


def address_space_room() -> int | None:
    """Bytes left under RLIMIT_AS (`ulimit -v`: containers, Slurm, Ray workers), or None where unlimited."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return max(soft - int(line.split()[1]) * 1024, 0)
    except OSError:
        pass
    return soft


def shared_room() -> int:
    """MemAvailable under the cgroup's limit: memory other processes may take too."""
    cgroup = cgroup_room()
    rooms = [] if cgroup is None else [cgroup]
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                rooms.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    if not rooms:
        try:  # not Linux: physical memory, as an upper bound
            rooms.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)
        except (ValueError, OSError, AttributeError):
            rooms.append(8 << 30)
    return min(rooms)


def available_bytes(device: torch.device, cap: int | None = None) -> int:
    """Memory the network may use on `device` now: a share of the GPU's free memory, or of what the host can
    still give this process (shared_room, and under `ulimit -v` its own address space left); never more than
    `cap` bytes (--max-memory)."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        budget = int(free * GPU_SHARE)
    else:
        budget = int(shared_room() * HOST_SHARE)
        room = address_space_room()
        if room is not None:  # this process's own address space: no one else takes from it
            budget = min(budget, int(room * ADDRESS_SPACE_SHARE))
    return budget if cap is None else min(budget, int(cap))


def window_bytes_per_pixel(model, window_frames: int, dtype: torch.dtype) -> float:
    """Peak bytes per input pixel for one window of `window_frames` frames through `model`, in any precision:
    half precision shrinks the learnt layers' activations only, and the parameter-free key-frame path (the fusion's
    frames and flows, the warps), which holds most of the memory, runs in float32 always (issue 19), so a half
    window is planned as a float32 one."""
    kib = getattr(model, "kib_per_input_px", None) or FALLBACK_KIB_PER_PX
    scale = max(1.0, window_frames / MEASURED_WINDOW)  # TPSRM and the kept outputs grow with the window
    return kib * 1024 * scale


def stitch_bytes_per_pixel(kept_frames: int) -> float:
    """Host bytes per input pixel for the stitched float32 outputs of a tiled window (4x4 pixels, 3 channels)."""
    return kept_frames * 3 * 16 * 4 * 1.25  # the buffer, plus one tile's weighted piece at a time


def queue_depth(chunk: int, context: int) -> int:
    """Frames each queue of the converter's pipeline holds: room for a window of chunk + 2 * context frames."""
    return max(16, chunk + 2 * context + 2)


def queue_bytes_per_pixel(depth: int) -> float:
    """Host bytes per input pixel of the converter's queues: `depth` decoded uint8 frames, and up to half as many
    uint8 output frames (4x4 pixels each) waiting for the encoder."""
    return depth * 3 + max(2, depth // 2) * 16 * 3


def conversion_bytes(
    model,
    width: int,
    height: int,
    chunk: int,
    context: int,
    dtype: torch.dtype,
    tiled: bool = False,
    depth: int | None = None,
) -> float:
    """Host bytes a conversion adds to the process beyond what it held before the network ran: one window of
    chunk + 2 * context + 1 frames through the network (the figure the tile planner uses; it includes the
    window's outputs; `context` is engine.context_frames of the model and --overlap), the stitch buffer when
    tiled, the decoded-frame and output queues, and the pipeline's fixed share. ffmpeg's encoder runs in its own
    process. Checked by scripts/check_memory_plan.py."""
    depth = queue_depth(chunk, context) if depth is None else depth
    px = width * height
    network = px * window_bytes_per_pixel(model, chunk + 2 * context + 1, dtype)
    stitch = px * stitch_bytes_per_pixel(2 * chunk + 1) if tiled else 0.0
    return network + stitch + px * queue_bytes_per_pixel(depth) + PIPELINE_FIXED_BYTES
