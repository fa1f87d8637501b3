"""--source clean|compressed|auto on upscale, preview, batch and eval: the shipped weights it picks (here two
tiny networks standing in for them), auto judging each input (media/judge.py)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tpstvsr_cli.cli import main
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.degrade import degrade_frames, parse_degrade
from tpstvsr_cli.media.probe import ffmpeg_exe
from tpstvsr_cli.media.reader import read_all_frames
from tpstvsr_cli.models import build_model, sources
from tpstvsr_cli.models.release import save_release
from tpstvsr_cli.models.sources import choose_weights


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """clean: an untrained tiny network; compressed: a perturbed one (its pictures differ)."""
    import torch

    paths = {"clean": tmp_path / "w" / "clean.safetensors", "compressed": tmp_path / "w" / "compressed.safetensors"}
    save_release(build_model("tiny"), "tiny", paths["clean"])
    torch.manual_seed(0)
    net = build_model("tiny")
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    save_release(net, "tiny", paths["compressed"])
    monkeypatch.setattr(sources, "source_weights", lambda source: paths[source])
    return paths


def mandelbrot(path, *codec, frames=8, size="64x48"):
    cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", f"mandelbrot=size={size}:rate=12",
           "-frames:v", str(frames), *codec, str(path)]  # fmt: skip
    subprocess.run(cmd, check=True)
    return path


def run_cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["tpstvsr", *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code or 0, out, err


def test_choose_weights_rules(shipped, tmp_path):
    with pytest.raises(TpstvsrError, match="not both"):
        choose_weights("clean", tmp_path / "x.safetensors")
    with pytest.raises(TpstvsrError, match="--source must be one of clean, compressed, auto"):
        choose_weights("dvd", None)
    assert choose_weights(None, tmp_path / "x.safetensors").source is None  # --weights wins
    frames = read_all_frames(mandelbrot(tmp_path / "m.mkv", "-c:v", "ffv1", frames=12, size="160x120"))
    assert choose_weights(None, None, frames=frames).weights == shipped["clean"]  # None: auto
    lossy = degrade_frames(frames, parse_degrade("x264:crf=30")).frames
    picked = choose_weights("auto", None, frames=lossy)
    assert picked.weights == shipped["compressed"] and picked.reason.startswith("auto: the frames change little")
    shipped["compressed"].unlink()
    assert choose_weights("auto", None, frames=lossy).reason == "auto: no compressed weights installed"
    with pytest.raises(TpstvsrError, match="--source compressed: weights file not found"):
        choose_weights("compressed", None)


def test_upscale_runs_the_weights_picked(shipped, tmp_path, monkeypatch, capsys):
    film = mandelbrot(tmp_path / "old.avi", "-c:v", "mpeg4", "-q:v", "31", frames=24, size="160x120")  # DivX-like
    outs = {}
    for source in ("clean", "compressed", "auto"):
        out = tmp_path / f"out-{source}"
        code, _, err = run_cli(monkeypatch, capsys, "upscale", film, out, "--source", source, "--device", "cpu")
        assert code == 0, err
        outs[source] = np.stack(read_all_frames_folder(out))
        said = "compressed" if source != "clean" else "clean"
        assert f"{said} weights (" in err
    assert "auto: mpeg4 at" in err
    assert not np.array_equal(outs["clean"], outs["compressed"]) and np.array_equal(outs["auto"], outs["compressed"])


def read_all_frames_folder(folder):
    from tpstvsr_cli.media.frame_folder import list_frames, read_frame

    return [read_frame(p) for p in list_frames(folder)]


def test_batch_judges_each_film(shipped, tmp_path, monkeypatch, capsys):
    films = tmp_path / "films"
    films.mkdir()
    mandelbrot(films / "master.mkv", "-c:v", "ffv1")
    mandelbrot(films / "rip.avi", "-c:v", "mpeg4", "-q:v", "31", frames=24, size="160x120")
    code, out, err = run_cli(monkeypatch, capsys, "batch", films, tmp_path / "out", "--json", "--device", "cpu", "-q")
    assert code == 0, err
    picked = {f["input"].rsplit("/", 1)[1]: f["source"] for f in json.loads(out)["files"]}
    assert picked == {"master.mkv": "clean", "rip.avi": "compressed"}


def test_eval_records_what_auto_picked_per_sequence(shipped, tmp_path, monkeypatch, capsys):
    truth = mandelbrot(tmp_path / "truth.mkv", "-c:v", "ffv1", frames=25, size="640x480")
    args = ("eval", truth, "--no-ffmpeg", "--device", "cpu", "--json")
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0, err
    data = json.loads(out)
    assert data["settings"]["source"] == "auto" and data["sequences"][0]["source"] == "clean"
    code, out, err = run_cli(monkeypatch, capsys, *args, "--degrade", "x264:crf=30:fps=12", "--source", "auto")
    assert code == 0, err
    seq = json.loads(out)["sequences"][0]
    assert seq["source"] == "compressed" and seq["source_reason"].startswith("auto:")
    assert "compressed weights (auto:" in err


@pytest.mark.parametrize("command", ["upscale", "preview", "eval"])
def test_weights_and_source_together_are_refused(shipped, tmp_path, monkeypatch, capsys, command):
    film = mandelbrot(tmp_path / "f.mkv", "-c:v", "ffv1")
    outs = {"upscale": [tmp_path / "o.mkv"], "preview": [tmp_path / "o.png"], "eval": []}[command]
    args = (command, film, *outs, "--weights", shipped["clean"], "--source", "clean", "--device", "cpu")
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and err.startswith("error:") and "not both" in err and len(err.strip().splitlines()) == 1


def test_preview_both_puts_the_compressed_weights_beside_the_clean(shipped, tmp_path, monkeypatch, capsys):
    from PIL import Image

    from tpstvsr_cli.conversion.preview import CAPTION, GAP

    film = mandelbrot(tmp_path / "f.mkv", "-c:v", "ffv1")
    out = tmp_path / "look.png"
    code, _, err = run_cli(
        monkeypatch, capsys, "preview", film, out, "--at", "0.2", "--source", "both", "--device", "cpu"
    )
    assert code == 0, err
    sheet = np.asarray(Image.open(out))
    w, h = 4 * 64, 4 * 48
    assert sheet.shape == (2 * (h + CAPTION) + GAP, 3 * w + 2 * GAP, 3)
    clean, compressed = (sheet[CAPTION : CAPTION + h, i * (w + GAP) : i * (w + GAP) + w] for i in (1, 2))
    assert not np.array_equal(clean, compressed)
    shipped["compressed"].unlink()
    code, _, err = run_cli(monkeypatch, capsys, "preview", film, out, "--source", "both", "--overwrite")
    assert code == 2 and "--source both: weights file not found" in err


def test_shipped_compressed_weights_sit_beside_the_default_and_load():
    from tpstvsr_cli.models.release import default_weights_path, load_model

    path = sources.source_weights("compressed")
    assert path.parent == default_weights_path().parent and path.is_file()  # tracked in git, installed with it
    from tpstvsr_cli.models import PRESETS

    model, meta = load_model(path)
    assert meta["preset"] == "compressed" and PRESETS["compressed"].neighbour_steps == 0  # no back-projection
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in load_model()[0].parameters())
