"""Issue 20's new-user findings that a help text or the --json document shows."""

import json

from typer.testing import CliRunner

from tpstvsr_cli.cli import app


def help_text(*command: str) -> str:
    """The help as one line of words: the table's borders and line wraps removed."""
    output = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).output
    return " ".join(output.replace("│", " ").split())


def test_batch_help_keeps_the_ray_extra_in_brackets():
    # rich markup took "[ray]" for a style tag and printed pip install "tpstvsr" (issue 20).
    assert 'pip install ".[ray]"' in help_text("batch")


def run_json(args: list[str]):
    result = CliRunner().invoke(app, [*args, "--device", "cpu", "--encoder-preset", "ultrafast", "-q", "--json"])
    return result, json.loads(result.stdout)


def test_upscale_json_has_status_and_every_warning_said(tmp_path, clip_maker, tiny_weights):
    clip = clip_maker(tmp_path / "a.mp4", size="32x24", frames=4, audio=False)
    # fp16 on the CPU falls back to fp32 with a warning said before the conversion starts (issue 20: not in --json)
    result, data = run_json(["upscale", str(clip), str(tmp_path / "o.mp4"), "--weights", str(tiny_weights)] + FP16)
    assert result.exit_code == 0, result.output
    assert data["status"] == "converted" and data["frames"] == data["frames_out"] == 8
    assert data["warnings"] == [FP16_NOTE]
    assert f"warning: {FP16_NOTE}" in " ".join(result.stderr.split())


def test_batch_json_has_warnings_per_file_and_for_the_job(tmp_path, clip_maker, tiny_weights):
    src = tmp_path / "in"
    src.mkdir()
    clip_maker(src / "a.mp4", size="32x24", frames=4)  # AAC sound, which WebM cannot hold: converted, with a warning
    clip_maker(src / "b.mp4", size="32x24", frames=4, audio=False)
    args = ["batch", str(src), str(tmp_path / "out"), "--ext", "webm", "--weights", str(tiny_weights)] + FP16
    result, data = run_json(args)
    assert result.exit_code == 0, result.output
    with_sound, silent = data["files"]
    assert any("libopus" in w for w in with_sound["warnings"]) and silent["warnings"] == []
    assert data["warnings"] == [FP16_NOTE]  # said once, before the first file: the job's, not a file's


FP16 = ["--precision", "fp16"]
FP16_NOTE = "--precision fp16 is slower than fp32 on the CPU (and less exact); using fp32"
