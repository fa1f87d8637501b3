"""One writer per output: a second run on a locked output is refused, a dead writer's lock is taken over."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from tpstvsr_cli.cli import app
from tpstvsr_cli.conversion import lock as lock_module
from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.conversion.lock import LOCK_NAME, STALE_S, OutputLocked, WriterLock
from tpstvsr_cli.conversion.workdir import work_dir_for
from tpstvsr_cli.media.probe import probe
from tpstvsr_cli.media.reader import read_all_frames
from tpstvsr_cli.media.writer import EncoderOptions

OPTS = dict(device="cpu", chunk=2, overlap=1, segment=4, encoder=EncoderOptions(preset="ultrafast"), quiet=True)


@pytest.fixture(scope="module")
def movie(tmp_path_factory, clip_maker):
    return clip_maker(tmp_path_factory.mktemp("movie") / "movie.mp4", size="32x24", frames=10)


@pytest.fixture
def live_pid():
    """A process that runs for the whole test (a live writer on this host)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def plant_lock(output, host, pid, age=0.0):
    """A lock as another run leaves it: its host and pid, last touched `age` seconds ago."""
    folder = work_dir_for(output)
    folder.mkdir(exist_ok=True)
    path = folder / LOCK_NAME
    started = time.time() - age - 5
    path.write_text(json.dumps({"host": host, "pid": pid, "started": started, "token": "planted"}))
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def _model(tiny_weights):
    from tpstvsr_cli.models.release import load_model

    return load_model(tiny_weights)[0]


@pytest.mark.parametrize("resume", [False, True])
def test_second_run_on_a_locked_output_is_refused_naming_the_running_one(
    tmp_path, movie, tiny_weights, live_pid, resume
):
    out = tmp_path / "out.mp4"
    lock = plant_lock(out, socket.gethostname(), live_pid)
    args = [
        sys.executable,
        "-m",
        "tpstvsr_cli",
        "upscale",
        str(movie),
        str(out),
        "--weights",
        str(tiny_weights),
        "--device",
        "cpu",
        "--quiet",
    ]
    proc = subprocess.run(args + (["--resume"] if resume else []), capture_output=True, text=True, timeout=120)
    message = proc.stderr.strip()
    assert proc.returncode == 2 and len(message.splitlines()) == 1 and message.startswith("error: "), message
    assert "being written by another run" in message and f"pid {live_pid} on {socket.gethostname()}" in message
    assert "since 20" in message and "--resume" not in message
    assert lock.exists() and json.loads(lock.read_text())["pid"] == live_pid  # the running one's lock is untouched
    assert list(work_dir_for(out).iterdir()) == [lock] and not out.exists()


def test_lock_of_a_dead_process_on_this_host_is_taken_over_with_a_warning(tmp_path, movie, tiny_weights):
    out = tmp_path / "out.mp4"
    pid = dead_pid()
    plant_lock(out, socket.gethostname(), pid)
    warnings = []
    result = upscale(movie, out, model=_model(tiny_weights), on_warning=warnings.append, **OPTS)
    assert result.frames_out == 20 and out.is_file()
    assert any(f"pid {pid} no longer runs" in w and "took over the lock" in w for w in warnings)
    assert not work_dir_for(out).exists()  # lock released, work folder gone


def test_stale_heartbeat_from_another_host_is_taken_over_and_a_fresh_one_is_not(tmp_path, movie, tiny_weights):
    out = tmp_path / "out.mp4"
    plant_lock(out, "render-node-7", 4242, age=STALE_S / 2)  # beating recently: that run may be alive
    with pytest.raises(OutputLocked, match=r"pid 4242 on render-node-7, since .*last heartbeat \d+ s ago"):
        upscale(movie, out, model=_model(tiny_weights), **OPTS)
    plant_lock(out, "render-node-7", 4242, age=STALE_S + 60)
    warnings = []
    result = upscale(movie, out, model=_model(tiny_weights), on_warning=warnings.append, **OPTS)
    assert result.frames_out == 20
    assert any("render-node-7" in w and "heartbeat stopped" in w for w in warnings)


