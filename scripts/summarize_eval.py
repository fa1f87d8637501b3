#!/usr/bin/env python3
"""Markdown table from `tpstvsr eval --json` outputs: per sequence, the mean over them, gains over bicubic.

python scripts/summarize_eval.py runs/eval/bedroom.json runs/eval/youtubevos.json --held-out runs/eval/triplets.json
"""

import argparse
import json
from pathlib import Path

METHODS = ("model", "bicubic", "ffmpeg")
KEYS = ("psnr", "ssim", "psnr_interp", "ssim_interp")


def _sequences(paths: list[Path]) -> list[dict]:
    return [s for p in paths for s in json.loads(Path(p).read_text())["sequences"]]


def _mean(seqs: list[dict]) -> dict:
    return {
        m: {k: sum(s["scores"][m][k] for s in seqs) / len(seqs) for k in KEYS}
        for m in METHODS
        if m in seqs[0]["scores"]
    }


def _rows(name: str, scores: dict) -> list[str]:
    out = []
    for m, v in scores.items():
        out.append(
            f"| {name} | {m} | {v['psnr']:.2f} | {v['ssim']:.4f} | {v['psnr_interp']:.2f} | {v['ssim_interp']:.4f} |"
        )
        name = ""
    gain = scores["model"]["psnr"] - scores["bicubic"]["psnr"]
    gain_i = scores["model"]["psnr_interp"] - scores["bicubic"]["psnr_interp"]
    out.append(f"| | *model - bicubic* | *{gain:+.2f}* | | *{gain_i:+.2f}* | |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("val", nargs="+", type=Path)
    ap.add_argument("--held-out", nargs="*", type=Path, default=[])
    args = ap.parse_args()
    lines = ["| sequence | method | PSNR | SSIM | PSNR-i | SSIM-i |", "|---|---|---:|---:|---:|---:|"]
    seqs = _sequences(args.val)
    for s in seqs:
        lines += _rows(f"{s['name']} ({s['size'][0]}x{s['size'][1]}, {s['frames']} fr)", s["scores"])
    lines += _rows(f"**mean of {len(seqs)}**", _mean(seqs))
    if args.held_out:
        held = _sequences(args.held_out)
        lines += _rows(f"**held-out: {len(held)} VFI triplets**", _mean(held))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
