import dataclasses

import pytest
import torch

from tpstvsr_cli.models import PRESETS, build_model
from tpstvsr_cli.models.motion import BilateralMidpoint, box_filter, candidates, first_minimum, warp_by
from tpstvsr_cli.models.profiles import interleave, resize_frames


def _texture(h, w, seed=0):
    """A smooth random texture [3, h, w] (block matching needs structure, not white noise)."""
    g = torch.Generator().manual_seed(seed)
    return resize_frames(torch.rand(1, 3, h // 4, w // 4, generator=g), (h, w), antialias=False)[0]


def test_candidates_start_at_zero_and_cover_the_square():
    c = candidates(3)
    assert c[0] == (0, 0)
    assert len(c) == len(set(c)) == 49
    assert max(abs(dy) for dy, _ in c) == 3


def test_box_filter_is_a_window_mean():
    x = torch.arange(49.0).reshape(1, 1, 7, 7)
    out = box_filter(x, 3)
    assert out.shape == x.shape
    assert out[0, 0, 3, 3] == pytest.approx(x[0, 0, 2:5, 2:5].mean().item())
    assert torch.allclose(box_filter(torch.full((1, 1, 5, 6), 2.5), 5), torch.full((1, 1, 5, 6), 2.5))


def test_warp_by_integer_displacement_is_a_shift():
    x = torch.rand(1, 3, 6, 8)
    dy, dx = torch.full((1, 1, 6, 8), 1.0), torch.full((1, 1, 6, 8), -2.0)
    out = warp_by(x, dy, dx)  # out(y, x) = in(y + 1, x - 2)
    assert torch.allclose(out[:, :, :5, 2:], x[:, :, 1:, :6], atol=1e-6)


def test_static_clip_gives_its_frames():
    frame = _texture(16, 20)
    clip = torch.stack([frame, frame, frame])[None]
    mids = BilateralMidpoint(radius=2, window=5, scale=1)(clip)
    assert mids.shape == (1, 2, 3, 16, 20)
    assert torch.allclose(mids, clip[:, :2], atol=1e-6)


def test_horizontal_motion_is_followed_where_the_average_blurs():
    """Content moving 4 px between the frames: the midpoint is it moved 2 px, not a double image."""
    wide = _texture(24, 48, seed=1)
    f0, mid, f1 = wide[..., 8:40], wide[..., 6:38], wide[..., 4:36]  # x -> x + 2 per half step
    mc = BilateralMidpoint(radius=3, window=5, penalty=0.0, scale=1)(torch.stack([f0, f1])[None])[0, 0]
    inner = (slice(None), slice(4, -4), slice(6, -6))  # away from the replicated border
    mc_err = (mc - mid)[inner].abs().mean()
    avg_err = (0.5 * (f0 + f1) - mid)[inner].abs().mean()
    assert mc_err < 1e-5 < avg_err


def test_penalty_keeps_flat_areas_at_zero_motion():
    clip = torch.full((1, 2, 3, 10, 10), 0.5)
    motion = BilateralMidpoint(radius=2, window=3, penalty=0.01, scale=1)
    dy, dx = motion.search(clip[:, 0], clip[:, 1])
    assert (dy == 0).all() and (dx == 0).all()


def test_output_shape_scale_and_gradient():
    clip = torch.rand(2, 3, 3, 5, 7, requires_grad=True)
    mids = BilateralMidpoint(radius=2, window=3, scale=2)(clip)
    assert mids.shape == (2, 2, 3, 10, 14)
    mids.sum().backward()
    assert clip.grad is not None and clip.grad.abs().sum() > 0


def test_untrained_tpsrm_with_motion_starts_at_the_midpoints():
    cfg = dataclasses.replace(PRESETS["tiny"], motion_radius=2, motion_window=3)
    model = build_model(cfg).eval()
    clip = torch.rand(1, 3, 3, 8, 10)
    with torch.no_grad():
        inter = model(clip, upto="tpsrm")
        mids = resize_frames(model.tpsrm.motion(clip), (16, 10), antialias=True)
    expected = interleave(resize_frames(clip, (16, 10), antialias=False), mids)
    assert torch.allclose(inter, expected, atol=1e-5)


def test_presets_that_use_motion():
    # default makes its in-between frames from the key frames (models/keyframe_interp.py): TPSRM's are unused
    assert build_model("default").tpsrm.motion is None
    assert build_model("tiny").tpsrm.motion is not None  # so every test of the converter and training covers it
    assert build_model("paper").tpsrm.motion is None  # the paper's plain average


@pytest.mark.parametrize("hw", [(1, 1), (3, 2), (5, 1)])
def test_motion_on_frames_smaller_than_its_search(hw):
    """Radius and window are larger than these frames: replicate padding still gives the right shape."""
    mids = BilateralMidpoint()(torch.rand(1, 3, 3, *hw))
    assert mids.shape == (1, 2, 3, 2 * hw[0], 2 * hw[1])
    assert torch.isfinite(mids).all()


@pytest.mark.parametrize("size, stride", [(19, 1), (11, 2), (3, 1), (5, 2)])
def test_box_filter_on_the_cpu_matches_the_pooling_one(size, stride):
    """Inference filters with cv2.boxFilter, training (gradients) with avg_pool2d: the same means."""
    x = torch.rand(3, 1, 37, 53, generator=torch.Generator().manual_seed(6))
    fast = box_filter(x, size, stride)
    with torch.enable_grad():
        pooled = box_filter(x.clone().requires_grad_(True), size, stride).detach()
    assert fast.shape == pooled.shape == (3, 1, -(-37 // stride), -(-53 // stride))
    assert torch.allclose(fast, pooled, atol=1e-6)


@pytest.mark.parametrize("count, chunk", [(1, 12), (121, 12), (9, 4), (7, 7)])
def test_first_minimum_picks_what_the_strictly_better_loop_picks(count, chunk):
    torch.manual_seed(count)
    costs = [torch.randint(0, 4, (2, 1, 5, 6)).float() for _ in range(count)]  # many ties
    best, index = costs[0], torch.zeros(2, 1, 5, 6, dtype=torch.long)
    for k, cost in enumerate(costs[1:], 1):
        index[cost < best] = k
        best = torch.minimum(best, cost)
    assert torch.equal(first_minimum(iter(costs), chunk), index)