def test_interrupted_run_releases_its_lock_and_resumes_without_a_takeover(tmp_path, movie, tiny_weights):
    from tpstvsr_cli.conversion.convert import Interrupted

    class Failing(__import__("torch").nn.Module):  # the same weights either way, so the resume matches
        def __init__(self, inner, fail_at=None):
            super().__init__()
            self.inner, self.calls, self.fail_at = inner, 0, fail_at

        def forward(self, *args, **kwargs):
            self.calls += 1
            if self.fail_at and self.calls >= self.fail_at:
                raise KeyboardInterrupt
            return self.inner(*args, **kwargs)

    out = tmp_path / "out.mp4"
    with pytest.raises(Interrupted):
        upscale(movie, out, model=Failing(_model(tiny_weights), fail_at=6), **OPTS)
    work = work_dir_for(out)
    assert (work / "resume.json").exists() and not (work / LOCK_NAME).exists()
    warnings = []
    result = upscale(movie, out, model=Failing(_model(tiny_weights)), resume=True, on_warning=warnings.append, **OPTS)
    assert result.frames_out == 20 and not any("lock" in w for w in warnings)


def test_frame_folder_output_holds_no_lock_file(tmp_path, movie, tiny_weights):
    out = tmp_path / "frames"
    upscale(movie, out, model=_model(tiny_weights), **OPTS)
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 19 and all(n.endswith(".png") for n in names)


def test_heartbeat_touches_the_lock_and_notices_a_takeover(tmp_path, monkeypatch):
    monkeypatch.setattr(lock_module, "HEARTBEAT_S", 0.05)
    lock = WriterLock(tmp_path / "x.mp4.tpstvsr-partial-work")
    lock.acquire()
    try:
        os.utime(lock.path, (1, 1))
        time.sleep(0.5)
        assert lock.path.stat().st_mtime > time.time() - 60  # touched again
        lock.check()
        data = json.loads(lock.path.read_text())
        lock.path.write_text(json.dumps({**data, "token": "someone-else"}))
        time.sleep(0.5)
        with pytest.raises(Exception, match="another run took over"):
            lock.check()
    finally:
        lock.release()
    assert lock.path.exists()  # not this run's lock any more: left to its owner


def test_batch_skips_a_film_another_run_is_converting(tmp_path, clip_maker, tiny_weights, live_pid):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    clip_maker(src / "a.mp4", size="32x24", frames=6)
    clip_maker(src / "b.mp4", size="32x24", frames=6)
    plant_lock(out / "b.mp4", socket.gethostname(), live_pid)
    args = [
        "batch",
        str(src),
        str(out),
        "--weights",
        str(tiny_weights),
        "--device",
        "cpu",
        "--quiet",
        "--preset",
        "ultrafast",
        "--segment-frames",
        "4",
    ]
    result = CliRunner().invoke(app, args + ["--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_name = {os.path.basename(f["input"]): f for f in report["files"]}
    assert by_name["a.mp4"]["status"] == "converted"
    assert by_name["b.mp4"]["status"] == "skipped" and f"pid {live_pid}" in by_name["b.mp4"]["reason"]
    assert (report["converted"], report["skipped"]) == (1, 1) and not (out / "b.mp4").exists()
    table = CliRunner().invoke(app, args, env={"COLUMNS": "400"}).output  # a is complete now: skipped as done
    row = next(line for line in table.splitlines() if "b.mp4" in line and "skipped" in line)
    assert f"being written by another run (pid {live_pid}" in row
    assert "1 of 2 file(s) done, 1 being converted by another run, 0 failed" in table


def test_two_real_writers_the_second_is_refused_and_the_first_finishes(tmp_path, clip_maker, tiny_weights):
    """The issue's case: the same conversion started again with --resume while the first is still running."""
    clip = clip_maker(tmp_path / "clip.mp4", size="64x48", frames=160)
    out = tmp_path / "out.mp4"
    cmd = [
        sys.executable,
        "-m",
        "tpstvsr_cli",
        "upscale",
        str(clip),
        str(out),
        "--weights",
        str(tiny_weights),
        "--device",
        "cpu",
        "--segment-frames",
        "8",
        "--preset",
        "ultrafast",
        "--quiet",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        state = work_dir_for(out) / "resume.json"
        deadline = time.time() + 120
        while time.time() < deadline and first.poll() is None:
            if state.exists() and json.loads(state.read_text() or "{}").get("done", 0) >= 1:
                break
            time.sleep(0.2)
        assert first.poll() is None, "the first run ended before it had written a segment"
        second = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, env=env, timeout=120)
        assert first.poll() is None, "the first run finished before the second was refused: make the clip longer"
        assert second.returncode == 2
        assert f"pid {first.pid} on {socket.gethostname()}" in second.stderr and "--resume" not in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        _, err = first.communicate(timeout=300)
    finally:
        first.kill()
    assert first.returncode == 0, err
    info = probe(out)
    assert abs(info.duration - probe(clip).duration) < 0.05 and info.audio_streams
    assert len(read_all_frames(out)) == 320 and not work_dir_for(out).exists()
