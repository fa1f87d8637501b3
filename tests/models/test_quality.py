"""--quality (issue 19): fast leaves out the neighbour fusion and the midpoint vote, best adds the transpose
ensemble, and the network given is never changed (a batch or a Ray worker keeps one for films of any quality)."""

from dataclasses import replace

import pytest
import torch

from tpstvsr_cli.conversion.planning import plan_conversion
from tpstvsr_cli.conversion.settings import ConversionSettings, RunOptions, split_options
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.models.presets import PRESETS, build_model
from tpstvsr_cli.models.quality import QUALITIES, apply_quality, check_quality, quality_ensemble


def test_fast_drops_the_fusion_and_the_vote_and_leaves_the_model_given_alone():
    model = build_model("default").eval()  # the preset with both: tiny's MidBlend would mask the vote
    fast, note = apply_quality(model, "fast")
    assert note is None and fast is not model
    assert fast.neighbours is None and fast.interp.vote is False
    assert model.neighbours is not None and model.interp.vote is True  # untouched
    assert fast.fsm is model.fsm and fast.state_dict().keys() == model.state_dict().keys()  # same weights, shared
    for name in ("balanced", "best"):
        assert apply_quality(model, name) == (model, None)


def test_fast_changes_the_pictures(mixing_net):
    torch.manual_seed(1)
    clip = torch.rand(1, 4, 3, 12, 16)
    with torch.no_grad():
        balanced = mixing_net(clip)
        fast = apply_quality(mixing_net, "fast")[0](clip)
        again = mixing_net(clip)
    assert fast.shape == balanced.shape
    assert (fast - balanced).abs().mean() > 1e-4  # the fusion did something, and fast left it out
    assert torch.equal(again, balanced)  # and the original still fuses


def test_a_network_without_fusion_or_vote_runs_fast_as_balanced():
    plain = build_model(replace(PRESETS["tiny"], neighbour_reach=0, keyframe_vote=False))
    model, note = apply_quality(plain, "fast")
    assert model is plain and "runs as balanced" in note and "\n" not in note


def test_best_implies_ensemble_2_unless_one_is_given():
    assert [quality_ensemble(q) for q in QUALITIES] == [1, 1, 2]
    assert quality_ensemble("best", 1) == 1 and quality_ensemble("fast", 8) == 8
    settings = lambda **kw: split_options(None, kw)[0]  # noqa: E731
    assert settings(quality="best").inference.ensemble == 2
    assert settings(quality="best", ensemble=None).inference.ensemble == 2  # the CLI's "not given"
    assert settings(quality="best", ensemble=1).inference.ensemble == 1
    assert settings(quality="fast").inference.ensemble == 1 and settings(ensemble=None).inference.ensemble == 1
    assert settings(quality="fast").quality == "fast" and settings().quality == "balanced"


def test_an_unknown_quality_is_a_one_line_error():
    with pytest.raises(TpstvsrError, match=r"^--quality must be one of fast, balanced, best, got 'turbo'$"):
        check_quality("turbo")
    with pytest.raises(TpstvsrError, match="--quality must be one of"):
        ConversionSettings(quality="turbo")
    with pytest.raises(TpstvsrError, match="--quality must be one of"):
        split_options(None, {"quality": "turbo"})


def test_a_conversion_runs_its_quality_and_records_it(tmp_path, clip_maker, mixing_net):
    film = clip_maker(tmp_path / "film.mp4", size="24x16", frames=3, audio=False)
    run = RunOptions(quiet=True)
    fast = plan_conversion(film, tmp_path / "fast.mp4", ConversionSettings(quality="fast"), model=mixing_net, run=run)
    assert fast.model.neighbours is None and mixing_net.neighbours is not None
    assert fast.work.settings["quality"] == "fast"
    balanced = plan_conversion(film, tmp_path / "b.mp4", ConversionSettings(), model=mixing_net, run=run)
    assert balanced.model is mixing_net and "quality" not in balanced.work.settings  # old work folders resume
