"""Train MidBlend (models/mid_blend.py) alone on ground-truth key frames, with an L2 loss (issue 8 experiment).

Trained through the whole network (`tpstvsr train --train-only blend`) its weights barely moved in 2,450 steps:
the L1 gradient reaches it only where the two warped key frames disagree, and a batch of 4 is too noisy for that
(docs/design-keyframes.md). Here each sample is a ground-truth triplet (key, middle, key): the motion is found on
the degraded inputs exactly as at inference, the two ground-truth key frames are warped to the midpoint, and the
blend weight is fitted with the squared error of the blended middle frame, whose gradient in the weight grows
with the disagreement. Without FSM and RM in the loop a step is cheap, so batches are large. The key frames at
inference are the network's, not the ground truth: check the result with the real network before using it.

Usage: python scripts/train_blend.py WEIGHTS OUT.safetensors [--minutes 40] [--cache-dir DIR] [DATA ...]
Writes WEIGHTS plus the trained blend (preset default with blend_channels/blend_layers set) to OUT.
"""

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from tpstvsr_cli.models.presets import PRESETS, build_model
from tpstvsr_cli.models.profiles import degrade_clip
from tpstvsr_cli.models.release import load_state, save_release
from tpstvsr_cli.training.frame_pool import load_pool
from tpstvsr_cli.training.samples import make_batch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("weights", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("data", type=Path, nargs="*", default=[Path("../shared/data/train")])
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache/tpstvsr/frames")
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=192)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    cfg = dataclasses.replace(PRESETS["default"], blend_channels=args.channels, blend_layers=args.layers)
    model = build_model(cfg)
    load_state(model, load_file(str(args.weights)))
    model.requires_grad_(False)
    model.blend.requires_grad_(True)
    opt = torch.optim.Adam(model.blend.parameters(), lr=args.lr)
    clips = load_pool(args.data, args.cache_dir, 3)
    rng = np.random.default_rng(0)
    start, step, ema = time.monotonic(), 0, None
    while time.monotonic() - start < 60 * args.minutes:
        _, gt = make_batch(clips, rng, args.batch, 2, args.crop, max_stride=3)  # gt [B, 3, 3, crop, crop]
        lr_pair = degrade_clip(gt).mul(255).round().div(255)  # [B, 2, 3, crop/4, crop/4]
        in0, in1 = lr_pair[:, 0], lr_pair[:, 1]
        dy, dx = model.interp.motion(in0, in1)
        weight0 = model.blend(in0, in1, dy, dx)
        middle = model.interp.warp_midpoint(gt[:, 0], gt[:, 2], dy, dx, weight0)
        loss = (middle - gt[:, 1]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            plain = (model.interp.warp_midpoint(gt[:, 0], gt[:, 2], dy, dx) - gt[:, 1]).pow(2).mean()
        ratio = float(loss.detach() / plain)
        ema = ratio if ema is None else 0.98 * ema + 0.02 * ratio
        step += 1
        if step % 50 == 0:
            gain = -10 * np.log10(ema)
            print(f"step {step}: mse {float(loss):.5f}, vs plain average x{ema:.4f} ({gain:+.3f} dB)", flush=True)
    save_release(model, "default", args.out, {"blend_steps": step, "blend": f"{args.channels}x{args.layers}"})
    print(f"wrote {args.out} after {step} steps", flush=True)


if __name__ == "__main__":
    main()
