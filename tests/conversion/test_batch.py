"""tpstvsr batch: mirrored layout, a broken file among good ones, skipping finished outputs."""

import pytest
from typer.testing import CliRunner

from tpstvsr_cli.cli import app
from tpstvsr_cli.conversion.batch import batch
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.probe import probe
from tpstvsr_cli.media.writer import EncoderOptions

FAST = EncoderOptions(preset="ultrafast")


@pytest.fixture
def library(tmp_path, clip_maker):
    root = tmp_path / "movies"
    (root / "season1").mkdir(parents=True)
    clip_maker(root / "a.mp4", size="32x24", frames=5)
    clip_maker(root / "season1" / "b.mkv", size="32x24", frames=4)
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"garbage" * 50)  # a video in name only
    (root / "notes.txt").write_text("not a video, not looked at")
    return root


def test_broken_file_fails_alone_and_layout_is_mirrored(tmp_path, library, tiny_weights):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "batch",
            str(library),
            str(out),
            "--recursive",
            "--weights",
            str(tiny_weights),
            "--device",
            "cpu",
            "--preset",
            "ultrafast",
            "--quiet",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "broken.mp4" in result.output and "failed" in result.output and "2 of 3" in result.output
    assert probe(out / "a.mp4").width == 128
    assert probe(out / "season1" / "b.mkv").audio_streams == 1
    assert not (out / "broken.mp4").exists()
    assert not list(out.rglob("*partial*"))


def test_finished_outputs_are_skipped_and_broken_ones_redone(tmp_path, library, tiny_weights):
    (library / "broken.mp4").unlink()
    out = tmp_path / "out"
    first = batch(library, out, weights=tiny_weights, device="cpu", encoder=FAST, quiet=True)
    assert [o.status for o in first] == ["converted"]  # not recursive: season1/ is left alone
    (out / "extra.mp4").write_bytes(b"")  # not a source: ignored
    again = batch(library, out, recursive=True, weights=tiny_weights, device="cpu", encoder=FAST, quiet=True)
    assert [(o.input.name, o.status) for o in again] == [("a.mp4", "skipped"), ("b.mkv", "converted")]
    (out / "a.mp4").write_bytes(b"truncated")  # a damaged output is converted again
    third = batch(library, out, recursive=True, weights=tiny_weights, device="cpu", encoder=FAST, quiet=True)
    assert [o.status for o in third] == ["converted", "skipped"]
    assert probe(out / "a.mp4").width == 128
    fourth = batch(
        library, tmp_path / "as_mkv", ext="mkv", weights=tiny_weights, device="cpu", encoder=FAST, quiet=True
    )
    assert fourth[0].output == tmp_path / "as_mkv" / "a.mkv" and fourth[0].output.is_file()


def test_empty_folder_is_a_clear_error(tmp_path, tiny_weights):
    with pytest.raises(TpstvsrError, match="no videos"):
        batch(tmp_path, tmp_path / "out", weights=tiny_weights, device="cpu", quiet=True)


def test_two_inputs_for_one_output_refuse_the_batch(tmp_path, clip_maker, tiny_weights):
    src = tmp_path / "in"
    src.mkdir()
    clip_maker(src / "x.mp4", size="32x24", frames=4)
    clip_maker(src / "x.mkv", size="32x24", frames=5)
    out = tmp_path / "out"
    with pytest.raises(TpstvsrError, match=r"x\.mkv and x\.mp4 would both be written to .*x\.mp4"):
        batch(src, out, ext="mp4", weights=tiny_weights, device="cpu", encoder=FAST, quiet=True)
    assert not out.exists()
    result = CliRunner().invoke(
        app, ["batch", str(src), str(out), "--ext", "mp4", "--weights", str(tiny_weights), "--device", "cpu", "-q"]
    )
    assert result.exit_code != 0 and not out.exists()
    # Without --ext each keeps its own name (and its own work folder); a rerun skips both.
    first = batch(src, out, weights=tiny_weights, device="cpu", encoder=FAST, quiet=True)
    assert [(o.output.name, o.status) for o in first] == [("x.mkv", "converted"), ("x.mp4", "converted")]
    assert probe(out / "x.mkv").duration > probe(out / "x.mp4").duration
    again = batch(src, out, weights=tiny_weights, device="cpu", encoder=FAST, quiet=True)
    assert [o.status for o in again] == ["skipped", "skipped"]


def test_unfinished_work_in_the_input_folder_is_not_a_source(tmp_path, clip_maker):
    from tpstvsr_cli.conversion.batch import find_videos

    src = tmp_path / "in"
    (src / "y.mp4.tpstvsr-partial-work").mkdir(parents=True)
    clip_maker(src / "y.mp4.tpstvsr-partial-work" / "seg_00000.mp4", size="32x24", frames=2, audio=False)
    clip_maker(src / "x.mp4", size="32x24", frames=2, audio=False)
    assert [p.name for p in find_videos(src, recursive=True)] == ["x.mp4"]


@pytest.mark.parametrize(
    "flags, width, frames", [(["--keep-size"], 32, 10), (["--scale", "2"], 64, 10), (["--keep-rate"], 128, 5)]
)
def test_the_modes_of_upscale_apply_to_every_film(tmp_path, clip_maker, tiny_weights, flags, width, frames):
    root = tmp_path / "movies"
    root.mkdir()
    clip_maker(root / "a.mp4", size="32x24", frames=5)
    out = tmp_path / "out"
    args = ["batch", str(root), str(out), "--weights", str(tiny_weights), "--device", "cpu", "--quiet", *flags]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    info = probe(out / "a.mp4")
    assert (info.width, info.frames_estimate) == (width, frames)
