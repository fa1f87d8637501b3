"""`tpstvsr train` refuses sampling options out of range with a one-line error, before it writes anything."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("option", "value"), [("--detail-power", "-1"), ("--detail-power", "5"), ("--crop-tries", "0")]
)
def test_out_of_range_sampling_options_are_refused(tmp_path, option, value):
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "tpstvsr_cli", "train", str(tmp_path), "--run-dir", str(run_dir), option, value]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and "Traceback" not in proc.stderr
    assert not run_dir.exists()
