"""The plan of a conversion: the video's frame count, its scene cuts, and its segments with the network windows
of each, computed once (plan_frames) and stored with the work as JSON, so that any segment can be converted
alone, in any order, on any machine, and the segments join into the frames of a straight run.

Segment g supplies the outputs of its input frames [gM, (g+1)M): output frames 2gM .. 2(g+1)M - 1. Scene cuts
split its core into pieces; each piece is one network call (upscale_frames, which walks it in chunks) over a
window from engine.windows: the piece plus `pad` frames of context on either side that never cross a cut nor
leave the segment's context. A segment's frames therefore depend on the input alone, not on where a run started.
The output frame between the last frame of a shot and the first of the next is a copy of the shot's last frame
(the earlier of the two equally near frames) instead of a blend (`hold`).

A plan without in-between frames (`in_between` False: --keep-rate) keeps the same windows; each piece supplies
the key frames of its core alone (one output per input frame, no hold).
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from ..engine.windows import Window, right_context, window
from .scene_cuts import CutDetector

PLAN_VERSION = 1


@dataclass(frozen=True)
class Piece:
    window: Window  # the frames the network sees and the core whose outputs it keeps
    hold: bool  # after the core's outputs, repeat its last one (a shot ends here and the output holds it)

    def to_json(self) -> dict:
        return {**asdict(self.window), "hold": self.hold}

    @classmethod
    def from_json(cls, data: dict) -> "Piece":
        data = dict(data)
        hold = data.pop("hold")
        return cls(Window(**data), hold)


@dataclass(frozen=True)
class Segment:
    index: int
    pieces: tuple[Piece, ...]
    in_between: bool = True  # False: the key frames alone (one output per input frame)

    @property
    def first_frame(self) -> int:
        """The first input frame any of its windows reads."""
        return min(p.window.start for p in self.pieces)

    @property
    def end_frame(self) -> int:
        """One past the last input frame any of its windows reads."""
        return max(p.window.end for p in self.pieces)

    @property
    def outputs(self) -> int:
        if not self.in_between:
            return sum(p.window.core_end - p.window.core_start for p in self.pieces)
        return sum(len(range(2 * (p.window.end - p.window.start) - 1)[p.window.keep]) + p.hold for p in self.pieces)


@dataclass(frozen=True)
class FramePlan:
    frames: int  # input frames of the source, counted by decoding it
    cuts: tuple[int, ...]  # i: a cut lies between input frames i-1 and i
    segment_frames: int
    pad: int  # context frames each side of a window (engine.context_frames of the model and --overlap)
    hold_last: bool  # a video repeats its last frame once (2N outputs); a frame folder does not (2N-1)
    segments: tuple[Segment, ...]
    in_between: bool = True  # False: key frames only (--keep-rate)

    def to_json(self) -> dict:
        head = {k: getattr(self, k) for k in ("frames", "segment_frames", "pad", "hold_last", "in_between")}
        return {
            "version": PLAN_VERSION,
            **head,
            "cuts": list(self.cuts),
            "segments": [[p.to_json() for p in s.pieces] for s in self.segments],
        }

    @classmethod
    def from_json(cls, data: dict) -> "FramePlan":
        in_between = data.get("in_between", True)
        segments = tuple(
            Segment(i, tuple(Piece.from_json(p) for p in pieces), in_between)
            for i, pieces in enumerate(data["segments"])
        )
        head = (data["frames"], tuple(data["cuts"]), data["segment_frames"], data["pad"], data["hold_last"])
        return cls(*head, segments, in_between)


def find_cuts_and_count(frames: Iterable[np.ndarray], scene_threshold: float) -> tuple[int, list[int]]:
    """(frame count, cuts) from one pass over the decoded frames."""
    detector = CutDetector(scene_threshold)
    count, cuts = 0, []
    for i, frame in enumerate(frames):
        if detector.push(frame):
            cuts.append(i)
        count = i + 1
    return count, cuts


def shot_windows(a: int, b: int, lo: int, hi: int, n: int | None, cuts: set[int], pad: int = 2) -> list[Window]:
    """The windows of the core [a, b) with frames [lo, hi) at hand (n: the frame count if known): one per piece
    of the core between cuts, `pad` frames of context each side but never across a cut nor outside [lo, hi);
    `last` when the piece ends a shot (a cut at its end, or the end of the video)."""
    inner = sorted(c for c in cuts if lo < c < hi)
    bounds = [a] + [c for c in inner if a < c < b] + [b]
    windows = []
    for p, q in zip(bounds, bounds[1:]):
        shot_lo = max([lo] + [c for c in inner if c <= p])
        shot_hi = min([hi] + [c for c in inner if c >= q])
        windows.append(window(p, q, pad, shot_lo, shot_hi, last=q == n or q in cuts))
    return windows


def plan_frames(
    frames: int, cuts: Iterable[int], segment_frames: int, pad: int, hold_last: bool, in_between: bool = True
) -> FramePlan:
    """Every segment's pieces for a video of `frames` input frames (>= 1) with these cuts (in_between False:
    the key frames alone)."""
    cut_set = set(cuts)
    segments = []
    for g in range(-(-frames // segment_frames)):
        a, b = g * segment_frames, (g + 1) * segment_frames
        lo, hi, end = max(0, a - pad), min(b + right_context(pad), frames), min(b, frames)
        pieces = tuple(
            Piece(w, in_between and w.last and (w.core_end != frames or hold_last))
            for w in shot_windows(a, end, lo, hi, frames, cut_set, pad)
        )
        segments.append(Segment(g, pieces, in_between))
    return FramePlan(frames, tuple(sorted(cut_set)), segment_frames, pad, hold_last, tuple(segments), in_between)


def pass_ends(segments: Iterable[Segment], chunk: int, pad: int) -> list[tuple[int, int]]:
    """For the time left, each network pass of `segments` in order: (outputs handed over once it is done,
    counted from the first of `segments`; the input frames its window holds, its cost).

    The engine walks a piece's window in cores of `chunk` frames from its start, each seen with `pad` frames of
    context (engine.stream._windows), and hands over a pass's kept outputs at once. piece_outputs asks for one
    output past the piece's last, which runs one more pass (all discarded) where the last ends on a core's end,
    and a pass of context alone hands over nothing: such a pass shows with the next output. So a segment after
    the first, whose window starts with context, takes one more pass than the first for the same outputs."""
    ends: list[tuple[int, int]] = []
    count = 0
    for segment in segments:
        for piece in segment.pieces:
            count = _piece_pass_ends(piece, chunk, pad, segment.in_between, count, ends)
    return ends


def _piece_pass_ends(
    piece: Piece, chunk: int, pad: int, in_between: bool, count: int, ends: list[tuple[int, int]]
) -> int:
    win, step = piece.window, 2 if in_between else 1
    length = win.end - win.start
    keep = range(win.core_start - win.start, win.core_end - win.start)  # key frames alone: one per input frame
    if in_between:
        keep = range(win.keep.start, win.keep.stop)
    for core in range(0, length, chunk):
        core_end = min(core + chunk, length)
        outputs = range(step * core, step * core_end)
        handed = len(range(max(outputs.start, keep.start), min(outputs.stop, keep.stop)))
        count += handed
        seen = min(core_end + right_context(pad), length) - max(core - pad, 0)
        ends.append((count if handed else count + 1, seen))
        if outputs.stop > keep.stop:  # this pass held the output past the piece's last: the walk stops here
            break
    if piece.hold and handed:  # the held copy comes right after the last pass's outputs (else: it shows that pass)
        ends[-1] = (ends[-1][0] + 1, ends[-1][1])
    return count + piece.hold
