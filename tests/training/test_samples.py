"""Texture-biased crops: with crop_tries > 1 the sample comes from the most detailed of that many positions."""

import numpy as np

from tpstvsr_cli.training.frame_pool import Clip
from tpstvsr_cli.training.samples import detail, draw_sample


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
