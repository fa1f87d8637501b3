"""tpstvsr bench on a tiny network and a tiny synthetic clip: every number present and positive."""

import json

import pytest
from typer.testing import CliRunner

from tpstvsr_cli.cli import app
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.evaluation.bench import bench, bench_table, parse_sizes


def test_bench_reports_every_stage():
    result = bench(sizes="32x24", frames=3, preset="tiny", device="cpu")
    machine, (row,) = result["machine"], result["rows"]
    assert machine["preset"] == "tiny" and machine["parameters"] > 1000 and machine["precision"] == "float32"
    assert "random weights" in machine["weights"] and machine["torch"]
    assert row["size"] == "32x24" and row["frames_in"] == 3
    for key in ("decode", "network", "encode", "end_to_end"):
        assert row[f"{key}_fps"] > 0 and row[f"{key}_mps"] > 0
    assert row["ffmpeg_reference_fps"] > 0 and row["peak_host_mib"] > 0 and row["peak_gpu_mib"] is None
    assert row["gflop_per_frame"] > 0
    assert bench_table(result).row_count == 1


def test_bench_json_from_the_cli_with_a_weights_file_and_an_input(tiny_weights, clips):
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--weights",
            str(tiny_weights),
            "--input",
            str(clips / "odd.mkv"),
            "--frames",
            "3",
            "--no-reference",
            "--device",
            "cpu",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["machine"]["preset"] == "tiny" and data["rows"][0]["size"] == "37x29"
    assert data["rows"][0]["frames_in"] == 3 and data["rows"][0]["ffmpeg_reference_fps"] is None


def test_bad_sizes_are_rejected():
    assert parse_sizes("320x180,640x360") == [(320, 180), (640, 360)]
    with pytest.raises(TpstvsrError, match="--sizes"):
        parse_sizes("big")


def test_network_and_end_to_end_rates_count_alike(monkeypatch):
    """Issue 9: end to end once read 1.49 fps against the network's 0.95, which cannot be. The warm-up now
    runs the timed frames' own shapes, and end to end counts the 2N-1 frames the network makes (the video's
    last frame is a free copy), as the network column does."""
    import tpstvsr_cli.evaluation.bench as bench_module
    from tpstvsr_cli.conversion.convert import UpscaleResult

    calls = []
    real = bench_module.upscale_frames

    def recording(model, frames, **kwargs):
        calls.append(len(frames))
        return real(model, frames, **kwargs)

    def fake_upscale(clip, out, **kwargs):  # 2N = 8 frames written in exactly 7 s
        return UpscaleResult(clip, out, 4, 8, 7.0)

    monkeypatch.setattr(bench_module, "upscale_frames", recording)
    monkeypatch.setattr(bench_module, "upscale", fake_upscale)
    row = bench(sizes="32x24", frames=4, preset="tiny", device="cpu", reference=False)["rows"][0]
    assert calls[:2] == [4, 4]  # the warm-up saw the timed window, not 2 frames
    assert row["end_to_end_fps"] == pytest.approx(1.0)  # 7 frames the network made, in 7 s
