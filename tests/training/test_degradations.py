"""Random training degradations (training/degradations.py): drawn from the run's Generator, in random order and
strength, off by default (clean batches unchanged), and a short --degrade run validates on degraded input too."""

import numpy as np
import pytest
import torch

from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.degrade import X264, Blur, Noise, degrade_frames
from tpstvsr_cli.training.degradations import DegradeOptions, degrade_batch, random_spec
from tpstvsr_cli.training.frame_pool import Clip
from tpstvsr_cli.training.samples import make_batch


def test_random_specs_cover_orders_and_ranges():
    rng, opts = np.random.default_rng(0), DegradeOptions()
    specs = [random_spec(rng, opts) for _ in range(400)]
    clean = sum(s is None for s in specs)
    assert 0.05 * 400 < clean < 0.2 * 400  # p_clean 0.1, plus the rare draw of no step at all
    steps = [step for s in specs if s for step in s.steps]
    crfs = {s.crf for s in steps if isinstance(s, X264)}
    assert min(crfs) == 18 and max(crfs) == 35
    sigmas = [s.sigma for s in steps if isinstance(s, Noise)]
    assert 1.0 <= min(sigmas) and max(sigmas) <= 8.0 and any(s.gray for s in steps if isinstance(s, Noise))
    assert all(0.2 <= s.sigma <= 0.8 for s in steps if isinstance(s, Blur))
    orders = {tuple(type(step).__name__ for step in s.steps) for s in specs if s and len(s.steps) == 3}
    assert len(orders) == 6  # every order of the three steps occurs
    again = [random_spec(np.random.default_rng(0), opts) for _ in range(1)]
    assert again[0] == specs[0]  # the same Generator state, the same chain (noise seed included)


def test_degrade_batch_is_reproducible_and_8_bit():
    rng = np.random.default_rng(1)
    lr = torch.from_numpy(rng.integers(0, 256, (3, 3, 3, 24, 32)).astype(np.float32) / 255)
    opts = DegradeOptions(p_clean=0.0, p_x264=1.0)  # every sample encoded
    a = degrade_batch(lr, np.random.default_rng(5), opts)
    b = degrade_batch(lr, np.random.default_rng(5), opts)
    assert torch.equal(a, b) and a.shape == lr.shape and torch.equal(a, (a * 255).round() / 255)
    assert all(not torch.equal(a[i], lr[i]) for i in range(3))
    first = random_spec(np.random.default_rng(5), opts)  # the first sample's chain, replayed with media.degrade
    frames = (lr[0] * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    replay = torch.from_numpy(degrade_frames(frames, first).frames).permute(0, 3, 1, 2).float() / 255
    assert torch.equal(a[0], replay)


def test_off_by_default_leaves_clean_batches_unchanged():
    rng = np.random.default_rng(0)
    clips = [Clip("c", rng.integers(0, 256, (9, 40, 40, 3), dtype=np.uint8))]
    r1, r2, r3 = (np.random.default_rng(7) for _ in range(3))
    plain = make_batch(clips, r1, 2, 3, 16)
    off = make_batch(clips, r2, 2, 3, 16, degrade=None)
    on = make_batch(clips, r3, 2, 3, 16, degrade=DegradeOptions(p_clean=0.0, p_x264=1.0))
    assert torch.equal(plain[0], off[0]) and torch.equal(plain[1], off[1])
    assert r1.bit_generator.state == r2.bit_generator.state  # no extra draws: a clean run's samples are as before
    assert torch.equal(on[1], plain[1]) and not torch.equal(on[0], plain[0])  # same truth, degraded input


def test_bad_options_are_refused():
    with pytest.raises(TpstvsrError, match="CRF range"):
        DegradeOptions(crf=(30, 20))
    with pytest.raises(TpstvsrError, match="p_noise"):
        DegradeOptions(p_noise=1.5)
