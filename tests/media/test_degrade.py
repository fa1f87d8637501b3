"""media/degrade.py: the --degrade spec, and x264, noise and blur applied to lavfi-generated frames."""

import subprocess

import numpy as np
import pytest

from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.degrade import X264, Blur, DegradeSpec, Mpeg2, Mpeg4, Noise, degrade_frames, parse_degrade
from tpstvsr_cli.media.judge import blocking
from tpstvsr_cli.media.probe import ffmpeg_exe


def lavfi_frames(width: int = 67, height: int = 37, frames: int = 6, source: str = "testsrc2") -> np.ndarray:
    """[frames, height, width, 3] uint8 from one of ffmpeg's generated test pictures (moving), on a pipe; made at
    even sizes (testsrc2 rounds odd ones) and cropped."""
    w, h = width + width % 2, height + height % 2
    cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", f"{source}=size={w}x{h}:rate=12",
           "-frames:v", str(frames), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:"]  # fmt: skip
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(frames, h, w, 3)[:, :height, :width].copy()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(mse, 1e-10)))


def test_spec_parses_in_the_order_written_and_prints_back():
    spec = parse_degrade("x264:crf=32:fps=12,noise:sigma=3")
    assert spec == DegradeSpec((X264(crf=32, fps=12.0), Noise(sigma=3.0)))
    assert str(spec) == "x264:crf=32:fps=12,noise:sigma=3"
    assert parse_degrade("noise:sigma=2.5:seed=7:gray=1,blur:sigma=0.5,x264:crf=20:preset=fast").steps == (
        Noise(2.5, seed=7, gray=True),
        Blur(0.5),
        X264(20, preset="fast"),
    )
    with pytest.raises(AttributeError):  # frozen: checked once, never changed
        spec.steps[0].crf = 10
    dvd = parse_degrade("mpeg2:q=8:fps=25,mpeg4:q=20")
    assert dvd.steps == (Mpeg2(8, 25.0), Mpeg4(20)) and Mpeg2(8) != Mpeg4(8)
    assert str(dvd) == "mpeg2:q=8:fps=25,mpeg4:q=20:fps=25"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "at least one step"),
        ("jpeg:q=20", "unknown step 'jpeg'"),
        ("x264", "crf= is required"),
        ("x264:crf=60", "crf must be 0..51"),
        ("x264:crf=23.5", "crf must be a whole number"),
        ("x264:crf=23:fps=0", "fps must be 1..240"),
        ("x264:crf=23:speed=2", "KEY one of crf, fps, preset"),
        ("x264:crf=23:preset=warp", "preset must be one of"),
        ("noise:sigma=-1", "sigma must be in (0, 50]"),
        ("noise:sigma=abc", "sigma must be a number"),
        ("noise:sigma=2,", "unknown step ''"),
        ("blur:sigma=9", "blur sigma must be in (0, 5]"),
        ("mpeg2:crf=20", "KEY one of q, fps"),
        ("mpeg2:q=1", "mpeg2 q must be 2..31"),
        ("mpeg4:q=40", "mpeg4 q must be 2..31"),
        ("mpeg4:fps=25", "q= is required"),
    ],
)
def test_bad_specs_are_one_line_errors(text, message):
    with pytest.raises(TpstvsrError) as info:
        parse_degrade(text)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith("--degrade")


def test_x264_is_deterministic_keeps_odd_sizes_and_follows_crf():
    frames = lavfi_frames()
    good = degrade_frames(frames, parse_degrade("x264:crf=18:fps=12"))
    again = degrade_frames(frames, parse_degrade("x264:crf=18:fps=12"))
    bad = degrade_frames(frames, parse_degrade("x264:crf=45:fps=12"))
    assert good.frames.shape == frames.shape and good.frames.dtype == np.uint8 and good.frames.flags.writeable
    assert np.array_equal(good.frames, again.frames) and good.bits_per_pixel == again.bits_per_pixel
    assert not np.array_equal(good.frames, frames)  # lossy
    assert psnr(good.frames, frames) > psnr(bad.frames, frames) + 5
    assert good.bits_per_pixel > 1.3 * bad.bits_per_pixel > 0


@pytest.mark.parametrize("codec", ["mpeg2", "mpeg4"])
def test_mpeg_encodes_are_deterministic_follow_q_and_show_blocks(codec):
    frames = lavfi_frames(96, 64, frames=8, source="mandelbrot")  # smooth gradients: blocks stand out on them
    fine = degrade_frames(frames, parse_degrade(f"{codec}:q=3:fps=12"))
    coarse = degrade_frames(frames, parse_degrade(f"{codec}:q=24:fps=12"))
    assert np.array_equal(coarse.frames, degrade_frames(frames, parse_degrade(f"{codec}:q=24:fps=12")).frames)
    assert coarse.frames.shape == frames.shape and coarse.frames.dtype == np.uint8
    assert psnr(fine.frames, frames) > psnr(coarse.frames, frames) + 3
    assert fine.bits_per_pixel > 2 * coarse.bits_per_pixel > 0
    assert blocking(coarse.frames) > blocking(frames) + 0.05  # no deblocking filter, unlike H.264


def test_noise_is_seeded_and_has_its_sigma():
    grey = np.full((4, 32, 48, 3), 128, np.uint8)
    noisy = degrade_frames(grey, parse_degrade("noise:sigma=5")).frames
    assert np.array_equal(noisy, degrade_frames(grey, parse_degrade("noise:sigma=5")).frames)
    assert not np.array_equal(noisy, degrade_frames(grey, parse_degrade("noise:sigma=5:seed=1")).frames)
    assert np.std(noisy.astype(float) - 128) == pytest.approx(5.0, rel=0.05)
    gray = degrade_frames(grey, parse_degrade("noise:sigma=5:gray=1")).frames
    assert np.array_equal(gray[..., 0], gray[..., 2]) and not np.array_equal(noisy[..., 0], noisy[..., 2])
    assert degrade_frames(grey, parse_degrade("noise:sigma=5")).bits_per_pixel is None


def test_blur_removes_detail_and_steps_follow_the_written_order():
    frames = lavfi_frames(source="testsrc") // 2 + 64  # mid-range, so that noise is not clipped
    blurred = degrade_frames(frames, parse_degrade("blur:sigma=1.5")).frames

    def detail(x):
        return (np.diff(x.astype(float), axis=2) ** 2).mean()  # gradient energy: blur lowers it, unlike total variation

    assert detail(blurred) < 0.5 * detail(frames)
    encode_first = degrade_frames(frames, parse_degrade("x264:crf=30,noise:sigma=4")).frames
    noise_first = degrade_frames(frames, parse_degrade("noise:sigma=4,x264:crf=30")).frames
    assert not np.array_equal(encode_first, noise_first)
    encoded = degrade_frames(frames, parse_degrade("x264:crf=30")).frames
    assert np.std(encode_first.astype(float) - encoded) == pytest.approx(4.0, rel=0.1)  # the noise, added last
