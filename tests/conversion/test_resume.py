"""Never lose work: an interrupted run keeps complete segments, and --resume gives exactly the same video."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tpstvsr_cli.conversion.convert import Interrupted, upscale
from tpstvsr_cli.conversion.workdir import work_dir_for
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.probe import ffmpeg_exe, probe
from tpstvsr_cli.media.reader import read_all_frames
from tpstvsr_cli.media.writer import EncoderOptions

FAST = EncoderOptions(preset="ultrafast")
OPTS = dict(device="cpu", chunk=2, overlap=1, segment=4, encoder=FAST, quiet=True)


def audio_bytes(path):
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    )
    return proc.stdout


@pytest.fixture(scope="module")
def movie(tmp_path_factory, clip_maker):
    return clip_maker(tmp_path_factory.mktemp("movie") / "movie.mp4", size="32x24", frames=22)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, movie, tiny_failing):
    """The uninterrupted run."""
    out = tmp_path_factory.mktemp("ref") / "ref.mp4"
    upscale(movie, out, model=tiny_failing(), **OPTS)
    return out


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_interrupted_run_resumes_to_exactly_the_same_frames(tmp_path, movie, reference, tiny_failing, error):
    out = tmp_path / "out.mp4"
    expected = Interrupted if error is KeyboardInterrupt else RuntimeError
    with pytest.raises(expected):
        upscale(movie, out, model=tiny_failing(fail_at=12, error=error), **OPTS)
    work = work_dir_for(out)
    kept = json.loads((work / "resume.json").read_text())["done"]
    assert 0 < kept < 6 and not out.exists()
    with pytest.raises(TpstvsrError, match="--resume"):  # a plain rerun does not throw the work away
        upscale(movie, out, model=tiny_failing(), **OPTS)
    result = upscale(movie, out, model=tiny_failing(), resume=True, **OPTS)
    assert result.frames_out == 44
    assert np.array_equal(read_all_frames(out), read_all_frames(reference))
    assert audio_bytes(out) == audio_bytes(reference) == audio_bytes(movie)
    assert abs(probe(out).duration - probe(movie).duration) < 0.05
    assert not work.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_resume_with_other_settings_is_refused(tmp_path, movie, tiny_failing):
    out = tmp_path / "out.mp4"
    with pytest.raises(Interrupted):
        upscale(movie, out, model=tiny_failing(fail_at=12), **OPTS)
    with pytest.raises(TpstvsrError, match="other settings.*chunk: 2 -> 3"):
        upscale(movie, out, model=tiny_failing(), resume=True, **{**OPTS, "chunk": 3})
    upscale(movie, out, model=tiny_failing(), resume=True, overwrite=True, **{**OPTS, "chunk": 3})
    assert len(read_all_frames(out)) == 44 and not work_dir_for(out).exists()


def _cli(movie, out, weights, *extra):
    return [
        sys.executable,
        "-m",
        "tpstvsr_cli",
        "upscale",
        str(movie),
        str(out),
        "--weights",
        str(weights),
        "--device",
        "cpu",
        "--chunk",
        "2",
        "--overlap",
        "1",
        "--segment-frames",
        "4",
        "--preset",
        "ultrafast",
        "-q",
        *extra,
    ]


def _start_and_kill(cmd, work, sig):
    """Start the CLI, wait until it has completed a segment, then send `sig`."""
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    state = work / "resume.json"
    while proc.poll() is None:
        try:
            if json.loads(state.read_text())["done"] >= 1:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_cli_run_resumes(tmp_path, clip_maker, tiny_weights, sig):
    movie = clip_maker(tmp_path / "long movie é.mp4", size="32x24", frames=120)
    out = tmp_path / "out.mp4"
    code, err = _start_and_kill(_cli(movie, out, tiny_weights), work_dir_for(out), sig)
    if sig == signal.SIGTERM:
        assert code == 130 and "Traceback" not in err
        assert "--resume" in err and "complete segment(s) kept" in err
    else:
        assert code == -signal.SIGKILL
    assert not out.exists()
    proc = subprocess.run(_cli(movie, out, tiny_weights, "--resume"), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    ref = tmp_path / "ref.mp4"
    assert subprocess.run(_cli(movie, ref, tiny_weights), capture_output=True).returncode == 0
    assert np.array_equal(read_all_frames(out), read_all_frames(ref))
    assert audio_bytes(out) == audio_bytes(ref)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([movie.name, "out.mp4", "ref.mp4"])
