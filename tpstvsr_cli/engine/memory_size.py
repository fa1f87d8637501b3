"""`--max-memory SIZE`: a memory size as people write it (4G, 512M, 1.5GiB), read once into bytes."""

import re

from ..errors import TpstvsrError

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}  # binary, as `free -h` and ulimit count
MIN_MEMORY = 64 << 20  # less than the network's weights and one small window: surely a missing unit ("4" for 4G)


def parse_size(text: str, option: str = "--max-memory") -> int:
    """Bytes in `text`: a number with an optional unit K, M, G or T (powers of 1024; KB/KiB and so on too)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?\s*", str(text), re.IGNORECASE)
    if not match:
        raise TpstvsrError(f"{option} expects a size such as 4G or 512M, got {text!r}")
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    return check_max_memory(size, option, shown=str(text).strip())


def check_max_memory(size: int | None, option: str = "--max-memory", shown: str | None = None) -> int | None:
    """The cap in bytes, refused when it is too small to run anything (None: no cap)."""
    if size is None:
        return None
    if size < MIN_MEMORY:
        raise TpstvsrError(
            f"{option} {shown or size} is {size} bytes, below the {MIN_MEMORY >> 20}M the network needs "
            "at the least; give a unit, e.g. 4G or 512M"
        )
    return int(size)
