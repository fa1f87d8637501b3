"""Baseline (a) bicubic + averaging, and baseline (b) ffmpeg lanczos + minterpolate: shapes and frame alignment."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from eval_synthetic import moving_texture

from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.evaluation.baselines import bicubic_blend
from tpstvsr_cli.evaluation.ffmpeg_baseline import filter_string, lanczos_minterpolate
from tpstvsr_cli.evaluation.metrics import psnr, rgb_to_y


def bicubic_x4(frame: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(frame).permute(2, 0, 1)[None].float()
    return F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)[0].clamp(0, 255)


def as_uint8(x: torch.Tensor) -> np.ndarray:
    return x.round().byte().permute(1, 2, 0).numpy()


def test_bicubic_blend_frames():
    inputs = moving_texture(4, 10, 12)
    out = list(bicubic_blend(inputs))
    assert len(out) == 7
    assert all(f.shape == (40, 48, 3) and f.dtype == np.uint8 for f in out)
    for k in range(4):  # frame 2k is input k upscaled
        np.testing.assert_array_equal(out[2 * k], as_uint8(bicubic_x4(inputs[k])))
    for k in range(3):  # frame 2k+1 is the mean of the two upscales
        np.testing.assert_array_equal(
            out[2 * k + 1], as_uint8(0.5 * (bicubic_x4(inputs[k]) + bicubic_x4(inputs[k + 1])))
        )


def square_clip(n: int, step: int = 2) -> np.ndarray:
    """A bright 8x8 square on grey moving `step` pixels right per frame, 16x24 frames."""
    frames = np.full((n, 16, 24, 3), 40, np.uint8)
    for k in range(n):
        frames[k, 4:12, 2 + step * k : 10 + step * k] = 220
    return frames


def square_x(frame: np.ndarray) -> float:
    """Horizontal centre of the bright square, in output pixels."""
    return float(np.nonzero(frame[..., 1] > 130)[1].mean())


def test_ffmpeg_baseline_alignment():
    inputs = square_clip(5)
    out = list(lanczos_minterpolate(inputs))
    assert len(out) == 9 and out[0].shape == (64, 96, 3)
    # The square moves 2 input pixels per input frame: 8 output pixels per input frame, 4 per output frame.
    # Output j must sit at time j/2, starting where the upscale of input 0 puts the square.
    xs = [square_x(f) for f in out]
    x0 = square_x(as_uint8(bicubic_x4(inputs[0])))
    np.testing.assert_allclose(xs, [x0 + 4 * j for j in range(9)], atol=0.75)
    # Frame 2k is input k upscaled (lanczos, not bicubic: close, not equal) and no neighbour of it.
    for k in range(5):
        y = rgb_to_y(out[2 * k])
        assert psnr(y, rgb_to_y(as_uint8(bicubic_x4(inputs[k])))) > 25
        for other in (k - 1, k + 1):
            if 0 <= other < 5:
                assert psnr(y, rgb_to_y(as_uint8(bicubic_x4(inputs[other])))) < 20


def test_ffmpeg_filter_string_is_documented():
    assert filter_string(240, 135) == (
        "scale=960:540:flags=lanczos+accurate_rnd+full_chroma_int,format=yuv444p,"
        "minterpolate=fps=50:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1,"
        "scale=flags=accurate_rnd+full_chroma_int,format=rgb24"
    )


def test_ffmpeg_error_is_shown():
    with pytest.raises(TpstvsrError, match="Height or width < 32"):
        list(lanczos_minterpolate(square_clip(3)[:, :6, :6]))
