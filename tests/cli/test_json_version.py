"""--version, and --json on upscale and batch (what was written, frames, seconds, fps), as bench and eval have."""

import json

from typer.testing import CliRunner

from tpstvsr_cli import __version__
from tpstvsr_cli.cli import app


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"tpstvsr {__version__}"


def test_upscale_json(tmp_path, clips, tiny_weights):
    out = tmp_path / "o.mp4"
    result = CliRunner().invoke(
        app,
        [
            "upscale",
            str(clips / "testsrc.mp4"),
            str(out),
            "--weights",
            str(tiny_weights),
            "--device",
            "cpu",
            "--preset",
            "ultrafast",
            "-q",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["output"] == str(out) and data["frames_in"] == 12 and data["frames_out"] == 24
    assert data["seconds"] > 0 and abs(data["fps"] - 24 / data["seconds"]) < 0.01 * data["fps"] + 0.01
    assert data["warnings"] == []


def test_batch_json(tmp_path, clip_maker, tiny_weights):
    src = tmp_path / "in"
    src.mkdir()
    clip_maker(src / "a.mp4", size="32x24", frames=4)
    (src / "bad.mp4").write_text("not a video")
    args = [
        "batch",
        str(src),
        str(tmp_path / "out"),
        "--weights",
        str(tiny_weights),
        "--device",
        "cpu",
        "--preset",
        "ultrafast",
        "-q",
        "--json",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1  # one file failed
    data = json.loads(result.stdout)
    assert (data["converted"], data["skipped"], data["failed"]) == (1, 0, 1)
    good, bad = data["files"]
    assert good["status"] == "converted" and good["frames"] == 8 and good["fps"] > 0
    assert bad["status"] == "failed" and "not a video" in bad["reason"] and bad["fps"] is None
    again = json.loads(CliRunner().invoke(app, args).stdout)
    assert again["files"][0]["status"] == "skipped"
