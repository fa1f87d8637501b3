"""The command line: the Typer app (app.py), one module per command, the options they share (options.py), and
the process-wide settings applied first in main() (process.py)."""

from .main import main


def __getattr__(name: str):
    if name == "app":  # the app with every command registered (imports torch: after main()'s settings)
        from .root import registered_app

        return registered_app()
    raise AttributeError(name)


__all__ = ["app", "main"]
