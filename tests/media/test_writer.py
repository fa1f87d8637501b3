"""VideoWriter and the stream plan: other streams copied, failures leave no file."""

import numpy as np
import pytest

from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.colour import source_colour
from tpstvsr_cli.media.probe import parse_stream_dump, probe
from tpstvsr_cli.media.reader import read_all_frames
from tpstvsr_cli.media.streams import plan_streams
from tpstvsr_cli.media.writer import EncoderOptions, VideoWriter

FAST = EncoderOptions(preset="ultrafast")


@pytest.fixture(scope="module")
def rich_source(tmp_path_factory, run_ffmpeg, clip_maker):
    """An mp4 with audio, a text subtitle track and a chapter."""
    root = tmp_path_factory.mktemp("rich")
    base = clip_maker(root / "base.mp4", frames=10)
    (root / "s.srt").write_text("1\n00:00:00,000 --> 00:00:00,300\nhello\n")
    (root / "ch.txt").write_text(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=200\ntitle=one\n")
    out = root / "rich.mp4"
    run_ffmpeg(
        "-i",
        str(base),
        "-i",
        str(root / "s.srt"),
        "-i",
        str(root / "ch.txt"),
        "-map",
        "0",
        "-map",
        "1",
        "-map_chapters",
        "2",
        "-c:v",
        "copy",
        "-c:a",
        "copy",
        "-c:s",
        "mov_text",
        str(out),
    )
    return probe(out)


@pytest.mark.parametrize("suffix,subs", [(".mp4", "mov_text"), (".mkv", "subrip")])
def test_audio_subtitles_and_chapters_are_carried_over(tmp_path, rich_source, suffix, subs):
    frames = read_all_frames(rich_source.path)
    out = tmp_path / f"out{suffix}"
    plan = plan_streams(rich_source, out)
    with VideoWriter(out, 64, 48, rich_source.frame_rate, source_colour(rich_source), FAST, rich_source, plan) as w:
        for f in frames:
            w.write(f)
    info = probe(out)
    assert info.audio_codecs == ("aac",) and info.subtitle_codecs == (subs,) and info.chapters == 1
    assert not plan.warnings


def test_plan_converts_or_drops_what_a_container_cannot_hold():
    dump = (
        "  Stream #0:0: Video: h264, yuv420p, 64x48, 25 fps\n  Stream #0:1: Audio: pcm_s16le, 48000 Hz\n"
        "  Stream #0:2: Subtitle: hdmv_pgs_subtitle\n  Stream #0:3: Subtitle: subrip\n"
    )
    info = parse_stream_dump(dump, "x.mkv")
    mp4 = plan_streams(info, "out.mp4")
    assert mp4.audio == ["aac"] and mp4.subtitles == [None, "mov_text"] and len(mp4.warnings) == 2
    webm = plan_streams(info, "out.webm")
    assert webm.audio == ["libopus"] and webm.subtitles == [None, "webvtt"]
    assert plan_streams(info, "out.mkv").audio == ["copy"]


def test_an_encoder_error_is_clear_and_leaves_no_file(tmp_path, rich_source):
    out = tmp_path / "bad.mp4"
    frame = np.zeros((48, 64, 3), np.uint8)
    with pytest.raises(TpstvsrError, match="ffmpeg failed"):
        with VideoWriter(out, 64, 48, 25, source_colour(rich_source), EncoderOptions(codec="no-such-encoder")) as w:
            for _ in range(200):  # ffmpeg exits at once; the broken pipe shows within a few frames
                w.write(frame)
    assert not out.exists()


def test_a_failure_in_the_caller_leaves_no_file(tmp_path, rich_source):
    out = tmp_path / "half.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(out, 64, 48, 25, source_colour(rich_source), FAST) as w:
            w.write(np.zeros((48, 64, 3), np.uint8))
            raise RuntimeError("network failed")
    assert not out.exists()
