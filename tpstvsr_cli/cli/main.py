"""`tpstvsr`: process-wide settings first, then the app; TpstvsrError becomes a one-line error (exit 2)."""

import os
import sys

from .process import apply_process_settings


def main() -> None:
    apply_process_settings()  # before torch loads OpenMP and before any thread or tensor exists
    from rich.console import Console
    from rich.markup import escape

    from ..errors import TpstvsrError
    from .root import registered_app

    err = Console(stderr=True)
    try:
        registered_app()(standalone_mode=True)
    except TpstvsrError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)  # ffmpeg says "[error]"
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        _exit_now(130)
    except SystemExit as exc:
        if exc.code == 130:  # a command was interrupted and has said what it kept
            _exit_now(130)
        raise


def _exit_now(code: int) -> None:
    """Exit without the interpreter's shutdown: after an interrupt, pipeline threads may still be inside torch or
    an ffmpeg pipe, and tearing them down at shutdown aborted the process in C++ ("terminate called without an
    active exception", exit 134) after its message was printed. Everything worth keeping is on disk by now."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
