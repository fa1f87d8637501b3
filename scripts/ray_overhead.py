"""The overhead of `batch --engine ray` against the plain loop on one small collection (issue 11).

    unshare -n sh -c 'ip link set lo up && python scripts/ray_overhead.py'   # Ray binds only loopback there

Makes the test collection of tests/distributed (three short clips with sound, one of 7 segments, one broken
file), converts it with the tiny network (random weights) once with the plain loop and once with Ray started on
this machine, and prints the wall time of each (Ray's start, the workers' imports and the per-task planning
included) and whether the outputs are the same frames.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import ffmpeg, make_clip  # noqa: E402

from tpstvsr_cli.conversion.batch import batch  # noqa: E402
from tpstvsr_cli.distributed.ray_engine import ray_batch  # noqa: E402
from tpstvsr_cli.media.reader import read_all_frames  # noqa: E402
from tpstvsr_cli.media.writer import EncoderOptions  # noqa: E402
from tpstvsr_cli.models import build_model  # noqa: E402
from tpstvsr_cli.models.release import save_release  # noqa: E402

OPTIONS = dict(
    device="cpu", encoder=EncoderOptions(preset="ultrafast"), segment_frames=4, chunk=2, overlap=1, quiet=True
)


def collection(root: Path) -> Path:
    films = root / "films"
    (films / "sub").mkdir(parents=True)
    make_clip(films / "a.mp4", size="32x24", frames=5)
    make_clip(films / "sub" / "b.mkv", size="32x24", frames=4)
    graph = (
        "testsrc2=s=32x24:r=25:d=0.44,format=yuv420p[a];mandelbrot=s=32x24:r=25,trim=end_frame=14,"
        "setpts=PTS-STARTPTS,format=yuv420p[b];[a][b]concat=n=2:v=1:a=0[out0]"
    )
    ffmpeg(
        "-f", "lavfi", "-i", graph, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1",
        "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest",
        str(films / "long.mp4"),
    )  # fmt: skip
    (films / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"garbage" * 50)
    return films


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        films = collection(root)
        weights = root / "tiny.safetensors"
        save_release(build_model("tiny"), "tiny", weights)
        start = time.perf_counter()
        batch(films, root / "local", recursive=True, weights=weights, **OPTIONS)
        local = time.perf_counter() - start
        start = time.perf_counter()
        _outcomes, summary = ray_batch(films, root / "ray", recursive=True, weights=weights, **OPTIONS)
        with_ray = time.perf_counter() - start
        same = all(
            np.array_equal(read_all_frames(root / "local" / n), read_all_frames(root / "ray" / n))
            for n in ("a.mp4", "long.mp4", "sub/b.mkv")
        )
        cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
        print(f"{cores} cores; 3 films + 1 broken, 10 segments, 68 output frames (tiny network)")
        print(f"plain loop:    {local:6.1f} s")
        print(f"--engine ray:  {with_ray:6.1f} s  (of which the job after Ray's start: {summary.seconds:.1f} s)")
        print(f"overhead:      {with_ray - local:+6.1f} s; same frames: {same}")


if __name__ == "__main__":
    main()
