"""Dense sub-pixel optical flow between frames: OpenCV's DIS (Kroeger et al., ECCV 2016), no parameters.

The block matching of models/motion.py moves in steps of half a pixel at twice the input's size, which is
enough to warp a key frame to the midpoint but not to line up neighbouring key frames at 4x for fusion: there
the flow must be right to a fraction of an output pixel. DIS (inverse-search patches, then variational
refinement) gives that at a few milliseconds per 480x272 pair on one core. It runs on the CPU on 8-bit grey
frames, whatever the network's device; the flow comes back on the frames' device, in float32.

flow(a, b)[n, :, y, x] = (dx, dy): where pixel (x, y) of a[n] lies in b[n], in pixels.

The MEDIUM preset stops at half size and enlarges its flow bilinearly: so the flow is found on half-size grey
frames (the same INTER_AREA shrink DIS makes itself; bit-identical flow on frames from 64 pixels up) and kept at
that size, a quarter of the memory, until a warp enlarges it (full_flow).
"""

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..engine.stage_clock import timed
from .motion import remap_applies, remap_warp, warp_by

# DIS presets trade speed for accuracy: FAST instead of MEDIUM saved a fifth of the whole network's time on val
# crops and lost up to 0.29 dB on all frames (docs/design-keyframes.md §5); ULTRAFAST is untried. MEDIUM's patches
# every 4 pixels instead of 3 and 3 variational iterations instead of 5 take 40% less time per flow and scored the
# same on val (docs/design-keyframes.md §10).
PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
PATCH_STRIDE = 4
VARIATIONAL_ITERATIONS = 3
# Estimated operations per output pixel of one flow (no FLOP counter sees it): MEDIUM stops at half size, 8x8
# patches every 4 pixels, 25 gradient steps of ~14 operations per patch pixel, densification, 3 variational
# iterations, the pyramid above it; ~1,000 with MEDIUM's own stride and iterations, which took 1/0.6 the time.
OPS_PER_PIXEL = 600
# A flow set found again on refined key frames (the fusion's second set) starts from the first set's flow and runs
# only DIS's variational refinement at its last level, with DIS's own weights (alpha 20, delta 5, gamma 10, 5 SOR
# iterations): 30 ms against DIS's 77 ms at 640x360 on one thread, -0.010 / -0.003 dB on mid val
# (docs/design-keyframes.md §11). Estimated operations per output pixel, as OPS_PER_PIXEL.
REFINE_OPS_PER_PIXEL = 240
# DIS refuses frames under 12 pixels on both sides; smaller frames are edge-padded to this and the flow cropped.
MIN_SIDE = 16
# Frames whose half size is smaller than this are matched at full size: DIS picks its coarsest level by the
# frame's size, so at half size its pyramid would differ there.
HALF_MIN_SIDE = 32


def grey_u8(frames: torch.Tensor) -> np.ndarray:
    """[N, 3, H, W] RGB 0..1 -> [N, H, W] uint8 luma (BT.601 weights, as the matching needs no exact colour),
    edge-padded to DIS's least size."""
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float32, device=frames.device).view(1, 3, 1, 1)
    luma = (frames.detach().float() * weights).sum(1).clamp(0, 1).mul(255).round()
    grey = luma.to(device="cpu", dtype=torch.uint8).numpy()
    h, w = grey.shape[-2:]
    return np.pad(grey, ((0, 0), (0, max(0, MIN_SIDE - h)), (0, max(0, MIN_SIDE - w))), mode="edge")


