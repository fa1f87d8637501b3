"""probe: what `ffmpeg -i` says about colour, rotation, field order and the other streams."""

from pathlib import Path

import pytest

from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.probe import parse_stream_dump, probe

DUMP = """Input #0, matroska,webm, from 'x.mkv':
  Duration: 00:01:02.50, start: 0.000000, bitrate: 115 kb/s
  Chapters:
    Chapter #0:0: start 0.000000, end 1.000000
  Stream #0:0: Video: h264 (High), yuvj420p(pc, bt470bg/bt709/unknown, top coded first (swapped)), 720x576 [SAR 16:15 DAR 4:3], 29.97 fps, 29.97 tbr, 1k tbn
    Side data:
      Display Matrix: rotation of -90.00 degrees
  Stream #0:1: Audio: vorbis, 44100 Hz, mono, fltp
  Stream #0:2: Audio: pcm_s16le, 48000 Hz, stereo
  Stream #0:3: Subtitle: subrip
"""


def test_parses_colour_rotation_fields_and_streams():
    info = parse_stream_dump(DUMP, Path("x.mkv"))
    assert (info.width, info.height) == (576, 720)  # rotated by 90 degrees: decoded upright
    assert info.rotation == -90
    assert (info.color_range, info.color_matrix, info.color_primaries, info.color_transfer) == (
        "pc",
        "bt470bg",
        "bt709",
        None,
    )
    assert info.field_order == "tb"
    assert str(info.frame_rate) == "30000/1001"
    assert info.audio_codecs == ("vorbis", "pcm_s16le") and info.subtitle_codecs == ("subrip",)
    assert info.chapters == 1 and info.duration == pytest.approx(62.5)


def test_one_colour_name_means_all_three():
    line = "  Stream #0:0: Video: h264, yuv420p(tv, bt709, progressive), 64x48, 25 fps, 25 tbr\n"
    info = parse_stream_dump(line, Path("y.mp4"))
    assert (info.color_matrix, info.color_primaries, info.color_transfer, info.field_order) == ("bt709",) * 3 + (
        "progressive",
    )
    assert not info.has_audio


def test_probe_a_generated_clip(tmp_path, clip_maker):
    info = probe(clip_maker(tmp_path / "c.mp4", frames=12))
    assert (info.width, info.height, info.frame_rate, info.audio_streams) == (64, 48, 25, 1)
    assert info.frames_estimate == 12


def test_not_a_video_is_a_clear_error(tmp_path, run_ffmpeg):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(TpstvsrError, match="cannot read a video"):
        probe(text)
    with pytest.raises(TpstvsrError, match="no such file"):
        probe(tmp_path / "missing.mp4")
    run_ffmpeg("-f", "lavfi", "-i", "sine=d=0.2", str(tmp_path / "sound.m4a"))
    with pytest.raises(TpstvsrError, match="no video stream"):
        probe(tmp_path / "sound.m4a")


def test_smoke_file_tags(smoke_dir):
    info = probe(smoke_dir / "torchcodec_bt709_full_range.mp4")
    assert (info.color_matrix, info.color_range) == ("bt709", "pc")
