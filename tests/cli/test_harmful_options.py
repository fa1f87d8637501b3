"""Options that cannot work well are refused or corrected with a one-line reason (issue 9, defect 5):
half precision on the CPU, a --crf outside the encoder's scale."""

import subprocess
import sys

import pytest
import torch

from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.engine import device as device_module
from tpstvsr_cli.engine.device import resolve_compute
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.probe import probe
from tpstvsr_cli.media.writer import EncoderOptions


def _settings(precision):
    return resolve_compute("cpu", precision)


def test_fp16_on_the_cpu_falls_back_to_fp32_with_a_reason():
    compute = _settings("fp16")
    assert compute.dtype == torch.float32 and compute.precision == "fp32"
    assert "--precision fp16" in compute.note and "using fp32" in compute.note
    assert _settings("fp32").note == "" and _settings("auto").note == ""


def test_bf16_on_the_cpu_only_where_the_cpu_runs_it(monkeypatch):
    monkeypatch.setattr(device_module, "cpu_runs_bf16", lambda: False)
    emulated = _settings("bf16")
    assert emulated.precision == "fp32" and "emulated" in emulated.note
    monkeypatch.setattr(device_module, "cpu_runs_bf16", lambda: True)
    native = _settings("bf16")
    assert native.precision == "bf16" and native.dtype == torch.bfloat16 and native.note == ""


def test_fp16_run_warns_once_and_runs_in_fp32(tmp_path, clips, tiny_weights):
    cmd = [
        sys.executable,
        "-m",
        "tpstvsr_cli",
        "upscale",
        str(clips / "testsrc.mp4"),
        str(tmp_path / "o.mp4"),
        "--weights",
        str(tiny_weights),
        "--device",
        "cpu",
        "--precision",
        "fp16",
        "--preset",
        "ultrafast",
        "-q",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "--precision fp16" in warnings[0] and "using fp32" in warnings[0]
    assert probe(tmp_path / "o.mp4").width == 256


@pytest.mark.parametrize(
    "name,crf,message",
    [
        ("o.mp4", 99, "--crf 99 is outside libx264's range 0..51"),
        ("o.mp4", 52, "--crf 52 is outside libx264's range 0..51"),
        ("o.webm", 64, "--crf 64 is outside libvpx-vp9's range 0..63"),
    ],
)
def test_crf_outside_the_encoders_scale_is_refused(tmp_path, clips, tiny_weights, name, crf, message):
    with pytest.raises(TpstvsrError, match=message.replace(".", r"\.").replace("-", r"\-")):
        upscale(
            clips / "testsrc.mp4",
            tmp_path / name,
            weights=tiny_weights,
            device="cpu",
            quiet=True,
            encoder=EncoderOptions(crf=crf),
        )
    assert list(tmp_path.iterdir()) == []


def test_crf_inside_the_scale_of_another_encoder_is_fine(tmp_path, clips, tiny_weights):
    out = tmp_path / "o.webm"  # 60 is past x264's 51 but inside VP9's 63
    upscale(clips / "testsrc.mp4", out, weights=tiny_weights, device="cpu", quiet=True, encoder=EncoderOptions(crf=60))
    assert probe(out).codec == "vp9"
