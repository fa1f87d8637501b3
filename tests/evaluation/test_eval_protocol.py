"""The protocol's frame selection, cropping and 4x degradation, and loading sequences from folders and videos."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from eval_synthetic import moving_texture, write_lossless_video

from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.evaluation.protocol import downscale_input, parse_size, prepare_truth
from tpstvsr_cli.evaluation.sequences import load_sequence, read_frames
from tpstvsr_cli.models.profiles import degrade_clip


def test_even_count_drops_the_last_frame_and_crops_to_multiples_of_4():
    frames = moving_texture(10, 45, 50)
    truth = prepare_truth(frames)
    assert truth.shape == (9, 44, 48, 3)
    # center crop: 50 -> 48 drops one column each side; 45 -> 44 drops the bottom row (odd margin at the end)
    np.testing.assert_array_equal(truth, frames[:9, 0:44, 1:49])


def test_center_crop_after_gt_scale():
    frames = moving_texture(5, 100, 120)
    truth = prepare_truth(frames, gt_scale=0.5, crop=(40, 36))
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    half = F.interpolate(x, size=(50, 60), mode="bicubic", align_corners=False, antialias=True)
    half = (half * 255).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(truth, half[:, 7:43, 10:50])


def test_input_is_even_frames_shrunk_4x_with_antialiased_bicubic():
    truth = prepare_truth(moving_texture(9, 48, 64))
    inputs = downscale_input(truth)
    assert inputs.shape == (5, 12, 16, 3) and inputs.dtype == np.uint8
    x = torch.from_numpy(truth[0::2]).permute(0, 3, 1, 2).float() / 255
    expected = F.interpolate(x, size=(12, 16), mode="bicubic", align_corners=False, antialias=True)
    expected = (expected * 255).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(inputs, expected)
    # The same degradation that training uses (models/profiles.degrade_clip), up to 8-bit rounding.
    clip = torch.from_numpy(truth).permute(0, 3, 1, 2)[None].float() / 255
    train = (degrade_clip(clip)[0] * 255).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    assert np.abs(train.astype(int) - inputs.astype(int)).max() <= 1


@pytest.mark.parametrize("count, shape", [(2, (2, 64, 64, 3)), (5, (5, 28, 64, 3))])
def test_too_short_or_too_small_is_a_user_error(count, shape):
    with pytest.raises(TpstvsrError):
        prepare_truth(np.zeros(shape, np.uint8))


def test_parse_size():
    assert parse_size("480x272") == (480, 272)
    for bad in ("480", "0x10", "ax3", "4x4x4"):
        with pytest.raises(TpstvsrError):
            parse_size(bad)


def test_folder_sequence_with_max_frames(sequence_folder):
    seq = load_sequence(sequence_folder, max_frames=6)
    assert seq.source_size == (66, 50)
    assert seq.truth.shape == (5, 48, 64, 3)  # 6 frames -> 5; 66x50 -> 64x48
    assert seq.name == "seq"


def test_video_sequence_reads_only_what_it_needs(tmp_path):
    frames = moving_texture(12, 40, 48)
    video = write_lossless_video(tmp_path / "clip.mkv", frames)
    np.testing.assert_array_equal(read_frames(video, max_frames=5), frames[:5])
    np.testing.assert_array_equal(read_frames(video), frames)


def test_missing_path_is_a_user_error(tmp_path):
    with pytest.raises(TpstvsrError):
        load_sequence(tmp_path / "nope")
    with pytest.raises(TpstvsrError):
        load_sequence(tmp_path, max_frames=2)
