"""Independent pieces of the network's work on two threads at once, each with half of torch's threads (issue 19).

On a 2-core CPU a conversion on torch's 2 threads kept the cores 1.75 busy: oneDNN's convolutions of one key frame
scale 1.7x from 1 to 2 threads, and the parameter-free arithmetic's small operations, Python between them and
OpenCV calls gain less. Two 1-thread conversions side by side each ran as fast as one alone. So the engine runs
the network's independent pieces (key frames through FSM and RM, TPSRM's groups of profiles, the fusion's key
frames of one pass, midpoints, motion searches) two at a time on a Team, each on one thread: every piece computes
the same numbers as on the engine's own thread (one piece's operations do not depend on the thread count, which
the Ray engine's one-thread workers rely on), so only the time changes.

The models call `each(fn, items)` where pieces are independent; it is a plain loop unless the engine installed a
team on the calling thread (`installed`). Threads the team runs on install nothing, so pieces do not nest.
"""

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager

import torch

from .stage_clock import current, paused, timed, weighted

_local = threading.local()


class Team:
    """`size` worker threads with `threads` torch threads each; map() runs pieces on them, in order of results."""

    def __init__(self, size: int, threads: int):
        if size < 2 or threads < 1:
            raise ValueError(f"a team has 2 or more workers of 1 or more threads, got {size} of {threads}")
        self.size, self.threads = size, threads
        own = torch.get_num_threads()
        started = threading.Barrier(size + 1)
        self._pool = ThreadPoolExecutor(size, thread_name_prefix="tpstvsr-team")
        for _ in range(size):  # each submit starts a thread while none is idle: the barrier holds them all
            self._pool.submit(self._start, started)
        started.wait()
        # torch.set_num_threads also sets the default that threads started later take: give it back
        torch.set_num_threads(own)

    def _start(self, started: threading.Barrier) -> None:
        torch.set_num_threads(self.threads)
        started.wait()

    def map(self, fn: Callable, items: list) -> list:
        """[fn(item) for item in items] on the workers, each under the caller's grad, inference and CPU autocast
        modes (thread-local in torch) and in the caller's stage of the StageClock; waits for every piece before
        raising the first error."""
        modes = (
            current(),
            torch.is_grad_enabled(),
            torch.is_inference_mode_enabled(),
            torch.is_autocast_enabled("cpu"),
            torch.get_autocast_dtype("cpu"),
        )
        with paused():
            futures = [self._pool.submit(self._run, fn, item, modes) for item in items]
            wait(futures)
        return [f.result() for f in futures]

    def _run(self, fn: Callable, item, modes: tuple):
        stage, grad, inference, cast, dtype = modes
        with (
            weighted(1.0 / self.size),
            timed(stage),
            torch.inference_mode(inference),
            torch.set_grad_enabled(grad),
            torch.autocast("cpu", dtype=dtype, enabled=cast),
        ):
            return fn(item)


_teams: dict[tuple[int, int], Team] = {}
_teams_lock = threading.Lock()


def team_for(device: torch.device) -> Team | None:
    """The process's team for this device and torch's thread count on the calling thread: two workers with half
    the threads each on a CPU with 2 threads or more, else None (GPUs and one-thread runs go piece by piece)."""
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads < 2:
        return None
    key = (2, threads // 2)
    with _teams_lock:
        if key not in _teams:
            _teams[key] = Team(*key)
        return _teams[key]


@contextmanager
def installed(team: Team | None):
    """`each` on this thread spreads its pieces over `team` (None: piece by piece) within the block."""
    before = getattr(_local, "team", None)
    _local.team = team
    try:
        yield
    finally:
        _local.team = before


def workers() -> int:
    """How many pieces `each` runs at once on this thread (1 without a team)."""
    team = getattr(_local, "team", None)
    return team.size if team is not None else 1


def each(fn: Callable, items: Iterable) -> list:
    """[fn(item) for item in items], on the installed team's workers when there is one and more than one item."""
    items = list(items)
    team = getattr(_local, "team", None)
    if team is None or len(items) < 2:
        return [fn(item) for item in items]
    return team.map(fn, items)


def groups(items: list, size: int | None = None) -> list[list]:
    """items in consecutive groups of `size` (default: workers()), for loops that hold each group's results."""
    size = size or workers()
    return [items[i : i + size] for i in range(0, len(items), size)]
