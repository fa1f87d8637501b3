"""Train the output refinement of preset compressed-refine (models/output_refine.py) apart from the network.

    python scripts/train_output_refine.py collect runs/refine/data            # ~15 min on 2 cores
    python scripts/train_output_refine.py train runs/refine/refine.pt runs/refine/data [MORE_DATA ...] \\
        --minutes 90 --val runs/refine/val-bed-c32.npz ...
    python scripts/attach_module.py weights/tpstvsr-compressed.safetensors refine runs/refine/refine.pt OUT

collect: per training clip (../shared/data/train through the frame cache), `--per-clip` segments of 25 ground-truth
frames (stride 1-2, a random crop of at most 640x352), the protocol's input of each (4x down, even frames), degraded
whole as old footage is (x264 at CRF 18-36, 12 fps; one in five MPEG-2 at q 3-14, 12 fps), then the network of
`--weights` at --quality balanced: its uint8 outputs, the ground truth and the degraded input go to one .npz each.
train: L1 on random 32x32-input crops (any of the 8 transposes and flips) of those outputs, Adam with a cosine
learning rate over `--minutes`; the val files (`collect-val`, the same data of an eval sequence) are scored on
luma every `--val-every` steps. The module runs on uint8 outputs, so it trains on exactly what it will see.
"""

import argparse
import glob
import math
import time
from pathlib import Path

import numpy as np
import torch

from tpstvsr_cli.engine import upscale_frames
from tpstvsr_cli.engine.tensors import frames_to_tensor, tensor_to_frames
from tpstvsr_cli.evaluation.metrics import psnr, rgb_to_y
from tpstvsr_cli.evaluation.networks import load
from tpstvsr_cli.evaluation.protocol import downscale_input
from tpstvsr_cli.evaluation.sequences import load_sequence
from tpstvsr_cli.media.degrade import degrade_frames, parse_degrade
from tpstvsr_cli.models.output_refine import OutputRefine
from tpstvsr_cli.models.quality import apply_quality
from tpstvsr_cli.training.frame_pool import load_pool

SEGMENT = 25  # ground-truth frames per segment (13 input frames)


def _network(weights: Path):
    return apply_quality(load(weights, None)[0], "balanced")[0]


def _outputs(model, inputs: np.ndarray) -> np.ndarray:
    return np.stack(list(upscale_frames(model, inputs, precision="fp32")))


def collect(args) -> None:
    rng = np.random.default_rng(args.seed)
    clips = load_pool([args.train], args.cache_dir, SEGMENT, log=lambda _m: None)
    model, count, start = _network(args.weights), 0, time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    for clip in clips:
        frames, height, width = len(clip.frames), *clip.frames.shape[1:3]
        for _ in range(args.per_clip):
            stride = int(rng.integers(1, 3)) if frames >= 50 else 1
            first = int(rng.integers(0, frames - (SEGMENT - 1) * stride))
            h, w = min(height, 360) // 16 * 16, min(width, 640) // 16 * 16
            y, x = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
            truth = np.ascontiguousarray(clip.frames[first : first + SEGMENT * stride : stride, y : y + h, x : x + w])
            if rng.random() < 0.2:
                spec = f"mpeg2:q={int(rng.integers(3, 15))}:fps=12"
            else:
                spec = f"x264:crf={int(rng.integers(18, 37))}:fps=12"
            inputs = degrade_frames(downscale_input(truth), parse_degrade(spec)).frames
            out = _outputs(model, inputs)
            part = args.out / f"{count:03d}.part.npz"  # renamed when whole: a stopped run leaves no torn file
            np.savez(part, out=out, truth=truth, inp=inputs, spec=spec, name=clip.name)
            part.replace(args.out / f"{count:03d}.npz")
            count += 1
            print(f"{count} {clip.name} {w}x{h} {spec} {time.time() - start:.0f}s", flush=True)


def collect_val(args) -> None:
    seq = load_sequence(args.sequence, max_frames=args.max_frames, gt_scale=args.gt_scale)
    inputs = degrade_frames(downscale_input(seq.truth), parse_degrade(args.degrade)).frames
    np.savez(args.out, out=_outputs(_network(args.weights), inputs), truth=seq.truth, inp=inputs)


