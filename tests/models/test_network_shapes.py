import dataclasses

import pytest
import torch

from tpstvsr_cli.models import PRESETS, build_model
from tpstvsr_cli.models.fsm import feature_shuffle
from tpstvsr_cli.models.presets import count_parameters
from tpstvsr_cli.models.profiles import blend_time, resize_frames


def _perturbed(preset="tiny", seed=0):
    torch.manual_seed(seed)
    model = build_model(preset).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


@pytest.mark.parametrize("t", [2, 3, 7])
@pytest.mark.parametrize("hw", [(16, 16), (9, 13), (1, 1), (3, 2), (17, 8)])
def test_output_shape(t, hw):
    model = _perturbed()
    h, w = hw
    with torch.no_grad():
        out = model(torch.rand(2, t, 3, h, w))
    assert out.shape == (2, 2 * t - 1, 3, 4 * h, 4 * w)
    assert torch.isfinite(out).all()


def test_default_preset_pads_odd_sizes():
    model = build_model("default").eval()
    assert model.pad_multiple == 2  # its U-Net halves 4H three times
    with torch.no_grad():
        out = model(torch.rand(1, 2, 3, 7, 5))
    assert out.shape == (1, 3, 3, 28, 20)


def test_untrained_network_is_bicubic_plus_averaging():
    """Zero-initialised last layers: an untrained net starts exactly at the classical baseline (x2 twice)."""
    torch.manual_seed(0)
    model = build_model(
        dataclasses.replace(
            PRESETS["tiny"], motion_radius=0, keyframe_radius=0, fusion_channels=0, blend_channels=0, neighbour_reach=0
        )
    ).eval()  # the paper's path
    clip = torch.rand(1, 3, 3, 8, 10)
    with torch.no_grad():
        out = model(clip)
    base = blend_time(resize_frames(resize_frames(clip, (16, 10), antialias=False), (16, 20), antialias=False))
    base = resize_frames(base, (32, 40), antialias=False)
    assert torch.allclose(out, base, atol=1e-5)


def test_frames_per_pass_does_not_change_output():
    model = _perturbed()
    clip = torch.rand(1, 4, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(model(clip), model(clip, frames_per_pass=2), atol=1e-6)


def test_stage_outputs():
    model = _perturbed()
    clip = torch.rand(1, 3, 3, 8, 6)
    with torch.no_grad():
        assert model(clip, upto="tpsrm").shape == (1, 5, 3, 16, 6)
        assert model(clip, upto="fsm").shape == (1, 5, 3, 32, 24)


def test_bad_input_shape_is_rejected():
    with pytest.raises(ValueError):
        build_model("tiny")(torch.rand(1, 1, 3, 8, 8))


def test_feature_shuffle_moves_channel_pairs_to_width():
    feat = torch.arange(2 * 4 * 3 * 5, dtype=torch.float32).reshape(2, 4, 3, 5)
    out = feature_shuffle(feat)
    assert out.shape == (2, 2, 3, 10)
    assert torch.equal(out[:, 0, :, 0::2], feat[:, 0])
    assert torch.equal(out[:, 0, :, 1::2], feat[:, 1])
    assert torch.equal(out[:, 1, :, 1::2], feat[:, 3])


def test_preset_sizes():
    assert 7.0e6 < count_parameters(build_model("paper")) < 8.0e6  # the paper reports 7.53M
    assert count_parameters(build_model("default")) < 1.5e6
    assert set(PRESETS) >= {"paper", "default", "tiny"}


def test_selected_outputs_equal_the_full_run():
    model = _perturbed()
    clip = torch.rand(1, 4, 3, 8, 8)
    with torch.no_grad():
        full = model(clip)
        part = model(clip, outputs=slice(2, 5))
    assert part.shape[1] == 3
    assert torch.allclose(part, full[:, 2:5], atol=1e-6)
