import pytest
import torch
import torch.nn.functional as F

from tpstvsr_cli.models.profiles import (
    blend_time,
    degrade_clip,
    from_horizontal_profiles,
    from_vertical_profiles,
    resize_frames,
    to_horizontal_profiles,
    to_vertical_profiles,
)


def test_vertical_profile_round_trip_and_content():
    clip = torch.rand(2, 5, 3, 7, 4)
    tp = to_vertical_profiles(clip)
    assert tp.shape == (2 * 4, 3, 7, 5)
    # profile of batch 1, column 2 is V(w=2, h, t)
    assert torch.equal(tp[1 * 4 + 2], clip[1, :, :, :, 2].permute(1, 2, 0))
    assert torch.equal(from_vertical_profiles(tp, 2), clip)


def test_horizontal_profile_round_trip_and_content():
    clip = torch.rand(2, 5, 3, 7, 4)
    tp = to_horizontal_profiles(clip)
    assert tp.shape == (2 * 7, 3, 4, 5)
    assert torch.equal(tp[1 * 7 + 6], clip[1, :, :, 6, :].permute(1, 2, 0))
    assert torch.equal(from_horizontal_profiles(tp, 2), clip)


def test_blend_time_keeps_even_frames_and_averages_odd():
    clip = torch.rand(1, 4, 3, 2, 2)
    out = blend_time(clip)
    assert out.shape[1] == 7
    assert torch.equal(out[:, 0::2], clip)
    assert torch.allclose(out[:, 3], (clip[:, 1] + clip[:, 2]) / 2)


def test_degrade_keeps_even_frames_at_quarter_size():
    flat = torch.full((1, 7, 3, 16, 12), 0.25)
    flat[:, 1::2] = 0.75  # odd frames must not leak into the input
    lr = degrade_clip(flat)
    assert lr.shape == (1, 4, 3, 4, 3)
    assert torch.allclose(lr, torch.full_like(lr, 0.25), atol=1e-6)


@pytest.mark.parametrize("size", [(24, 40), (48, 80), (37, 23), (6, 10)])
def test_plain_bicubic_resize_by_cv2_matches_torch(size):
    """Without gradients on the CPU, resize_frames(antialias=False) is cv2.resize: torch's taps to float rounding."""
    frames = torch.rand(2, 3, 12, 20, generator=torch.Generator().manual_seed(0))
    expected = F.interpolate(frames, size=size, mode="bicubic", align_corners=False)
    with torch.no_grad():
        out = resize_frames(frames[None], size, antialias=False)[0]
    assert out.shape == expected.shape and out.dtype == torch.float32
    assert (out - expected).abs().max() < 1e-5


def test_plain_bicubic_resize_keeps_gradients_and_half_precision():
    frames = torch.rand(1, 3, 8, 8, requires_grad=True)
    resize_frames(frames, (16, 16), antialias=False).sum().backward()
    assert frames.grad is not None and frames.grad.abs().sum() > 0
    half = resize_frames(torch.rand(1, 3, 8, 8).bfloat16(), (16, 16), antialias=False)
    assert half.dtype == torch.bfloat16 and half.shape == (1, 3, 16, 16)
