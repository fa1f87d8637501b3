"""`tpstvsr bench`: where a second of conversion goes on this machine, in seconds per output frame.

For each clip (synthetic testsrc2 at --sizes, or --input): the whole threaded converter end to end, and decode,
the network (split into its stages by engine/stage_clock.py) and encode each timed alone on the same frames.
Every time is divided by the same count, the 2N-1 frames the network makes from N input frames, so that decode +
network + encode add up and compare with end to end (which overlaps them on three threads; a video's last frame
is a free copy and not counted). fps = output frames per second; decode's fps alone counts input frames.

The defaults finish within 2 minutes on 2 CPU cores with the default weights: 180x144 and 320x180 input (the sizes
issue 19 measures; 640x360 alone took minutes), 6 input frames (one window), a warm-up of 2 frames per size
instead of a second full run (it takes the one-off costs, allocator and kernels, out of the timed run), and no
ffmpeg reference unless --reference. Progress goes to `say(text)`.
"""

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..conversion.convert import upscale
from ..conversion.settings import ConversionSettings
from ..engine import InferenceOptions, upscale_frames
from ..engine.cost import frame_cost
from ..engine.device import Compute, cpu_runs_bf16, resolve_compute
from ..engine.stage_clock import STAGES, StageClock
from ..errors import TpstvsrError
from ..media.colour import source_colour
from ..media.probe import probe
from ..media.reader import VideoReader
from ..media.writer import VideoWriter
from ..models.loading import get_model
from ..models.presets import count_parameters
from ..models.quality import DEFAULT_QUALITY, apply_quality, check_quality, quality_ensemble
from .bench_clips import PeakRss, cpu_name, cut_clip, ffmpeg_reference, parse_sizes, synthetic_clip

__all__ = ["BenchRow", "bench", "bench_clip", "parse_sizes", "synthetic_clip"]

DEFAULT_SIZES = "180x144,320x180"
DEFAULT_FRAMES = 6
WARM_UP_FRAMES = 2
# The rows of seconds per output frame, in the order a frame meets them; the network's stages between.
NETWORK_STAGES = (*STAGES, "other")
PARTS = ("decode", "network", *NETWORK_STAGES, "encode", "end_to_end")


@dataclass
class BenchRow:
    clip: str
    size: str
    frames_in: int
    frames_out: int  # the network's 2N-1 outputs: what every seconds_per_frame divides by
    seconds_per_frame: dict  # PARTS -> seconds per output frame (the network's stages sum to "network")
    decode_fps: float  # input frames per second
    decode_mps: float
    network_fps: float
    network_mps: float
    encode_fps: float
    encode_mps: float
    end_to_end_fps: float
    end_to_end_mps: float
    ffmpeg_reference_fps: float | None
    peak_host_mib: float
    peak_gpu_mib: float | None
    gflop_per_frame: float  # network cost per output frame at this size (cost.py): counted convs + estimated motion


def _rate(count: int, seconds: float, pixels: int) -> tuple[float, float]:
    seconds = max(seconds, 1e-9)
    return count / seconds, count * pixels / seconds / 1e6


def _decode(clip: Path, info, limit: int | None) -> tuple[list, float]:
    start = time.perf_counter()
    with VideoReader(clip, info) as reader:
        frames = []
        for frame in reader:
            frames.append(frame.copy())
            if limit and len(frames) >= limit:
                break
    if len(frames) < 2:
        raise TpstvsrError(f"{clip} has fewer than 2 frames")
    return frames, time.perf_counter() - start


def _network(model, frames: list, dev: torch.device, precision: str, options: InferenceOptions) -> tuple:
    """(outputs, wall seconds, {stage: seconds} with "other" the rest). On a GPU the stages are launch times
    (the marks do not synchronise): there only the total is exact."""
    with StageClock() as clock:
        start = time.perf_counter()
        outputs = list(upscale_frames(model, frames, options=options, device=dev, precision=precision))
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        seconds = time.perf_counter() - start
    stages = dict(clock.seconds)
    stages["other"] = max(0.0, seconds - sum(stages.values()))
    return outputs, seconds, stages


def _encode(outputs: list, info, folder: Path) -> float:
    w, h = info.width, info.height
    start = time.perf_counter()
    with VideoWriter(folder / "enc.mp4", 4 * w, 4 * h, 2 * info.frame_rate, source_colour(info)) as writer:
        for frame in outputs + outputs[-1:]:
            writer.write(frame)
    return time.perf_counter() - start


