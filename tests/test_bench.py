"""tpstvsr bench on a tiny network and a tiny synthetic clip: every number present and positive."""

import json

import pytest
from typer.testing import CliRunner

from tpstvsr_cli.bench import bench, bench_table, parse_sizes
from tpstvsr_cli.cli import app
from tpstvsr_cli.errors import TpstvsrError


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
    result = CliRunner().invoke(app, ["bench", "--weights", str(tiny_weights), "--input", str(clips / "odd.mkv"),
                                      "--frames", "3", "--no-reference", "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["machine"]["preset"] == "tiny" and data["rows"][0]["size"] == "37x29"
    assert data["rows"][0]["frames_in"] == 3 and data["rows"][0]["ffmpeg_reference_fps"] is None


def test_bad_sizes_are_rejected():
    assert parse_sizes("320x180,640x360") == [(320, 180), (640, 360)]
    with pytest.raises(TpstvsrError, match="--sizes"):
        parse_sizes("big")
