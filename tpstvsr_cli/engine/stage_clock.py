"""Wall time per stage of the network, for `tpstvsr bench`: where a second of conversion goes.

The models mark their parts with `timed(stage)`; nothing is recorded unless a `StageClock` is open, so the
marks cost one global read when nobody asks. Stages nest exclusively: time inside an inner stage is not
counted again in the outer one (the fusion's optical flow is "flow", not "fusion"). The clock is process-wide
and each thread keeps its own nesting. Pieces run side by side on the engine's team (team.py) count their time
`weighted` by 1 / the team's size, and the thread that waits for them is `paused`, so with the team busy the
stages still add up to the wall time (a lone piece at the end of a batch counts half its time; the rest shows
as the bench's "other").

Stage names: "convolutions" (TPSRM, FSM, RM: the learnt layers), "motion" (block matching at the input's size),
"flow" (dense optical flow), "fusion" (the neighbour fusion's warps, weights and back-projection), "vote" (the
in-between frames' warps and agreement). Whatever the network does outside them is the bench's "other".
"""

import threading
import time
from contextlib import contextmanager

STAGES = ("convolutions", "motion", "flow", "fusion", "vote")

_open: "StageClock | None" = None
_local = threading.local()  # weight: this thread's share of the wall time (1 unless a team runs it)


class StageClock:
    """`with StageClock() as clock: ...` then clock.seconds {stage: wall seconds}; one open at a time."""

    def __init__(self):
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self._stacks: dict[int, list[list]] = {}  # per thread: [stage or None (paused), started]
        self._lock = threading.Lock()

    def __enter__(self) -> "StageClock":
        global _open
        if _open is not None:
            raise RuntimeError("a StageClock is already open")
        _open = self
        return self

    def __exit__(self, *exc) -> None:
        global _open
        _open = None

    def _add(self, stage: str | None, seconds: float) -> None:
        if stage is not None:
            with self._lock:
                self.seconds[stage] += seconds * getattr(_local, "weight", 1.0)

    def _push(self, stage: str | None) -> None:
        now = time.perf_counter()
        stack = self._stacks.setdefault(threading.get_ident(), [])
        if stack:  # the outer stage pauses
            self._add(stack[-1][0], now - stack[-1][1])
        stack.append([stage, now])

    def _pop(self) -> None:
        now = time.perf_counter()
        stack = self._stacks[threading.get_ident()]
        stage, started = stack.pop()
        self._add(stage, now - started)
        if stack:
            stack[-1][1] = now  # the outer stage resumes


@contextmanager
def _marked(stage: str | None):
    clock = _open
    if clock is None:
        yield
        return
    clock._push(stage)
    try:
        yield
    finally:
        clock._pop()


@contextmanager
def timed(stage: str | None):
    """Count the wall time of the block as `stage` if a StageClock is open (None: as no stage)."""
    if _open is not None and stage is not None and stage not in _open.seconds:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    with _marked(stage):
        yield


def paused():
    """The block's time counts as no stage on this thread (it waits for pieces that count their own)."""
    return _marked(None)


def current() -> str | None:
    """The stage this thread is in (None: none, or no clock open)."""
    clock = _open
    stack = clock._stacks.get(threading.get_ident()) if clock is not None else None
    return stack[-1][0] if stack else None


@contextmanager
def weighted(weight: float):
    """Stage time on this thread counts `weight` times within the block."""
    before = getattr(_local, "weight", 1.0)
    _local.weight = weight
    try:
        yield
    finally:
        _local.weight = before
