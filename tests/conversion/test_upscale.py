"""tpstvsr upscale end to end on tiny generated clips with a tiny untrained network."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from tpstvsr_cli.cli import app
from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.probe import probe
from tpstvsr_cli.media.reader import read_all_frames

runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=True)
    return result


def test_video_to_video_keeps_duration_and_sound(tmp_path, clips, tiny_weights):
    out = tmp_path / "up.mp4"
    result = cli(
        "upscale",
        clips / "testsrc.mp4",
        out,
        "--weights",
        tiny_weights,
        "--device",
        "cpu",
        "--chunk",
        "4",
        "--preset",
        "ultrafast",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    src, dst = probe(clips / "testsrc.mp4"), probe(out)
    assert (dst.width, dst.height) == (4 * src.width, 4 * src.height)
    assert dst.frame_rate == 2 * src.frame_rate
    assert dst.audio_streams == 1
    assert len(read_all_frames(out)) == 2 * 12  # 2N: the last frame held
    assert abs(dst.duration - src.duration) <= 1 / float(src.frame_rate)
    assert not list(tmp_path.glob("*partial*"))


def test_frame_folder_to_frame_folder_gives_2n_minus_1(tmp_path, tiny_weights):
    src = tmp_path / "frames"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in (1, 2, 10):  # natural order: 1, 2, 10
        Image.fromarray(rng.integers(0, 255, (20, 28, 3), dtype=np.uint8)).save(src / f"f{i}.png")
    out = tmp_path / "up"
    result = cli("upscale", src, out, "--weights", tiny_weights, "--device", "cpu", "-q")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"{i:08d}.png" for i in range(5)]
    assert Image.open(out / "00000004.png").size == (112, 80)


def test_folder_to_video_uses_fps_and_video_to_folder(tmp_path, clips, tiny_weights):
    frames_dir = tmp_path / "frames"
    upscale(clips / "odd.mkv", frames_dir, weights=tiny_weights, device="cpu", quiet=True)
    assert len(list(frames_dir.iterdir())) == 2 * 7 - 1
    assert Image.open(frames_dir / "00000000.png").size == (4 * 37, 4 * 29)  # odd sizes stay exact
    video = tmp_path / "back.mkv"
    result = upscale(frames_dir, video, weights=tiny_weights, device="cpu", fps=10, quiet=True, chunk=20)
    info = probe(video)
    assert info.frame_rate == 20 and (info.width, info.height) == (16 * 37, 16 * 29)
    assert result.frames_out == 2 * 13 and not info.has_audio


@pytest.mark.parametrize("matrix", ["bt709", "smpte170m"])
def test_colours_survive_the_conversion(tmp_path, rgb_video, tiny_weights, matrix):
    colours = np.array([[200, 40, 30], [30, 180, 60], [40, 60, 210], [230, 220, 40]], np.uint8)
    frame = np.zeros((32, 32, 3), np.uint8)
    for i, c in enumerate(colours):
        frame[(i // 2) * 16 : (i // 2 + 1) * 16, (i % 2) * 16 : (i % 2 + 1) * 16] = c
    src = rgb_video(tmp_path / "known.mp4", np.repeat(frame[None], 3, 0), 25, matrix, "tv")
    out = tmp_path / "up.mp4"
    upscale(src, out, weights=tiny_weights, device="cpu", quiet=True)
    info = probe(out)
    assert (info.color_matrix, info.color_range) == (matrix, "tv")
    got = read_all_frames(out)[2]
    centres = np.array([got[32 + (i // 2) * 64, 32 + (i % 2) * 64] for i in range(4)], int)
    assert np.abs(centres - colours).max() <= 4


def test_existing_output_needs_overwrite(tmp_path, clips, tiny_weights):
    out = tmp_path / "exists.mp4"
    out.write_bytes(b"keep me")
    with pytest.raises(TpstvsrError, match="--overwrite"):
        upscale(clips / "testsrc.mp4", out, weights=tiny_weights, device="cpu", quiet=True)
    assert out.read_bytes() == b"keep me"


def test_encoder_failure_leaves_nothing(tmp_path, clips, tiny_weights):
    from tpstvsr_cli.media.writer import EncoderOptions

    out = tmp_path / "never.mp4"
    with pytest.raises(TpstvsrError, match="--codec nope"):
        upscale(
            clips / "testsrc.mp4",
            out,
            weights=tiny_weights,
            device="cpu",
            quiet=True,
            encoder=EncoderOptions(codec="nope"),
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args,message",
    [
        (["--chunk", "0"], "chunk"),
        (["--device", "tpu"], "device"),
        (["--crf", "-1"], "crf"),
        (["--encoder-opt", "novalue"], "KEY=VALUE"),
        (["--precision", "fp8"], "precision"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, clips, tiny_weights, args, message):
    cmd = [
        sys.executable,
        "-m",
        "tpstvsr_cli",
        "upscale",
        str(clips / "testsrc.mp4"),
        str(tmp_path / "o.mp4"),
        "--weights",
        str(tiny_weights),
        "-q",
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert list(tmp_path.iterdir()) == []
