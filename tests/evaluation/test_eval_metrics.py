"""Luma PSNR/SSIM against values computed by hand and by a direct reference implementation."""

import math

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

from tpstvsr_cli.evaluation.metrics import PSNR_CAP_DB, psnr, rgb_to_y, score_frame, ssim


def test_y_of_pure_colours_follows_bt601():
    colours = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 64, 32]]], np.uint8)
    y = rgb_to_y(colours)[0].numpy()
    expected = [
        16.0,
        16 + 65.481 + 128.553 + 24.966,
        16 + 65.481,
        16 + 128.553,
        16 + 24.966,
        16 + (65.481 * 128 + 128.553 * 64 + 24.966 * 32) / 255,
    ]
    np.testing.assert_allclose(y, expected, atol=1e-9)
    assert y[1] == pytest.approx(235.0)  # studio range: white is 235


def test_y_rejects_float_input():
    with pytest.raises(TypeError):
        rgb_to_y(np.zeros((4, 4, 3), np.float32))


def test_psnr_of_constant_error():
    a = torch.full((20, 30), 100.0, dtype=torch.float64)
    # MSE 25 -> 10 log10(255^2 / 25) = 10 log10(2601) = 34.1514 dB
    assert psnr(a, a + 5) == pytest.approx(34.15140352195873, abs=1e-9)
    assert psnr(a + 5, a) == psnr(a, a + 5)


def test_psnr_through_rgb():
    # Adding d to R, G and B moves Y by d * (65.481 + 128.553 + 24.966) / 255 = d * 219 / 255.
    rgb = np.full((16, 16, 3), 90, np.uint8)
    shifted = rgb + np.uint8(10)
    dy = 10 * 219 / 255
    expected = 20 * math.log10(255 / dy)
    p, s = score_frame(shifted, rgb)
    assert p == pytest.approx(expected, abs=1e-9)
    assert s < 1.0  # a brightness change lowers SSIM's luminance term


def test_identical_images_get_the_cap_and_ssim_one():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    p, s = score_frame(img, img.copy())
    assert p == PSNR_CAP_DB == 100.0
    assert s == pytest.approx(1.0, abs=1e-12)


def reference_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al. 2004 written out: a 2-D 11x11 Gaussian (sigma 1.5) at every valid window position."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ax = np.arange(11) - 5
    window = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * 1.5**2))
    window /= window.sum()
    wa, wb = sliding_window_view(a, (11, 11)), sliding_window_view(b, (11, 11))
    mu_a = (wa * window).sum(axis=(-2, -1))
    mu_b = (wb * window).sum(axis=(-2, -1))
    var_a = (window * (wa - mu_a[..., None, None]) ** 2).sum(axis=(-2, -1))
    var_b = (window * (wb - mu_b[..., None, None]) ** 2).sum(axis=(-2, -1))
    cov = (window * (wa - mu_a[..., None, None]) * (wb - mu_b[..., None, None])).sum(axis=(-2, -1))
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(s.mean())


@pytest.mark.parametrize("noise", [3.0, 20.0])
def test_ssim_matches_reference(noise):
    rng = np.random.default_rng(2)
    a = rng.uniform(16, 235, (23, 31))
    b = np.clip(a + rng.normal(0, noise, a.shape), 0, 255)
    expected = reference_ssim(a, b)
    assert 0.0 < expected < 1.0
    assert ssim(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(expected, abs=1e-10)


def test_ssim_needs_a_full_window():
    with pytest.raises(ValueError):
        ssim(torch.zeros(10, 40), torch.zeros(10, 40))
