"""evaluate() and the `tpstvsr eval` command on tiny generated sequences (no shared data needed)."""

import json

import numpy as np
import pytest
from eval_synthetic import moving_texture, run_cli, write_folder

from tpstvsr_cli.evaluation.evaluate import BICUBIC, FFMPEG, MODEL, evaluate, score_method
from tpstvsr_cli.evaluation.metrics import PSNR_CAP_DB, score_frame
from tpstvsr_cli.models import build_model
from tpstvsr_cli.models.release import save_release


def test_score_method_averages_all_and_odd_frames():
    truth = moving_texture(5, 32, 32)
    outputs = truth.copy()
    outputs[0::2] = np.clip(truth[0::2].astype(int) + 10, 0, 255).astype(np.uint8)  # errors on even frames only
    scores = score_method(list(outputs), truth)
    assert scores.frames == 5
    assert scores.psnr_interp == PSNR_CAP_DB and scores.ssim_interp == pytest.approx(1.0)
    even = score_frame(outputs[0], truth[0])[0]
    assert scores.psnr == pytest.approx((3 * even + 2 * PSNR_CAP_DB) / 5, rel=0.02)


def test_untrained_model_scores_like_bicubic(sequence_folder):
    result = evaluate([sequence_folder], preset="tiny", device="cpu", use_ffmpeg=False)
    (seq,) = result.sequences
    assert seq.frames == 7 and seq.size == (64, 48) and set(seq.scores) == {MODEL, BICUBIC}
    model, bicubic = seq.scores[MODEL], seq.scores[BICUBIC]
    # Zero-initialised residual layers: an untrained network is bicubic (computed a bit differently) fused with
    # its aligned neighbours (models/neighbour_fusion.py, no parameters), and its in-between frames are the
    # motion-compensated midpoints of tiny's small search instead of plain averages: close to the baseline.
    assert -0.3 < model.psnr - bicubic.psnr < 2.0 and abs(model.psnr_interp - bicubic.psnr_interp) < 1.0
    assert 15 < bicubic.psnr < 60 and 0 < bicubic.ssim < 1
    assert result.overall[MODEL] == model  # one sequence: its scores are the mean


def test_cli_json_with_weights_file(tmp_path, monkeypatch, capsys):
    weights = tmp_path / "tiny.safetensors"
    save_release(build_model("tiny"), "tiny", weights)
    folders = [write_folder(tmp_path / name, moving_texture(5, 40, 40, seed=i)) for i, name in enumerate(("a", "b"))]
    code, out, err = run_cli(
        monkeypatch, capsys, *map(str, folders), "--weights", str(weights), "--json", "--device", "cpu"
    )
    assert code == 0, err
    data = json.loads(out)  # stdout holds only the JSON; progress went to stderr
    assert [s["name"] for s in data["sequences"]] == ["a", "b"]
    assert set(data["overall"]) == {MODEL, BICUBIC, FFMPEG}
    a, b = (s["scores"][FFMPEG]["psnr"] for s in data["sequences"])
    assert data["overall"][FFMPEG]["psnr"] == pytest.approx((a + b) / 2)
    assert data["overall_gain_over_bicubic"]["psnr"] == pytest.approx(
        data["overall"][MODEL]["psnr"] - data["overall"][BICUBIC]["psnr"]
    )
    assert data["overall"][MODEL]["seconds"] > 0


def test_cli_table(sequence_folder, monkeypatch, capsys):
    code, out, err = run_cli(
        monkeypatch,
        capsys,
        str(sequence_folder),
        "--preset",
        "tiny",
        "--no-ffmpeg",
        "--center-crop",
        "48x40",
        "--max-frames",
        "5",
        "--device",
        "cpu",
    )
    assert code == 0, err
    first_words = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert "seq" in first_words and BICUBIC in first_words and FFMPEG not in first_words  # rows: sequence, methods
    assert "5 frames at 48x40" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--preset", "tiny", "--weights", "x.safetensors"], "not both"),
        (["--preset", "tiny", "--center-crop", "48y40"], "WxH"),
        (["--preset", "huge"], "unknown preset"),
        (["--weights", "missing.safetensors"], "not found"),
    ],
)
def test_cli_user_errors(sequence_folder, monkeypatch, capsys, args, message):
    code, out, err = run_cli(monkeypatch, capsys, str(sequence_folder), "--no-ffmpeg", *args)
    assert code == 2
    assert err.startswith("error:") and message in err and len(err.strip().splitlines()) == 1
