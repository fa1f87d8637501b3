"""`tpstvsr`: process-wide settings first, then the app; TpstvsrError becomes a one-line error (exit 2)."""

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
        sys.exit(130)
