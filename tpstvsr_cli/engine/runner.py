"""One temporal window through a backend, whole or in spatial tiles, as float32 [K, 3, 4H, 4W] on the CPU.

K is the number of outputs kept: the network's per-frame modules (FSM, RM) run only on those, so the context
frames cost TPSRM time alone. Tiles are planned once per frame size from the memory this process can get, and
made finer for the rest of the video when a window runs out of memory anyway; when even the smallest tiles do not
fit, each window's core is run in shorter pieces (each with the context a window of the engine gets), again for
the rest of the video.
"""

import gc
import math
import sys
from collections.abc import Callable, Iterator

import numpy as np
import torch

from ..errors import TpstvsrError
from .backend import Backend
from .memory import (
    available_bytes,
    queue_bytes_per_pixel,
    queue_depth,
    stitch_bytes_per_pixel,
    window_bytes_per_pixel,
)
from .options import MIN_CHUNK, InferenceOptions
from .tensors import frames_to_tensor
from .tiles import even_spans, plan_tiles, span_weights, tile_spans


def is_out_of_memory(exc: BaseException) -> bool:
    """An allocation failure of torch's CPU or CUDA allocator (or Python's), as opposed to any other error."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(
        key in text
        for key in (
            "can't allocate memory",
            "not enough memory",
            "out of memory",
            "failed to allocate",
            # oneDNN's words when it cannot allocate a convolution's workspace
            "could not create a primitive",
        )
    )


class _SmallestTilesFailed(Exception):
    """A window ran out of memory in the smallest tiles; the message is the user's error if nothing else helps."""


def core_pieces(length: int, keep: slice, piece: int, context: int) -> list[tuple[int, int, slice]]:
    """A window of `length` input frames whose kept outputs are `keep` (windows.Window.keep, or its key frames
    only: step 2), as shorter windows over consecutive pieces of `piece` frames of its core: (start, end, keep)
    each, with `context` frames before a piece and at least one after it where the window has them (as
    windows.window gives). When `piece` divides the run's chunk these are the windows of a run with that chunk."""
    core_start, core_end = keep.start // 2, (keep.stop + 1) // 2
    last = keep.step in (None, 1) and keep.stop % 2 == 1
    pieces = []
    for a in range(core_start, core_end, piece):
        b = min(a + piece, core_end)
        end = min(length, b + max(context, 1))
        start = max(0, a - context)
        start = min(start, max(0, end - 2))
        stop = 2 * (b - start) - (1 if (last and b == core_end) or keep.step == 2 else 0)
        pieces.append((start, end, slice(2 * (a - start), stop, keep.step)))
    return pieces


