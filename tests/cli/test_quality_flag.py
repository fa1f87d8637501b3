"""--quality on upscale, batch, preview and bench (issue 19): one flag, one meaning, refused alike when unknown."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import tpstvsr_cli.conversion.convert as convert_module
import tpstvsr_cli.conversion.planning as planning_module
import tpstvsr_cli.models.quality as quality_module
from tpstvsr_cli.cli import app
from tpstvsr_cli.conversion.convert import UpscaleResult
from tpstvsr_cli.conversion.settings import split_options


@pytest.fixture(scope="module")
def film(tmp_path_factory, clip_maker):
    folder = tmp_path_factory.mktemp("films")
    clip_maker(folder / "film.mp4", size="24x16", frames=4, audio=False)
    return folder / "film.mp4"


@pytest.fixture
def qualities(monkeypatch):
    """The --quality each conversion's network was made with."""
    seen, real = [], quality_module.apply_quality

    def recording(model, name):
        seen.append(name)
        return real(model, name)

    monkeypatch.setattr(planning_module, "apply_quality", recording)
    monkeypatch.setattr(quality_module, "apply_quality", recording)  # preview imports it when it runs
    return seen


def invoke(*args):
    result = CliRunner().invoke(app, [*map(str, args)])
    assert result.exit_code == 0, result.output
    return result


def test_upscale_batch_and_preview_run_the_quality_asked(tmp_path, film, tiny_weights, qualities):
    common = ("--weights", tiny_weights, "--device", "cpu", "--quality", "fast")
    invoke("upscale", film, tmp_path / "up.mp4", "-q", "--encoder-preset", "ultrafast", *common)
    invoke("batch", film.parent, tmp_path / "batch", "-q", "--encoder-preset", "ultrafast", *common)
    invoke("preview", film, tmp_path / "look.png", "-q", *common)
    assert qualities == ["fast", "fast", "fast"]
    assert (tmp_path / "up.mp4").is_file() and (tmp_path / "batch" / "film.mp4").is_file()


def test_bench_runs_the_quality_asked():
    args = ("bench", "--model", "tiny", "--sizes", "16x16", "--frames", "2", "--device", "cpu", "--json")
    best = json.loads(invoke(*args, "--quality", "best").stdout)["machine"]
    assert best["quality"] == "best" and best["ensemble"] == 2
    fast = json.loads(invoke(*args, "--quality", "fast", "--ensemble", "8").stdout)["machine"]
    assert fast["quality"] == "fast" and fast["ensemble"] == 8  # an --ensemble given wins


@pytest.mark.parametrize("flags, ensemble", [([], 2), (["--ensemble", "1"], 1)])
def test_best_means_ensemble_2_unless_ensemble_is_given(tmp_path, film, monkeypatch, flags, ensemble):
    asked = {}

    def fake_upscale(input, output, **options):
        asked.update(options)
        return UpscaleResult(input, output, 4, 8, 1.0)

    monkeypatch.setattr(convert_module, "upscale", fake_upscale)
    invoke("upscale", film, tmp_path / "o.mp4", "-q", "--quality", "best", *flags)
    asked.pop("weights")
    settings, _run = split_options(None, asked)
    assert settings.quality == "best" and settings.inference.ensemble == ensemble


@pytest.mark.parametrize("command", ["upscale", "batch", "preview", "bench"])
def test_an_unknown_quality_is_refused_before_any_work(tmp_path, film, tiny_weights, command):
    out = tmp_path / ("out.png" if command == "preview" else "out")
    places = [] if command == "bench" else [film.parent if command == "batch" else film, out]
    cmd = [sys.executable, "-m", "tpstvsr_cli", command, *map(str, places), "--quality", "turbo", "--device", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "error: --quality must be one of fast, balanced, best, got 'turbo'"
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []
