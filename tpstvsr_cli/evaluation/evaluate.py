"""`tpstvsr eval` as a library call: score the model and two classical baselines on sequences under the protocol.

For each sequence: ground truth (sequences.load_sequence) -> input (protocol.downscale_input, then the degradation
of --degrade, media/degrade.py, when given: every method gets the same degraded input) -> each method's
2N-1 output frames, scored one at a time against the ground truth. The model's and the bicubic baseline's
frames stream (memory: the ground truth and a window of frames); ffmpeg's are collected first so that its
time is its own. Times count only the methods' own work, not the scoring.
"""

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..engine import InferenceOptions, resolve_compute, upscale_frames
from ..errors import TpstvsrError
from ..media.degrade import DegradeSpec, degrade_frames
from ..models.quality import DEFAULT_QUALITY, check_quality, quality_ensemble
from .baselines import bicubic_blend
from .ffmpeg_baseline import lanczos_minterpolate
from .metrics import score_frame
from .networks import EvalNetworks
from .protocol import downscale_input
from .sequences import load_sequence

MODEL, BICUBIC, FFMPEG = "model", "bicubic", "ffmpeg"


@dataclass
class Scores:
    """Luma PSNR (dB) and SSIM of one method, averaged over frames (a sequence) or over sequences (overall)."""

    psnr: float  # all 2N-1 frames
    ssim: float
    psnr_interp: float  # the N-1 interpolated (odd) frames only
    ssim_interp: float
    frames: int
    seconds: float  # time the method took to produce its frames (scoring excluded)


@dataclass
class SequenceResult:
    name: str
    path: str
    source_size: tuple[int, int]  # (W, H) as stored
    size: tuple[int, int]  # (W, H) of the ground truth scored (after --gt-scale and cropping)
    frames: int  # 2N-1 ground-truth frames; the input has N
    input_bits_per_pixel: float | None = None  # of the degraded input's last encode (--degrade with x264)
    source: str | None = None  # the weights --source picked for this input ("clean"/"compressed"), and why
    source_reason: str | None = None
    scores: dict[str, Scores] = field(default_factory=dict)


@dataclass
class EvalResult:
    model: str  # what was evaluated, in words
    settings: dict
    sequences: list[SequenceResult]
    overall: dict[str, Scores]  # per method, the mean over sequences (each sequence weighs the same)


def _timed(frames: Iterable[np.ndarray], clock: list[float]) -> Iterator[np.ndarray]:
    """Yield from `frames`, adding the time spent inside the producer to clock[0]."""
    it = iter(frames)
    while True:
        start = time.perf_counter()
        try:
            frame = next(it)
        except StopIteration:
            clock[0] += time.perf_counter() - start
            return
        clock[0] += time.perf_counter() - start
        yield frame


def score_method(outputs: Iterable[np.ndarray], truth: np.ndarray, *, collect_first: bool = False) -> Scores:
    """Score a method's output frames (uint8 [H, W, 3], 2N-1 of them) against the ground truth [2N-1, H, W, 3].

    collect_first: take all frames before scoring. Needed to time a method that works in another process
    (ffmpeg), which would otherwise run on while we score and look faster than it is; costs the memory of
    a second copy of the ground truth.
    """
    clock = [0.0]
    frames = _timed(outputs, clock)
    if collect_first:
        frames = list(frames)
    psnrs, ssims = [], []
    for index, frame in enumerate(frames):
        if index >= len(truth):
            raise TpstvsrError(f"a method returned more than the {len(truth)} frames expected")
        p, s = score_frame(frame, truth[index])
        psnrs.append(p)
        ssims.append(s)
    if len(psnrs) != len(truth):
        raise TpstvsrError(f"a method returned {len(psnrs)} frames, {len(truth)} expected")
    return Scores(
        psnr=float(np.mean(psnrs)),
        ssim=float(np.mean(ssims)),
        psnr_interp=float(np.mean(psnrs[1::2])),
        ssim_interp=float(np.mean(ssims[1::2])),
        frames=len(psnrs),
        seconds=clock[0],
    )


def mean_scores(scores: list[Scores]) -> Scores:
    """Mean over sequences of each average; frames and seconds add up."""

    def avg(name: str) -> float:
        return float(np.mean([getattr(s, name) for s in scores]))

    return Scores(
        psnr=avg("psnr"),
        ssim=avg("ssim"),
        psnr_interp=avg("psnr_interp"),
        ssim_interp=avg("ssim_interp"),
        frames=sum(s.frames for s in scores),
        seconds=sum(s.seconds for s in scores),
    )


def _warm_up(
    model: torch.nn.Module, inputs: np.ndarray, device: torch.device, precision: str, max_memory: int | None = None
) -> None:
    """One small untimed pass, so that the model's time leaves out torch's one-off start-up (seconds on a CPU)."""
    for _ in upscale_frames(model, inputs[:2, :16, :16], device=device, precision=precision, max_memory=max_memory):
        pass


