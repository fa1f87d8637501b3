"""glibc malloc settings for big tensors, applied when the CLI starts (mallopt, so nobody has to set GLIBC_TUNABLES).

Measured on 2 cores (default network, 720x440 input tiles, 5.4 s per output frame on the main thread):
- the converter runs the network on a worker thread, and glibc gives worker threads their own arenas, which it
  shrinks and re-grows around every large tensor: 10.4 s per frame there, 5.6 s with one arena (arena_max 1);
- on any thread, large blocks are mmap'd and unmapped on each call and the heap top is trimmed back to the
  OS: page faults that nearly doubled CPU inference time (mmap_max 0, a high trim threshold).
Skipped where glibc is not the C library; a setting the user made in GLIBC_TUNABLES is left as they set it.
"""

import ctypes
import ctypes.util
import os
import sys

# mallopt parameter (glibc's malloc.h), its GLIBC_TUNABLES name, and our value
SETTINGS = ((-8, "glibc.malloc.arena_max", 1), (-4, "glibc.malloc.mmap_max", 0), (-1, "glibc.malloc.trim_threshold", 2**31 - 1))


def tune_allocator() -> list[str]:
    """One arena, no mmap'd blocks, no trimming below 2 GiB; returns the names of the settings applied.

    TPSTVSR_NO_MALLOPT=1 turns this off."""
    if not sys.platform.startswith("linux") or os.environ.get("TPSTVSR_NO_MALLOPT"):
        return []
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return []
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    theirs = os.environ.get("GLIBC_TUNABLES", "")
    return [name for param, name, value in SETTINGS if name not in theirs and mallopt(param, value) == 1]
