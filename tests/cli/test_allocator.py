"""The CLI's malloc settings: applied on glibc, and a user's own GLIBC_TUNABLES setting left alone."""

import subprocess
import sys

import pytest

CHECK = "from tpstvsr_cli.cli.process import tune_allocator; print(','.join(tune_allocator()))"


def run(env_extra: dict, limit: int | None = None, check: str = CHECK) -> str:
    import os
    import resource

    env = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", "TPSTVSR_NO_MALLOPT")}
    env.update(env_extra)

    def set_limit():
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))

    return subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True, preexec_fn=set_limit
    ).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_all_three_settings_apply_by_default():
    assert run({}).split(",") == [
        "glibc.malloc.arena_max=1",
        "glibc.malloc.mmap_max=0",
        "glibc.malloc.trim_threshold=2147483647",
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_the_users_tunables_win_and_the_switch_turns_it_off():
    got = run({"GLIBC_TUNABLES": "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"})
    assert got == "glibc.malloc.arena_max=1"
    assert run({"TPSTVSR_NO_MALLOPT": "1"}) == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_under_an_address_space_limit_large_blocks_are_mapped_and_the_heap_trimmed():
    """Memory kept after free() counts against ulimit -v: no mmap_max=0, no 2 GiB trim threshold there."""
    assert run({}, limit=8 << 30).split(",") == [
        "glibc.malloc.arena_max=1",
        "glibc.malloc.mmap_max=65536",
        "glibc.malloc.trim_threshold=33554432",
    ]


STACKS = (
    "import os, threading; os.environ.pop('OMP_STACKSIZE', None); "
    "from tpstvsr_cli.cli.process import apply_process_settings; apply_process_settings(); "
    "print(threading.stack_size(), os.environ.get('OMP_STACKSIZE'))"
)


def test_threads_reserve_small_stacks_under_an_address_space_limit_only():
    """Each thread reserves its stack's address space: 8 MiB by default, 2 MiB under ulimit -v (issue 20)."""
    assert run({}, limit=8 << 30, check=STACKS).split() == [str(2 << 20), "2M"]
    assert run({}, check=STACKS).split() == ["0", "None"]  # unlimited: the defaults
