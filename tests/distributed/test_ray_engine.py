"""`tpstvsr batch --engine ray` on Ray's multi-node simulator (ray.cluster_utils.Cluster: a head with no CPU for
tasks and two 1-CPU nodes on this machine): the outputs equal the one-machine batch's, a node removed mid-job
costs nothing but time, and a killed job's rerun skips the segments finished before. The network is the default
preset with perturbed weights, so its neighbour fusion, flow and vote run: Ray's tasks have one thread each and
the plain batch two, and the frames must still be equal (issue 20).

Ray binds the machine's address, so these tests run in a network namespace of their own: plain pytest runs them
through test_ray_netns.py (`unshare -n`), and here they skip unless only the loopback device exists.
"""

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")

from tpstvsr_cli.conversion.batch import batch  # noqa: E402
from tpstvsr_cli.distributed.ray_engine import ray_batch  # noqa: E402
from tpstvsr_cli.media.probe import ffmpeg_exe, probe  # noqa: E402
from tpstvsr_cli.media.reader import read_all_frames  # noqa: E402
from tpstvsr_cli.media.writer import EncoderOptions  # noqa: E402


def isolated() -> bool:
    """Only the loopback device: a network namespace of our own (unshare -n)."""
    try:
        lines = Path("/proc/net/dev").read_text().splitlines()[2:]  # this network namespace's devices
    except OSError:
        return False
    return {line.split(":")[0].strip() for line in lines} <= {"lo"}


pytestmark = pytest.mark.skipif(not isolated(), reason="Ray runs in its own network namespace: test_ray_netns.py")

OPTIONS = dict(
    device="cpu", encoder=EncoderOptions(preset="ultrafast"), segment_frames=4, chunk=2, overlap=1, quiet=True
)
FILMS = ["a.mp4", "long.mp4", "sub/b.mkv"]


@pytest.fixture(scope="module")
def library(tmp_path_factory, clip_maker, run_ffmpeg):
    """Three films with sound (one of 25 frames with a scene cut: 7 segments of 4) and a broken file."""
    root = tmp_path_factory.mktemp("films")
    (root / "sub").mkdir()
    clip_maker(root / "a.mp4", size="32x24", frames=5)
    clip_maker(root / "sub" / "b.mkv", size="32x24", frames=4)
    graph = (
        "testsrc2=s=32x24:r=25:d=0.44,format=yuv420p[a];mandelbrot=s=32x24:r=25,trim=end_frame=14,"
        "setpts=PTS-STARTPTS,format=yuv420p[b];[a][b]concat=n=2:v=1:a=0[out0]"
    )
    sine = "sine=frequency=440:sample_rate=48000:duration=1"
    run_ffmpeg(
        "-f", "lavfi", "-i", graph, "-f", "lavfi", "-i", sine, "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
        "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(root / "long.mp4"),
    )  # fmt: skip
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"garbage" * 50)
    return root


@pytest.fixture(scope="module")
def one_machine(library, tmp_path_factory, default_like_weights):
    """The plain loop's outputs: what every Ray run must give."""
    out = tmp_path_factory.mktemp("local")
    outcomes = batch(library, out, recursive=True, weights=default_like_weights, **OPTIONS)
    assert [o.status for o in outcomes] == ["converted", "failed", "converted", "converted"], [
        o.reason for o in outcomes
    ]
    return out


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(2):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()


def audio_md5(path: Path) -> str:
    proc = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "md5", "-"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def assert_same_outputs(out: Path, want: Path) -> None:
    for name in FILMS:
        a, b = probe(out / name), probe(want / name)
        assert (a.width, a.height, a.fps, a.audio_streams) == (b.width, b.height, b.fps, b.audio_streams), name
        assert abs(a.duration - b.duration) < 1e-3, name
        assert np.array_equal(read_all_frames(out / name), read_all_frames(want / name)), name
        assert audio_md5(out / name) == audio_md5(want / name), name
    assert not (out / "broken.mp4").exists()
    assert not list(out.rglob("*partial*")) and not list(out.rglob(".tpstvsr*"))


