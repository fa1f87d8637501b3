"""Conversion progress that tells the truth: frames done, rate and time left over the whole run.

The network hands over a window of frames at a time (16 output frames every 30 s or so on a CPU), and the
encoder takes them one by one, so the frames arrive in bursts. Counted frame by frame, the time left read
hours at the first frame of a burst, too little at its end and grew while the next window ran (issue 20: after a
resume the first estimate was 4:18 against 1:17 real). So the rate is sampled only when a whole window's
frames are in (`window` frames of this run; a resume's are not counted), and between samples the time left
counts down; once the next window is later than the run's average, it grows instead (time_left). Where the
plan says so (`costs`), work is counted in network passes rather than frames: a segment after the first has
context frames before it and needs one pass more for the same outputs, which frame counting missed.
Before the first frames a line says what is happening (reading the source, trying the output settings,
loading the network, the first window).
On a terminal: a live display refreshed 4 times a second. Otherwise (a log, a pipe): a plain line per task
every `interval` seconds, on every change of phase, and when a task ends.
"""

import bisect
import itertools
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


def time_left(work_left: float, work_done: float, busy: float, idle: float, window: float) -> float:
    """Seconds left, from the last sample: `work_done` units of this run took `busy` seconds up to the moment the
    last whole window was in, `work_left` units remain, and `idle` seconds have passed since, during which the
    network works on the next window (`window` units, handed over at once).

    While the next window is due (idle below the run's average window) the time left counts down from
    work_left * busy / work_done. Once it is late, the window is taken as ending now: the rate this would give,
    (work_done + window) / (busy + idle), applied to the rest. Both meet when the window is exactly on time, so
    the estimate never jumps at a window that keeps the run's pace, and never falls below the run's rate."""
    due = work_left * busy / work_done - idle
    late = max(work_left - window, 0.0) * (busy + idle) / (work_done + window)
    return max(due, late, 0.0)


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
    pass_ends: tuple[int, ...] | None = None  # frames of this run at which each network pass is in (plan.pass_ends)
    pass_work: tuple[int, ...] = ()  # the work (input frames seen) of the passes up to each: 0, then sums
    sample: tuple[int, float] | None = None  # at the last whole pass: (frames of this run, seconds since run_start)

    def set_passes(self, passes: list[tuple[int, int]] | None) -> None:
        """plan.pass_ends of this run's segments: (frames handed over once done, work); None: count frames."""
        self.pass_ends = None if passes is None else tuple(end for end, _ in passes)
        self.pass_work = (0, *itertools.accumulate(work for _, work in passes)) if passes is not None else ()

    def units(self, frames: int) -> tuple[float, float, float]:
        """(done, left, next) work at `frames` of this run, `next` being the pass that comes next: input frames
        the network sees where the passes are known, else frames (all done frames at once: 1)."""
        if self.pass_ends is None:
            return float(frames), float(max((self.total or 0) - self.run_from - frames, 0)), 1.0
        passes = bisect.bisect_right(self.pass_ends, frames)
        work = self.pass_work
        upcoming = work[passes + 1] - work[passes] if passes + 1 < len(work) else 0
        return float(work[passes]), float(work[-1] - work[passes]), float(upcoming)

    def advance(self, n: int, now: float) -> None:
        """n more frames; a sample of the rate once they complete a pass (every time where passes are unknown)."""
        before = self.completed - self.run_from
        self.completed += n
        done = self.completed - self.run_from
        if self.run_start is None or done <= 0:
            return
        finished = self.total is not None and self.completed >= self.total
        if finished or self.units(done)[0] > self.units(before)[0]:
            self.sample = (done, now - self.run_start)

    def rate(self, now: float) -> float | None:
        """Frames of this run per second up to the last whole pass; None before the first."""
        if self.sample is None or self.sample[1] <= 0:
            return None
        return self.sample[0] / self.sample[1]

    def time_left(self, now: float) -> float | None:
        if self.rate(now) is None or self.total is None:
            return None
        frames, busy = self.sample
        done, left, upcoming = self.units(frames)
        return time_left(left, done, busy, now - self.run_start - busy, upcoming)

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

    def start_run(self, task_id: int, passes: list[tuple[int, int]] | None = None) -> None:
        """The clock of the rate starts now, from the frames done so far (a resume's are not this run's).
        `passes`: plan.pass_ends of this run's segments, so that the time left counts network passes."""
        with self._lock:
            task = self.tasks[task_id]
            task.run_start, task.run_from, task.sample = self.clock(), task.completed, None
            task.set_passes(passes)

    def advance(self, task_id: int, n: int = 1) -> None:
        with self._lock:
            task = self.tasks[task_id]
            task.advance(n, self.clock())
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
