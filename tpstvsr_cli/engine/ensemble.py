"""Geometric self-ensemble: run the network on transposed and flipped copies of a clip and average the results.

Why it helps this network more than most: TPSRM, which makes the in-between frames, only sees vertical temporal
profiles (each column of the frame through time), so it follows vertical motion alone. On a transposed clip those
profiles are the rows: the second pass follows horizontal motion, and the average has both. Flips add the usual
self-ensemble gain. Training used 90-degree rotations and flips, so the copies are inputs the network knows.
"""

import torch

# Dihedral transforms of the last two (H, W) axes by bit: 1 transpose, 2 flip width, 4 flip height.
ENSEMBLES: dict[int, tuple[int, ...]] = {1: (0,), 2: (0, 1), 8: tuple(range(8))}


def transform(x: torch.Tensor, k: int) -> torch.Tensor:
    if k & 1:
        x = x.transpose(-1, -2)
    if k & 2:
        x = x.flip(-1)
    if k & 4:
        x = x.flip(-2)
    return x


def untransform(x: torch.Tensor, k: int) -> torch.Tensor:
    """The inverse of transform(., k)."""
    if k & 4:
        x = x.flip(-2)
    if k & 2:
        x = x.flip(-1)
    if k & 1:
        x = x.transpose(-1, -2)
    return x


def ensembled(run, clip: torch.Tensor, size: int) -> torch.Tensor:
    """Mean of untransform(run(transform(clip, k)), k) over the `size` transforms (1: just run(clip))."""
    if size not in ENSEMBLES:
        raise ValueError(f"ensemble size must be one of {sorted(ENSEMBLES)}, got {size}")
    total = None
    for k in ENSEMBLES[size]:
        out = untransform(run(transform(clip, k).contiguous()), k)
        total = out if total is None else total.add_(out)
    return total.div_(len(ENSEMBLES[size])) if size > 1 else total
