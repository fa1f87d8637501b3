"""The network stage of a conversion: decoded frames in, the output frames of chosen segments of the plan out.

Frames are read from the start of the source; only those the chosen segments' windows need are kept (at most a
segment + 2 * pad + 1 input frames), whatever the length of the video. Markers around each segment's frames tell
the sink where a segment begins and ends.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import TpstvsrError
from .plan import FramePlan, Piece


@dataclass(frozen=True)
class SegmentStart:
    """Marker in the output stream: the output frames of segment `index` follow."""

    index: int


@dataclass(frozen=True)
class SegmentEnd:
    """Marker in the output stream: all output frames of segment `index` have been yielded."""

    index: int
    last: bool


Upscale = Callable[[list[np.ndarray]], Iterator[np.ndarray]]  # L input frames -> 2L-1 (or L: key frames) outputs


def piece_outputs(
    piece: Piece, frames: dict[int, np.ndarray], upscale: Upscale, in_between: bool = True
) -> Iterator[np.ndarray]:
    """The kept outputs of one piece's window, and the held copy of the last one where a shot ends
    (in_between False: `upscale` makes the L key frames alone, and the core's are kept)."""
    win, keep = piece.window, piece.window.keep
    if not in_between:
        keep = slice(win.core_start - win.start, win.core_end - win.start)
    outputs = upscale([frames[k] for k in range(win.start, win.end)])
    last = None
    for k, out in enumerate(outputs):
        if k >= keep.stop:
            break
        if k >= keep.start:
            last = out
            yield out
    if hasattr(outputs, "close"):
        outputs.close()  # the context outputs past the piece are not needed
    if piece.hold:
        yield last.copy()


def planned_outputs(
    frames: Iterable[np.ndarray], upscale: Upscale, plan: FramePlan, indices: Iterable[int], first: int = 0
) -> Iterator[np.ndarray | SegmentStart | SegmentEnd]:
    """Output frames of the segments `indices` (in increasing order), each between SegmentStart and SegmentEnd.

    `frames` are the source's decoded frames from frame `first` (at most the first segment's first_frame);
    `upscale` maps L input frames to 2L-1 output frames (engine.upscale_frames with the model bound), or L key
    frames for a plan without in-between frames."""
    source = enumerate(frames, first)
    buf: dict[int, np.ndarray] = {}
    read = first
    try:
        for g in sorted(indices):
            segment = plan.segments[g]
            for k in [k for k in buf if k < segment.first_frame]:
                del buf[k]
            while read < segment.end_frame:
                i, frame = next(source, (None, None))
                if i is None:
                    raise TpstvsrError(f"the source ended after {read} frames, but its plan holds {plan.frames}")
                if i >= segment.first_frame:
                    buf[i] = frame
                read += 1
            yield SegmentStart(g)
            for piece in segment.pieces:
                yield from piece_outputs(piece, buf, upscale, plan.in_between)
            yield SegmentEnd(g, g == len(plan.segments) - 1)
        next(source, None)  # to the end: a video reader checks for damage once it has read everything
    finally:
        if hasattr(frames, "close"):
            frames.close()


def frame_maker(model, settings, compute, warn=None, plans: dict | None = None) -> Upscale:
    """What turns a window's input frames into its output frames, as ConversionSettings ask: the network at 4x
    (its key frames alone for --keep-rate), then an antialiased bicubic downscale for --scale 2 or 3; for
    --keep-size no network, the input frames and the motion-compensated midpoints between them (engine.time_only)."""
    from ..engine.stream import upscale_frames
    from ..engine.time_only import interpolate_frames

    if settings.keep_size:
        return lambda clip: interpolate_frames(model, clip, compute.device)

    def upscale(clip: list[np.ndarray]) -> Iterator[np.ndarray]:
        frames = upscale_frames(
            model,
            clip,
            settings.inference,
            device=compute.device,
            precision=compute.precision,
            warn=warn,
            plans=plans,
            key_frames_only=settings.keep_rate,
        )
        if settings.size_factor == 4:
            return frames
        h, w = clip[0].shape[:2]
        return (downscale(f, settings.size_factor * w, settings.size_factor * h) for f in frames)

    return upscale


def downscale(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """A uint8 RGB frame resized with PIL's bicubic filter, which widens with the factor (antialiased)."""
    from PIL import Image

    return np.asarray(Image.fromarray(frame).resize((width, height), Image.Resampling.BICUBIC))