def bench_clip(
    clip: Path,
    model,
    dev: torch.device,
    precision: str,
    options: InferenceOptions,
    *,
    quality: str = DEFAULT_QUALITY,
    reference: bool = False,
    frames_limit: int | None = None,
    say: Callable[[str], None] = lambda text: None,
) -> BenchRow:
    """One clip's row. `model` is the network as loaded: the quality is applied here, as a conversion does.
    End to end runs before the network alone: any one-off cost the short warm-up left falls on end to end,
    never making it look faster than the network it contains (issue 9 saw that the other way round)."""
    info = probe(clip)
    w, h = info.width, info.height
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    say(f"{w}x{h}: decoding")
    frames, decode_s = _decode(clip, info, frames_limit)
    out_px, n_out = 16 * w * h, 2 * len(frames) - 1
    net, _note = apply_quality(model, quality)
    say(f"{w}x{h}: warming up the network on {WARM_UP_FRAMES} frames")
    list(upscale_frames(net, frames[:WARM_UP_FRAMES], options=options, device=dev, precision=precision))
    with tempfile.TemporaryDirectory() as tmp:
        clip_in = cut_clip(clip, info.frames_estimate, frames_limit, Path(tmp))
        say(f"{w}x{h}: end to end (decode, network and encode on three threads)")
        settings = ConversionSettings(inference=options, device=str(dev), precision=precision, quality=quality)
        with PeakRss() as rss:
            result = upscale(clip_in, Path(tmp) / "e2e.mp4", settings, model=model, quiet=True)
        end_to_end_s = result.seconds * n_out / max(result.frames_out - 1, 1)  # the held last frame is free
        say(f"{w}x{h}: network alone on {len(frames)} frames ({n_out} output frames at {4 * w}x{4 * h})")
        outputs, network_s, stages = _network(net, frames, dev, precision, options)
        say(f"{w}x{h}: encoding")
        encode_s = _encode(outputs, info, Path(tmp))
        del outputs
        if reference:
            say(f"{w}x{h}: ffmpeg reference (lanczos + minterpolate)")
        ref = ffmpeg_reference(clip_in, w, h, info.frame_rate) if reference else None
    gpu = torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda" else None
    cost = frame_cost(net, w, h, chunk=options.chunk, overlap=options.overlap, ensemble=options.ensemble)
    parts = {"decode": decode_s, "network": network_s, **stages, "encode": encode_s, "end_to_end": end_to_end_s}
    return BenchRow(
        clip.name,
        f"{w}x{h}",
        len(frames),
        n_out,
        {part: parts[part] / n_out for part in PARTS},
        *_rate(len(frames), decode_s, w * h),
        *_rate(n_out, network_s, out_px),
        *_rate(n_out + 1, encode_s, out_px),
        *_rate(n_out, end_to_end_s, out_px),
        None if ref is None else result.frames_out / ref,
        rss.peak / 2**20,
        gpu,
        round(cost.total_gflop, 2),
    )


def _machine(compute: Compute, model, preset, weights_note, opts: InferenceOptions, quality: str) -> dict:
    cpu, dev, threads = cpu_name(), compute.device, torch.get_num_threads()
    return {
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"cpu ({cpu}, {threads} threads)",
        "cpu": cpu,
        "threads": threads,
        "cpu_bf16": cpu_runs_bf16(),  # bf16 instructions: what --precision auto and bf16 need to be fast here
        "precision": str(compute.dtype).replace("torch.", ""),
        "preset": preset,
        "quality": quality,
        "weights": weights_note,
        "parameters": count_parameters(model),
        "torch": torch.__version__,
        "chunk": opts.chunk,
        "overlap": opts.overlap,
        "tile": opts.tile,
        "ensemble": opts.ensemble,
        "max_memory": opts.max_memory,
        "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
    }


def bench(
    *,
    sizes: str = DEFAULT_SIZES,
    input: Path | None = None,
    frames: int = DEFAULT_FRAMES,
    weights: Path | None = None,
    preset: str | None = None,
    device: str = "auto",
    precision: str = "auto",
    quality: str = DEFAULT_QUALITY,
    reference: bool = False,
    progress: Callable[[str], None] | None = None,
    **options,
) -> dict:
    """Time the converter; returns {"machine": {...}, "rows": [...]} (a plain dict, ready for JSON).
    `options`: InferenceOptions fields (chunk, overlap, tile, ensemble, max_memory); ensemble None or left out:
    the quality's. `progress(text)` hears each step as it starts."""
    say = progress or (lambda text: None)
    check_quality(quality)
    if frames < 2:
        raise TpstvsrError(f"--frames must be at least 2, got {frames}")
    options["ensemble"] = quality_ensemble(quality, options.get("ensemble"))
    opts = InferenceOptions(**options)
    clip_sizes = None if input else parse_sizes(sizes)
    compute = resolve_compute(device, precision)  # what runs: a half precision the CPU runs badly is fp32
    dev, notes = compute.device, [compute.note] if compute.note else []
    say("loading the network")
    model, meta = get_model(preset, weights, dev, compute.weights_dtype)
    notes += [note for note in [apply_quality(model, quality)[1]] if note]
    for note in notes:
        say(note)
    if preset is not None:
        weights_note = f"random weights of preset {preset!r} (speed only)"
    else:
        weights_note = str(weights or "default weights")
        preset = meta.get("preset", "?")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clips = [Path(input)] if input else clip_sizes
        for i, item in enumerate(clips, 1):
            if not input:
                say(f"{item[0]}x{item[1]} ({i}/{len(clips)}): making a {frames}-frame test clip")
                item = synthetic_clip(Path(tmp), *item, frames)
            row = bench_clip(
                item,
                model,
                dev,
                compute.precision,
                opts,
                quality=quality,
                reference=reference,
                frames_limit=frames if input else None,
                say=say,
            )
            rows.append(row)
            say(f"{row.size}: {row.seconds_per_frame['end_to_end']:.3f} s per output frame end to end")
    machine = _machine(compute, apply_quality(model, quality)[0], preset, weights_note, opts, quality)
    return {"machine": machine | {"notes": notes}, "rows": [asdict(r) for r in rows]}
