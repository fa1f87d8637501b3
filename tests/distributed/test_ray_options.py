"""`batch --engine ray`'s options, refused before Ray is started (these tests need no Ray)."""

import subprocess
import sys

import pytest

from tpstvsr_cli.distributed.ray_engine import ray_batch
from tpstvsr_cli.errors import TpstvsrError


def test_relative_paths_are_refused_on_a_cluster(tmp_path, monkeypatch, clip_maker):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    clip_maker(tmp_path / "in" / "a.mp4", size="32x24", frames=2, audio=False)
    with pytest.raises(TpstvsrError, match="IN_DIR must be an absolute path on storage every worker sees"):
        ray_batch("in", tmp_path / "out", address="10.0.0.1:6379", quiet=True)
    with pytest.raises(TpstvsrError, match="OUT_DIR must be an absolute path"):
        ray_batch(tmp_path / "in", "out", address="10.0.0.1:6379", quiet=True)
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")  # Ray's own way to name the cluster counts too
    with pytest.raises(TpstvsrError, match="--weights must be an absolute path"):
        ray_batch(tmp_path / "in", tmp_path / "out", weights="w.safetensors", quiet=True)
    with pytest.raises(TpstvsrError, match="--workers must be 1 or more"):
        ray_batch(tmp_path / "in", tmp_path / "out", workers=0, quiet=True)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--address", "10.0.0.1:6379"], "--address and --workers need --engine ray"),
        (["--workers", "2"], "--address and --workers need --engine ray"),
        (["--engine", "spark"], "--engine must be local or ray"),
    ],
)
def test_engine_flags_are_checked(tmp_path, flags, message):
    proc = subprocess.run(
        [sys.executable, "-m", "tpstvsr_cli", "batch", str(tmp_path), str(tmp_path / "out"), *flags],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
