"""A quick look at the real validation data, when this machine has it (skipped elsewhere)."""

from pathlib import Path

import pytest

from tpstvsr_cli.evaluation.evaluate import BICUBIC, MODEL, evaluate

VAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "val"


@pytest.mark.skipif(not (VAL / "bedroom").is_dir(), reason="validation data (../shared/data/val) not present")
def test_bedroom_crop_runs_and_model_starts_at_baseline():
    result = evaluate(
        [VAL / "bedroom"], preset="tiny", device="cpu", max_frames=5, center_crop=(128, 96), use_ffmpeg=False
    )
    (seq,) = result.sequences
    assert seq.source_size == (960, 540) and seq.size == (128, 96) and seq.frames == 5
    assert 20 < seq.scores[BICUBIC].psnr < 45
    # untrained: bicubic key frames fused with their aligned neighbours (no parameters), no worse than bicubic
    assert -0.3 < seq.scores[MODEL].psnr - seq.scores[BICUBIC].psnr < 2.0