def half_grey(grey: np.ndarray) -> np.ndarray:
    """grey_u8's frames shrunk to half as DIS shrinks them (INTER_AREA), or as they are if that is too small."""
    n, h, w = grey.shape
    if min(h, w) // 2 < HALF_MIN_SIDE:
        return grey
    return np.stack([cv2.resize(g, (w // 2, h // 2), interpolation=cv2.INTER_AREA) for g in grey])


def make_dis() -> cv2.DISOpticalFlow:
    """The DIS matcher every flow here uses: PRESET with PATCH_STRIDE and VARIATIONAL_ITERATIONS."""
    dis = cv2.DISOpticalFlow_create(PRESET)
    dis.setPatchStride(PATCH_STRIDE)
    dis.setVariationalRefinementIterations(VARIATIONAL_ITERATIONS)
    return dis


def _dis(grey_a: np.ndarray, grey_b: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """DIS between grey frames [N, h', w'] (half size or full, as half_grey made them) of frames of `size`."""
    dis = make_dis()
    h, w = size
    if grey_a.shape[-2:] != (max(h, MIN_SIDE), max(w, MIN_SIDE)):  # half size: DIS's last level is this one
        dis.setFinestScale(0)
        h, w = h // 2, w // 2
    flows = np.stack([dis.calc(x, y, None) for x, y in zip(grey_a, grey_b)])[:, :h, :w]  # [N, h, w, 2]
    return torch.from_numpy(np.ascontiguousarray(flows)).permute(0, 3, 1, 2)


def make_refinement() -> cv2.VariationalRefinement:
    """The variational refinement that refined_flows runs: DIS's own at its last level (see REFINE_OPS_PER_PIXEL)."""
    refine = cv2.VariationalRefinement_create()
    refine.setFixedPointIterations(VARIATIONAL_ITERATIONS)
    refine.setSorIterations(5)
    refine.setAlpha(20.0)
    refine.setDelta(5.0)
    refine.setGamma(10.0)
    return refine


def _refined(grey_a: np.ndarray, grey_b: np.ndarray, start: torch.Tensor) -> torch.Tensor:
    """The flow start [N, 2, h, w] (from flow_between, at its size) refined on grey frames [N, h', w'] as half_grey
    made them (edge-padded to DIS's least size: the flow covers their top left)."""
    refine, out = make_refinement(), []
    for x, y, flow in zip(grey_a, grey_b, start.detach().float().cpu()):
        h, w = flow.shape[-2:]
        moved = flow.permute(1, 2, 0).numpy().copy()  # [h, w, 2], refined in place (a copy: DIS's own flows are
        # this layout already, so ascontiguousarray would hand over the start's memory)
        refine.calc(np.ascontiguousarray(x[:h, :w]), np.ascontiguousarray(y[:h, :w]), moved)
        out.append(moved)
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2)


def flow_between(grey_a: np.ndarray, grey_b: np.ndarray, size: tuple[int, int], device) -> torch.Tensor:
    """Flow [N, 2, h, w] float32 between frames of `size` (H, W) given by half_grey(grey_u8(...)) (so a frame read
    by several pairs is made grey once): at half size where half_grey shrank them (full_flow enlarges it)."""
    with timed("flow"):
        cv2.setNumThreads(max(1, torch.get_num_threads()))
        return _dis(grey_a, grey_b, size).to(device)


def flows_for_pairs(greys: dict, pairs: list, size: tuple[int, int], device, start: dict | None = None) -> dict:
    """{(i, j): flow_between(greys[i], greys[j], size, device)} for many pairs, or with `start` {(i, j): an earlier
    flow of the pair} those flows refined on these greys (make_refinement); found torch.get_num_threads() at a
    time, each on one thread: DIS was 1.46x faster so than one after another on its own two threads (34 pairs of
    360x288), and the same flows, as neither result depends on OpenCV's thread count."""

    def find(pair: tuple) -> torch.Tensor:
        a, b = greys[pair[0]], greys[pair[1]]
        return _dis(a, b, size) if start is None else _refined(a, b, start[pair])

    workers = min(max(1, torch.get_num_threads()), len(pairs))
    with timed("flow"):
        cv2.setNumThreads(1 if workers > 1 else max(1, torch.get_num_threads()))
        try:
            if workers <= 1:
                found = [find(pair) for pair in pairs]
            else:
                with ThreadPoolExecutor(workers) as pool:
                    found = list(pool.map(find, pairs))
        finally:
            cv2.setNumThreads(max(1, torch.get_num_threads()))
        return {pair: flow.to(device) for pair, flow in zip(pairs, found)}


def full_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A flow from flow_between at the frames' `size` (H, W): half-size flows enlarged as DIS enlarges its own
    (bilinear, values doubled)."""
    if tuple(flow.shape[-2:]) == tuple(size):
        return flow
    if flow.device.type == "cpu" and not flow.requires_grad:
        h, w = size
        planes = flow.detach().numpy()
        big = np.stack([cv2.resize(f.transpose(1, 2, 0), (w, h), interpolation=cv2.INTER_LINEAR) for f in planes])
        return torch.from_numpy(big).permute(0, 3, 1, 2).mul_(2.0)
    return F.interpolate(flow, size=size, mode="bilinear", align_corners=False) * 2.0


def dense_flow(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Flow [N, 2, H, W] float32 (dx, dy) from each frame of a [N, 3, H, W] to the same frame of b."""
    if a.shape != b.shape or a.dim() != 4 or a.shape[1] != 3:
        raise ValueError(
            f"expected two frame batches [N, 3, H, W] of one shape, got {tuple(a.shape)}, {tuple(b.shape)}"
        )
    with timed("flow"):
        size = a.shape[-2:]
        return full_flow(flow_between(half_grey(grey_u8(a)), half_grey(grey_u8(b)), size, a.device), size)


def warp_flow(frames: torch.Tensor, flow: torch.Tensor, mode: str = "bicubic") -> torch.Tensor:
    """frames [N, C, H, W] sampled at p + flow(p) (border values outside): frames moved onto flow's source.
    The flow may be flow_between's half-size one.

    On the CPU with no gradient wanted this is cv2.remap (motion.remap_warp).
    """
    if remap_applies(frames, flow):  # the half-size flow is enlarged there, as full_flow does
        return remap_warp(frames, flow, mode)
    flow = full_flow(flow, frames.shape[-2:])
    return warp_by(frames, flow[:, 1:2].to(frames.dtype), flow[:, 0:1].to(frames.dtype), mode)
