"""Runs test_ray_engine.py in a network namespace of its own (`unshare -n`, loopback up), so that the Ray
clusters it starts bind nothing but 127.0.0.1; plain `python -m pytest` (the README's and CI's command) runs
the Ray tests this way."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")

HERE = Path(__file__).resolve().parent


def _in_own_namespace() -> bool:
    try:
        lines = Path("/proc/net/dev").read_text().splitlines()[2:]  # this network namespace's devices
    except OSError:
        return False
    return {line.split(":")[0].strip() for line in lines} <= {"lo"}


def _unshare() -> list[str] | None:
    """`unshare -n` (root) or `unshare -rn` (a user namespace), whichever works here."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return None
    for cmd in (["unshare", "-n"], ["unshare", "-rn"]):
        if subprocess.run([*cmd, "true"], capture_output=True).returncode == 0:
            return cmd
    return None


@pytest.mark.skipif(_in_own_namespace(), reason="already in a namespace of its own: test_ray_engine.py runs here")
def test_ray_engine_in_its_own_network_namespace():
    unshare = _unshare()
    if unshare is None:
        pytest.skip("unshare -n is not available: run tests/distributed/test_ray_engine.py in a network namespace")
    # --show-capture=no: a failure's report is its traceback, not the Ray logs its test captured
    flags = "-q -p no:cacheprovider -rsfE --tb=short --show-capture=no"
    inner = f"ip link set lo up && exec {sys.executable} -m pytest {flags} {HERE / 'test_ray_engine.py'}"
    proc = subprocess.run([*unshare, "sh", "-c", inner], capture_output=True, text=True, cwd=HERE.parents[1])
    tail = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, tail
    assert " passed" in proc.stdout and "skipped" not in proc.stdout.splitlines()[-1], tail
    print(proc.stdout.splitlines()[-1])
