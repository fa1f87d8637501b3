"""The Typer app. Each command module registers its commands; TpstvsrError becomes a one-line error."""

import os
import sys

# Before torch loads OpenMP: spinning worker threads made a conv network 8x slower whenever another
# process shared the cores (measured on 2 cores: 6.2 s vs 0.76 s per training step). The user's own
# setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402

from .allocator import tune_allocator  # noqa: E402
from .errors import TpstvsrError  # noqa: E402

tune_allocator()  # before any thread starts or tensor is allocated (allocator.py says why)

app = typer.Typer(
    help="Space-time video super-resolution: 2x frame rate and 4x resolution with temporal profiles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)



@app.callback()
def _root() -> None:
    """Space-time video super-resolution: 2x frame rate and 4x resolution with temporal profiles."""


# Registering happens on import of each command module.
for _optional in ("train", "evaluate", "convert"):
    try:
        __import__(f"{__package__}.commands.{_optional}")
    except ModuleNotFoundError as exc:  # a command module not written yet
        if exc.name != f"{__package__}.commands.{_optional}":
            raise


def main() -> None:
    err = Console(stderr=True)
    try:
        app(standalone_mode=True)
    except TpstvsrError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)  # ffmpeg says "[error]"
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        sys.exit(130)
