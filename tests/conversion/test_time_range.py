"""--start and --duration: a piece of a long film, its sound cut to the same piece (issue 9); bad values are
refused before any work with a one-line error."""

import subprocess

import numpy as np
import pytest
from PIL import Image

from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.media.endpoints import open_source
from tpstvsr_cli.media.probe import ffmpeg_exe, probe
from tpstvsr_cli.media.reader import read_all_frames
from tpstvsr_cli.media.timecode import parse_time
from tpstvsr_cli.media.writer import EncoderOptions

FAST = dict(device="cpu", quiet=True, chunk=4, encoder=EncoderOptions(preset="ultrafast"))


def audio_seconds(path) -> float:
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-ac", "1",
         "-ar", "48000", "-"],
        capture_output=True,
        check=True,
    )  # fmt: skip
    return len(proc.stdout) / 2 / 48000


@pytest.fixture(scope="module")
def film(tmp_path_factory, clip_maker):
    return clip_maker(tmp_path_factory.mktemp("film") / "film.mp4", size="32x24", frames=25)  # 1 s at 25 fps


def test_times_in_seconds_or_clock_form():
    assert parse_time("12.5", "--start") == 12.5
    assert parse_time("02:03.5", "--start") == 123.5
    assert parse_time("1:02:03.25", "--start") == 3723.25
    assert parse_time(None, "--duration") is None


def test_the_source_yields_exactly_the_frames_of_the_piece(film):
    every = list(open_source(film).frames())
    for start, duration, first, count in [(0.2, 0.2, 5, 5), (0.21, 0.2, 5, 5), (0.4, None, 10, 15), (0, 0.12, 0, 3)]:
        got = list(open_source(film, start=start, duration=duration).frames())
        assert len(got) == count, (start, duration)
        assert all(np.array_equal(a, b) for a, b in zip(got, every[first : first + count])), (start, duration)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".webm"])
def test_a_piece_keeps_rate_duration_and_sound_in_sync(tmp_path, film, tiny_weights, suffix):
    out = tmp_path / f"piece{suffix}"
    result = upscale(film, out, weights=tiny_weights, start="0:00.4", duration=0.4, **FAST)
    assert (result.frames_in, result.frames_out) == (10, 20)
    info = probe(out)
    assert info.frame_rate == 50 and (info.width, info.height) == (128, 96)
    assert len(read_all_frames(out)) == 20  # no frames added in front: the video starts at 0, with the sound
    assert abs(audio_seconds(out) - 0.4) <= 0.03


def test_a_piece_shows_the_frames_of_its_time(tmp_path, film, tiny_weights):
    whole, piece = tmp_path / "whole", tmp_path / "piece"
    upscale(film, whole, weights=tiny_weights, **FAST)
    upscale(film, piece, weights=tiny_weights, start=0.4, duration=0.2, **FAST)
    names = sorted(p.name for p in piece.iterdir())
    assert len(names) == 9  # 5 input frames -> 2 * 5 - 1 in a folder
    for k in range(5):  # key frames: input frame 10 + k
        a = np.asarray(Image.open(piece / names[2 * k]), np.int16)
        b = np.asarray(Image.open(whole / f"{2 * (10 + k):08d}.png"), np.int16)
        assert np.abs(a - b).mean() < 1.0


def test_a_frame_folder_is_cut_by_its_rate(tmp_path, tiny_weights):
    src = tmp_path / "frames"
    src.mkdir()
    for i in range(6):
        Image.fromarray(np.full((16, 20, 3), 40 * i, np.uint8)).save(src / f"{i}.png")
    out = tmp_path / "out"
    result = upscale(src, out, weights=tiny_weights, fps=10, start=0.2, duration=0.3, device="cpu", quiet=True)
    assert result.frames_out == 5
    assert np.asarray(Image.open(out / "00000000.png"))[0, 0, 0] == 80  # frame 2 (0.2 s at 10 fps)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--start", "-1"], "--start must be 0 or more"),
        (["--duration", "0"], "--duration must be more than 0"),
        (["--start", "5"], "past the end"),
        (["--start", "0.8", "--duration", "0.5"], "ends past the end"),
        (["--start", "abc"], "HH:MM:SS"),
        (["--start", "1:75"], "under 60"),
    ],
)
def test_bad_ranges_are_refused_before_any_work(tmp_path, film, tiny_weights, upscale_refused, args, message):
    upscale_refused(tmp_path, film, tiny_weights, args, message)


def test_an_interrupted_piece_resumes_to_the_same_frames(tmp_path, film, tiny_failing):
    from tpstvsr_cli.conversion.convert import Interrupted

    opts = dict(FAST, start=0.2, duration=0.48, segment=4, chunk=2, overlap=1)
    reference = tmp_path / "ref.mkv"
    upscale(film, reference, model=tiny_failing(), **opts)
    out = tmp_path / "out.mkv"
    with pytest.raises(Interrupted):
        upscale(film, out, model=tiny_failing(fail_at=8), **opts)
    result = upscale(film, out, model=tiny_failing(), resume=True, **opts)
    assert result.frames_out == 24
    assert np.array_equal(read_all_frames(out), read_all_frames(reference))
