import dataclasses

import pytest
import torch

from tpstvsr_cli.models import PRESETS, build_model
from tpstvsr_cli.models.keyframe_interp import KeyframeInterp
from tpstvsr_cli.models.mid_blend import MidBlend
from tpstvsr_cli.models.release import load_state


@pytest.mark.parametrize("hw", [(1, 1), (5, 7), (16, 12)])
def test_untrained_blend_weighs_both_key_frames_equally(hw):
    motion = torch.randn(2, 1, 2 * hw[0], 2 * hw[1])
    weight = MidBlend(channels=8, layers=3)(torch.rand(2, 3, *hw), torch.rand(2, 3, *hw), motion, -motion)
    assert weight.shape == (2, 1, 2 * hw[0], 2 * hw[1])
    assert torch.equal(weight, torch.full_like(weight, 0.5))


def test_a_weight_of_one_takes_the_first_key_frame_zero_the_second():
    interp = KeyframeInterp(radius=1, window=3)
    key0, key1 = torch.rand(1, 3, 16, 20), torch.rand(1, 3, 16, 20)
    still = torch.zeros(1, 1, 8, 10)
    ones = torch.ones(1, 1, 8, 10)
    assert torch.allclose(interp.warp_midpoint(key0, key1, still, still, ones), key0, atol=1e-5)
    assert torch.allclose(interp.warp_midpoint(key0, key1, still, still, 0 * ones), key1, atol=1e-5)
    assert torch.allclose(interp.warp_midpoint(key0, key1, still, still, 0.5 * ones), 0.5 * (key0 + key1), atol=1e-5)


def test_untrained_blend_leaves_the_network_output_unchanged():
    torch.manual_seed(0)
    with_blend = build_model("tiny").eval()
    # an untrained blend weighs the block matching's two warps alike, as the network without it and its vote
    without = build_model(dataclasses.replace(PRESETS["tiny"], blend_channels=0, keyframe_vote=False)).eval()
    load_state(without, {k: v for k, v in with_blend.state_dict().items() if not k.startswith("blend.")})
    clip = torch.rand(1, 3, 3, 8, 10)
    with torch.no_grad():
        assert torch.allclose(with_blend(clip), without(clip), atol=1e-5)


@pytest.mark.parametrize("t", [2, 4])
def test_trained_blend_changes_only_the_in_between_frames(t):
    torch.manual_seed(1)
    model = build_model("tiny").eval()
    clip = torch.rand(1, t, 3, 8, 10)
    with torch.no_grad():
        before = model(clip)
        torch.nn.init.normal_(model.blend.tail.weight, std=0.5)
        after = model(clip)
    assert torch.equal(after[:, 0::2], before[:, 0::2])
    assert (after[:, 1::2] - before[:, 1::2]).abs().amax() > 1e-4


def test_weights_without_the_blend_load():
    model = build_model("tiny")
    load_state(model, {k: v for k, v in model.state_dict().items() if not k.startswith("blend.")})
    assert torch.equal(model.blend.tail.weight, torch.zeros_like(model.blend.tail.weight))