def _pair(inp: np.ndarray, t: int) -> np.ndarray:
    return inp[[t // 2, (t + 1) // 2]]  # the input frames output t lies between (engine/refine.py)


def _batch(data: list, rng: np.random.Generator, size: int, crop: int) -> tuple:
    outs, pairs, truths = [], [], []
    for _ in range(size):
        out, truth, inp = data[rng.integers(len(data))]
        t = int(rng.integers(len(out)))
        h, w = inp.shape[1:3]
        y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
        big = np.s_[4 * y : 4 * (y + crop), 4 * x : 4 * (x + crop)]
        parts = [out[t][big], _pair(inp, t)[:, y : y + crop, x : x + crop], truth[t][big]]
        flip = int(rng.integers(8))
        for i, a in enumerate(parts):  # (H, W) are axes -3, -2 of each
            if flip & 1:
                a = np.swapaxes(a, -3, -2)
            if flip & 2:
                a = np.flip(a, -2)
            if flip & 4:
                a = np.flip(a, -3)
            parts[i] = a
        outs.append(parts[0])
        pairs.append(parts[1])
        truths.append(parts[2])
    return tuple(frames_to_tensor(np.stack(p)) for p in (outs, pairs, truths))


@torch.no_grad()
def val_gain(module: OutputRefine, path: Path) -> tuple[float, float, float]:
    """Mean luma PSNR gain over the network's own outputs: all, key and in-between frames."""
    data = np.load(path)
    gains = []
    for t, (frame, truth) in enumerate(zip(data["out"], data["truth"])):
        new = tensor_to_frames(
            module.strips(frames_to_tensor(frame[None]), frames_to_tensor(_pair(data["inp"], t)[None]))
        )
        ys = [rgb_to_y(f) for f in (new[0], frame, truth)]
        gains.append(psnr(ys[0], ys[2]) - psnr(ys[1], ys[2]))
    g = np.array(gains)
    return float(g.mean()), float(g[0::2].mean()), float(g[1::2].mean())


def train(args) -> None:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = []
    for name in [n for folder in args.data for n in sorted(glob.glob(str(folder / "[0-9][0-9][0-9].npz")))]:
        d = np.load(name)
        data.append((d["out"], d["truth"], d["inp"]))
    module = OutputRefine(args.channels, args.blocks)
    opt = torch.optim.Adam(module.parameters(), lr=args.lr)
    start, ema = time.time(), None
    for step in range(1, args.steps + 1):
        done = max(min(1.0, (time.time() - start) / (60 * args.minutes)), step / args.steps)
        for group in opt.param_groups:
            group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * done))
        out, pair, truth = _batch(data, rng, args.batch, args.crop)
        loss = (module(out, pair) - truth).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        ratio = loss.item() / (out - truth).abs().mean().item()
        ema = ratio if ema is None else 0.98 * ema + 0.02 * ratio
        if step % 200 == 0:
            print(
                f"step {step}: L1 / the outputs' own {ema:.4f}, {step / (time.time() - start):.2f} steps/s", flush=True
            )
        if step % args.val_every == 0 or done >= 1.0:
            torch.save(module.state_dict(), args.out)
            for path in args.val:
                print(
                    f"  val {path.name} step {step}: all / key / in-between %+.3f %+.3f %+.3f" % val_gain(module, path)
                )
        if done >= 1.0:
            break
    torch.save(module.state_dict(), args.out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("out", type=Path)
    c.add_argument("--train", type=Path, default=Path("../shared/data/train"))
    c.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "tpstvsr" / "frames")
    c.add_argument("--weights", type=Path, default=Path("weights/tpstvsr-compressed.safetensors"))
    c.add_argument("--per-clip", type=int, default=2)
    c.add_argument("--seed", type=int, default=19)
    v = sub.add_parser("collect-val")
    v.add_argument("sequence", type=Path)
    v.add_argument("out", type=Path)
    v.add_argument("--degrade", required=True)
    v.add_argument("--gt-scale", type=float)
    v.add_argument("--max-frames", type=int)
    v.add_argument("--weights", type=Path, default=Path("weights/tpstvsr-compressed.safetensors"))
    t = sub.add_parser("train")
    t.add_argument("out", type=Path)
    t.add_argument("data", type=Path, nargs="+", help="folders that collect wrote")
    t.add_argument("--channels", type=int, default=48)
    t.add_argument("--blocks", type=int, default=4)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--crop", type=int, default=32)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--steps", type=int, default=100_000)
    t.add_argument("--minutes", type=float, default=90.0)
    t.add_argument("--val", type=Path, nargs="*", default=[])
    t.add_argument("--val-every", type=int, default=2000)
    t.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    {"collect": collect, "collect-val": collect_val, "train": train}[args.command](args)


if __name__ == "__main__":
    main()
