"""cost.frame_cost: FLOPs per output frame, counted through the converter's engine and scaled by pixels."""

import dataclasses

import pytest
import torch

from tpstvsr_cli.engine.cost import frame_cost
from tpstvsr_cli.models import PRESETS, build_model
from tpstvsr_cli.models.dense_flow import OPS_PER_PIXEL


def _tiny(**changes):
    torch.manual_seed(0)
    return build_model(dataclasses.replace(PRESETS["tiny"], **changes)).eval()


def test_cost_scales_with_the_pixel_count():
    model = _tiny()
    small, big = frame_cost(model, 48, 32), frame_cost(model, 96, 64)
    assert small.conv_gflop > 0 and small.other_gflop > 0
    assert big.conv_gflop == pytest.approx(4 * small.conv_gflop, rel=1e-6)
    assert big.other_gflop == pytest.approx(4 * small.other_gflop, rel=1e-6)
    assert small.total_gflop == pytest.approx(small.conv_gflop + small.other_gflop)


def test_key_frame_interpolation_costs_less_than_per_frame_refinement():
    """FSM and RM on the key frames only: close to half their cost per output frame."""
    keys = frame_cost(_tiny(motion_radius=0, neighbour_reach=0), 48, 32)
    every = frame_cost(
        _tiny(motion_radius=0, keyframe_radius=0, fusion_channels=0, blend_channels=0, neighbour_reach=0), 48, 32
    )
    assert keys.conv_gflop < 0.75 * every.conv_gflop
    assert every.other_gflop == 0  # no motion search at all in the paper's path


def test_neighbour_fusion_costs_its_flow_and_no_convolutions():
    """The key-frame stream super-resolves each key frame once, fused or not (windowed, the fusion super-resolved
    the neighbours at each window's edges again); the fusion adds the flow's estimate, less the vote's own flows
    (two per midpoint at the output's size), which the fusion's replace."""
    alone, fused = frame_cost(_tiny(neighbour_reach=0), 48, 32), frame_cost(_tiny(neighbour_reach=1), 48, 32)
    assert fused.conv_gflop == pytest.approx(alone.conv_gflop, rel=1e-6)
    flow = _tiny(neighbour_reach=1).neighbours.ops_per_key(32, 48) / 1e9  # one key frame per two output frames
    vote_flows = 2 * OPS_PER_PIXEL * (16 * 32 * 48) * 16 / 1e9  # 16 midpoints
    assert fused.other_gflop - alone.other_gflop == pytest.approx((flow * 17 - vote_flows) / 33, rel=0.01)


def test_ensemble_multiplies_the_cost():
    model = _tiny()
    one, two = frame_cost(model, 48, 32), frame_cost(model, 48, 32, ensemble=2)
    assert two.total_gflop == pytest.approx(2 * one.total_gflop, rel=0.02)


def test_the_count_is_the_same_whatever_the_thread_count():
    """The engine's team runs pieces on worker threads, which a FlopCounterMode on the caller's does not see: the
    count runs without it (it once counted 3.1 of 41.7 GFLOP per output frame of the default network)."""
    model = _tiny()
    before = torch.get_num_threads()
    try:
        counts = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            counts.append(frame_cost(model, 48, 32).conv_gflop)
            assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)
    assert counts[0] == counts[1] > 0
