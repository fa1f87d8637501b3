"""Conversion progress that tells the truth: frames done, rate and time left over the whole run.

The network hands over a window of frames at a time (16 output frames every 30 s or so on a CPU), so a
speed sampled over the last few updates, as rich's own columns do, read 118 fps in a burst and nothing in
between. Here the rate is the frames finished in this run over the time since the run started (the first
window's wait included, so it is never optimistic) and the time left follows from it; both are recomputed
on every refresh, so they move while the network works on a window. Before the first frames a line says
what is happening (reading the source, trying the output settings, loading the network, the first window).
On a terminal: a live display refreshed 4 times a second. Otherwise (a log, a pipe): a plain line per task
every `interval` seconds, on every change of phase, and when a task ends.
"""

import threading
import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

PLAIN_INTERVAL = 10.0  # seconds between plain lines: enough to see it is alive, not so many that logs flood


def clock_text(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@dataclass
class TaskState:
    name: str
    total: int | None = None
    completed: int = 0
    unit: str = "frames"
    rate_unit: str | None = "fps"  # None: no rate or time left (batch's count of files of unequal length)
    phase: str = ""  # what happens now, shown until the first frames of the run arrive
    created: float = field(default_factory=time.monotonic)
    run_start: float | None = None  # when the frames of this run started to be worked on
    run_from: int = 0  # frames already done then (a resume's finished segments): not counted in the rate

    def rate(self, now: float) -> float | None:
        """Frames finished in this run per second since it started; None before the first."""
        done = self.completed - self.run_from
        if self.run_start is None or done <= 0 or now <= self.run_start:
            return None
        return done / (now - self.run_start)

    def time_left(self, now: float) -> float | None:
        rate = self.rate(now)
        if rate is None or self.total is None:
            return None
        return max(self.total - self.completed, 0) / rate

    def counts(self) -> str:
        return f"{self.completed}/{self.total if self.total is not None else '?'} {self.unit}"

    def status(self, now: float) -> str:
        """'0.52 fps, 0:01:23 elapsed, about 0:03:16 left' (rate and time left once frames are done), then
        the phase, if any."""
        rate = self.rate(now) if self.rate_unit is not None else None
        parts = (
            [] if rate is None else [f"{rate:.2f} {self.rate_unit}" if rate < 10 else f"{rate:.1f} {self.rate_unit}"]
        )
        parts.append(f"{clock_text(now - self.created)} elapsed")
        if rate is not None and self.total is not None and self.completed < self.total:
            parts.append(f"about {clock_text(self.time_left(now))} left")
        text = ", ".join(parts)
        return f"{text}; {self.phase}" if self.phase else text

    def line(self, now: float) -> str:
        if self.run_start is None and self.total is None and self.phase:  # before the work: only what happens
            return f"{self.name}: {self.phase} ({clock_text(now - self.created)} elapsed)"
        percent = f" ({100 * self.completed / self.total:.0f}%)" if self.total else ""
        return f"{self.name}: {self.counts()}{percent}, {self.status(now)}"


class ConversionProgress:
    """add_task / update / start_run / advance / remove_task, shown live on a terminal or as plain lines."""

    def __init__(
        self,
        quiet: bool = False,
        console: Console | None = None,
        interval: float = PLAIN_INTERVAL,
        clock=time.monotonic,
    ):
        self.console = console or Console(stderr=True)
        self.quiet, self.interval, self.clock = quiet, interval, clock
        self.live = not quiet and self.console.is_terminal
        self.tasks: dict[int, TaskState] = {}
        self._next_id, self._lock, self._stop = 0, threading.RLock(), threading.Event()
        self._display: Live | None = None
        self._printer: threading.Thread | None = None

    def __enter__(self) -> "ConversionProgress":
        if self.live:
            self._display = Live(self, console=self.console, refresh_per_second=4, transient=False)
            self._display.__enter__()
        elif not self.quiet:
            self._printer = threading.Thread(target=self._print_periodically, daemon=True)
            self._printer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._printer is not None:
            self._printer.join(timeout=5)
        for task_id in list(self.tasks):
            self.remove_task(task_id)
        if self._display is not None:
            self._display.__exit__(*exc)

    def add_task(
        self,
        name: str,
        total: int | None = None,
        completed: int = 0,
        unit: str = "frames",
        rate_unit: str | None = "fps",
        phase: str = "",
    ) -> int:
        with self._lock:
            task_id, self._next_id = self._next_id, self._next_id + 1
            self.tasks[task_id] = TaskState(name, total, completed, unit, rate_unit, phase, created=self.clock())
        if phase:
            self._print(task_id)
        return task_id

    def update(self, task_id: int, **changes) -> None:
        """Set total, completed or phase; a new phase is printed at once."""
        with self._lock:
            task = self.tasks[task_id]
            new_phase = "phase" in changes and changes["phase"] != task.phase
            for key, value in changes.items():
                setattr(task, key, value)
        if new_phase and changes["phase"]:
            self._print(task_id)

    def start_run(self, task_id: int) -> None:
        """The clock of the rate starts now, from the frames done so far (a resume's are not this run's)."""
        with self._lock:
            task = self.tasks[task_id]
            task.run_start, task.run_from = self.clock(), task.completed

    def advance(self, task_id: int, n: int = 1) -> None:
        with self._lock:
            task = self.tasks[task_id]
            task.completed += n
            if task.phase and task.run_start is not None:
                task.phase = ""  # frames are flowing: the rate and time left say the rest

    def remove_task(self, task_id: int) -> None:
        """The last word on a task (count, rate, time) once its frames were worked on; one that ended before
        (an error in the input or the settings) just goes: its error says the rest."""
        task = self.tasks.get(task_id)
        if task is not None and task.run_start is not None:
            self._print(task_id)
        with self._lock:
            self.tasks.pop(task_id, None)

    def _print(self, task_id: int) -> None:
        if self.quiet or self.live:
            return
        with self._lock:
            task = self.tasks.get(task_id)
            line = task.line(self.clock()) if task is not None else None
        if line:
            self.console.print(line, highlight=False, markup=False, soft_wrap=True)

    def _print_periodically(self) -> None:
        while not self._stop.wait(self.interval):
            for task_id in list(self.tasks):
                self._print(task_id)

    def __rich__(self) -> Table:
        """The live display, rebuilt on every refresh so elapsed, rate and time left keep moving."""
        now = self.clock()
        grid = Table.grid(padding=(0, 1))
        with self._lock:
            for task in self.tasks.values():
                bar = ProgressBar(total=task.total, completed=task.completed, width=30)
                grid.add_row(
                    Text(task.name, overflow="ellipsis", no_wrap=True),
                    bar,
                    Text(task.counts()),
                    Text(task.status(now), style="cyan"),
                )
        return grid


def progress_bar(quiet: bool = False) -> ConversionProgress:
    return ConversionProgress(quiet=quiet)
