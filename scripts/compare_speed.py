#!/usr/bin/env python3
"""Seconds per output frame of two commits in one run on this machine: each commit's own `tpstvsr bench`.

python scripts/compare_speed.py [--old a4da8f5] [--new HEAD] [--sizes 180x144,320x180] [--frames 24]
                                [--precisions fp32,auto] [--json runs/compare-speed.json]

Each commit is checked out into a temporary git worktree and benched with the same synthetic clips, sizes,
frame count and weights (the new commit's weights file, passed explicitly, so only the code differs), one after
the other in this process's environment (GLIBC_TUNABLES as the CLI sets it). An old bench without per-stage
times shows decode, network, encode and end to end only. 24 frames make three windows at the default chunk, so
the context frames a window re-reads are counted as a long video pays them.

--rounds N benches each commit N times, alternating (old, new, then new, old, ...), and prints each part's median
over the rounds: on a shared 2-core VM a commit's own time moved 10-40% from minute to minute, which one old run
followed by one new run takes for the change.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUNABLES = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"


def worktree(ref: str, folder: Path) -> Path:
    path = folder / ref.replace("/", "_")
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(path), ref], check=True, capture_output=True
    )
    return path


def bench(tree: Path, weights: Path, sizes: str, frames: int, precision: str) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "tpstvsr_cli",
        "bench",
        "--sizes",
        sizes,
        "--frames",
        str(frames),
        "--json",
        "--no-reference",
        "--weights",
        str(weights),
        "--precision",
        precision,
    ]
    env = dict(os.environ, PYTHONPATH=str(tree), GLIBC_TUNABLES=os.environ.get("GLIBC_TUNABLES", TUNABLES))
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench failed in {tree}: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout)


def seconds_per_frame(row: dict) -> dict:
    """{part: seconds per output frame}; old benches report fps only."""
    if "seconds_per_frame" in row:
        return row["seconds_per_frame"]
    out = {k: 1 / row[f"{k}_fps"] for k in ("network", "encode", "end_to_end")}
    out["decode"] = 1 / row["decode_fps"] * row["frames_in"] / (2 * row["frames_in"] - 1)
    return out


def median_part(results: list[dict], size: str, part: str) -> float | None:
    """The median over rounds of one part's seconds per output frame at one size (None: not reported)."""
    values = [seconds_per_frame(next(x for x in r["rows"] if x["size"] == size)).get(part) for r in results]
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", default="a4da8f5")
    ap.add_argument("--new", default="HEAD")
    ap.add_argument("--sizes", default="180x144,320x180")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--precisions", default="fp32,auto", help="run the new commit at each; the old at fp32")
    ap.add_argument("--rounds", type=int, default=1, help="bench each commit this many times, alternating")
    ap.add_argument("--json", type=Path, help="also write all results here")
    args = ap.parse_args()
    weights = ROOT / "weights" / "tpstvsr-default.safetensors"
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        trees = {ref: worktree(ref, Path(tmp)) for ref in (args.old, args.new)}
        try:
            runs = [(args.old, "fp32")] + [(args.new, p) for p in args.precisions.split(",")]
            for turn in range(args.rounds):
                for ref, precision in runs if turn % 2 == 0 else runs[::-1]:
                    print(f"round {turn + 1}: benching {ref} at {precision} ...", file=sys.stderr, flush=True)
                    result = bench(trees[ref], weights, args.sizes, args.frames, precision)
                    results.append({"ref": ref, "precision": precision, "round": turn + 1, **result})
        finally:
            for tree in trees.values():
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True
                )
    print(f"machine: {results[0]['machine']['device']}; {args.frames} input frames per clip", end="")
    print(f"; median of {args.rounds} rounds\n" if args.rounds > 1 else "\n")
    columns = [[r for r in results if (r["ref"], r["precision"]) == run] for run in runs]
    parts = sorted({p for r in results for row in r["rows"] for p in seconds_per_frame(row)})
    order = [
        p
        for p in (
            "decode",
            "convolutions",
            "motion",
            "flow",
            "fusion",
            "vote",
            "other",
            "network",
            "encode",
            "end_to_end",
        )
        if p in parts
    ]
    for size in args.sizes.split(","):
        print(f"| {size} s per output frame | " + " | ".join(f"{ref} {precision}" for ref, precision in runs) + " |")
        print("|---|" + "---:|" * len(runs))
        for part in order:
            cells = [median_part(column, size, part) for column in columns]
            print(f"| {part} | " + " | ".join("-" if v is None else f"{v:.3f}" for v in cells) + " |")
        base = median_part(columns[0], size, "end_to_end")
        gains = [base / median_part(column, size, "end_to_end") for column in columns]
        print("| end to end vs old | " + " | ".join(f"{g:.2f}x" for g in gains) + " |\n")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