def _warn_on_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class WindowRunner:
    def __init__(
        self,
        backend: Backend,
        model,
        options: InferenceOptions,
        window_frames: int,
        kept_frames: int,
        warn: Callable[[str], None] | None = None,
        plans: dict | None = None,
    ):
        self.backend, self.model, self.options = backend, model, options
        self.device, self.dtype = backend.device, backend.dtype
        self.window_frames, self.kept_frames = window_frames, kept_frames
        # Context frames a side (make_runner: window_frames = chunk + 2 * context + 1).
        self.context = max(0, (window_frames - options.chunk - 1) // 2)
        self.warn = warn or _warn_on_stderr
        # (h, w): tile rows and columns; ("piece", h, w): frames of each piece a window's core runs in
        self.plans: dict[tuple, object] = {} if plans is None else plans
        self.align = backend.pad_multiple  # tile starts on multiples of the U-Net's stride

    def spans(self, h: int, w: int) -> tuple[list, list]:
        """Tile rows and columns, planned once per frame size (so every window of a video tiles alike), and made
        finer for the rest of the video when a window runs out of memory."""
        if (h, w) not in self.plans:
            self.plans[(h, w)] = self._plan(h, w)
        return self.plans[(h, w)]

    def _even(self, h: int, w: int, ny: int, nx: int) -> tuple[list, list]:
        overlap = self.options.tile_overlap
        return even_spans(h, ny, overlap, self.align), even_spans(w, nx, overlap, self.align)

    def _window_bytes_per_pixel(self) -> float:
        return window_bytes_per_pixel(self.model, self.window_frames, self.dtype)

    def _plan(self, h: int, w: int) -> tuple[list, list]:
        """Fixed-size tiles for an explicit tile, whole frames for 0, else from the memory this process can get
        at the first window (memory.available_bytes: free memory, cgroup and address-space limits, --max-memory)."""
        opts = self.options
        if opts.tile is not None:
            tile = opts.tile or None
            return tile_spans(h, tile, opts.tile_overlap, self.align), tile_spans(
                w, tile, opts.tile_overlap, self.align
            )
        budget = available_bytes(self.device, opts.max_memory)
        per_px = self._window_bytes_per_pixel()
        if self.device.type != "cuda":  # the converter's frame queues share the host with the window
            budget -= h * w * queue_bytes_per_pixel(queue_depth(opts.chunk, self.context))
        if h * w * per_px <= budget:
            return self._even(h, w, 1, 1)
        kept = self.kept_frames
        piece = opts.chunk
        # Tiles shrink the window's network memory, not its stitched outputs: when those would take more than
        # half the budget, plan shorter windows up front (as an allocation failure would make them, later).
        while piece > MIN_CHUNK and h * w * stitch_bytes_per_pixel(kept) > budget / 2:
            piece = max(MIN_CHUNK, math.ceil(piece / 2))
            kept = 2 * piece + 1
        if piece < opts.chunk and ("piece", h, w) not in self.plans:
            self.plans[("piece", h, w)] = piece
            self.warn(f"running {w}x{h} in chunks of {piece} frames: longer ones' outputs would not fit in memory")
        stitch = h * w * stitch_bytes_per_pixel(kept)
        host_left = budget if self.device.type == "cuda" else budget - stitch
        if piece < opts.chunk:  # tiles for the shorter windows that will run, not for the chunk's
            per_px = window_bytes_per_pixel(self.model, piece + 2 * self.context + 1, self.dtype)
        ny, nx = plan_tiles(h, w, max(host_left, 0) / per_px, opts.tile_overlap, self.align, opts.min_tile)
        return self._even(h, w, ny, nx)

    def _finer_plan(self, h: int, w: int, rows: list, cols: list, failure: str) -> None:
        """After an allocation failure: even tiles of at most half the largest tile's pixels, for the rest of the
        video; a TpstvsrError when the tiles are as small as they go."""
        largest = max(b - a for a, b in rows) * max(b - a for a, b in cols)
        ny, nx = plan_tiles(h, w, largest / 2, self.options.tile_overlap, self.align, self.options.min_tile)
        plan = self._even(h, w, ny, nx)
        if max(b - a for a, b in plan[0]) * max(b - a for a, b in plan[1]) >= largest:
            need = largest * self._window_bytes_per_pixel() / 2**20
            raise _SmallestTilesFailed(
                f"out of memory even in the smallest tiles ({len(rows)}x{len(cols)} of a {w}x{h} frame): "
                f"one window needs about {need:.0f} MiB ({failure}); free memory or use a smaller --chunk"
            )
        self.plans[(h, w)] = plan
        self.warn(f"out of memory ({failure}); continuing in {ny}x{nx} tiles per frame")

    def __call__(self, frames: list[np.ndarray], keep: slice) -> torch.Tensor:
        """The window's kept outputs [K, 3, 4H, 4W], all at once (outputs() hands them over piece by piece)."""
        return torch.cat(list(self.outputs(frames, keep)))

    def outputs(self, frames: list[np.ndarray], keep: slice) -> Iterator[torch.Tensor]:
        """The window's kept outputs in consecutive parts [k, 3, 4H, 4W]: the whole window, or its core in shorter
        pieces where memory is short, each part handed over before the next runs, so that only one piece's outputs
        are held (concatenated, a window's pieces took as much memory as the window they replaced: issue 20)."""
        clip = frames_to_tensor(np.stack(frames), self.backend.input_dtype, self.device).unsqueeze(0)
        h, w = clip.shape[-2:]
        chunk = self.options.chunk
        self.spans(h, w)  # the plan may shorten the windows too
        rest = keep  # the kept outputs not handed over yet
        while True:
            piece = self.plans.get(("piece", h, w), chunk)
            try:
                if piece >= chunk:
                    yield self._in_tiles(clip, keep)
                    return
                for start, end, k in core_pieces(clip.shape[1], rest, piece, self.context):
                    yield self._in_tiles(clip[:, start:end], k)
                    rest = slice(2 * (start + (k.stop + 1) // 2), rest.stop, rest.step)  # from the next core on
                return
            except _SmallestTilesFailed as exc:
                if piece <= MIN_CHUNK:
                    shorter = f" and chunks of {MIN_CHUNK} frames" if chunk > MIN_CHUNK else ""
                    raise TpstvsrError(str(exc).replace("smallest tiles", "smallest tiles" + shorter, 1)) from None
                piece = max(MIN_CHUNK, math.ceil(min(piece, chunk) / 2))
                self.plans[("piece", h, w)] = piece
                self.warn(f"out of memory in the smallest tiles; continuing in chunks of {piece} frames")

    def _in_tiles(self, clip: torch.Tensor, keep: slice) -> torch.Tensor:
        """One window in the planned tiles, in finer ones after an allocation failure."""
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
            return self.backend(clip, keep)
        out, weight = self._stitch_buffers(len(range(2 * clip.shape[1] - 1)[keep]), h, w)
        for (y0, y1), wy in zip(rows, span_weights(rows, 4)):
            for (x0, x1), wx in zip(cols, span_weights(cols, 4)):
                w2d = torch.tensor(wy).view(-1, 1) * torch.tensor(wx).view(1, -1)
                piece = self.backend(clip[..., y0:y1, x0:x1], keep)
                out[..., 4 * y0 : 4 * y1, 4 * x0 : 4 * x1] += piece * w2d
                weight[..., 4 * y0 : 4 * y1, 4 * x0 : 4 * x1] += w2d
        return out.div_(weight.clamp_min_(1e-6))

    @staticmethod
    def _stitch_buffers(kept: int, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole window's outputs, float32 at 4x the size: finer tiles cannot make these smaller, but shorter
        windows can, so running out of memory here sends the window back to run in shorter pieces (__call__),
        and only when those are as short as they go is it the user's error."""
        try:
            return torch.zeros(kept, 3, 4 * h, 4 * w), torch.zeros(1, 1, 4 * h, 4 * w)
        except (RuntimeError, MemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            need = (kept * 3 + 1) * 16 * h * w * 4 / 2**20
            raise _SmallestTilesFailed(
                f"out of memory for the {kept} output frames of one window ({need:.0f} MiB at "
                f"{4 * w}x{4 * h}) in the smallest tiles; free memory or use a smaller --chunk"
            ) from None
