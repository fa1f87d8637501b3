"""Pairs of (degraded, clean) low-res clips for training the artifact removal (issue 21).

Each training source's first frames, halved when 720p or larger (as the training pool), every second frame kept
and shrunk 4x as the evaluation protocol makes its input (so the clean clip is what the clean weights were trained
on), then degraded `--copies` times whole, each by a random chain drawn as `tpstvsr train --degrade` draws them
(training/degradations.py: x264 at a random CRF and frame rate, noise, blur, random order; some stay clean).
Whole clips go through x264, not crops: rate control and motion search see real frames.

    python scripts/make_restore_set.py ../shared/data/train runs/restore/set --frames 40 --copies 2
writes one .npz per source and copy (clean, degraded: [N, h, w, 3] uint8; spec: the chain as eval replays it).
"""

import argparse
from itertools import islice
from pathlib import Path

import numpy as np

from tpstvsr_cli.evaluation.protocol import crop_to_multiple, downscale_input
from tpstvsr_cli.media.degrade import degrade_frames
from tpstvsr_cli.media.frame_folder import list_frames, read_frame
from tpstvsr_cli.media.reader import VideoReader
from tpstvsr_cli.training.degradations import DegradeOptions, random_spec
from tpstvsr_cli.training.frame_pool import discover_sources, halve_if_large


def first_frames(source: Path, count: int) -> np.ndarray:
    if source.is_dir():
        return np.stack([read_frame(p) for p in list_frames(source)[:count]])
    with VideoReader(source, frames=count) as reader:
        return np.stack(list(islice(reader, count)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, nargs="+")
    ap.add_argument("out", type=Path)
    ap.add_argument("--frames", type=int, default=40, help="low-res frames per source")
    ap.add_argument("--copies", type=int, default=2, help="random degradations per source")
    ap.add_argument("--seed", type=int, default=21)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for i, source in enumerate(discover_sources(args.data)):
        try:
            truth = halve_if_large(first_frames(source, 2 * args.frames - 1))
        except Exception as exc:  # a source ffmpeg cannot read is left out, as the training pool would refuse it
            print(f"skip {source.name}: {exc}")
            continue
        truth = crop_to_multiple(truth[: len(truth) - (1 - len(truth) % 2)])
        if len(truth) < 5 or min(truth.shape[1:3]) < 64:
            print(f"skip {source.name}: {truth.shape}")
            continue
        clean = downscale_input(truth)
        for c in range(args.copies):
            spec = random_spec(rng, DegradeOptions())
            degraded = clean if spec is None else degrade_frames(clean, spec).frames
            target = args.out / f"{i:03d}-{c}.npz"
            np.savez(target, clean=clean, degraded=degraded, spec=str(spec or "clean"), source=source.name)
            print(f"{target.name} {source.name} {clean.shape} {spec or 'clean'}", flush=True)


if __name__ == "__main__":
    main()
