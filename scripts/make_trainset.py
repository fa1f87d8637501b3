#!/usr/bin/env python3
"""Pack a compact training set (uint8 clips in one .npy) to carry to a lent GPU machine.

Only the repository travels to the device machine (64 MiB in all), not ../shared, so training there
reads a bank of random windows drawn here from the decoded training pool:
    python scripts/make_trainset.py ../shared/data/train --out trainset/bank.npy --frames 15 --crop 128 --max-mib 56
then, on the device: tpstvsr train trainset/bank.npy ...  (carry `trainset`, which .gitignore keeps out of git).
"""

import argparse
from pathlib import Path

import numpy as np

from tpstvsr_cli.training.frame_pool import load_pool
from tpstvsr_cli.training.samples import draw_sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--frames", type=int, default=15, help="frames per window (>= 2T-1 of training)")
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--max-mib", type=float, default=56.0)
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "tpstvsr" / "frames")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    clips = load_pool(args.data, args.cache_dir, args.frames)
    per = args.frames * args.crop * args.crop * 3
    count = int(args.max_mib * 2**20 // per)
    rng = np.random.default_rng(args.seed)
    bank = np.stack([draw_sample(clips, rng, args.frames, args.crop) for _ in range(count)])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, bank)
    print(f"{args.out}: {count} windows of {args.frames}x{args.crop}x{args.crop} ({bank.nbytes / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
