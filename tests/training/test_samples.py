"""Texture-biased sampling: with crop_tries > 1 the sample comes from the most detailed of that many positions;
with detail_power > 0 detailed clips are drawn more often."""

import numpy as np

from tpstvsr_cli.training.frame_pool import Clip
from tpstvsr_cli.training.samples import clip_detail, clip_probabilities, detail, draw_sample


def _half_textured_clip() -> Clip:
    """Left half random noise, right half flat grey; 9 frames of 32 x 64."""
    rng = np.random.default_rng(0)
    frames = np.full((9, 32, 64, 3), 128, np.uint8)
    frames[:, :, :32] = rng.integers(0, 256, (9, 32, 32, 3), dtype=np.uint8)
    return Clip("half", frames)


def test_detail_is_zero_on_flat_and_large_on_noise():
    clip = _half_textured_clip()
    assert detail(clip.frames[0, :, 40:]) == 0.0
    assert detail(clip.frames[0, :, :32]) > 50


def test_more_tries_take_more_detailed_crops():
    clips = [_half_textured_clip()]

    def mean_detail(tries: int) -> float:
        rng = np.random.default_rng(1)
        return float(np.mean([detail(draw_sample(clips, rng, 3, 16, crop_tries=tries)[1]) for _ in range(60)]))

    uniform, biased = mean_detail(1), mean_detail(6)
    assert biased > 1.5 * uniform
    # the texture covers half the positions a crop can take: six tries nearly always find some of it
    rng = np.random.default_rng(2)
    flat = sum(detail(draw_sample(clips, rng, 3, 16, crop_tries=6)[1]) == 0.0 for _ in range(60))
    assert flat <= 2


def _flat_clip(frames: int = 9, grey: int = 128) -> Clip:
    return Clip("flat", np.full((frames, 32, 64, 3), grey, np.uint8))


def test_clip_probabilities_by_length_alone_without_detail_power():
    clips = [_flat_clip(9), _flat_clip(21)]  # 7 and 19 windows of 3 frames
    probs = clip_probabilities(clips, 3)
    assert np.allclose(probs, np.sqrt([7, 19]) / np.sqrt([7, 19]).sum())


def test_detail_power_draws_textured_clips_more_often():
    textured, flat = _half_textured_clip(), _flat_clip(grey=60)  # 60: no crop of the textured clip is all 60
    assert clip_detail(flat) == 0.0 and clip_detail(textured) > 20
    probs = clip_probabilities([textured, flat], 3, detail_power=1.0)
    assert np.isclose(probs.sum(), 1.0)
    assert probs[0] > 0.9 and probs[1] > 0  # a flat clip keeps a small share
    rng = np.random.default_rng(3)
    drawn = [draw_sample([textured, flat], rng, 3, 16, probs=probs) for _ in range(40)]
    from_flat = sum(int((w == 60).all()) for w in drawn)
    assert from_flat <= 4  # about 40 x probs[1] (~1) crops are from the flat clip; uniform would give ~20
