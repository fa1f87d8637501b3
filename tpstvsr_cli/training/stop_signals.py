"""Ctrl-C and SIGTERM end training at the next step boundary, with a checkpoint, instead of losing work."""

import signal
import threading


class StopSignals:
    """Within the `with` block SIGINT/SIGTERM set `received` (the signal's name); a second one aborts."""

    def __init__(self):
        self.received: str | None = None
        self._old = {}

    def _handle(self, signum, frame):
        if self.received:  # asked twice: stop now
            raise KeyboardInterrupt
        self.received = signal.Signals(signum).name

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
