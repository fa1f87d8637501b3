#!/usr/bin/env python3
"""Peak host memory of real conversions against what memory.py predicts, at several input sizes.

Each size converts a generated clip end to end (`tpstvsr upscale`, whole frames: --tile 0) in a fresh process
and reads its peak RSS (ru_maxrss; ffmpeg's own processes are not counted). The prediction is the process's
resident size before the network ran plus memory.conversion_bytes(...). Usage:

    python scripts/check_memory_plan.py [--preset default] [--sizes 160x96,320x180,480x270] [--frames 12]
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import resource, sys, torch
from pathlib import Path
from tpstvsr_cli.cli.process import tune_allocator
tune_allocator()
from tpstvsr_cli.engine import memory
from tpstvsr_cli.models import build_model
from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.engine.stream import context_frames
clip, out, preset, w, h, chunk, overlap = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:8])
model = build_model(preset).eval()
base = int(open("/proc/self/statm").read().split()[1]) * 4096
predicted = base + memory.conversion_bytes(model, w, h, chunk, context_frames(model, overlap), torch.float32)
upscale(
    Path(clip), Path(out), model=model, device="cpu", precision="fp32", chunk=chunk, overlap=overlap, tile=0, quiet=True
)
print(base, int(predicted), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--sizes", default="160x96,320x180,480x270")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--chunk", type=int, default=8)
    parser.add_argument("--overlap", type=int, default=2)
    args = parser.parse_args()
    from tpstvsr_cli.evaluation.bench import synthetic_clip

    print("| input | before the network | predicted peak | measured peak | error |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            w, h = map(int, size.split("x"))
            out = Path(tmp) / f"{size}_x4.mp4"
            clip = synthetic_clip(Path(tmp), w, h, args.frames)  # testsrc2 pictures and sound, as bench
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    str(clip),
                    str(out),
                    args.preset,
                    str(w),
                    str(h),
                    str(args.chunk),
                    str(args.overlap),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            base, predicted, measured = map(int, done.stdout.split()[-3:])
            mib = lambda b: f"{b / 2**20:.0f} MiB"  # noqa: E731
            print(
                f"| {size} | {mib(base)} | {mib(predicted)} | {mib(measured)} "
                f"| {100 * (predicted - measured) / measured:+.0f}% |"
            )


if __name__ == "__main__":
    main()
