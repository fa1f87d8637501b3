import dataclasses

import pytest
import torch
from test_keyframe_interp import _texture  # tests/models is on sys.path (pytest prepend mode)

from tpstvsr_cli.models import PRESETS, build_model
from tpstvsr_cli.models.midpoint_vote import voted_midpoint


def _scene():
    """Key frames at the output's size with content moving (4, -6) pixels, and the true midpoint (moved half)."""
    big = _texture(320, 384, seed=6)
    return big[None, :, 32:224, 32:288], big[None, :, 28:220, 38:294], big[None, :, 30:222, 35:291]


def test_where_the_block_motion_fails_the_flow_midpoints_take_over():
    key0, key1, middle = _scene()
    wrong = torch.roll(key0, (7, 7), dims=(-2, -1)), torch.roll(key1, (-7, 3), dims=(-2, -1))  # warps that disagree
    voted = voted_midpoint(key0, key1, *wrong)
    inner = (..., slice(16, -16), slice(16, -16))
    plain = 0.5 * (wrong[0] + wrong[1])
    assert (voted - middle)[inner].abs().mean() < 0.1 * (plain - middle)[inner].abs().mean()


def test_when_every_estimate_agrees_it_is_their_midpoint():
    key0, key1, middle = _scene()
    voted = voted_midpoint(key0, key1, middle, middle)  # the block matching's warps both right
    inner = (..., slice(16, -16), slice(16, -16))
    assert (voted - middle)[inner].abs().mean() < 2e-3


def test_each_pair_is_voted_alone_and_gradients_reach_the_key_frames():
    key0, key1, middle = _scene()
    pairs0, pairs1 = torch.cat([key0, key1]), torch.cat([key1, key0])
    pairs0.requires_grad_(True)
    voted = voted_midpoint(pairs0, pairs1, torch.cat([middle, middle]), torch.cat([middle, middle]))
    assert voted.shape == (2, 3, 192, 256)
    # the reference has no gradient, so it warps with cv2.remap rather than grid_sample: within 1e-4 per warp
    assert torch.allclose(voted[:1], voted_midpoint(key0, key1, middle, middle), atol=1e-3)
    voted.sum().backward()
    assert pairs0.grad.abs().sum() > 0


@pytest.mark.parametrize("t", [2, 3, 7])
def test_the_network_votes_its_in_between_frames_only(t):
    """(tiny without MidBlend: a blend's learnt weight replaces the vote.)"""
    torch.manual_seed(3)
    voting = build_model(dataclasses.replace(PRESETS["tiny"], blend_channels=0)).eval()
    plain = build_model(dataclasses.replace(PRESETS["tiny"], blend_channels=0, keyframe_vote=False)).eval()
    plain.load_state_dict(voting.state_dict())
    clip = torch.rand(1, t, 3, 9, 13)
    with torch.no_grad():
        voted, averaged = voting(clip), plain(clip)
    assert voted.shape == averaged.shape == (1, 2 * t - 1, 3, 36, 52)
    assert torch.equal(voted[:, 0::2], averaged[:, 0::2])
    assert (voted[:, 1::2] - averaged[:, 1::2]).abs().amax() > 1e-3
