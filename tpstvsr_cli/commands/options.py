"""Options shared by several commands, so that each means the same everywhere."""

from typing import Annotated, Optional

import typer

MaxMemory = Annotated[Optional[str], typer.Option(
    "--max-memory", metavar="SIZE", show_default=False,
    help="Most memory the network may plan with, e.g. 4G or 512M (powers of 1024); never more than the free memory, "
         "cgroup and ulimit limits allow. Default: those alone.")]


def memory_cap(text: str | None) -> int | None:
    """--max-memory as bytes (None: no cap), read once, before any work (sizes.parse_size)."""
    from ..sizes import parse_size

    return None if text is None else parse_size(text)