def test_cluster_outputs_equal_the_one_machine_batch(tmp_path, library, one_machine, cluster, default_like_weights):
    out = tmp_path / "out"
    outcomes, summary = ray_batch(
        library, out, recursive=True, weights=default_like_weights, address=cluster.address, **OPTIONS
    )
    assert [(o.input.name, o.status) for o in outcomes] == [
        ("a.mp4", "converted"),
        ("broken.mp4", "failed"),
        ("long.mp4", "converted"),
        ("b.mkv", "converted"),
    ], [o.reason for o in outcomes]
    assert "broken.mp4" in outcomes[1].reason and "cannot read" in outcomes[1].reason
    long = outcomes[2]
    assert long.segments == 7 and sorted(long.segments_converted) == list(range(7)) and long.frames == 50
    assert summary.nodes == 2 and summary.slots == 2 and summary.resource == "CPU"
    assert summary.segments_converted == 2 + 7 + 1 and summary.frames == 10 + 50 + 8
    assert sum(summary.segments_by_node.values()) == 10
    assert_same_outputs(out, one_machine)


def _work_files(out: Path, pattern: str) -> list[Path]:
    return [p for p in out.rglob(pattern) if "partial-work" in p.parent.name]


def test_node_removed_mid_job(tmp_path, library, one_machine, cluster, default_like_weights):
    out = tmp_path / "out"
    result = {}
    job = threading.Thread(
        target=lambda: result.update(
            run=ray_batch(
                library, out, recursive=True, weights=default_like_weights, address=cluster.address, **OPTIONS
            )
        )
    )
    job.start()
    deadline = time.monotonic() + 120
    while not _work_files(out, "seg_*.part.*") and job.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)  # a segment is being written: the job is under way
    assert job.is_alive(), "the job ended before a node could be removed"
    victim = next(iter(cluster.worker_nodes))
    cluster.remove_node(victim, allow_graceful=False)
    job.join(timeout=300)
    cluster.add_node(num_cpus=1)  # two workers again for the next test
    assert "run" in result, "the job did not complete"
    outcomes, summary = result["run"]
    assert [o.status for o in outcomes] == ["converted", "failed", "converted", "converted"], [
        o.reason for o in outcomes
    ]
    assert summary.segments_converted == 10
    assert_same_outputs(out, one_machine)


def test_killed_job_rerun_skips_finished_segments(tmp_path, library, one_machine, cluster, default_like_weights):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "tpstvsr_cli", "batch", str(library), str(out), "-r", "--engine", "ray"]
    cmd += ["--address", cluster.address, "--weights", str(default_like_weights), "--device", "cpu", "--preset"]
    cmd += ["ultrafast", "--segment-frames", "4", "--chunk", "2", "--overlap", "1", "-q", "--json"]
    driver = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    work = out / "long.mp4.tpstvsr-partial-work"
    while len(list(work.glob("seg_?????.mp4"))) < 2 and driver.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert driver.poll() is None, driver.stderr.read().decode()[-3000:]
    driver.send_signal(signal.SIGKILL)  # the whole job: Ray stops its tasks when their driver dies
    driver.wait()

    def finished() -> set[int]:
        return {int(p.name[4:9]) for p in work.glob("seg_?????.mp4")}

    before = finished()
    for _ in range(50):  # until the killed job's last workers are gone
        time.sleep(0.5)
        now = finished()
        if now == before:
            break
        before = now
    assert 2 <= len(before) < 7
    outcomes, summary = ray_batch(
        library, out, recursive=True, weights=default_like_weights, address=cluster.address, **OPTIONS
    )
    long = next(o for o in outcomes if o.input.name == "long.mp4")
    assert long.status == "converted" and long.segments_before == len(before)
    assert sorted(long.segments_converted) == sorted(set(range(7)) - before)  # none converted twice
    assert summary.segments_before >= len(before)
    assert summary.segments_converted == 10 - summary.segments_before - sum(
        2 if o.input.name == "a.mp4" else 1 for o in outcomes if o.status == "skipped"
    )
    assert_same_outputs(out, one_machine)
    assert json.dumps(summary.to_json())  # the --json summary holds plain values
