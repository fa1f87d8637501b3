"""Run the network over a stream of frames of any length and size, in overlapping windows and tiles.

upscale_frames is the one entry point (the converter, `tpstvsr eval` and `tpstvsr bench` call it): uint8 RGB frames
[H, W, 3] in, uint8 RGB frames [4H, 4W, 3] out, 2N-1 of them for N in. It holds about chunk + 2*overlap input
frames and one window's outputs at a time, whatever the length of the video. Windows (windows.py) and tiles
(tiles.py) overlap and are stitched, so the result matches a single whole-clip pass closely
(tests/engine/test_inference.py).
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

import numpy as np

from ..errors import TpstvsrError
from .backend import TorchBackend
from .device import resolve_device, resolve_precision
from .options import InferenceOptions
from .refine import KeptInputs, refined_frames
from .runner import WindowRunner
from .streamed import StreamedWindows, StreamStopped, can_stream
from .tensors import tensor_to_frames
from .windows import frames_needed, window_for_core


def context_frames(model, overlap: int) -> int:
    """Frames of context a window of this model gets on each side for a requested `overlap`.

    A model that warps its in-between frames from key frames (TPNet.interp) makes the core's last output from
    the key frame just after the core, so it gets one frame more: that key frame then sees as much context as
    the core's own (on a perturbed tiny network a seam frame was 1.6 grey levels off with `overlap` alone).
    """
    return overlap + (1 if getattr(model, "interp", None) is not None else 0)


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


def make_runner(model, options: InferenceOptions, device="cpu", precision="fp32", warn=None, plans=None):
    """The window runner for `model` with a TorchBackend (the place to choose another backend)."""
    dev = resolve_device(device)
    overlap = context_frames(model, options.overlap)
    backend = TorchBackend(model, dev, resolve_precision(precision, dev), options.frames_per_pass, options.ensemble)
    return WindowRunner(
        backend,
        model,
        options,
        window_frames=options.chunk + 2 * overlap + 1,
        kept_frames=2 * options.chunk + 1,
        warn=warn,
        plans=plans,
    )


def upscale_frames(
    model,
    frames: Iterable[np.ndarray],
    options: InferenceOptions | None = None,
    *,
    device="cpu",
    precision="fp32",
    warn: Callable[[str], None] | None = None,
    plans: dict | None = None,
    key_frames_only: bool = False,
    **option_fields,
) -> Iterator[np.ndarray]:
    """uint8 [H,W,3] RGB frames in (N of them) -> uint8 [4H,4W,3] frames out (2N-1 of them), streaming.

    Output 2k is input k super-resolved, 2k+1 lies halfway between k and k+1. `options` (InferenceOptions, or its
    fields as keywords: chunk, overlap, tile, ...) say how the clip is cut into windows and tiles. A single input
    frame gives a single output frame (it is run as a still pair). A window that runs out of memory is run again
    in finer tiles, which the rest of the video keeps, and `warn` (default: stderr) says so once per new plan.
    `plans` (tiles by frame size) carries the plan over from call to call: the converter calls once per piece.
    `key_frames_only`: the N outputs 2k alone (frame rate kept); the network computes no in-between frame.
    """
    options = replace(options or InferenceOptions(), **option_fields)
    run = make_runner(model, options, device, precision, warn, plans)
    overlap = context_frames(model, options.overlap)
    if getattr(model, "refine", None) is None:
        yield from _windows(run, _checked(frames), options.chunk, overlap, key_frames_only)
        return
    inputs = KeptInputs(_checked(frames))  # the output refinement reads each output's input frames too
    outputs = _windows(run, iter(inputs), options.chunk, overlap, key_frames_only)
    yield from refined_frames(run.backend, outputs, inputs, key_frames_only)


def _windows(
    run: WindowRunner, source: Iterator[np.ndarray], chunk: int, overlap: int, keys_only: bool = False
) -> Iterator[np.ndarray]:
    """The streaming loop: read until the next window is known, run it, yield its kept outputs, drop old frames.

    Where the video can run as one key-frame stream (streamed.py) the windows feed it, and their outputs come out
    as the stream makes them final; else, and after the stream runs out of memory, window by window."""
    buf: list[np.ndarray] = []  # input frames buf_start, buf_start+1, ...
    buf_start, ended, core = 0, False, 0
    streamed: StreamedWindows | None = None
    skip = 0  # the next window's kept outputs handed out already (by a stream that stopped)
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
            yield tensor_to_frames(run([buf[0], buf[0]], slice(0, 1))[0])
            return
        win = window_for_core(core, chunk, overlap, total if ended else None)
        frames = buf[win.start - buf_start : win.end - buf_start]
        if core == 0 and can_stream(run, *frames[0].shape[:2]):
            streamed = StreamedWindows(run, keys_only)
        oldest = win.core_end
        if streamed is not None:
            try:
                part = streamed.window(frames, win)
            except StreamStopped as stop:
                streamed, core, skip = None, stop.restart, stop.skip
                continue
            oldest = streamed.oldest_needed
            while part:  # one at a time, each dropped once converted
                yield tensor_to_frames(part.pop(0))
        else:
            keep = slice(win.keep.start, 2 * (win.core_end - win.start) - 1, 2) if keys_only else win.keep
            for part in run.outputs(frames, keep):
                for frame in part[skip:]:
                    yield tensor_to_frames(frame)
                skip = 0
                del part  # before the next part is made: one part's outputs held at a time
        if win.last:
            return
        core = win.core_end
        keep_from = max(0, min(core, oldest) - max(overlap, 1))  # no later window starts before this
        del buf[: keep_from - buf_start]
        buf_start = keep_from
