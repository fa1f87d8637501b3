"""`tpstvsr eval --quality` scores the network that `upscale --quality` runs (issue 19: val dB per level)."""

import pytest

import tpstvsr_cli.evaluation.networks as networks_module
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.evaluation.evaluate import evaluate


def test_eval_runs_and_records_the_quality(sequence_folder, monkeypatch):
    seen, real = [], networks_module.apply_quality
    monkeypatch.setattr(networks_module, "apply_quality", lambda model, name: seen.append(name) or real(model, name))
    run = dict(preset="tiny", device="cpu", use_ffmpeg=False, max_frames=3)
    fast = evaluate([sequence_folder], quality="fast", **run)
    assert seen == ["fast"] and fast.settings["quality"] == "fast" and fast.settings["ensemble"] == 1
    best = evaluate([sequence_folder], quality="best", **run)
    assert best.settings["quality"] == "best" and best.settings["ensemble"] == 2
    with pytest.raises(TpstvsrError, match="--quality must be one of"):
        evaluate([sequence_folder], quality="turbo", **run)
