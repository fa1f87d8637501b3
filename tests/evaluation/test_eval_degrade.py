"""`tpstvsr eval --degrade`: every method gets the same degraded input; the spec is checked before any work."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from eval_synthetic import run_cli

from tpstvsr_cli.evaluation import evaluate as evaluate_module
from tpstvsr_cli.evaluation.evaluate import BICUBIC, FFMPEG, MODEL, evaluate
from tpstvsr_cli.evaluation.protocol import downscale_input
from tpstvsr_cli.evaluation.sequences import load_sequence
from tpstvsr_cli.media.degrade import degrade_frames, parse_degrade
from tpstvsr_cli.media.probe import ffmpeg_exe


@pytest.fixture
def lavfi_video(tmp_path: Path) -> Path:
    """9 frames of ffmpeg's moving test picture at 128x96, lossless (FFV1), as a ground-truth video."""
    path = tmp_path / "testsrc2.mkv"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25",
                    "-frames:v", "9", "-c:v", "ffv1", "-pix_fmt", "bgr0", str(path)], check=True)  # fmt: skip
    return path


def test_every_method_sees_the_same_degraded_input(lavfi_video, monkeypatch):
    spec = parse_degrade("x264:crf=35:fps=12,noise:sigma=3")
    expected = degrade_frames(downscale_input(load_sequence(lavfi_video).truth), spec).frames
    seen: dict[str, np.ndarray] = {}

    def spy(name, fn):
        def wrapped(model_or_inputs, *args, **kwargs):
            inputs = args[0] if name == MODEL else model_or_inputs
            seen[name] = np.array(inputs)
            return fn(model_or_inputs, *args, **kwargs)

        return wrapped

    monkeypatch.setattr(evaluate_module, "upscale_frames", spy(MODEL, evaluate_module.upscale_frames))
    monkeypatch.setattr(evaluate_module, "bicubic_blend", spy(BICUBIC, evaluate_module.bicubic_blend))
    monkeypatch.setattr(evaluate_module, "lanczos_minterpolate", spy(FFMPEG, evaluate_module.lanczos_minterpolate))
    result = evaluate([lavfi_video], preset="tiny", device="cpu", degrade=spec)
    assert set(seen) == {MODEL, BICUBIC, FFMPEG}
    for name, inputs in seen.items():
        assert np.array_equal(inputs, expected), name  # the warm-up pass runs first; the scored pass is the last
    (seq,) = result.sequences
    assert seq.input_bits_per_pixel is not None and seq.input_bits_per_pixel > 0
    assert result.settings["degrade"] == "x264:crf=35:fps=12,noise:sigma=3"


def test_degraded_input_scores_lower_than_clean(lavfi_video):
    clean = evaluate([lavfi_video], preset="tiny", device="cpu", use_ffmpeg=False)
    worse = evaluate([lavfi_video], preset="tiny", device="cpu", use_ffmpeg=False, degrade=parse_degrade("x264:crf=45"))
    assert worse.overall[BICUBIC].psnr < clean.overall[BICUBIC].psnr - 1
    assert clean.sequences[0].input_bits_per_pixel is None and clean.settings["degrade"] is None


def test_cli_degrade_json_and_table(lavfi_video, monkeypatch, capsys):
    args = (str(lavfi_video), "--preset", "tiny", "--no-ffmpeg", "--device", "cpu", "--degrade", "x264:crf=30:fps=12")
    code, out, err = run_cli(monkeypatch, capsys, *args, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["settings"]["degrade"] == "x264:crf=30:fps=12"
    assert data["sequences"][0]["input_bits_per_pixel"] > 0 and data["overall_gain_over_bicubic"] is not None
    assert "degraded x264:crf=30:fps=12" in err
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0, err
    assert "input degraded: x264:crf=30:fps=12" in " ".join(out.split())


def test_cli_bad_spec_is_refused_before_any_work(lavfi_video, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, str(lavfi_video), "--preset", "tiny", "--degrade", "x264:crf=99")
    assert code == 2 and out == ""
    assert err.startswith("error: --degrade") and "crf must be 0..51" in err and len(err.strip().splitlines()) == 1
