#!/usr/bin/env python3
"""Markdown table of the quick validation gain against CPU-hours, from training checkpoints' histories.

    python scripts/val_curve.py runs/s4-finetune/last.ckpt:6.0 runs/default/last.ckpt

Each argument is a checkpoint, optionally with ':HOURS', the wall hours trained before that run began (the
history's minutes count from the run's own start). CPU-hours are wall hours x the cores the run had (--cores,
2 here; runs shared them with other work, so this is an upper bound on what training used). A checkpoint that
was resumed counts minutes from each resume, not from the first start: give such runs one at a time.
"""

import argparse

import torch


def rows(path: str, offset_hours: float, cores: int) -> list[str]:
    history = torch.load(path, map_location="cpu", weights_only=False)["history"]
    out = []
    for h in history:
        wall = offset_hours + h["minutes"] / 60
        out.append(
            f"| {h['step']} | {h['stage']} | {wall:.2f} | {wall * cores:.1f} "
            f"| {h['gain']:+.2f} | {h['gain_odd']:+.2f} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="CKPT[:HOURS_BEFORE]")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    print("| step | stage | wall hours | CPU-hours | gain all | gain interp |")
    print("|---:|---|---:|---:|---:|---:|")
    for item in args.checkpoints:
        path, _, hours = item.partition(":")
        print("\n".join(rows(path, float(hours or 0), args.cores)))


if __name__ == "__main__":
    main()
