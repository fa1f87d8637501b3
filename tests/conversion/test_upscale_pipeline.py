"""The threaded pipeline: bounded, ordered, errors surface in the caller, nothing left behind."""

import subprocess

import pytest
from PIL import Image

from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.conversion.pipeline import run_pipeline
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.probe import ffmpeg_exe, probe


def test_decoding_stays_a_bounded_distance_ahead():
    pulled = []

    def frames():
        for i in range(1000):
            pulled.append(i)
            yield i

    out = run_pipeline(frames, lambda items: (x * 2 for x in items), depth=4)
    assert [next(out) for _ in range(3)] == [0, 2, 4]
    # decoded queue (4) + network queue (2) + one item in each stage's hands: nowhere near 1000
    assert len(pulled) <= 3 + 4 + 2 + 3
    out.close()


def test_a_stage_error_reaches_the_caller():
    def frames():
        yield 1
        raise TpstvsrError("decoder broke")

    with pytest.raises(TpstvsrError, match="decoder broke"):
        list(run_pipeline(frames, lambda items: items))


def test_frames_of_different_sizes_fail_cleanly(tmp_path, tiny_weights):
    src = tmp_path / "mixed"
    src.mkdir()
    for i, size in enumerate([(24, 16), (24, 16), (30, 20)]):
        Image.new("RGB", size, (i * 50, 0, 0)).save(src / f"{i}.png")
    with pytest.raises(TpstvsrError, match=r"frame 2 \(2.png\) is 30x20"):
        upscale(src, tmp_path / "out.mp4", weights=tiny_weights, device="cpu", quiet=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mixed"]


def test_bigbuckbunny_smoke(tmp_path, smoke_dir, tiny_weights):
    """The issue's smoke file (5.1 AAC audio), shrunk to 64x36 and cut to half a second to stay quick."""
    small = tmp_path / "bbb.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(smoke_dir / "bigbuckbunny.mp4"),
            "-t",
            "0.5",
            "-vf",
            "scale=64:36",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "copy",
            str(small),
        ],
        check=True,
    )
    out = tmp_path / "bbb_x4.mp4"
    result = upscale(small, out, weights=tiny_weights, device="cpu", quiet=True)
    src, dst = probe(small), probe(out)
    assert (dst.width, dst.height, dst.frame_rate) == (256, 144, 2 * src.frame_rate)
    assert dst.audio_codecs == src.audio_codecs == ("aac",)
    assert result.frames_out == 2 * result.frames_in
    assert abs(result.frames_out / float(dst.frame_rate) - result.frames_in / float(src.frame_rate)) < 1e-6
