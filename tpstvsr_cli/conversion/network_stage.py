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


Upscale = Callable[[list[np.ndarray]], Iterator[np.ndarray]]  # L input frames -> 2L-1 output frames


def piece_outputs(piece: Piece, frames: dict[int, np.ndarray], upscale: Upscale) -> Iterator[np.ndarray]:
    """The kept outputs of one piece's window, and the held copy of the last one where a shot ends."""
    win, keep = piece.window, piece.window.keep
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
    frames: Iterable[np.ndarray], upscale: Upscale, plan: FramePlan, indices: Iterable[int]
) -> Iterator[np.ndarray | SegmentStart | SegmentEnd]:
    """Output frames of the segments `indices` (in increasing order), each between SegmentStart and SegmentEnd.

    `frames` are the source's decoded frames from frame 0; `upscale` maps L input frames to 2L-1 output frames
    (engine.upscale_frames with the model bound)."""
    source = enumerate(frames)
    buf: dict[int, np.ndarray] = {}
    read = 0
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
                yield from piece_outputs(piece, buf, upscale)
            yield SegmentEnd(g, g == len(plan.segments) - 1)
        next(source, None)  # to the end: a video reader checks for damage once it has read everything
    finally:
        if hasattr(frames, "close"):
            frames.close()
