"""Process-wide settings the CLI applies first thing in main(): OpenMP's wait policy and glibc's malloc options.

Measurements behind them: docs/converter.md ("Process settings"). Skipped where glibc is not the C library; a
setting the user made (OMP_WAIT_POLICY, GLIBC_TUNABLES) is left as they set it.
"""

import ctypes
import ctypes.util
import os
import resource
import sys
import threading

# mallopt parameter (glibc's malloc.h), its GLIBC_TUNABLES name, and our value
SETTINGS = (
    (-8, "glibc.malloc.arena_max", 1),
    (-4, "glibc.malloc.mmap_max", 0),
    (-1, "glibc.malloc.trim_threshold", 2**31 - 1),
)
# Under an address-space limit: glibc's usual mmap count and a 32 MiB trim threshold, set explicitly because a
# set value also turns off glibc's dynamic mmap threshold (which moved freed large blocks onto the heap, kept).
SETTINGS_UNDER_LIMIT = (
    (-8, "glibc.malloc.arena_max", 1),
    (-4, "glibc.malloc.mmap_max", 65536),
    (-1, "glibc.malloc.trim_threshold", 32 << 20),
)
THREAD_STACK = 2 << 20  # bytes of stack per thread under an address-space limit (the default is 8 MiB)


def apply_process_settings() -> list[str]:
    """Passive OpenMP threads (before torch loads OpenMP) and the malloc options; returns the malloc settings made.

    OpenBLAS (loaded with OpenCV and NumPy; no work of ours runs on it) reserves a buffer per thread it may use:
    one thread saved 180 MiB of address space, which a 1.3 GB `ulimit -v` needs for the network (issue 20)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if address_space_limited():
        small_thread_stacks()
    return tune_allocator()


def small_thread_stacks() -> None:
    """Threads reserve RLIMIT_STACK (8 MiB) of address space each; ours (pipes, progress, DIS) and OpenMP's need
    far less, and under `ulimit -v` the seven of a conversion took 56 MiB of what windows could use (issue 20)."""
    os.environ.setdefault("OMP_STACKSIZE", f"{THREAD_STACK >> 20}M")  # read when OpenMP starts its threads
    threading.stack_size(THREAD_STACK)


def tune_allocator() -> list[str]:
    """One arena, no mmap'd blocks, no trimming below 2 GiB; returns the settings applied, as name=value.

    Under an address-space limit (ulimit -v: containers, Slurm, Ray workers) memory kept after free() counts against
    the limit and left no room for oneDNN's own mappings, so large blocks are mmap'd and the heap trimmed there
    (SETTINGS_UNDER_LIMIT; docs/converter.md). TPSTVSR_NO_MALLOPT=1 turns this off."""
    if not sys.platform.startswith("linux") or os.environ.get("TPSTVSR_NO_MALLOPT"):
        return []
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return []
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    theirs = os.environ.get("GLIBC_TUNABLES", "")
    settings = SETTINGS_UNDER_LIMIT if address_space_limited() else SETTINGS
    return [f"{name}={value}" for param, name, value in settings if name not in theirs and mallopt(param, value) == 1]


def address_space_limited() -> bool:
    """Whether this process runs under a finite address-space limit (RLIMIT_AS)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return soft != resource.RLIM_INFINITY
