"""`tpstvsr preview`: one frame pair upscaled, bicubic left and tpstvsr right, in one PNG written atomically
(issue 9)."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.conversion.preview import CAPTION, GAP, preview
from tpstvsr_cli.media.reader import read_all_frames


@pytest.fixture(scope="module")
def film(tmp_path_factory, clip_maker):
    return clip_maker(tmp_path_factory.mktemp("film") / "film.mp4", size="24x16", frames=10)  # 0.4 s


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "tpstvsr_cli", "preview", *map(str, args)], capture_output=True, text=True
    )


def test_the_sheet_shows_bicubic_left_and_tpstvsr_right(tmp_path, film, tiny_weights):
    out = tmp_path / "look.png"
    proc = run_cli(film, out, "--at", "0.2", "--weights", tiny_weights, "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert "input frame 5" in proc.stderr and "left bicubic, right tpstvsr" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["look.png"]  # nothing else, no temporary file left
    sheet = np.asarray(Image.open(out))
    w, h = 4 * 24, 4 * 16
    assert sheet.shape == (2 * (h + CAPTION) + GAP, 2 * w + GAP, 3)
    frame5 = read_all_frames(film)[5]
    bicubic = np.asarray(Image.fromarray(frame5).resize((w, h), Image.Resampling.BICUBIC))
    assert np.array_equal(sheet[CAPTION : CAPTION + h, :w], bicubic)
    converted = tmp_path.parent / f"{tmp_path.name}-frames"
    upscale(film, converted, weights=tiny_weights, device="cpu", quiet=True)
    for row, index in ((0, 10), (1, 11)):  # output 2k and 2k+1 of a conversion
        y = row * (h + CAPTION + GAP) + CAPTION
        panel = sheet[y : y + h, w + GAP :].astype(int)
        assert np.abs(panel - np.asarray(Image.open(converted / f"{index:08d}.png"), int)).mean() < 0.5


def test_only_the_pair_is_computed(tmp_path, film, mixing_net):
    frames = []
    hook = mixing_net.fsm.register_forward_hook(lambda m, i, o: frames.append(o.shape[0]))
    try:
        result = preview(film, tmp_path / "p.png", "0:00.36", model=mixing_net, device="cpu")
    finally:
        hook.remove()
    assert result.frame == 8  # 0.36 s shows frame 9, the last: it pairs with the one before it
    # key frames k and k+1 through FSM, and key frame k-1, the one neighbour within tiny's fusion reach (1)
    # in the film (frame 8 is its last); nothing else
    assert sum(frames) == 3


@pytest.mark.parametrize(
    "args,message",
    [
        (["--at", "3"], "past the end"),
        (["--at", "-1"], "0 or more"),
        (["--at", "x"], "HH:MM:SS"),
    ],
)
def test_bad_positions_are_one_line_errors(tmp_path, film, tiny_weights, args, message):
    proc = run_cli(film, tmp_path / "p.png", "--weights", tiny_weights, *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and list(tmp_path.iterdir()) == []


def test_only_a_png_and_never_over_a_file_unasked(tmp_path, film, tiny_weights):
    proc = run_cli(film, tmp_path / "p.jpg", "--weights", tiny_weights)
    assert proc.returncode == 2 and "PNG" in proc.stderr
    kept = tmp_path / "p.png"
    kept.write_bytes(b"keep")
    proc = run_cli(film, kept, "--weights", tiny_weights)
    assert proc.returncode == 2 and "--overwrite" in proc.stderr and kept.read_bytes() == b"keep"
