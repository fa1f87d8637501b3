"""--source auto's judgement (media/judge.py) on lavfi-generated footage: natural-looking content (mandelbrot)
clean, re-encoded, noisy; streams by codec and bits per pixel."""

import subprocess

import pytest
from test_degrade import lavfi_frames

from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.degrade import degrade_frames, parse_degrade
from tpstvsr_cli.media.judge import judge_frames, judge_path, judge_stream
from tpstvsr_cli.media.probe import ffmpeg_exe


@pytest.fixture(scope="module")
def mandelbrot():
    return lavfi_frames(160, 120, 12, "mandelbrot")


def test_frames_clean_compressed_and_noisy(mandelbrot):
    clean = judge_frames(mandelbrot)
    assert clean.source == "clean" and clean.ratio_16 > 0.215 and clean.ratio_24 > 0.45
    for spec in ("x264:crf=23", "x264:crf=30"):
        judged = judge_frames(degrade_frames(mandelbrot, parse_degrade(spec)).frames)
        assert judged.source == "compressed" and "re-encoded" in judged.reason, spec
    noisy = judge_frames(degrade_frames(mandelbrot, parse_degrade("noise:sigma=12")).frames)
    assert noisy.source == "compressed" and noisy.noise > 5


@pytest.mark.parametrize("spec", ["mpeg2:q=4:fps=25", "mpeg2:q=16:fps=25", "mpeg4:q=8:fps=25"])
def test_decoded_dvd_and_divx_frames_are_compressed_by_their_blocks(mandelbrot, spec):
    judged = judge_frames(degrade_frames(mandelbrot, parse_degrade(spec)).frames)
    assert judged.source == "compressed" and "block edges" in judged.reason and judged.blocking >= 1.10


def test_streams_by_codec_and_rate(mandelbrot):
    assert judge_stream("ffv1", 0.3, mandelbrot).reason == "lossless codec ffv1"
    assert judge_stream("h264", 2.5, mandelbrot).source == "clean"  # plenty of bits: little lost
    assert judge_stream("mpeg2video", 0.4, mandelbrot).source == "compressed"  # a DVD's codec, few bits
    assert judge_stream("mpeg2video", 1.5, mandelbrot).source == "compressed"  # no deblocking: blocks show at 1.5
    assert judge_stream("h264", 1.5, mandelbrot).source == "clean"
    assert judge_stream("dvvideo", 2.4, mandelbrot).source == "clean"  # DV's 25 Mbit/s at PAL size
    assert judge_stream("h264", 0.1, mandelbrot).reason == "h264 at 0.10 bits per pixel, SD size or less"
    measured = judge_stream("h264", 0.2, mandelbrot)  # a modern codec at a moderate rate: the frames decide
    assert measured.source == "clean" and measured.ratio_16 is not None and "h264 at 0.20" in measured.reason


def encode(path, *codec: str):
    cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "mandelbrot=size=160x120:rate=12",
           "-frames:v", "24", *codec, str(path)]  # fmt: skip
    subprocess.run(cmd, check=True)
    return path


def test_judge_path_reads_files_and_folders(tmp_path):
    assert judge_path(encode(tmp_path / "a.mkv", "-c:v", "ffv1")).source == "clean"
    old = judge_path(encode(tmp_path / "b.avi", "-c:v", "mpeg4", "-q:v", "20"))
    assert old.source == "compressed" and old.reason.startswith("mpeg4 at ")
    folder = tmp_path / "frames"
    folder.mkdir()
    encode(folder / "%03d.png")
    assert judge_path(folder) == judge_frames(lavfi_frames(160, 120, 24, "mandelbrot")[6:18])  # the middle 12
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TpstvsrError, match="no frames"):
        judge_path(empty)
