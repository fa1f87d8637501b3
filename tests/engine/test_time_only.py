"""--keep-size's in-between frames: the input frames warped to the midpoint at their own size, no network."""

import numpy as np
import torch

from tpstvsr_cli.engine.time_only import interpolate_frames, midpoint


def scene(shift: float) -> np.ndarray:
    """A smooth pattern moved `shift` pixels to the right, uint8 [48, 64, 3]."""
    y, x = np.mgrid[0:48, 0:64].astype(np.float64)
    x = x - shift
    img = 0.5 + 0.25 * np.sin(x / 3.0) * np.cos(y / 4.0) + 0.2 * np.sin((x + y) / 7.0)
    return np.repeat((255 * img.clip(0, 1)).round().astype(np.uint8)[..., None], 3, axis=2)


def test_the_midpoint_follows_the_motion():
    a, b, truth = scene(0), scene(4), scene(2).astype(int)
    got = midpoint(None, a, b).astype(int)
    average = (a.astype(int) + b.astype(int)) // 2
    inner = np.s_[8:-8, 8:-8]
    assert got.shape == a.shape
    assert np.abs(got - truth)[inner].mean() < 0.25 * np.abs(average - truth)[inner].mean()


def test_n_frames_give_2n_minus_1_with_the_inputs_unchanged():
    frames = [scene(2 * i) for i in range(3)]
    out = list(interpolate_frames(None, frames))
    assert len(out) == 5 and all(np.array_equal(out[2 * i], frames[i]) for i in range(3))


def test_a_learned_blend_is_used(mixing_net):
    a, b = scene(0), scene(4)
    with torch.no_grad():
        assert not np.array_equal(midpoint(mixing_net, a, b), midpoint(None, a, b))
