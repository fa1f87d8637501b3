"""Peak host memory of one streaming pass per preset, at two input sizes; prints the KiB-per-input-pixel slope
that presets.NetConfig.kib_per_input_px records (automatic tiling plans with it).

Each size runs in a fresh process (peak RSS only grows). Usage: python scripts/measure_memory.py [PRESET ...]
Run with the same GLIBC_TUNABLES as the converter; whole frames (tile=0), chunk 8, overlap 2, 13 frames, fp32.
"""

import subprocess
import sys

CHILD = """
import resource, sys, numpy as np, torch
from tpstvsr_cli.engine.stream import upscale_frames
from tpstvsr_cli.models import build_model
w, h, preset = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
frames = [np.random.default_rng(i).integers(0, 256, (h, w, 3), dtype=np.uint8) for i in range(13)]
for _ in upscale_frames(build_model(preset), frames, chunk=8, overlap=2, tile=0):
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
"""
SIZES = ((320, 180), (480, 270))  # above ~100k pixels: the fixed costs of small runs vary by ~50 MiB


def peak_kib(w: int, h: int, preset: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(w), str(h), preset], check=True, capture_output=True, text=True
    )
    return int(out.stdout.split()[-1])


if __name__ == "__main__":
    for preset in sys.argv[1:] or ["tiny", "default", "paper"]:
        (w0, h0), (w1, h1) = SIZES
        k0, k1 = peak_kib(w0, h0, preset), peak_kib(w1, h1, preset)
        print(
            f"{preset}: {k0 / 1024:.0f} MiB at {w0}x{h0}, {k1 / 1024:.0f} MiB at {w1}x{h1}, "
            f"{(k1 - k0) / (w1 * h1 - w0 * h0):.1f} KiB per input pixel"
        )
