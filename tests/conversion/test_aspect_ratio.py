"""Anamorphic sources keep their display aspect ratio (issue 9, defect 4): 160x96 pixels of shape 4:3, shown
at 20:9 (as on DVDs and old digitised tapes), come out as 640x384 pixels of shape 4:3, still 20:9."""

from fractions import Fraction
from pathlib import Path

import pytest

from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.media.probe import parse_stream_dump, probe
from tpstvsr_cli.media.writer import EncoderOptions


@pytest.fixture(scope="module")
def anamorphic(tmp_path_factory, clip_maker):
    path = tmp_path_factory.mktemp("ana") / "anamorphic.mp4"
    clip_maker(path, size="160x96", frames=4, extra=("-vf", "setsar=4/3"))
    assert probe(path).sar == Fraction(4, 3)
    return path


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_anamorphic_source_keeps_its_display_aspect_ratio(tmp_path, anamorphic, tiny_weights, suffix):
    out = tmp_path / f"out{suffix}"
    upscale(anamorphic, out, weights=tiny_weights, device="cpu", quiet=True, encoder=EncoderOptions(preset="ultrafast"))
    info = probe(out)
    assert (info.width, info.height) == (640, 384)
    assert info.sar == Fraction(4, 3)
    assert info.width * info.sar / info.height == Fraction(20, 9)


def test_square_pixels_stay_square(tmp_path, clips, tiny_weights):
    out = tmp_path / "out.mp4"
    upscale(
        clips / "testsrc.mp4",
        out,
        weights=tiny_weights,
        device="cpu",
        quiet=True,
        encoder=EncoderOptions(preset="ultrafast"),
    )
    assert probe(out).sar == 1


def test_frame_folder_output_says_the_pixels_are_not_square(tmp_path, anamorphic, tiny_weights):
    result = upscale(anamorphic, tmp_path / "frames", weights=tiny_weights, device="cpu", quiet=True)
    assert any("SAR 4:3" in w for w in result.warnings)


def test_sar_is_read_and_turned_with_a_rotation():
    line = "  Stream #0:0: Video: h264, yuv420p, 720x576 [SAR 16:15 DAR 4:3], 25 fps, 25 tbr\n"
    assert parse_stream_dump(line, Path("dvd.mkv")).sar == Fraction(16, 15)
    rotated = line + "    Side data:\n      Display Matrix: rotation of -90.00 degrees\n"
    assert parse_stream_dump(rotated, Path("dvd.mkv")).sar == Fraction(15, 16)  # decoded upright: pixels turn too
    unknown = "  Stream #0:0: Video: h264, yuv420p, 64x48 [SAR 0:1 DAR 0:1], 25 fps\n"
    assert parse_stream_dump(unknown, Path("x.mp4")).sar == 1
