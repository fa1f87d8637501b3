"""Scores of the evaluation protocol: PSNR and SSIM on the BT.601 luma channel, as the STVSR literature reports them.

Y is computed in float from 8-bit RGB with the formula of MATLAB's rgb2ycbcr (ITU-R BT.601, studio range):
    Y = 16 + 65.481 R + 128.553 G + 24.966 B,  R, G, B in 0..1,  Y in 16..235.
Like BasicSR's `to_y_channel` (and unlike MATLAB on uint8 images), Y is not rounded to 8 bits.
Both metrics use a peak value of 255.

SSIM is Wang et al. (2004): an 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, statistics over
'valid' windows only (no padding, as the reference MATLAB ssim_index and BasicSR), no downsampling, and the
mean of the SSIM map. The Gaussian is separable, so it runs as two 1-D convolutions in float64.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

# Two identical frames have an infinite PSNR; a frame-average needs a finite number, so a per-frame
# PSNR is capped here. 100 dB is far above anything a lossy method reaches (an MSE of 6.5e-6).
PSNR_CAP_DB = 100.0

_Y_WEIGHTS = (65.481, 128.553, 24.966)


def rgb_to_y(frames: np.ndarray) -> torch.Tensor:
    """uint8 RGB [..., H, W, 3] -> float64 Y [..., H, W] in 16..235 (BT.601)."""
    rgb = np.asarray(frames)
    if rgb.dtype != np.uint8:
        raise TypeError(f"rgb_to_y expects uint8 RGB frames, got {rgb.dtype}")
    if rgb.shape[-1] != 3:
        raise ValueError(f"rgb_to_y expects [..., H, W, 3], got {rgb.shape}")
    weights = np.array(_Y_WEIGHTS, dtype=np.float64) / 255.0
    return torch.from_numpy(16.0 + rgb.astype(np.float64) @ weights)


def psnr(y_a: torch.Tensor, y_b: torch.Tensor) -> float:
    """PSNR in dB of two luma images (values 0..255); capped at PSNR_CAP_DB (identical images)."""
    if y_a.shape != y_b.shape:
        raise ValueError(f"psnr: shapes differ {tuple(y_a.shape)} vs {tuple(y_b.shape)}")
    mse = torch.mean((y_a.to(torch.float64) - y_b.to(torch.float64)) ** 2).item()
    if mse == 0.0:
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, 10.0 * math.log10(255.0**2 / mse))


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """1-D Gaussian of `size` taps summing to 1 (the 2-D window is its outer product)."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _blur_valid(img: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """[N, 1, H, W] filtered by the separable window, 'valid' region only."""
    k = g.numel()
    out = F.conv2d(img, g.view(1, 1, k, 1))
    return F.conv2d(out, g.view(1, 1, 1, k))


def ssim(y_a: torch.Tensor, y_b: torch.Tensor) -> float:
    """Mean SSIM of two luma images [H, W] (values 0..255, both sides at least 11 pixels)."""
    if y_a.shape != y_b.shape or y_a.dim() != 2:
        raise ValueError(
            f"ssim: expected two [H, W] images of one shape, got {tuple(y_a.shape)} and {tuple(y_b.shape)}"
        )
    if min(y_a.shape) < 11:
        raise ValueError(f"ssim: images must be at least 11x11, got {tuple(y_a.shape)}")
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    g = gaussian_window()
    a = y_a.to(torch.float64)[None, None]
    b = y_b.to(torch.float64)[None, None]
    # One batched blur for the five statistics: mu_a, mu_b, E[a^2], E[b^2], E[ab].
    stats = _blur_valid(torch.cat([a, b, a * a, b * b, a * b]), g)
    mu_a, mu_b, e_aa, e_bb, e_ab = stats[:, 0]
    var_a, var_b = e_aa - mu_a**2, e_bb - mu_b**2
    cov = e_ab - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return ssim_map.mean().item()


def score_frame(output: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(PSNR, SSIM) on luma of one uint8 RGB output frame against its ground truth."""
    if output.shape != truth.shape:
        raise ValueError(f"output frame {output.shape} does not match ground truth {truth.shape}")
    y_out, y_gt = rgb_to_y(output), rgb_to_y(truth)
    return psnr(y_out, y_gt), ssim(y_out, y_gt)
