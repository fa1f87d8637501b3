"""Shared fixtures. Tests run on 2 shared cores: one torch thread, tiny networks, tiny generated clips.

Clips come from ffmpeg's lavfi sources (testsrc2 / mandelbrot pictures, sine audio), so no test needs
files from outside the repository.
"""

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from tpstvsr_cli.media.probe import ffmpeg_exe

torch.set_num_threads(1)

SHARED_SMOKE = Path(__file__).resolve().parents[2] / "shared" / "data" / "smoke"


def ffmpeg(*args: str) -> None:
    """Run the bundled ffmpeg; a failure shows its stderr."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def make_clip(
    path: Path,
    size: str = "64x48",
    frames: int = 12,
    rate: str = "25",
    audio: bool = True,
    source: str = "testsrc2",
    extra: tuple[str, ...] = (),
    pix_fmt: str = "yuv420p",
) -> Path:
    """A generated clip of exactly `frames` frames at `rate`, with sine audio of the same duration."""
    args = ["-f", "lavfi", "-i", f"{source}=s={size}:r={rate}"]
    if audio:  # a fixed duration: "-shortest" alone cut the audio at a load-dependent point (flaky estimates)
        seconds = frames / float(Fraction(rate))
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds:.6f}"]
    args += ["-frames:v", str(frames), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", pix_fmt]
    if audio:
        args += ["-c:a", "aac", "-shortest"]
    ffmpeg(*args, *extra, str(path))
    return path


def write_rgb_video(
    path: Path, frames: np.ndarray, rate: int, matrix: str, range_: str, extra: tuple[str, ...] = ()
) -> Path:
    """Encode known RGB frames [N, H, W, 3] with an explicit matrix and range, independently of the code
    under test: the scale filter converts, setparams tags."""
    n, h, w, _ = frames.shape
    scale_matrix = {"bt470bg": "bt470bg", "smpte170m": "smpte170m"}.get(matrix, matrix)
    vf = (
        f"scale=out_color_matrix={scale_matrix}:out_range={range_}:flags=accurate_rnd+full_chroma_int,"
        f"setparams=colorspace={matrix}:range={range_}"
    )
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{w}x{h}",
        "-framerate",
        str(rate),
        "-i",
        "pipe:",
        "-vf",
        vf,
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-pix_fmt",
        "yuv444p",
        *extra,
        str(path),
    ]
    proc = subprocess.run(cmd, input=frames.tobytes(), capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    return path


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> Path:
    """A folder of small generated clips shared by the converter tests."""
    root = tmp_path_factory.mktemp("clips")
    make_clip(root / "testsrc.mp4")
    make_clip(root / "odd.mkv", size="37x29", frames=7, source="mandelbrot", pix_fmt="yuv444p")  # odd: no 4:2:0
    return root


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """Release weights of an untrained tiny network (bicubic + frame averaging: fast and predictable)."""
    from tpstvsr_cli.models import build_model
    from tpstvsr_cli.models.release import save_release

    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_release(build_model("tiny"), "tiny", path)
    return path


@pytest.fixture
def restoring_tiny():
    """make(tail_std): the tiny network with a one-block artifact removal (models/artifact_removal.py) whose
    zero-started tail is no longer zero, as after training; the rest keeps tiny's random start."""
    import dataclasses

    from tpstvsr_cli.models import PRESETS, build_model

    def make(tail_std: float = 0.1):
        torch.manual_seed(0)
        net = build_model(dataclasses.replace(PRESETS["tiny"], restore_channels=4, restore_blocks=1)).eval()
        torch.nn.init.normal_(net.restore.tail.weight, std=tail_std)
        return net

    return make


def perturbed(preset: str, std: float = 0.02, seed: int = 0):
    """The preset's network with every parameter perturbed: its learnt layers really change the picture (an
    untrained one is close to bicubic), so rounding in them reaches the parameter-free parts, as in trained weights."""
    from tpstvsr_cli.models import build_model

    torch.manual_seed(seed)
    net = build_model(preset).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * std)
    return net


@pytest.fixture(scope="session")
def default_like_weights(tmp_path_factory) -> Path:
    """Release weights of the default preset, perturbed: its neighbour fusion, flow and vote all on."""
    from tpstvsr_cli.models.release import save_release

    path = tmp_path_factory.mktemp("weights") / "default-perturbed.safetensors"
    save_release(perturbed("default"), "default", path)
    return path


class FailingModel(torch.nn.Module):
    """A network that counts its passes and raises `error` from pass `fail_at` on (an injected crash or Ctrl-C)."""

    def __init__(self, inner, fail_at=None, error=KeyboardInterrupt):
        super().__init__()
        self.inner, self.fail_at, self.error, self.calls = inner, fail_at, error, 0
        self.pad_multiple = getattr(inner, "pad_multiple", 1)

    def forward(self, *args, **kwargs):
        self.calls += 1
        if self.fail_at is not None and self.calls >= self.fail_at:
            raise KeyboardInterrupt() if self.error is KeyboardInterrupt else self.error("injected failure")
        return self.inner(*args, **kwargs)


# The helpers as fixtures: test modules cannot import conftest (tests/ is not a package).
@pytest.fixture(scope="session")
def tiny_failing(tiny_weights):
    """tiny_failing(fail_at=None, error=KeyboardInterrupt): the tiny weights in a fresh FailingModel."""
    from tpstvsr_cli.models.release import load_model

    return lambda **kw: FailingModel(load_model(tiny_weights)[0], **kw)


@pytest.fixture(scope="session")
def run_ffmpeg():
    return ffmpeg


@pytest.fixture(scope="session")
def clip_maker():
    return make_clip


@pytest.fixture(scope="session")
def rgb_video():
    return write_rgb_video


@pytest.fixture(scope="session")
def smoke_dir() -> Path:
    """../shared/data/smoke, or a skip when this checkout has no shared data."""
    if not SHARED_SMOKE.is_dir():
        pytest.skip("no ../shared/data/smoke here")
    return SHARED_SMOKE


@pytest.fixture(scope="session")
def mixing_net():
    """A tiny network whose every parameter is perturbed, so it really mixes pixels in space and time
    (an untrained one is close to bicubic + frame averaging, which has no seams to find)."""
    import torch

    from tpstvsr_cli.models import build_model

    torch.manual_seed(0)
    net = build_model("tiny").eval()
    with torch.no_grad():
        for p in net.parameters():
            torch.nn.init.normal_(p, std=0.05)
    return net


@pytest.fixture(scope="session")
def fusing_net():
    """The tiny network with the default preset's fusion (reach 2, 4 passes, flows found every 2), perturbed:
    what the key-frame stream is tested on."""
    import dataclasses

    import torch

    from tpstvsr_cli.models import PRESETS, build_model

    torch.manual_seed(0)
    config = dataclasses.replace(PRESETS["tiny"], neighbour_reach=2, neighbour_passes=4, neighbour_flow_every=2)
    net = build_model(config).eval()
    with torch.no_grad():
        for p in net.parameters():
            torch.nn.init.normal_(p, std=0.05)
    return net


def check_upscale_refused(tmp_path: Path, video: Path, weights: Path, args: list[str], message: str) -> None:
    """`tpstvsr upscale VIDEO TMP/o.mp4 ARGS` exits 2 with a one-line error holding `message`, writing nothing."""
    cmd = [sys.executable, "-m", "tpstvsr_cli", "upscale", str(video), str(tmp_path / "o.mp4"), "--weights",
           str(weights), "-q", *args]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and proc.stderr.strip().count("\n") == 0
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="session")
def upscale_refused():
    return check_upscale_refused
