"""Training progress: a rich bar with loss and speed, plus plain log lines for background runs."""

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class TrainProgress:
    def __init__(self, console: Console, enabled: bool = True):
        self.console = console
        self.enabled = enabled
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.4f}  lr {task.fields[lr]:.1e}  {task.fields[speed]:.2f} step/s"),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
        )
        self.task = None
        self._t0 = time.monotonic()
        self._n = 0
        self._ema = None

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def start_stage(self, name: str, done: int, total: int) -> None:
        if self.task is not None:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(name, total=total, completed=done, loss=0.0, lr=0.0, speed=0.0)
        self._t0, self._n = time.monotonic(), 0

    def advance(self, terms: dict, lr: float) -> None:
        loss = sum(terms.values()) if len(terms) == 1 else terms.get("l1", 0.0)
        self._ema = loss if self._ema is None else 0.98 * self._ema + 0.02 * loss
        self._n += 1
        speed = self._n / max(time.monotonic() - self._t0, 1e-6)
        self.bar.update(self.task, advance=1, loss=self._ema, lr=lr, speed=speed)

    def log_line(self, step: int, terms: dict) -> None:
        if not self.console.is_terminal:
            speed = self._n / max(time.monotonic() - self._t0, 1e-6)
            parts = " ".join(f"{k} {v:.4f}" for k, v in terms.items())
            self.console.log(f"step {step}: {parts} (ema l1 {self._ema:.4f}, {speed:.2f} step/s)")
