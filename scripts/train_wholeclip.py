"""Experiment (issue 21, session 18; not shipped): `tpstvsr train --degrade` with input degraded as whole clips.

`train --degrade` encodes each sample's input crop (32x32, 4 frames) through x264 on its own. On 8 training
clips that is 2 dB harsher than the same crops cut from an encode of the whole clip at the same CRF (CRF 23:
37.3 against 39.3 dB; CRF 32: 31.8 against 33.5), and every crop starts with an I-frame. Here each clip's
segments (up to 40 input frames, stride 1-3) are shrunk 4x as the protocol does and degraded whole, once, by
the same random chains (training/degradations.py), and the samples are cut from them. The trainer's make_batch
is replaced; everything else is `tpstvsr train` (arguments as usual). WC_SEGMENTS: segments per clip (3).
Results: weights/README.md, the compressed card ("Whole-clip degradations").
"""

import os
import sys
import time

import numpy as np

import tpstvsr_cli.training.trainer as trainer
from tpstvsr_cli.cli.main import main
from tpstvsr_cli.engine.tensors import frames_to_tensor
from tpstvsr_cli.evaluation.protocol import downscale_input
from tpstvsr_cli.media.degrade import degrade_frames
from tpstvsr_cli.training.degradations import DegradeOptions, random_spec
from tpstvsr_cli.training.samples import augment, detail

LR_FRAMES = 40
_segments = None


def build(clips, rng):
    """[(clip index, ground-truth frame indices, top, left, degraded input [N, h, w, 3])] for every clip."""
    segments, start = [], time.time()
    for ci, clip in enumerate(clips):
        n, h, w, _ = clip.frames.shape
        h4, w4 = h - h % 4, w - w % 4
        if min(h4, w4) < 128:
            continue
        top, left = (h - h4) // 2, (w - w4) // 2
        for _ in range(int(os.environ.get("WC_SEGMENTS", 3))):
            stride = int(rng.integers(1, 4))
            while stride > 1 and 14 * stride + 1 > n:  # at least 8 input frames
                stride -= 1
            count = min(LR_FRAMES, (n - 1) // (2 * stride) + 1)
            span = (2 * count - 2) * stride + 1
            first = int(rng.integers(0, n - span + 1))
            idx = np.arange(first, first + span, stride)
            lr = downscale_input(np.asarray(clip.frames[idx, top : top + h4, left : left + w4]))
            spec = random_spec(rng, DegradeOptions())
            segments.append((ci, idx, top, left, lr if spec is None else degrade_frames(lr, spec).frames))
    print(f"whole-clip degradations: {len(segments)} segments in {time.time() - start:.0f} s", flush=True)
    return segments


def draw(clips, rng, in_frames, crop, tries):
    """One augmented (input [T, c, c, 3], truth [2T-1, crop, crop, 3]) pair; the most detailed of `tries` crops."""
    ci, idx, top, left, deg = _segments[rng.integers(len(_segments))]
    frames, c = clips[ci].frames, crop // 4
    t0 = int(rng.integers(0, len(deg) - in_frames + 1))
    corners = [
        (int(rng.integers(0, deg.shape[1] - c + 1)), int(rng.integers(0, deg.shape[2] - c + 1))) for _ in range(tries)
    ]
    mid = idx[2 * t0 + in_frames - 1]
    scores = [
        detail(np.asarray(frames[mid, top + 4 * y : top + 4 * y + crop, left + 4 * x : left + 4 * x + crop]))
        for y, x in corners
    ]
    y, x = corners[int(np.argmax(scores))]
    gt = np.asarray(
        frames[
            idx[2 * t0 : 2 * t0 + 2 * in_frames - 1],
            top + 4 * y : top + 4 * y + crop,
            left + 4 * x : left + 4 * x + crop,
        ]
    )
    return augment(rng, deg[t0 : t0 + in_frames, y : y + c, x : x + c], gt)


def make_batch(clips, rng, batch, in_frames, crop, max_stride=1, crop_tries=1, probs=None, degrade=None):
    global _segments
    if _segments is None:
        _segments = build(clips, np.random.default_rng(18))
    pairs = [draw(clips, rng, in_frames, crop, crop_tries) for _ in range(batch)]
    return tuple(frames_to_tensor(np.stack([p[i] for p in pairs])) for i in (0, 1))


if __name__ == "__main__":
    trainer.make_batch = make_batch
    sys.argv = ["tpstvsr", *sys.argv[1:]]
    main()
