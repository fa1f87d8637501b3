"""Output settings are checked before any work (issue 9, defect 1): the container from the extension with
codecs that suit it, every encoder setting tried on this ffmpeg first, one-line errors naming the bad value,
no --resume advice that a resume cannot follow, and no leftover work blocking a try under another name."""

import subprocess
import sys

import pytest

from tpstvsr_cli.conversion.batch import batch
from tpstvsr_cli.conversion.convert import Interrupted, upscale
from tpstvsr_cli.conversion.workdir import work_dir_for
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.probe import probe
from tpstvsr_cli.media.reader import read_all_frames
from tpstvsr_cli.media.writer import EncoderOptions

FAST = EncoderOptions(preset="ultrafast")


@pytest.fixture
def model(tiny_failing):
    return tiny_failing()


@pytest.fixture(scope="module")
def movie(tmp_path_factory, clip_maker):
    return clip_maker(tmp_path_factory.mktemp("movie") / "movie.mp4", size="32x24", frames=12)


def test_webm_gets_vp9_and_opus(tmp_path, movie, model):
    out = tmp_path / "out.webm"
    result = upscale(movie, out, model=model, device="cpu", quiet=True)
    info = probe(out)
    assert info.codec == "vp9" and info.audio_codecs == ("opus",)
    assert (info.width, info.height) == (128, 96) and len(read_all_frames(out)) == 24
    assert abs(info.duration - probe(movie).duration) < 0.05
    assert any("libopus" in w for w in result.warnings)  # the AAC sound had to be converted, and it says so
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.webm"]


@pytest.mark.parametrize(
    "name,options,message",
    [
        ("out.txt", FAST, "no video format for the extension '.txt'"),
        ("out.webm", EncoderOptions(codec="libx264"), "a .webm file cannot hold libx264"),
        ("out.mp4", EncoderOptions(preset="bogus"), "--encoder-preset bogus"),
        ("out.mp4", EncoderOptions(pix_fmt="rgb48le"), "--pix-fmt rgb48le: libx264 cannot encode it"),
        ("out.mp4", EncoderOptions(pix_fmt="bogus"), "--pix-fmt bogus"),
        ("out.mp4", EncoderOptions(codec="nope"), "--codec nope: this ffmpeg has no such video encoder"),
        ("out.mp4", EncoderOptions(preset="ultrafast", extra={"tune": "bogus"}), "--encoder-opt tune=bogus"),
        ("out.mp4", EncoderOptions(preset="ultrafast", extra={"bogusopt": "1"}), "--encoder-opt bogusopt=1"),
    ],
)
def test_bad_output_settings_fail_before_any_frame(tmp_path, movie, model, name, options, message):
    with pytest.raises(TpstvsrError, match=message.replace("-", r"\-").replace(".", r"\.")) as caught:
        upscale(movie, tmp_path / name, model=model, device="cpu", quiet=True, encoder=options)
    assert model.calls == 0  # refused before the network saw a frame
    assert "--resume" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_settings_errors_are_one_line_through_the_cli(tmp_path, movie, tiny_weights):
    cmd = [
        sys.executable,
        "-m",
        "tpstvsr_cli",
        "upscale",
        str(movie),
        str(tmp_path / "o.mp4"),
        "--weights",
        str(tiny_weights),
        "--device",
        "cpu",
        "-q",
        "--encoder-preset",
        "superfast9",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    # The flag the user typed, not its old spelling --preset (issue 20); ffmpeg's own "[error]" kept.
    assert "error: --encoder-preset superfast9 does not work" in proc.stderr
    assert "invalid preset 'superfast9'" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_error_mid_run_does_not_advise_resume(tmp_path, movie, tiny_failing):
    failing = tiny_failing(fail_at=8, error=TpstvsrError)
    with pytest.raises(TpstvsrError) as caught:
        upscale(
            movie,
            tmp_path / "out.mp4",
            model=failing,
            device="cpu",
            quiet=True,
            encoder=FAST,
            chunk=2,
            overlap=1,
            segment=2,
        )
    assert "complete segment(s) kept" in str(caught.value) and "--resume" not in str(caught.value)


def test_leftover_work_does_not_block_another_extension(tmp_path, movie, tiny_failing, model):
    failing = tiny_failing(fail_at=8)
    opts = dict(device="cpu", quiet=True, encoder=FAST, chunk=2, overlap=1, segment=2)
    with pytest.raises(Interrupted):
        upscale(movie, tmp_path / "out.mkv", model=failing, **opts)
    assert work_dir_for(tmp_path / "out.mkv").is_dir()
    upscale(movie, tmp_path / "out.mp4", model=model, **opts)  # not blocked by out.mkv's unfinished work
    assert len(read_all_frames(tmp_path / "out.mp4")) == 24
    assert work_dir_for(tmp_path / "out.mkv") != work_dir_for(tmp_path / "out.mp4")


def test_a_stream_the_container_refuses_is_converted_with_a_warning(tmp_path, clip_maker, model):
    opus = clip_maker(tmp_path / "opus.mkv", size="32x24", frames=6, extra=("-c:a", "libopus"))
    out = tmp_path / "out.mov"  # QuickTime takes Opus only in .mp4
    result = upscale(opus, out, model=model, device="cpu", quiet=True, encoder=FAST)
    assert probe(out).audio_streams == 1 and probe(out).audio_codecs != ("opus",)
    assert any("sound re-encoded" in w for w in result.warnings)


def test_batch_refuses_a_bad_encoder_setting_before_converting(tmp_path, clip_maker, model):
    src = tmp_path / "in"
    src.mkdir()
    clip_maker(src / "a.mp4", size="32x24", frames=4)
    with pytest.raises(TpstvsrError, match="--encoder-preset bogus"):
        batch(src, tmp_path / "out", model=model, device="cpu", quiet=True, encoder=EncoderOptions(preset="bogus"))
    with pytest.raises(TpstvsrError, match="'.txt'"):
        batch(src, tmp_path / "out", model=model, device="cpu", quiet=True, encoder=FAST, ext="txt")
    assert model.calls == 0 and not (tmp_path / "out").exists()