@dataclass(frozen=True)
class Selection:
    """Which part of each ground-truth sequence is scored."""

    center_crop: tuple[int, int] | None = None  # WxH, after gt_scale
    gt_scale: float | None = None  # downscale the ground truth first
    max_frames: int | None = None  # at most this many ground-truth frames (an odd count is kept)
    degrade: DegradeSpec | None = None  # applied to the 4x-down input before any method sees it


@dataclass
class _Run:
    networks: EvalNetworks
    options: InferenceOptions
    device: torch.device
    precision: str
    use_ffmpeg: bool
    log: Callable[[str], None]


def _score_sequence(run: _Run, path: Path, selection: Selection, first: bool) -> SequenceResult:
    seq = load_sequence(
        Path(path), max_frames=selection.max_frames, gt_scale=selection.gt_scale, crop=selection.center_crop
    )
    inputs, bpp = downscale_input(seq.truth), None
    if selection.degrade is not None:
        degraded = degrade_frames(inputs, selection.degrade)
        inputs, bpp = degraded.frames, degraded.bits_per_pixel
    size = (seq.truth.shape[2], seq.truth.shape[1])
    run.log(
        f"{seq.name}: {len(seq.truth)} frames at {size[0]}x{size[1]} from {len(inputs)} at "
        f"{size[0] // 4}x{size[1] // 4}"
        + (f", degraded {selection.degrade}" if selection.degrade else "")
        + (f" ({bpp:.3f} bits per pixel)" if bpp is not None else "")
    )
    result = SequenceResult(seq.name, str(seq.path), seq.source_size, size, len(seq.truth), bpp)
    model, choice = run.networks.for_inputs(inputs)
    if choice is not None:
        result.source, result.source_reason = choice.source, choice.reason
        run.log(f"  {choice.source} weights ({choice.reason})")
    if first:
        _warm_up(model, inputs, run.device, run.precision, run.options.max_memory)
    model_frames = upscale_frames(
        model,
        inputs,
        run.options,
        device=run.device,
        precision=run.precision,
        warn=lambda msg: run.log(f"warning: {msg}"),
    )
    result.scores[MODEL] = score_method(model_frames, seq.truth)
    run.log(f"  model {result.scores[MODEL].psnr:.2f} dB in {result.scores[MODEL].seconds:.1f} s")
    result.scores[BICUBIC] = score_method(bicubic_blend(inputs), seq.truth)
    if run.use_ffmpeg:
        result.scores[FFMPEG] = score_method(lanczos_minterpolate(inputs), seq.truth, collect_first=True)
    return result


def evaluate(
    sequences: list[Path],
    *,
    weights: Path | None = None,
    preset: str | None = None,
    source: str | None = None,
    device: str = "auto",
    precision: str = "auto",
    quality: str = DEFAULT_QUALITY,
    use_ffmpeg: bool = True,
    log: Callable[[str], None] | None = None,
    **options,
) -> EvalResult:
    """Score the model (a weights file, a random `preset`, or the shipped weights `source` picks per sequence,
    None: auto) and the baselines on each sequence.

    `options`: Selection fields (center_crop, gt_scale, max_frames, degrade) and InferenceOptions fields (chunk,
    overlap, tile, ensemble, max_memory; ensemble None or left out: the quality's), checked before any work."""
    if not sequences:
        raise TpstvsrError("no sequences given")
    options["ensemble"] = quality_ensemble(check_quality(quality), options.get("ensemble"))
    selection = Selection(
        **{k: options.pop(k) for k in ("center_crop", "gt_scale", "max_frames", "degrade") if k in options}
    )
    inference = InferenceOptions(**options)
    log = log or (lambda _msg: None)
    compute = resolve_compute(device, precision)  # the same rules as upscale's: fp16 on the CPU runs as fp32
    if compute.note:
        log(f"warning: {compute.note}")
    networks = EvalNetworks(weights, preset, source, quality, log)
    run = _Run(networks, inference, compute.device, compute.precision, use_ffmpeg, log)
    results = [_score_sequence(run, path, selection, first=i == 0) for i, path in enumerate(sequences)]
    overall = {m: mean_scores([r.scores[m] for r in results]) for m in results[0].scores}
    settings = {
        "weights": str(weights) if weights is not None else None,
        "preset": preset,
        "source": networks.source,
        "device": str(compute.device),
        "precision": compute.precision,
        "quality": quality,
        "chunk": inference.chunk,
        "overlap": inference.overlap,
        "tile": inference.tile,
        "ensemble": inference.ensemble,
        "max_memory": inference.max_memory,
        "gt_scale": selection.gt_scale,
        "center_crop": list(selection.center_crop) if selection.center_crop else None,
        "max_frames": selection.max_frames,
        "degrade": str(selection.degrade) if selection.degrade else None,
        "torch_threads": torch.get_num_threads(),
    }
    return EvalResult(networks.label, settings, results, overall)
