"""Train the compressed preset's artifact removal (models/artifact_removal.py) on (degraded, clean) pairs.

    python scripts/train_restore.py runs/restore/set runs/restore/train --minutes 60
The pairs come from scripts/make_restore_set.py. Each step: a batch of random crops of random frames (with the
frames before and after), flips and transposes, the mean squared error of the restored against the clean middle
frame (L1 barely moved the zero-started tail in 500 steps; MSE gained +0.2 dB in 400). Sources
whose names sort last (--held-out of them) are kept for the validation printed every --every steps: PSNR of the
degraded and of the restored frames against the clean ones, over their x264 copies. The module's weights are
written to OUT/restore.pt every validation and at the end (a time budget, or SIGTERM); --resume continues.
"""

import argparse
import math
import signal
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tpstvsr_cli.engine.tensors import frames_to_tensor
from tpstvsr_cli.models.artifact_removal import ArtifactRemoval


def load_pairs(folder: Path) -> list[dict]:
    pairs = []
    for f in sorted(folder.glob("*.npz")):
        z = np.load(f)
        pairs.append({"name": str(z["source"]), "spec": str(z["spec"]), "clean": z["clean"], "degraded": z["degraded"]})
    return pairs


def pixel_shares(pairs) -> np.ndarray:
    """Each pair's share of all frame pixels: crops are drawn in proportion."""
    pixels = np.array([np.prod(p["clean"].shape[:3]) for p in pairs], float)
    return pixels / pixels.sum()


def crop_batch(pairs, shares, rng, batch: int, size: int, reach: int):
    """(degraded stacks [B, 2r+1, 3, s, s], clean [B, 3, s, s]) in 0..1."""
    picks = rng.choice(len(pairs), batch, p=shares)
    ins, outs = [], []
    for i in picks:
        p = pairs[i]
        n, h, w = p["clean"].shape[:3]
        s = min(size, h, w)
        t = rng.integers(n)
        y, x = rng.integers(h - s + 1), rng.integers(w - s + 1)
        near = [min(max(t + d, 0), n - 1) for d in range(-reach, reach + 1)]
        stack = p["degraded"][near, y : y + s, x : x + s]
        clean = p["clean"][t, y : y + s, x : x + s]
        if s < size:  # a frame smaller than the crop: edge-padded, both alike
            pad = ((0, size - s), (0, size - s), (0, 0))
            stack = np.stack([np.pad(f, pad, mode="edge") for f in stack])
            clean = np.pad(clean, pad, mode="edge")
        ins.append(stack)
        outs.append(clean)
    x = frames_to_tensor(np.stack(ins))
    y = frames_to_tensor(np.stack(outs))
    if rng.random() < 0.5:
        x, y = x.flip(-1), y.flip(-1)
    if rng.random() < 0.5:
        x, y = x.flip(-2), y.flip(-2)
    if rng.random() < 0.5:
        x, y = x.transpose(-1, -2), y.transpose(-1, -2)
    return x.contiguous(), y.contiguous()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10 * math.log10(1 / max(F.mse_loss(a.round(), b.round()).item() / 255**2, 1e-12))


@torch.no_grad()
def validate(model: ArtifactRemoval, pairs) -> tuple[float, float]:
    """Mean PSNR (degraded, restored) against clean, over the held-out x264 copies, on 8-bit values."""
    before, after = [], []
    for p in pairs:
        if "x264" not in p["spec"]:
            continue
        clip = frames_to_tensor(p["degraded"][:12]).unsqueeze(0)
        clean = frames_to_tensor(p["clean"][:12]) * 255
        restored = model(clip)[0] * 255
        before.append(psnr(clip[0] * 255, clean))
        after.append(psnr(restored, clean))
    return float(np.mean(before)), float(np.mean(after))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--reach", type=int, default=1)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--steps", type=int, default=8000, help="the cosine schedule's length")
    ap.add_argument("--held-out", type=int, default=5)
    ap.add_argument("--every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    pairs = load_pairs(args.pairs)
    names = sorted({p["name"] for p in pairs})
    held = set(names[-args.held_out :])
    train = [p for p in pairs if p["name"] not in held]
    val = [p for p in pairs if p["name"] in held]
    shares = pixel_shares(train)
    model = ArtifactRemoval(args.channels, args.blocks, args.reach)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step, ckpt = 0, args.out / "last.ckpt"
    if args.resume and ckpt.exists():
        state = torch.load(ckpt)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
    rng = np.random.default_rng(args.seed + step)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    start, log = time.time(), open(args.out / "train.log", "a")

    def save():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step}, ckpt)
        torch.save(model.state_dict(), args.out / "restore.pt")

    print(f"{len(train)} training pairs, {len(val)} held out ({', '.join(sorted(held))})", file=log, flush=True)
    losses = []
    while not stop and time.time() - start < args.minutes * 60:
        for g in opt.param_groups:
            g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * min(step, args.steps) / args.steps))
        x, y = crop_batch(train, shares, rng, args.batch, args.crop, args.reach)
        loss = F.mse_loss(model.restore(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        step += 1
        if step % args.every == 0:
            before, after = validate(model.eval(), val)
            model.train()
            line = f"step {step} loss {np.mean(losses):.7f} val {before:.3f} -> {after:.3f} dB ({after - before:+.3f})"
            print(f"{line} {time.time() - start:.0f}s lr {opt.param_groups[0]['lr']:.2e}", file=log, flush=True)
            losses = []
            save()
    save()
    print(f"stopped at step {step}", file=log, flush=True)


if __name__ == "__main__":
    main()
