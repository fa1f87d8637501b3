"""The network stage: frames in, output frames out, in independent segments and never across a scene cut.

Input frames are grouped in segments of `segment` frames. Segment g supplies the outputs of its input frames
[gM, (g+1)M): output frames 2gM .. 2(g+1)M - 1. It is upscaled by its own upscale_frames calls, which also see
`pad` frames of context on either side (their outputs are discarded, as between chunks), so a segment's
frames depend on the input alone and not on where a run started: a resumed run gives exactly the frames
of an uninterrupted one. Within a segment, scene cuts split the core into pieces; a piece's context never
crosses a cut, and the output frame between the last frame of a shot and the first of the next is a copy
of the shot's last frame (the earlier of the two equally near frames) instead of a blend.

At most segment + 2*pad + 1 input frames are held, whatever the length of the video.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from .scenes import CutDetector


@dataclass(frozen=True)
class SegmentEnd:
    """Marker in the output stream: all output frames of segment `index` have been yielded."""
    index: int
    last: bool


def plan_pieces(a: int, b: int, lo: int, hi: int, n: int | None, cuts: set[int]) -> list[tuple[int, int, int, int, bool]]:
    """(p, q, cs, ce, shot_end) for the core [a, b) with frames [lo, hi) at hand; n: the frame count if known.

    [p, q) is a piece of the core between cuts, [cs, ce) the frames its network pass sees, shot_end
    whether q ends a shot (a cut at q, or the end of the video): then the output after the piece's last
    frame is a held copy instead of an interpolation.
    """
    inner = sorted(c for c in cuts if lo < c < hi)
    bounds = [a] + [c for c in inner if a < c < b] + [b]
    pieces = []
    for p, q in zip(bounds, bounds[1:]):
        cs = max([lo] + [c for c in inner if c <= p])
        ce = min([hi] + [c for c in inner if c >= q])
        pieces.append((p, q, cs, ce, q == n or q in cuts))
    return pieces


def segment_outputs(frames: Iterable[np.ndarray], upscale: Callable[[list[np.ndarray]], Iterator[np.ndarray]], *,
                    segment: int, pad: int, scene_threshold: float, start_segment: int = 0,
                    hold_last: bool = True) -> Iterator[np.ndarray | SegmentEnd]:
    """Output frames and SegmentEnd markers for segments start_segment, start_segment + 1, ...

    `upscale` maps L input frames to 2L-1 output frames (inference.upscale_frames with the model bound).
    Segments before start_segment are decoded (cut detection sees every frame) but not upscaled.
    hold_last: a video repeats its last frame once (2N outputs); a frame folder does not (2N-1).
    """
    right = max(pad, 1)  # the frame after a core is needed for the core's last interpolated frame
    detector = CutDetector(scene_threshold)
    buf: dict[int, np.ndarray] = {}
    cuts: set[int] = set()
    g, n, it = start_segment, None, iter(frames)
    i = 0
    while True:
        a, b = g * segment, (g + 1) * segment
        while n is None and i < b + right:
            frame = next(it, None)
            if frame is None:
                n = i
                break
            if detector.push(frame):
                cuts.add(i)
            if i >= a - pad:
                buf[i] = frame
            i += 1
        if n is not None and a >= n:
            return
        lo, hi, end = max(0, a - pad), (min(b + right, n) if n is not None else b + right), min(b, n or b)
        for p, q, cs, ce, shot_end in plan_pieces(a, end, lo, hi, n, cuts):
            first, stop = 2 * (p - cs), 2 * (q - cs) - (1 if shot_end else 0)
            last = None
            outputs = upscale([buf[k] for k in range(cs, ce)])
            for k, out in enumerate(outputs):
                if k >= stop:
                    break
                if k >= first:
                    last = out
                    yield out
            if hasattr(outputs, "close"):
                outputs.close()  # the context outputs past the piece are not needed
            if shot_end and (q != n or hold_last):
                yield last.copy()
        done = n is not None and end >= n
        yield SegmentEnd(g, done)
        if done:
            return
        for k in [k for k in buf if k < b - pad]:
            del buf[k]
        cuts = {c for c in cuts if c > b - pad}
        g += 1
