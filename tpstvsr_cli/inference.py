"""Run the network over a stream of frames of any length and size, in overlapping windows and tiles.

upscale_frames is the one entry point (the converter and `tpstvsr eval` both call it): uint8 RGB frames
[H, W, 3] in, uint8 RGB frames [4H, 4W, 3] out, 2N-1 of them for N in. It holds about chunk + 2*overlap input
frames and one window's outputs at a time, whatever the length of the video. Windows and tiles overlap and
are stitched as schedule.py describes, so the result matches a single whole-clip pass closely (tests/test_inference.py).
"""

import gc
import sys
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch

from .ensemble import ENSEMBLES, ensembled
from .errors import TpstvsrError
from .memory import available_bytes, stitch_bytes_per_pixel, window_bytes_per_pixel
from .schedule import check_chunking, even_spans, frames_needed, plan_tiles, span_weights, tile_spans, window_for_core

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' picks the first CUDA GPU when there is one; 'cuda' / 'cuda:N' must exist."""
    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise TpstvsrError(f"unknown device {device!r} (use auto, cpu, cuda or cuda:N)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise TpstvsrError(f"device {device!r} asked for, but this torch build sees no CUDA GPU")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise TpstvsrError(f"device {device!r} does not exist ({torch.cuda.device_count()} CUDA GPU(s))")
    elif dev.type != "cpu":
        raise TpstvsrError(f"unsupported device {device!r} (use auto, cpu, cuda or cuda:N)")
    return dev


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """'auto' is fp16 on a GPU (bf16 where supported) and fp32 on the CPU, where half precision is slower."""
    name = str(precision).strip().lower()
    if name == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if name not in PRECISIONS:
        raise TpstvsrError(f"unknown precision {precision!r} (use auto, fp32, fp16 or bf16)")
    return PRECISIONS[name]


def check_options(chunk: int, overlap: int, tile: int | None, tile_overlap: int, ensemble: int = 1) -> None:
    """TpstvsrError for chunking or tiling values upscale_frames cannot use (callers check before starting)."""
    try:
        check_chunking(chunk, overlap)
    except ValueError as exc:
        raise TpstvsrError(str(exc)) from None
    if ensemble not in ENSEMBLES:
        raise TpstvsrError(f"ensemble must be one of {', '.join(map(str, sorted(ENSEMBLES)))}, got {ensemble}")
    if tile is not None and tile < 0:
        raise TpstvsrError(f"tile must be 0 (whole frames) or a size in input pixels, got {tile}")
    if tile_overlap < 0:
        raise TpstvsrError(f"tile overlap must be 0 or more, got {tile_overlap}")
    if tile and tile < 2 * tile_overlap + 8:
        raise TpstvsrError(f"tile {tile} is too small for a tile overlap of {tile_overlap} (need at least {2 * tile_overlap + 8})")


def context_frames(model, overlap: int) -> int:
    """Frames of context a window of this model gets on each side for a requested `overlap`.

    A model that warps its in-between frames from key frames (TPNet.interp) makes the core's last output from
    the key frame just after the core, so it gets one frame more: that key frame then sees as much context as
    the core's own (on a perturbed tiny network a seam frame was 1.6 grey levels off with `overlap` alone).
    """
    return overlap + (1 if getattr(model, "interp", None) is not None else 0)


def _to_uint8(frame: torch.Tensor) -> np.ndarray:
    """[3, H, W] float 0..1 (unclamped) -> [H, W, 3] uint8."""
    return frame.clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


class _WindowRunner:
    """One temporal window through the network, whole or in spatial tiles, as float32 [K, 3, 4H, 4W] on the CPU.

    K is the number of outputs kept: the network's per-frame modules (FSM, RM) run only on those, so the
    context frames cost TPSRM time alone.
    """

    def __init__(self, model, device, dtype, tile, tile_overlap, frames_per_pass, window_frames, kept_frames, ensemble=1,
                 max_memory: int | None = None, warn: Callable[[str], None] | None = None, plans: dict | None = None):
        self.model, self.device, self.dtype = model, device, dtype
        self.tile, self.tile_overlap, self.frames_per_pass = tile, tile_overlap, frames_per_pass
        self.window_frames, self.kept_frames, self.ensemble = window_frames, kept_frames, ensemble
        self.max_memory, self.warn = max_memory, warn or _warn_on_stderr
        self.plans: dict[tuple[int, int], tuple[list, list]] = {} if plans is None else plans
        params = next(model.parameters(), None)
        self.param_dtype = params.dtype if params is not None else torch.float32
        # Tile starts on multiples of the U-Net's stride so its stride-2 grids match the whole frame's.
        self.align = int(getattr(model, "pad_multiple", 1))

    def _net(self, clip: torch.Tensor, keep: slice) -> torch.Tensor:
        autocast = self.dtype != torch.float32 and self.param_dtype == torch.float32
        with torch.no_grad(), torch.autocast(self.device.type, dtype=self.dtype, enabled=autocast):
            out = ensembled(lambda c: self.model(c, frames_per_pass=self.frames_per_pass, outputs=keep).float(), clip, self.ensemble)
        return out[0].cpu()

    def spans(self, h: int, w: int) -> tuple[list, list]:
        """Tile rows and columns, planned once per frame size (so every window of a video tiles alike), and made
        finer for the rest of the video when a window runs out of memory."""
        if (h, w) not in self.plans:
            self.plans[(h, w)] = self._plan(h, w)
        return self.plans[(h, w)]

    def _plan(self, h: int, w: int) -> tuple[list, list]:
        """Fixed-size tiles for an explicit tile, whole frames for 0, else from the memory this process can get
        at the first window (memory.available_bytes: free memory, cgroup and address-space limits, --max-memory)."""
        if self.tile is not None:
            tile = self.tile or None
            return tile_spans(h, tile, self.tile_overlap, self.align), tile_spans(w, tile, self.tile_overlap, self.align)
        budget = available_bytes(self.device, self.max_memory)
        per_px = window_bytes_per_pixel(self.model, self.window_frames, self.dtype)
        if h * w * per_px <= budget:
            ny, nx = 1, 1
        else:
            host_left = budget if self.device.type == "cuda" else budget - h * w * stitch_bytes_per_pixel(self.kept_frames)
            ny, nx = plan_tiles(h, w, max(host_left, 0) / per_px, self.tile_overlap, self.align, self.min_tile)
        return even_spans(h, ny, self.tile_overlap, self.align), even_spans(w, nx, self.tile_overlap, self.align)

    @property
    def min_tile(self) -> int:
        return 2 * self.tile_overlap + 8

    def _finer_plan(self, h: int, w: int, rows: list, cols: list, failure: str) -> None:
        """After an allocation failure: even tiles of at most half the largest tile's pixels, for the rest of the
        video; a TpstvsrError when the tiles are as small as they go."""
        largest = max(b - a for a, b in rows) * max(b - a for a, b in cols)
        ny, nx = plan_tiles(h, w, largest / 2, self.tile_overlap, self.align, self.min_tile)
        plan = (even_spans(h, ny, self.tile_overlap, self.align), even_spans(w, nx, self.tile_overlap, self.align))
        if max(b - a for a, b in plan[0]) * max(b - a for a, b in plan[1]) >= largest:
            need = largest * window_bytes_per_pixel(self.model, self.window_frames, self.dtype) / 2**20
            raise TpstvsrError(f"out of memory even in the smallest tiles ({len(rows)}x{len(cols)} of a {w}x{h} frame): "
                               f"one window needs about {need:.0f} MiB ({failure}); free memory or use a smaller --chunk")
        self.plans[(h, w)] = plan
        self.warn(f"out of memory ({failure}); continuing in {ny}x{nx} tiles per frame")

    def __call__(self, frames: list[np.ndarray], keep: slice) -> torch.Tensor:
        clip = torch.from_numpy(np.stack(frames)).to(self.device).permute(0, 3, 1, 2).unsqueeze(0)
        clip = clip.to(self.param_dtype if self.dtype == torch.float32 else self.dtype).div_(255)
        h, w = clip.shape[-2:]
        while True:
            rows, cols = self.spans(h, w)
            try:
                return self._tiled(clip, keep, rows, cols)
            except (RuntimeError, MemoryError) as exc:
                if not is_out_of_memory(exc):
                    raise
                failure = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            # Outside the except block: the traceback, and the tensors its frames hold, are gone.
            gc.collect()
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            self._finer_plan(h, w, rows, cols, failure)

    def _tiled(self, clip: torch.Tensor, keep: slice, rows: list, cols: list) -> torch.Tensor:
        h, w = clip.shape[-2:]
        if len(rows) == 1 and len(cols) == 1:
            return self._net(clip, keep)
        out, weight = self._stitch_buffers(len(range(2 * clip.shape[1] - 1)[keep]), h, w)
        for (y0, y1), wy in zip(rows, span_weights(rows, 4)):
            for (x0, x1), wx in zip(cols, span_weights(cols, 4)):
                w2d = torch.tensor(wy).view(-1, 1) * torch.tensor(wx).view(1, -1)
                piece = self._net(clip[..., y0:y1, x0:x1], keep)
                out[..., 4 * y0 : 4 * y1, 4 * x0 : 4 * x1] += piece * w2d
                weight[..., 4 * y0 : 4 * y1, 4 * x0 : 4 * x1] += w2d
        return out.div_(weight.clamp_min_(1e-6))

    @staticmethod
    def _stitch_buffers(kept: int, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole window's outputs, float32 at 4x the size: finer tiles cannot make these smaller, so running
        out of memory here is an error that says what would help, not a reason to retry."""
        try:
            return torch.zeros(kept, 3, 4 * h, 4 * w), torch.zeros(1, 1, 4 * h, 4 * w)
        except (RuntimeError, MemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            need = (kept * 3 + 1) * 16 * h * w * 4 / 2**20
            raise TpstvsrError(f"out of memory for the {kept} output frames of one window ({need:.0f} MiB at "
                               f"{4 * w}x{4 * h}); use a smaller --chunk") from None


def is_out_of_memory(exc: BaseException) -> bool:
    """An allocation failure of torch's CPU or CUDA allocator (or Python's), as opposed to any other error."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(
        key in text for key in ("can't allocate memory", "not enough memory", "out of memory", "failed to allocate",
                                # oneDNN's words when it cannot allocate a convolution's workspace
                                "could not create a primitive"))


