import dataclasses

import pytest
import torch
from test_keyframe_interp import _shifted_pair  # tests/models is on sys.path (pytest prepend mode)

from tpstvsr_cli.models import PRESETS, build_model
from tpstvsr_cli.models.key_fusion import KeyFusion
from tpstvsr_cli.models.keyframe_interp import KeyframeInterp, warp_neighbour
from tpstvsr_cli.models.release import load_state
from tpstvsr_cli.models.tpnet import TPNet


@pytest.mark.parametrize("hw", [(1, 1), (5, 7), (16, 12)])
def test_untrained_fusion_adds_nothing(hw):
    out = KeyFusion(channels=8, layers=3)(torch.rand(2, 9, *hw), torch.rand(2, 3, 4 * hw[0], 4 * hw[1]))
    assert out.shape == (2, 3, 4 * hw[0], 4 * hw[1])
    assert torch.equal(out, torch.zeros_like(out))


def test_neighbours_are_warped_onto_the_key_frame():
    """Content moving 2 input pixels to the right: the next frame warped back lines up with the key frame."""
    f0, f1, _ = _shifted_pair(0, 8)
    dy, dx = KeyframeInterp(radius=3, window=9).motion(f0, f1)
    nxt = warp_neighbour(f1, dy, dx, 1)  # onto f0
    prv = warp_neighbour(f0, dy, dx, -1)  # onto f1
    inner = (..., slice(4, -4), slice(6, -6))
    assert (nxt - f0)[inner].abs().mean() < 0.2 * (f1 - f0)[inner].abs().mean()
    assert (prv - f1)[inner].abs().mean() < 0.2 * (f1 - f0)[inner].abs().mean()


def test_untrained_fusion_leaves_the_network_output_unchanged():
    torch.manual_seed(0)
    with_fusion = build_model("tiny").eval()
    without = build_model(dataclasses.replace(PRESETS["tiny"], fusion_channels=0)).eval()
    without.load_state_dict({k: v for k, v in with_fusion.state_dict().items() if not k.startswith("fusion.")})
    clip = torch.rand(1, 3, 3, 8, 10)
    with torch.no_grad():
        assert torch.allclose(with_fusion(clip), without(clip), atol=1e-6)


@pytest.mark.parametrize("t", [2, 3, 7])
def test_trained_fusion_changes_the_key_frames_and_their_midpoints(t):
    torch.manual_seed(1)
    model = build_model("tiny").eval()
    clip = torch.rand(1, t, 3, 8, 10)
    with torch.no_grad():
        before = model(clip)
        torch.nn.init.normal_(model.fusion.tail.weight, std=0.05)
        after = model(clip)
    assert after.shape == (1, 2 * t - 1, 3, 32, 40)
    assert (after[:, 0::2] - before[:, 0::2]).abs().amax() > 1e-3
    assert (after[:, 1::2] - before[:, 1::2]).abs().amax() > 1e-3


def test_fusion_needs_the_key_frame_motion():
    model = build_model("tiny")
    with pytest.raises(ValueError, match="KeyFusion"):
        TPNet(model.tpsrm, model.fsm, model.rm, fusion=model.fusion)


def test_weights_without_the_fusion_load_others_must_be_complete():
    model = build_model("tiny")
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("fusion.")}
    load_state(model, state)  # a file from before the fusion: loads, the fusion keeps its zero start
    del state["rm.tail.bias"]
    with pytest.raises(RuntimeError, match="rm.tail.bias"):
        load_state(model, state)
