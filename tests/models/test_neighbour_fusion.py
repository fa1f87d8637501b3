import dataclasses

import pytest
import torch
from test_keyframe_interp import _texture  # tests/models is on sys.path (pytest prepend mode)

from tpstvsr_cli.models import PRESETS, build_model
from tpstvsr_cli.models.neighbour_fusion import NeighbourFusion
from tpstvsr_cli.models.profiles import resize_frames
from tpstvsr_cli.models.tpnet import TPNet


def _moving_scene(count=5, h=64, w=80, step=(3, -5)):
    """Ground-truth key frames [1, count, 3, h, w] of a texture moving `step` output pixels per frame (a quarter
    of that in input pixels: sub-pixel), and their inputs, shrunk 4x as the data's degradation."""
    big = _texture(h + 64, w + 64, seed=5)
    frames = [
        big[:, 32 - i * step[0] : 32 - i * step[0] + h, 32 - i * step[1] : 32 - i * step[1] + w] for i in range(count)
    ]
    truth = torch.stack(frames)[None]
    return truth, resize_frames(truth, (h // 4, w // 4))


def test_noise_independent_between_key_frames_is_averaged_away():
    """Key frames = truth + independent noise: fused with their aligned neighbours, they come closer to the truth."""
    truth, inputs = _moving_scene()
    keys = truth + 0.03 * torch.randn(truth.shape, generator=torch.Generator().manual_seed(0))
    fused = NeighbourFusion(reach=2)(keys, inputs, [2])
    inner = (..., slice(8, -8), slice(8, -8))
    before = (keys[:, 2] - truth[:, 2])[inner].abs().mean()
    after = (fused[:, 0] - truth[:, 2])[inner].abs().mean()
    assert after < 0.7 * before


def test_a_neighbour_that_does_not_explain_the_input_is_left_out():
    truth, inputs = _moving_scene(count=2)
    keys = truth.clone()
    keys[:, 1] = keys[:, 0] + 0.3  # lined up, but far brighter than what the camera saw in frame 0
    fusion = NeighbourFusion(reach=1)
    alone = fusion(keys[:, :1], inputs[:, :1], [0])
    with_stranger = fusion(keys, inputs, [0])
    assert (with_stranger - alone).abs().amax() < 2e-3


def test_a_still_scene_is_unchanged():
    truth, inputs = _moving_scene(count=3, step=(0, 0))
    fused = NeighbourFusion(reach=2)(truth, inputs, [0, 1, 2])
    # back-projection onto inputs made from the truth itself moves it only by the resize round trip
    assert (fused - truth).abs().mean() < 5e-3


def test_neighbours_within_reach():
    fusion = NeighbourFusion(reach=2)
    assert fusion.neighbours(0, 6) == [1, 2]
    assert fusion.neighbours(3, 6) == [1, 2, 4, 5]
    assert fusion.neighbours(0, 1) == []
    with pytest.raises(ValueError, match="reach"):
        NeighbourFusion(reach=0)
    with pytest.raises(ValueError, match="passes"):
        NeighbourFusion(passes=0)


def test_a_second_pass_reaches_further_in_time():
    """Key frame 0 with reach 1: one pass reads key frame 1 only; two passes also read key frame 2 through it."""
    truth, inputs = _moving_scene(count=3)
    keys = truth + 0.03 * torch.randn(truth.shape, generator=torch.Generator().manual_seed(1))
    changed = keys.clone()
    changed[:, 2] += 0.02 * torch.randn(truth[:, 2].shape, generator=torch.Generator().manual_seed(2))
    for passes, moves in ((1, False), (2, True)):
        fusion = NeighbourFusion(reach=1, passes=passes)
        difference = (fusion(keys, inputs, [0]) - fusion(changed, inputs, [0])).abs().amax()
        assert (difference > 1e-4) == moves


def test_gradients_reach_the_neighbours():
    truth, inputs = _moving_scene(count=3)
    keys = truth.clone().requires_grad_(True)
    NeighbourFusion(reach=1)(keys, inputs, [1]).sum().backward()
    assert keys.grad[:, 0].abs().sum() > 0 and keys.grad[:, 2].abs().sum() > 0


@pytest.mark.parametrize("t", [2, 3, 7])
def test_the_network_fuses_key_frames_and_their_midpoints(t):
    torch.manual_seed(2)
    model = build_model("tiny").eval()
    alone = build_model(dataclasses.replace(PRESETS["tiny"], neighbour_reach=0)).eval()
    alone.load_state_dict(model.state_dict())
    clip = torch.rand(1, t, 3, 9, 13)
    with torch.no_grad():
        fused, plain = model(clip), alone(clip)
    assert fused.shape == plain.shape == (1, 2 * t - 1, 3, 36, 52)
    assert (fused[:, 0::2] - plain[:, 0::2]).abs().amax() > 1e-3
    assert (fused[:, 1::2] - plain[:, 1::2]).abs().amax() > 1e-3


def test_fusion_needs_the_key_frame_design():
    model = build_model("tiny")
    with pytest.raises(ValueError, match="NeighbourFusion"):
        TPNet(model.tpsrm, model.fsm, model.rm, neighbours=model.neighbours)


@pytest.mark.parametrize("flow_every, flow_sets", [(1, 4), (2, 2), (4, 1)])
def test_flows_between_key_frames_are_found_once_per_flow_every_passes(monkeypatch, flow_every, flow_sets):
    """Four passes and the in-between frames' vote read one flow per (key, neighbour) pair per flow set: DIS for the
    first set, each later one refined from the set before."""
    import tpstvsr_cli.models.dense_flow as flow_module
    import tpstvsr_cli.models.midpoint_vote as vote_module

    calls, refined = [], []
    real, real_refined = flow_module._dis, flow_module._refined
    monkeypatch.setattr(flow_module, "_dis", lambda *args: calls.append(1) or real(*args))
    monkeypatch.setattr(flow_module, "_refined", lambda *args: refined.append(1) or real_refined(*args))
    monkeypatch.setattr(vote_module, "dense_flow", lambda a, b: pytest.fail("the vote found its own flow"))
    torch.manual_seed(3)
    preset = dataclasses.replace(PRESETS["tiny"], neighbour_passes=4, neighbour_flow_every=flow_every, blend_channels=0)
    model = build_model(preset).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 4, 3, 9, 13))
    assert out.shape == (1, 7, 3, 36, 52)
    pairs = model.neighbours.pairs(4)
    assert len(pairs) == 6  # reach 1: (0,1) (1,0) (1,2) (2,1) (2,3) (3,2)
    assert len(calls) == len(pairs)
    assert len(refined) == (flow_sets - 1) * len(pairs)


def test_the_flows_given_are_the_flows_used():
    truth, inputs = _moving_scene(count=3)
    fusion = NeighbourFusion(reach=1, passes=2, flow_every=2)
    found, flows = fusion.refine(truth, inputs, [0, 1, 2])
    assert sorted(flows) == fusion.pairs(3)
    assert torch.equal(found, fusion.refine(truth, inputs, [0, 1, 2], fusion.pair_flows(truth))[0])
    still = {pair: torch.zeros(1, 2, *truth.shape[-2:]) for pair in fusion.pairs(3)}
    assert not torch.allclose(fusion.refine(truth, inputs, [0, 1, 2], still)[0], found, atol=1e-3)
    with pytest.raises(ValueError, match="flow_every"):
        NeighbourFusion(flow_every=0)
