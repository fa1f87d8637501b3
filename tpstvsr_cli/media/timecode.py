"""Times on the command line: seconds (`12.5`) or `[[HH:]MM:]SS[.ms]` (`1:02:03.5`), read once, before any work."""

import math
import re

from ..errors import TpstvsrError

_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)$")


def parse_time(text: str | float | None, flag: str) -> float | None:
    """Seconds from `12.5`, `02:03.5` or `1:02:03.5`; None stays None. A one-line error names `flag`."""
    if text is None or isinstance(text, int | float):
        return None if text is None else _finite(float(text), flag, str(text))
    raw = text.strip()
    clock = _CLOCK.match(raw)
    if clock:
        hours, minutes, seconds = clock.groups()
        if int(minutes) >= 60 and hours is not None or float(seconds) >= 60:
            raise TpstvsrError(f"{flag} {text}: minutes and seconds of HH:MM:SS must be under 60")
        return _finite(int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), flag, text)
    try:
        return _finite(float(raw), flag, text)
    except ValueError:
        raise TpstvsrError(f"{flag} {text}: expected seconds (12.5) or HH:MM:SS[.ms] (0:01:02.5)") from None


def _finite(value: float, flag: str, text: str) -> float:
    if not math.isfinite(value):
        raise TpstvsrError(f"{flag} {text}: expected a finite time")
    return value


def clock(seconds: float) -> str:
    """12.5 -> '0:00:12.500' (for messages)."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{seconds - whole + whole % 60:06.3f}"
