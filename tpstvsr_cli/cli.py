"""The Typer app. Each command module registers its commands; TpstvsrError becomes a one-line error."""

import os
import sys

# Before torch loads OpenMP: spinning worker threads made a conv network 8x slower whenever another
# process shared the cores (measured on 2 cores: 6.2 s vs 0.76 s per training step). The user's own
# setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import typer  # noqa: E402
import typer.core  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402

from .allocator import tune_allocator  # noqa: E402
from .errors import TpstvsrError  # noqa: E402

tune_allocator()  # before any thread starts or tensor is allocated (allocator.py says why)



def _flags_without_a_type() -> None:
    """typer's rich help prints every option's type, flags too (`--quiet <bool>`, `--help <bool>`), which reads
    as if they took a value; its plain help leaves flags bare. Do the same in the rich help."""
    option = getattr(getattr(typer, "core", None), "TyperOption", None)
    shown = getattr(option, "display_type_rich", None)
    if shown is None or getattr(shown, "_tpstvsr", False):
        return  # another typer: leave its help alone

    def display_type_rich(self, ctx):
        return None if getattr(self, "is_flag", False) else shown(self, ctx)

    display_type_rich._tpstvsr = True
    option.display_type_rich = display_type_rich


_flags_without_a_type()

app = typer.Typer(
    help="Space-time video super-resolution: 2x frame rate and 4x resolution with temporal profiles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)



def _print_version(asked: bool) -> None:
    if asked:
        from . import __version__

        typer.echo(f"tpstvsr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", callback=_print_version,
                                 is_eager=True),
) -> None:
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
