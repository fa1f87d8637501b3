"""--max-memory SIZE: read once, the same on upscale, batch, bench and eval, and handed to the network's planner;
an out-of-memory retry shows as the converter's own warning line."""

import subprocess
import sys

import pytest
import torch
from typer.testing import CliRunner

from tpstvsr_cli.cli import app
from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.engine import memory
from tpstvsr_cli.engine.memory_size import parse_size
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.writer import EncoderOptions

OPTS = dict(device="cpu", chunk=2, overlap=1, segment=4, encoder=EncoderOptions(preset="ultrafast"), quiet=True)


@pytest.mark.parametrize(
    "text, size",
    [
        ("4G", 4 << 30),
        ("512M", 512 << 20),
        ("1.5g", 3 << 29),
        ("2GiB", 2 << 30),
        ("800MB", 800 << 20),
        ("1T", 1 << 40),
        ("268435456", 256 << 20),
    ],
)
def test_sizes_are_read_in_powers_of_1024(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text, words",
    [
        ("lots", "expects a size such as 4G"),
        ("-1G", "expects a size"),
        ("4X", "expects a size"),
        ("4", "is 4 bytes"),
        ("10M", "below the 64M"),
    ],
)
def test_bad_sizes_are_refused_with_a_reason(text, words):
    with pytest.raises(TpstvsrError, match=words):
        parse_size(text)


@pytest.fixture(scope="module")
def movie(tmp_path_factory, clip_maker):
    return clip_maker(tmp_path_factory.mktemp("movie") / "movie.mp4", size="64x48", frames=10)


def _spy(monkeypatch):
    """Record the cap the planner is given (memory.available_bytes as inference.py calls it)."""
    caps = []

    def available(device, cap=None):
        caps.append(cap)
        return memory.available_bytes(device, cap)

    monkeypatch.setattr("tpstvsr_cli.engine.runner.available_bytes", available)
    return caps


@pytest.mark.parametrize("command", ["upscale", "batch", "bench", "eval"])
def test_every_command_hands_the_same_cap_to_the_planner(command, tmp_path, movie, tiny_weights, monkeypatch):
    caps = _spy(monkeypatch)
    weights = ["--weights", str(tiny_weights), "--device", "cpu"]
    args = {
        "upscale": ["upscale", str(movie), str(tmp_path / "out.mp4"), *weights, "--quiet"],
        "batch": ["batch", str(movie.parent), str(tmp_path / "out"), *weights, "--quiet", "--json"],
        "bench": ["bench", "--input", str(movie), "--frames", "4", *weights, "--no-reference", "--json"],
        "eval": ["eval", str(movie), *weights, "--max-frames", "5", "--no-ffmpeg", "--json"],
    }[command]
    (tmp_path / "out").mkdir()
    result = CliRunner().invoke(app, args + ["--max-memory", "1.5G"])
    assert result.exit_code == 0, result.output
    assert caps and set(caps) == {3 << 29}


@pytest.mark.parametrize("command", ["upscale", "batch", "bench", "eval"])
def test_a_bad_size_is_a_one_line_error_on_every_command(command, tmp_path, movie):
    args = {
        "upscale": ["upscale", str(movie), str(tmp_path / "o.mp4")],
        "batch": ["batch", str(movie.parent), str(tmp_path)],
        "bench": ["bench"],
        "eval": ["eval", str(movie)],
    }[command]
    proc = subprocess.run(
        [sys.executable, "-m", "tpstvsr_cli", *args, "--max-memory", "4"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: --max-memory 4 is 4 bytes, below the 64M the network needs at the least; give a unit, e.g. 4G or 512M"
    )


class FailsWhole(torch.nn.Module):
    """The network, except that whole 64x48 frames raise the CPU allocator's error (tiles pass)."""

    def __init__(self, net):
        super().__init__()
        self.net, self.failures = net, 0
        self.pad_multiple, self.interp = net.pad_multiple, net.interp

    def forward(self, clip, **kw):
        if clip.shape[-2] * clip.shape[-1] >= 48 * 64:
            self.failures += 1
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")
        return self.net(clip, **kw)


def test_an_out_of_memory_retry_is_the_converters_own_warning(tmp_path, movie, tiny_weights, capsys):
    from tpstvsr_cli.models.release import load_model

    failing = FailsWhole(load_model(tiny_weights)[0])
    warnings = []
    result = upscale(
        movie,
        tmp_path / "out.mp4",
        model=failing,
        tile_overlap=4,
        on_warning=warnings.append,
        max_memory=1 << 40,
        **OPTS,
    )
    assert result.frames_out == 20
    assert failing.failures == 1  # the finer plan is kept for the later windows and segments
    retry = [w for w in warnings if w.startswith("out of memory (") and "tiles per frame" in w]
    assert len(retry) == 1 and retry[0] in result.warnings  # said once, and in --json's warnings
    assert "warning: out of memory" not in capsys.readouterr().err  # not inference.py's raw stderr print


def test_the_cli_shows_the_retry_as_a_warning_line(tmp_path, movie, tiny_weights, monkeypatch):
    from tpstvsr_cli.conversion import planning as planning_module

    real = planning_module.get_model
    monkeypatch.setattr(planning_module, "get_model", lambda *a, **k: (FailsWhole(real(*a, **k)[0]), {}))
    result = CliRunner().invoke(
        app,
        [
            "upscale",
            str(movie),
            str(tmp_path / "out.mp4"),
            "--weights",
            str(tiny_weights),
            "--device",
            "cpu",
            "--quiet",
            "--tile-overlap",
            "4",
            "--max-memory",
            "8G",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "out of memory" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: out of memory (") and lines[0].endswith("tiles per frame")


def test_library_callers_are_checked_too(tmp_path, movie, tiny_weights):
    with pytest.raises(TpstvsrError, match="below the 64M"):
        upscale(movie, tmp_path / "out.mp4", weights=tiny_weights, max_memory=1000, **OPTS)
    assert not (tmp_path / "out.mp4").exists()
