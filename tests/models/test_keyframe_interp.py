import dataclasses

import pytest
import torch
import torch.nn.functional as F

from tpstvsr_cli.models import PRESETS, build_model
from tpstvsr_cli.models.keyframe_interp import KeyframeInterp, median3, upscale_field
from tpstvsr_cli.models.profiles import resize_frames


def _texture(h, w, seed=0):
    """A smooth random texture [3, h, w] (block matching needs structure, not white noise)."""
    g = torch.Generator().manual_seed(seed)
    return resize_frames(torch.rand(1, 3, h // 4, w // 4, generator=g), (h, w), antialias=False)[0]


def _shifted_pair(dy4: int, dx4: int, h=24, w=32):
    """Two input frames [1, 3, h, w]: a texture at 4x and the same moved (dy4, dx4) pixels at 4x, each shrunk 4x.

    So the content moves (dy4 / 4, dx4 / 4) input pixels between them: sub-pixel where dy4, dx4 are not
    multiples of 4. Also returns the true middle frame (moved half as far)."""
    big = _texture(4 * h + 64, 4 * w + 64, seed=3)

    def view(oy, ox):
        crop = big[:, 32 - oy : 32 - oy + 4 * h, 32 - ox : 32 - ox + 4 * w][None]
        return F.avg_pool2d(crop, 4)

    return view(0, 0), view(dy4, dx4), view(dy4 // 2, dx4 // 2)


def test_upscale_field_scales_the_displacements():
    field = torch.full((1, 1, 3, 4), 1.5)
    out = upscale_field(field, 2)
    assert out.shape == (1, 1, 6, 8)
    assert torch.allclose(out, torch.full_like(out, 3.0))
    assert upscale_field(field, 2, "bilinear", (6, 8)).shape == (1, 1, 6, 8)


def test_median3_removes_a_single_wrong_block():
    field = torch.zeros(1, 1, 5, 5)
    field[0, 0, 2, 2] = 7.0
    assert torch.equal(median3(field), torch.zeros_like(field))


@pytest.mark.parametrize("shift", [(0, 6), (2, -6), (-4, 3)])
def test_motion_recovers_a_sub_pixel_translation(shift):
    """The midpoint displacement at 2x the input size is half the motion: (dy4, dx4) / 4 input pixels."""
    f0, f1, _ = _shifted_pair(*shift)
    dy, dx = KeyframeInterp(radius=3, window=9).motion(f0, f1)
    inner = (..., slice(8, -8), slice(8, -8))
    # The content moves by `shift` / 4 input pixels = `shift` / 2 pixels at 2x; the midpoint sits at half of that.
    want_y, want_x = shift[0] / 4, shift[1] / 4
    assert dy[inner].median().item() == pytest.approx(want_y, abs=0.26)
    assert dx[inner].median().item() == pytest.approx(want_x, abs=0.26)


def test_static_frames_give_the_key_frame():
    f0 = _texture(16, 20)[None]
    keys = resize_frames(f0, (64, 80), antialias=False)
    mid = KeyframeInterp(radius=2, window=5)(keys, keys, f0, f0)
    assert torch.allclose(mid, keys, atol=1e-5)


def test_midpoint_follows_motion_where_the_average_blurs():
    f0, f1, middle = _shifted_pair(0, 8)
    interp = KeyframeInterp(radius=3, window=9)
    up = lambda x: resize_frames(x, (4 * x.shape[-2], 4 * x.shape[-1]), antialias=False)  # noqa: E731
    mid = interp(up(f0), up(f1), f0, f1)
    inner = (..., slice(16, -16), slice(24, -24))
    mc_err = (mid - up(middle))[inner].abs().mean()
    avg_err = (0.5 * (up(f0) + up(f1)) - up(middle))[inner].abs().mean()
    assert mc_err < 0.25 * avg_err


def test_gradients_reach_the_key_frames():
    f0, f1, _ = _shifted_pair(0, 4, 8, 8)
    keys = torch.rand(2, 1, 3, 32, 32, requires_grad=True)
    KeyframeInterp(radius=2, window=5)(keys[0], keys[1], f0, f1).sum().backward()
    assert keys.grad is not None and keys.grad.abs().sum() > 0


@pytest.mark.parametrize("hw", [(1, 1), (3, 2), (5, 1), (7, 9)])
def test_frames_smaller_than_the_search(hw):
    f0, f1 = torch.rand(2, 1, 3, *hw)
    keys = torch.rand(2, 1, 3, 4 * hw[0], 4 * hw[1])
    mid = KeyframeInterp()(keys[0], keys[1], f0, f1)
    assert mid.shape == keys[0].shape and torch.isfinite(mid).all()


def test_network_in_between_frames_are_warped_key_frames():
    """With key-frame interpolation, output 2k+1 is made from outputs 2k and 2k+2 and the inputs k, k+1.

    (Without the neighbour fusion: with it, the vote reads the flows the fusion found before it refined the key
    frames; tests/models/test_neighbour_fusion.py checks those.)"""
    torch.manual_seed(0)
    # tiny's vote, no MidBlend, no neighbour fusion
    model = build_model(dataclasses.replace(PRESETS["tiny"], blend_channels=0, neighbour_reach=0)).eval()
    clip = torch.rand(1, 3, 3, 8, 10)
    with torch.no_grad():
        out = model(clip)
        mid = model.interp(out[:, 2], out[:, 4], clip[:, 1], clip[:, 2])
    assert torch.allclose(out[:, 3], mid, atol=1e-5)


def test_presets_that_interpolate_from_key_frames():
    assert build_model("default").interp is not None
    assert build_model("tiny").interp is not None
    assert build_model("paper").interp is None
    assert (
        build_model(
            dataclasses.replace(
                PRESETS["default"], keyframe_radius=0, fusion_channels=0, blend_channels=0, neighbour_reach=0
            )
        ).interp
        is None
    )


def test_median3_is_the_median_of_each_3x3_patch():
    torch.manual_seed(0)
    field = torch.round(torch.randn(3, 1, 17, 23) * 3) / 3  # many ties
    patches = torch.nn.functional.pad(field, (1, 1, 1, 1), mode="replicate").unfold(2, 3, 1).unfold(3, 3, 1)
    assert torch.equal(median3(field), patches.reshape(3, 1, 17, 23, 9).median(-1).values)
