"""Soak check: peak memory of a real conversion must not grow with the video's length.

Converts generated clips of several lengths (testsrc2 pictures, sine sound) with the tiny network through the
real CLI (`python -m tpstvsr_cli upscale`, one fresh process per length), sampling the resident memory of the
converter and of its whole process tree (the ffmpeg decoder and encoders included) every 0.1 s. Prints, per
length: output frames, wall time, peak RSS of the converter and of the tree, and the converter's median RSS in
the second and the last quarter of the run (flat within one run as well as across runs). Exits 1 when the
longest run's peak exceeds the shortest's by more than --tolerance.

The issue-12 setting (tens of thousands of output frames, hours on 2 shared cores):
    python scripts/soak.py --lengths 1000,5000,20000
A short setting (minutes):
    python scripts/soak.py --lengths 200,800,3200 --size 48x32
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss(pid: int) -> int:
    """Resident bytes of one process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return found


class Sampler(threading.Thread):
    """(seconds, converter RSS, tree RSS, processes in the tree) every `every` seconds while the process runs."""

    def __init__(self, pid: int, every: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples, self.stop = pid, every, [], threading.Event()

    def run(self) -> None:
        start = time.perf_counter()
        while not self.stop.wait(self.every):
            own = rss(self.pid)
            if own:
                # A child forked but not yet exec'd shows the converter's pages as its own: leave it out.
                pids = [self.pid] + [p for p in tree(self.pid)[1:] if comm(p) != comm(self.pid)]
                self.samples.append((time.perf_counter() - start, own, sum(rss(p) for p in pids), len(pids)))


def tiny_weights(path: Path) -> Path:
    from tpstvsr_cli.models import build_model
    from tpstvsr_cli.models.release import save_release

    save_release(build_model("tiny"), "tiny", path)
    return path


def convert(clip: Path, out: Path, weights: Path, extra: list[str]) -> dict:
    """One conversion in a fresh process, sampled; its figures as a dict."""
    cmd = [
        sys.executable,
        "-m",
        "tpstvsr_cli",
        "upscale",
        str(clip),
        str(out),
        "--weights",
        str(weights),
        "--device",
        "cpu",
        "--quiet",
        "--preset",
        "ultrafast",
        *extra,
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid)
    sampler.start()
    _, err = proc.communicate()
    sampler.stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"conversion failed ({proc.returncode}): {err.strip()[-2000:]}")
    s = sampler.samples
    quarter = max(1, len(s) // 4)
    return {
        "wall_s": round(time.perf_counter() - start, 1),
        "samples": len(s),
        "peak_rss_mib": round(max(x[1] for x in s) / 2**20, 1),
        "peak_tree_rss_mib": round(max(x[2] for x in s) / 2**20, 1),
        "tree_peak_at": round(max(s, key=lambda x: x[2])[0] / s[-1][0], 3),  # fraction of the run
        "tree_processes_at_peak": max(s, key=lambda x: x[2])[3],
        # The second quarter, not the first: that one is mostly Python and torch starting up.
        "second_quarter_median_mib": round(statistics.median(x[1] for x in s[quarter : 2 * quarter]) / 2**20, 1),
        "last_quarter_median_mib": round(statistics.median(x[1] for x in s[-quarter:]) / 2**20, 1),
    }


def main() -> int:
    from tpstvsr_cli.evaluation.bench import synthetic_clip

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lengths", default="1000,5000,20000", help="input frames per clip, comma-separated")
    ap.add_argument("--size", default="64x48", help="input WxH")
    ap.add_argument("--tolerance", type=float, default=0.10, help="allowed growth of the peak, longest vs shortest")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("extra", nargs="*", help="more upscale options, after --")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        weights = tiny_weights(Path(tmp) / "tiny.safetensors")
        for n in (int(x) for x in args.lengths.split(",")):
            w, h = map(int, args.size.split("x"))
            (Path(tmp) / str(n)).mkdir()
            clip = synthetic_clip(Path(tmp) / str(n), w, h, n)  # testsrc2 pictures and sound, as bench
            row = {
                "input_frames": n,
                "output_frames": 2 * n,
                **convert(clip, Path(tmp) / f"out_{n}.mp4", weights, args.extra),
            }
            clip.unlink()
            rows.append(row)
            if not args.json:
                print(json.dumps(row), flush=True)
    growth = rows[-1]["peak_rss_mib"] / rows[0]["peak_rss_mib"] - 1
    result = {"size": args.size, "rows": rows, "peak_growth": round(growth, 4), "tolerance": args.tolerance}
    print(
        json.dumps(result, indent=1)
        if args.json
        else f"peak RSS {rows[0]['peak_rss_mib']} MiB at {rows[0]['output_frames']} output frames, "
        f"{rows[-1]['peak_rss_mib']} MiB at {rows[-1]['output_frames']}: {100 * growth:+.1f}% "
        f"({'flat' if growth <= args.tolerance else 'GROWS'}, tolerance {100 * args.tolerance:.0f}%)"
    )
    return 0 if growth <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
