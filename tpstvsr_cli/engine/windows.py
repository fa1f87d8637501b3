"""Where the network looks in time: the one window scheduler (the engine's chunks and the converter's shots use it).

Pure functions (no torch, no I/O) so the geometry can be tested alone; spatial tiles are in tiles.py.

Time (discard-margin stitching). The input frames are cut into cores of `chunk` frames; each core is run
inside a window that adds up to `overlap` frames of context on each side, so consecutive windows share
2*overlap frames. A window of L frames gives 2L-1 output frames (output 2k is input k, 2k+1 halfway);
only the outputs of its core are kept: output frames 2*core_start .. 2*core_end-1 (the last core also keeps
2n-2). The network is least sure near a window's edges, where it lacks context, and those outputs are
exactly the ones discarded; measured on a perturbed tiny network, overlap=2 brings a seam frame within
about 0.2/255 of the whole-clip result (tests/test_inference.py).

"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    start: int  # input frames the network sees: [start, end)
    end: int
    core_start: int  # input frames whose outputs this window supplies: [core_start, core_end)
    core_end: int
    last: bool  # the core ends the clip, so the window also supplies output 2n-2

    @property
    def keep(self) -> slice:
        """The window's output frames to keep, as a slice of its 2L-1 outputs."""
        begin = 2 * (self.core_start - self.start)
        stop = 2 * (self.core_end - self.start) - (1 if self.last else 0)
        return slice(begin, stop)


def check_chunking(chunk: int, overlap: int) -> None:
    """ValueError unless chunk >= 1 and overlap >= 0."""
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1 frame, got {chunk}")
    if overlap < 0:
        raise ValueError(f"overlap must be 0 or more frames, got {overlap}")


def right_context(overlap: int) -> int:
    """Context frames after a core: output 2*core_end-1 lies halfway to frame core_end, so at least one."""
    return max(overlap, 1)


def frames_needed(core_start: int, chunk: int, overlap: int) -> int:
    """How many input frames a streaming reader must have seen (or have hit the end) before it can run the
    window of this core and know whether it is the last: one past the right context."""
    return core_start + chunk + right_context(overlap)


def window(
    core_start: int, core_end: int, overlap: int, lo: int = 0, hi: int | None = None, last: bool = False
) -> Window:
    """The window around the core [core_start, core_end): `overlap` frames of context before it and
    right_context(overlap) after it, within the frames [lo, hi) it may see (a shot, or the clip; hi None: no end
    known yet). `last`: the core ends its shot or clip, so its last in-between output is not kept.
    A window holds >= 2 frames where [lo, hi) does: a one-frame core with overlap 0 borrows the previous frame."""
    end = core_end + right_context(overlap)
    end = end if hi is None else min(end, hi)
    start = max(lo, core_start - overlap)
    if end - start < 2:
        start = max(lo, end - 2)
    return Window(start, end, core_start, core_end, last)


def window_for_core(core_start: int, chunk: int, overlap: int, total: int | None) -> Window:
    """The window around the core starting at core_start. total: the frame count if the stream has ended
    (None: at least frames_needed() frames exist). Windows always hold >= 2 frames when total >= 2."""
    core_end = core_start + chunk if total is None else min(core_start + chunk, total)
    return window(core_start, core_end, overlap, 0, total, last=total is not None and core_end == total)


def temporal_windows(n: int, chunk: int, overlap: int) -> list[Window]:
    """All windows over n >= 2 input frames, in order; their kept outputs tile 0 .. 2n-2 exactly once."""
    check_chunking(chunk, overlap)
    if n < 2:
        raise ValueError(f"need at least 2 frames, got {n}")
    return [window_for_core(c, chunk, overlap, n) for c in range(0, n, chunk)]
