"""Geometric self-ensemble: exact inverses, no effect on an equivariant network, and a real change on a trained-like
one."""

import numpy as np
import pytest
import torch

from tpstvsr_cli.engine.ensemble import ENSEMBLES, ensembled, transform, untransform
from tpstvsr_cli.engine.stream import upscale_frames
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.models import build_model


@pytest.mark.parametrize("k", range(8))
def test_untransform_inverts_transform_on_a_non_square_clip(k):
    x = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).reshape(1, 2, 3, 5, 7)
    y = transform(x, k)
    assert y.shape[-2:] == ((7, 5) if k & 1 else (5, 7))
    assert torch.equal(untransform(y, k), x)


def test_the_eight_transforms_are_distinct():
    x = torch.arange(36, dtype=torch.float32).reshape(6, 6)
    assert len({tuple(transform(x, k).flatten().tolist()) for k in ENSEMBLES[8]}) == 8


def test_an_equivariant_run_is_unchanged():
    x = torch.rand(1, 3, 3, 8, 12)

    def up(c):  # commutes with all 8
        return torch.nn.functional.interpolate(c[0], scale_factor=2, mode="nearest")[None]

    for size in ENSEMBLES:
        assert torch.allclose(ensembled(up, x, size), up(x))


def test_ensemble_changes_a_mixing_network_and_keeps_shapes():
    torch.manual_seed(0)
    net = build_model("tiny").eval()
    with torch.no_grad():
        for p in net.parameters():
            torch.nn.init.normal_(p, std=0.05)
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (24, 40, 3), dtype=np.uint8) for _ in range(5)]
    one = np.stack(list(upscale_frames(net, frames, chunk=4)))
    two = np.stack(list(upscale_frames(net, frames, chunk=4, ensemble=2)))
    assert one.shape == two.shape == (9, 96, 160, 3)
    assert np.abs(one.astype(int) - two).mean() > 0.1


def test_an_unknown_ensemble_size_is_refused():
    net = build_model("tiny")
    frames = [np.zeros((16, 16, 3), np.uint8)] * 3
    with pytest.raises(TpstvsrError, match="ensemble"):
        list(upscale_frames(net, frames, ensemble=3))
