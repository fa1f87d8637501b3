"""The Typer app and its root options; each command module registers its command on it (registered_app)."""

import typer
import typer.core

COMMAND_MODULES = ("upscale", "preview", "batch", "bench", "evaluate", "train")


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
        from .. import __version__

        typer.echo(f"tpstvsr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
    ),
) -> None:
    """Space-time video super-resolution: 2x frame rate and 4x resolution with temporal profiles."""


def registered_app() -> typer.Typer:
    """The app with every command registered (each command module registers itself when imported)."""
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}")
    return app