def _warn_on_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _checked(frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Every frame uint8 [H, W, 3] and the same size as the first."""
    shape = None
    for i, frame in enumerate(frames):
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise TpstvsrError(f"frame {i}: expected uint8 RGB [H, W, 3], got {frame.dtype} {list(frame.shape)}")
        if shape is None:
            shape = frame.shape
        elif frame.shape != shape:
            raise TpstvsrError(f"frame {i} is {frame.shape[1]}x{frame.shape[0]}, but frame 0 is {shape[1]}x{shape[0]}")
        yield frame


def upscale_frames(model, frames: Iterable[np.ndarray], *, chunk: int = 8, overlap: int = 2, tile: int | None = None,
                   tile_overlap: int = 16, device="cpu", precision="fp32", frames_per_pass: int = 1,
                   ensemble: int = 1, max_memory: int | None = None,
                   warn: Callable[[str], None] | None = None, plans: dict | None = None) -> Iterator[np.ndarray]:
    """uint8 [H,W,3] RGB frames in (N of them) -> uint8 [4H,4W,3] frames out (2N-1 of them), streaming.

    Output 2k is input k super-resolved, 2k+1 lies halfway between k and k+1. Each pass supplies the
    outputs of `chunk` new input frames and sees `overlap` more frames of context on either side (their
    outputs are discarded), so at most chunk + 2*overlap + 1 input frames are held. `tile` (input pixels)
    splits frames into tiles overlapping by `tile_overlap`; 0 keeps whole frames; None (automatic) keeps
    whole frames when a window fits half the free memory, else as few even tiles as fit. A single input frame
    gives a single output frame (it is run as a still pair). `ensemble` 2 or 8 averages that many transposed and
    flipped passes (ensemble.py): better in-between frames for 2x or 8x the time. `max_memory` (bytes) caps what
    automatic tiling plans with; a window that runs out of memory anyway is run again in finer tiles, which the
    rest of the video keeps, and `warn` (default: stderr) says so once per new plan. `plans` (tiles by frame size)
    carries the plan over from call to call: the converter calls once per segment.
    """
    check_options(chunk, overlap, tile, tile_overlap, ensemble)
    overlap = context_frames(model, overlap)
    dev = resolve_device(device)
    run = _WindowRunner(model.to(dev).eval(), dev, resolve_precision(precision, dev), tile, tile_overlap, frames_per_pass,
                        window_frames=chunk + 2 * overlap + 1, kept_frames=2 * chunk + 1, ensemble=ensemble,
                        max_memory=max_memory, warn=warn, plans=plans)
    source = _checked(frames)
    buf: list[np.ndarray] = []  # input frames buf_start, buf_start+1, ...
    buf_start, ended, core = 0, False, 0
    while True:
        while not ended and buf_start + len(buf) < frames_needed(core, chunk, overlap):
            try:
                buf.append(next(source))
            except StopIteration:
                ended = True
        total = buf_start + len(buf)
        if total == 0:
            return
        if total == 1:  # one frame: run as a still pair, whose first output is the frame itself
            yield _to_uint8(run([buf[0], buf[0]], slice(0, 1))[0])
            return
        win = window_for_core(core, chunk, overlap, total if ended else None)
        out = run(buf[win.start - buf_start : win.end - buf_start], win.keep)
        for frame in out:
            yield _to_uint8(frame)
        if win.last:
            return
        core = win.core_end
        keep_from = max(0, core - max(overlap, 1))  # the next window starts no earlier than this
        del buf[: keep_from - buf_start]
        buf_start = keep_from
