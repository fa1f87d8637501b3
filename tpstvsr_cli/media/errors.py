"""The messages for failed writes, said the same way wherever the media layer writes (a full disk above all)."""

import errno
from pathlib import Path

from ..errors import TpstvsrError


def disk_full_message(doing: str) -> str:
    return f"the disk is full (no space left on device) {doing}; free some space and run again with --resume"


def disk_error(exc: OSError, where: Path) -> TpstvsrError:
    """An OSError while writing, as a message naming the cause (a full disk above all)."""
    if exc.errno == errno.ENOSPC:
        return TpstvsrError(disk_full_message(f"writing {where}"))
    return TpstvsrError(f"cannot write {where}: {exc.strerror or exc}")
