"""Wall time per stage of the network, for `tpstvsr bench`: where a second of conversion goes.

The models mark their parts with `timed(stage)`; nothing is recorded unless a `StageClock` is open, so the
marks cost one global read when nobody asks. Stages nest exclusively: time inside an inner stage is not
counted again in the outer one (the fusion's optical flow is "flow", not "fusion"). Not thread-safe by
design: one conversion's network runs on one thread, and the clock is process-wide.

Stage names: "convolutions" (TPSRM, FSM, RM: the learnt layers), "motion" (block matching at the input's size),
"flow" (dense optical flow), "fusion" (the neighbour fusion's warps, weights and back-projection), "vote" (the
in-between frames' warps and agreement). Whatever the network does outside them is the bench's "other".
"""

import time
from contextlib import contextmanager

STAGES = ("convolutions", "motion", "flow", "fusion", "vote")

_open: "StageClock | None" = None


class StageClock:
    """`with StageClock() as clock: ...` then clock.seconds {stage: wall seconds}; one open at a time."""

    def __init__(self):
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self._stack: list[list] = []  # [stage, started, paused_total]

    def __enter__(self) -> "StageClock":
        global _open
        if _open is not None:
            raise RuntimeError("a StageClock is already open")
        _open = self
        return self

    def __exit__(self, *exc) -> None:
        global _open
        _open = None

    def _push(self, stage: str) -> None:
        now = time.perf_counter()
        if self._stack:  # the outer stage pauses
            outer = self._stack[-1]
            self.seconds[outer[0]] += now - outer[1]
        self._stack.append([stage, now])

    def _pop(self) -> None:
        now = time.perf_counter()
        stage, started = self._stack.pop()
        self.seconds[stage] += now - started
        if self._stack:
            self._stack[-1][1] = now  # the outer stage resumes


@contextmanager
def timed(stage: str):
    """Count the wall time of the block as `stage` if a StageClock is open."""
    clock = _open
    if clock is None:
        yield
        return
    if stage not in clock.seconds:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    clock._push(stage)
    try:
        yield
    finally:
        clock._pop()
