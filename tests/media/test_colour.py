"""Colour: known RGB survives decode and encode in BT.709 and BT.601, limited and full range."""

import subprocess

import numpy as np
import pytest

from tpstvsr_cli.media.colour import ColourSpec, source_colour
from tpstvsr_cli.media.probe import ffmpeg_exe, probe
from tpstvsr_cli.media.reader import VideoReader, read_all_frames
from tpstvsr_cli.media.writer import EncoderOptions, VideoWriter

# Saturated colours, where BT.601 and BT.709 matrices differ most.
COLOURS = np.array([[200, 40, 30], [30, 180, 60], [40, 60, 210], [230, 220, 40]], np.uint8)


def patches(n: int = 3) -> np.ndarray:
    """[n, 32, 32, 3]: four 16x16 blocks of known colour."""
    frame = np.zeros((32, 32, 3), np.uint8)
    for i, c in enumerate(COLOURS):
        frame[(i // 2) * 16 : (i // 2 + 1) * 16, (i % 2) * 16 : (i % 2 + 1) * 16] = c
    return np.repeat(frame[None], n, axis=0)


def centres(frame: np.ndarray) -> np.ndarray:
    """The colour at each block's centre, away from chroma-subsampled edges ([4, 3] int)."""
    s = frame.shape[0] // 4
    return np.array([frame[s + (i // 2) * 2 * s, s + (i % 2) * 2 * s] for i in range(4)], int)


@pytest.mark.parametrize("matrix,range_", [("bt709", "tv"), ("smpte170m", "tv"), ("bt709", "pc"), ("bt470bg", "pc")])
def test_reader_uses_the_source_matrix_and_range(tmp_path, rgb_video, matrix, range_):
    path = rgb_video(tmp_path / "known.mp4", patches(), 25, matrix, range_)
    info = probe(path)
    assert (info.color_matrix, info.color_range) == (matrix, range_)
    frames = read_all_frames(path)
    assert np.abs(centres(frames[0]) - COLOURS).max() <= 3
    # The test can tell: decoding with the other standard's matrix shifts these colours visibly.
    other = ColourSpec("smpte170m" if matrix == "bt709" else "bt709", range_)
    with VideoReader(path, colour=other) as reader:
        wrong = next(iter(reader)).copy()
    assert np.abs(centres(wrong) - COLOURS).max() > 10


def decode_with(path, matrix: str, range_: str) -> np.ndarray:
    """An independent decode: plain ffmpeg told the matrix and range explicitly."""
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-loglevel",
        "error",
        "-i",
        str(path),
        "-frames:v",
        "1",
        "-vf",
        f"scale=in_color_matrix={matrix}:in_range={range_}:flags=accurate_rnd+full_chroma_int",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "pipe:",
    ]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(32, 32, 3)


@pytest.mark.parametrize(
    "spec",
    [
        ColourSpec("bt709", "tv", "bt709", "bt709"),
        ColourSpec("smpte170m", "tv", "smpte170m", "smpte170m"),
        ColourSpec("bt709", "pc", "bt709", "bt709"),
    ],
)
def test_writer_encodes_and_tags_with_the_given_matrix(tmp_path, spec):
    out = tmp_path / "w.mp4"
    with VideoWriter(out, 32, 32, 25, spec, EncoderOptions(crf=0, preset="ultrafast")) as writer:
        for frame in patches():
            writer.write(frame)
    info = probe(out)
    assert (info.color_matrix, info.color_range, info.color_primaries, info.color_transfer) == (
        spec.matrix,
        spec.range,
        spec.primaries,
        spec.transfer,
    )
    assert np.abs(centres(decode_with(out, spec.scale_matrix, spec.range)) - COLOURS).max() <= 3


def test_untagged_sources_get_the_players_guess(tmp_path, clip_maker):
    sd = probe(clip_maker(tmp_path / "sd.mp4", audio=False, frames=2))
    assert sd.color_matrix is None
    assert source_colour(sd) == ColourSpec("smpte170m", "tv", "smpte170m", "smpte170m")
    hd = probe(clip_maker(tmp_path / "hd.mp4", size="1280x720", audio=False, frames=1))
    assert source_colour(hd).matrix == "bt709"
