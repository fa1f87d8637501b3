"""The one exception type the CLI turns into a clean one-line error and a non-zero exit."""


class TpstvsrError(Exception):
    """A problem the user can act on (bad input, missing file, ffmpeg failure).

    The message is shown as-is on one line; no traceback is printed.
    """
