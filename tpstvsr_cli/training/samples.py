"""Training samples: 2T-1 consecutive ground-truth frames and their degraded input (paper, section 4.1).

The input is the T even frames (0, 2, ...) downscaled 4x with antialiased bicubic and rounded to 8 bits,
exactly the evaluation protocol's degradation. Augmentation: random crop, horizontal/vertical flips,
90-degree rotations (crops are square), time reversal, and a random temporal stride (every s-th frame,
s <= max_stride) so the network also sees the larger motion of low-frame-rate footage.
With crop_tries > 1 the crop is the most detailed of that many random positions (texture-biased sampling): most
of the training footage is flat or heavily compressed, and a flat crop teaches a super-resolver little.
Clips are drawn in proportion to sqrt(windows they hold), times their detail to a power (clip_probabilities;
its effect on the training pool is measured in weights/README.md).
All randomness comes from one numpy Generator,
whose state the checkpoint stores, so a resumed run draws the same samples as an uninterrupted one.
"""

import numpy as np
import torch

from ..engine.tensors import frames_to_tensor
from ..models.profiles import degrade_clip
from .degradations import DegradeOptions, degrade_batch
from .frame_pool import Clip


def detail(frame: np.ndarray) -> float:
    """Mean absolute horizontal + vertical difference of a [H, W, 3] uint8 frame's green channel: how much
    fine detail a crop holds (flat or blurred crops score near 0)."""
    g = frame[..., 1].astype(np.int16)
    return float(np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean())


def _crop_corner(clip: Clip, rng: np.random.Generator, size: int, frame: int, tries: int) -> tuple[int, int]:
    """The top-left corner of a size x size crop: the most detailed (in `frame`) of `tries` random ones."""
    _, h, w, _ = clip.frames.shape
    corners = [(int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))) for _ in range(tries)]
    if tries == 1:
        return corners[0]
    scores = [detail(np.asarray(clip.frames[frame, y : y + size, x : x + size])) for y, x in corners]
    return corners[int(np.argmax(scores))]


def clip_detail(clip: Clip, samples: int = 4) -> float:
    """detail() averaged over `samples` evenly spaced whole frames of the clip."""
    n = clip.frames.shape[0]
    return float(np.mean([detail(np.asarray(clip.frames[i])) for i in np.linspace(0, n - 1, samples).astype(int)]))


def clip_probabilities(clips: list[Clip], frames: int, detail_power: float = 0.0) -> np.ndarray:
    """How often each clip is drawn: sqrt(number of `frames`-long windows in it) x clip_detail ** detail_power
    (a clip's detail is floored at 0.5 grey levels so a black clip keeps a small share)."""
    weights = np.array([max(c.frames.shape[0] - frames + 1, 1) for c in clips], np.float64) ** 0.5
    if detail_power:
        weights *= np.array([max(clip_detail(c), 0.5) for c in clips]) ** detail_power
    return weights / weights.sum()


def draw_sample(
    clips: list[Clip],
    rng: np.random.Generator,
    frames: int,
    crop: int,
    max_stride: int = 1,
    crop_tries: int = 1,
    probs: np.ndarray | None = None,
) -> np.ndarray:
    """One augmented ground-truth window [frames, crop, crop, 3] uint8; clips drawn with `probs`
    (clip_probabilities; None: by length alone)."""
    if probs is None:
        probs = clip_probabilities(clips, frames)
    clip = clips[rng.choice(len(clips), p=probs)]
    n, h, w, _ = clip.frames.shape
    size = min(crop, h, w)
    stride = 1
    if max_stride > 1:
        stride = int(rng.integers(1, max(1, min(max_stride, (n - 1) // (frames - 1))) + 1))
    span = (frames - 1) * stride + 1
    t0 = int(rng.integers(0, n - span + 1))
    y0, x0 = _crop_corner(clip, rng, size, t0 + span // 2, crop_tries)
    win = np.asarray(clip.frames[t0 : t0 + span : stride, y0 : y0 + size, x0 : x0 + size])
    if size < crop:  # a clip smaller than the crop: reflect-pad up to it
        win = np.pad(win, ((0, 0), (0, crop - size), (0, crop - size), (0, 0)), mode="reflect")
    return augment(rng, win)[0]


def augment(rng: np.random.Generator, *windows: np.ndarray) -> tuple[np.ndarray, ...]:
    """The same random horizontal/vertical flips, 90-degree rotation and time reversal of windows [T, S, S, 3]
    (e.g. an input and its ground truth), as contiguous copies; four draws, in that order."""
    flip_w, flip_h, turns, reverse = rng.random() < 0.5, rng.random() < 0.5, int(rng.integers(0, 4)), rng.random() < 0.5

    def one(win: np.ndarray) -> np.ndarray:
        win = win[:, :, ::-1] if flip_w else win
        win = np.rot90(win[:, ::-1] if flip_h else win, k=turns, axes=(1, 2))
        return np.ascontiguousarray(win[::-1] if reverse else win)

    return tuple(one(w) for w in windows)


def make_batch(
    clips: list[Clip],
    rng: np.random.Generator,
    batch: int,
    in_frames: int,
    crop: int,
    max_stride: int = 1,
    crop_tries: int = 1,
    probs: np.ndarray | None = None,
    degrade: DegradeOptions | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(lr [B, T, 3, crop/4, crop/4], gt [B, 2T-1, 3, crop, crop]) as float 0..1; with `degrade`, each input clip
    further degraded by a random chain (degradations.py; no draws are made without it)."""
    gt_frames = 2 * in_frames - 1
    if probs is None:
        probs = clip_probabilities(clips, gt_frames)
    gt = np.stack([draw_sample(clips, rng, gt_frames, crop, max_stride, crop_tries, probs) for _ in range(batch)])
    gt = frames_to_tensor(gt)
    lr = degrade_clip(gt).mul_(255).round_().clamp_(0, 255).div_(255)
    if degrade is not None:
        lr = degrade_batch(lr, rng, degrade)
    return lr, gt
