"""`tpstvsr bench`: the speed a user will see on this machine, stage by stage and end to end.

For each clip (synthetic testsrc2 at the chosen sizes, or --input): decode, network and encode are timed
separately on the same frames, then the whole threaded converter end to end; ffmpeg's lanczos scaling +
minterpolate (motion-compensated) on the same clip is the classical reference. Frames per second count
OUTPUT frames (2N-1 network, 2N encode / end to end) except decode (input frames); megapixels per second
count the pixels of those frames.
"""

import os
import platform
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..conversion.convert import upscale
from ..engine import InferenceOptions, resolve_device, resolve_precision, upscale_frames
from ..engine.cost import frame_cost
from ..errors import TpstvsrError
from ..media.colour import source_colour
from ..media.probe import ffmpeg_exe, probe
from ..media.reader import VideoReader
from ..media.writer import VideoWriter
from ..models.loading import get_model
from ..models.presets import count_parameters


@dataclass
class BenchRow:
    clip: str
    size: str
    frames_in: int
    decode_fps: float
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


class PeakRss:
    """Samples this process's resident memory every 20 ms (ru_maxrss cannot be reset between runs)."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        self.peak = self._rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def parse_sizes(text: str) -> list[tuple[int, int]]:
    try:
        sizes = [tuple(int(v) for v in item.lower().split("x")) for item in text.split(",") if item.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(len(s) != 2 or min(s) < 8 for s in sizes):
        raise TpstvsrError(f"--sizes expects WxH[,WxH...] with sides of at least 8, e.g. 320x180,640x360; got {text!r}")
    return sizes


def synthetic_clip(folder: Path, width: int, height: int, frames: int) -> Path:
    path = folder / f"testsrc2_{width}x{height}.mp4"
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=s={width}x{height}:r=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440",
        "-frames:v",
        str(frames),
        "-shortest",
        "-c:v",
        "libx264",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        str(path),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def ffmpeg_reference(clip: Path, width: int, height: int, rate) -> float:
    """Seconds ffmpeg needs for lanczos 4x + motion-compensated 2x frame rate (output discarded)."""
    vf = f"scale={4 * width}:{4 * height}:flags=lanczos,minterpolate=fps={2 * rate}:mi_mode=mci"
    start = time.perf_counter()
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(clip), "-vf", vf, "-an", "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise TpstvsrError(f"ffmpeg reference failed: {proc.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - start


def _rate(count: int, seconds: float, pixels: int) -> tuple[float, float]:
    seconds = max(seconds, 1e-9)
    return count / seconds, count * pixels / seconds / 1e6


def _decode(clip: Path, info, limit: int | None) -> tuple[list, tuple[float, float]]:
    start = time.perf_counter()
    with VideoReader(clip, info) as reader:
        frames = []
        for frame in reader:
            frames.append(frame.copy())
            if limit and len(frames) >= limit:
                break
    if len(frames) < 2:
        raise TpstvsrError(f"{clip} has fewer than 2 frames")
    return frames, _rate(len(frames), time.perf_counter() - start, info.width * info.height)


def _network(model, frames: list, dev: torch.device, precision: str, options: InferenceOptions) -> tuple[list, tuple]:
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    # Warm-up on the timed frames themselves: a 2-frame warm-up left the full window's shapes cold (kernels,
    # allocator, cuDNN autotuning), which the end-to-end run, coming after, found warm.
    list(upscale_frames(model, frames, options=options, device=dev, precision=precision))
    start = time.perf_counter()
    outputs = list(upscale_frames(model, frames, options=options, device=dev, precision=precision))
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    h, w = frames[0].shape[:2]
    return outputs, _rate(len(outputs), time.perf_counter() - start, 16 * w * h)


def _encode(outputs: list, info, folder: Path) -> tuple[float, float]:
    w, h = info.width, info.height
    start = time.perf_counter()
    with VideoWriter(folder / "enc.mp4", 4 * w, 4 * h, 2 * info.frame_rate, source_colour(info)) as writer:
        for frame in outputs + outputs[-1:]:
            writer.write(frame)
    return _rate(len(outputs) + 1, time.perf_counter() - start, 16 * w * h)


def _cut(clip: Path, info, limit: int | None, folder: Path) -> Path:
    """The clip's first `limit` frames (stream copy), so end to end runs on the same frames as the stages."""
    if not (limit and info.frames_estimate and info.frames_estimate > limit):
        return clip
    cut = folder / f"cut{clip.suffix}"
    cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(clip), "-frames:v", str(limit), "-c", "copy"]
    subprocess.run([*cmd, str(cut)], check=True, capture_output=True)
    return cut


def bench_clip(
    clip: Path,
    model,
    dev: torch.device,
    precision: str,
    options: InferenceOptions,
    reference: bool,
    frames_limit: int | None,
) -> BenchRow:
    info = probe(clip)
    w, h = info.width, info.height
    frames, decode = _decode(clip, info, frames_limit)
    outputs, network = _network(model, frames, dev, precision, options)
    with tempfile.TemporaryDirectory() as tmp:
        encode = _encode(outputs, info, Path(tmp))
        del outputs
        clip_in = _cut(clip, info, frames_limit, Path(tmp))
        with PeakRss() as rss:
            result = upscale(
                clip_in,
                Path(tmp) / "e2e.mp4",
                model=model,
                device=str(dev),
                precision=precision,
                inference=options,
                quiet=True,
            )
        # The network makes 2N-1 frames; the video's last is a held copy, free: count the network column's
        # frames, so end to end (network plus decode and encode) compares and can only be slower.
        end_to_end = _rate(result.frames_out - 1, result.seconds, 16 * w * h)
        ref = ffmpeg_reference(clip_in, w, h, info.frame_rate) if reference else None
    gpu = torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda" else None
    cost = frame_cost(model, w, h, chunk=options.chunk, overlap=options.overlap, ensemble=options.ensemble)
    ref_fps = None if ref is None else result.frames_out / ref
    return BenchRow(
        clip.name,
        f"{w}x{h}",
        len(frames),
        *decode,
        *network,
        *encode,
        *end_to_end,
        ref_fps,
        rss.peak / 2**20,
        gpu,
        round(cost.total_gflop, 2),
    )


def bench(
    *,
    sizes: str = "320x180,640x360",
    input: Path | None = None,
    frames: int = 8,
    weights: Path | None = None,
    preset: str | None = None,
    device: str = "auto",
    precision: str = "auto",
    reference: bool = True,
    **options,
) -> dict:
    """Time the converter; returns {"machine": {...}, "rows": [...]} (a plain dict, ready for JSON).
    `options`: InferenceOptions fields (chunk, overlap, tile, ensemble, max_memory)."""
    if frames < 2:
        raise TpstvsrError(f"--frames must be at least 2, got {frames}")
    opts = InferenceOptions(**options)
    dev = resolve_device(device)
    dtype = resolve_precision(precision, dev)
    model, meta = get_model(preset, weights, dev, dtype if dev.type == "cuda" else torch.float32)
    if preset is not None:
        weights_note = f"random weights of preset {preset!r} (speed only)"
    else:
        weights_note = str(weights or "default weights")
        preset = meta.get("preset", "?")
    with tempfile.TemporaryDirectory() as tmp:
        clips = [Path(input)] if input else [synthetic_clip(Path(tmp), w, h, frames) for w, h in parse_sizes(sizes)]
        rows = [bench_clip(c, model, dev, precision, opts, reference, frames if input else None) for c in clips]
    machine = {
        "device": torch.cuda.get_device_name(dev)
        if dev.type == "cuda"
        else f"cpu ({cpu_name()}, {torch.get_num_threads()} threads)",
        "precision": str(dtype).replace("torch.", ""),
        "preset": preset,
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
    return {"machine": machine, "rows": [asdict(r) for r in rows]}


def bench_table(result: dict):
    from rich.table import Table

    m = result["machine"]
    table = Table(
        title=f"tpstvsr bench: {m['device']}, {m['precision']}, preset {m['preset']} ({m['parameters']:,} params), "
        f"torch {m['torch']}, chunk {m['chunk']}+{m['overlap']}",
        caption=f"weights: {m['weights']}. fps: output frames (decode: input frames). "
        "ffmpeg ref: lanczos 4x + minterpolate 2x on the same clip. GFLOP: network, per output frame "
        "(convolutions counted, motion search estimated).",
    )
    table.add_column("clip")
    for col in ("decode", "network", "GFLOP/frame", "encode", "end to end", "ffmpeg ref", "peak host", "peak GPU"):
        table.add_column(col, justify="right")
    for r in result["rows"]:
        ref = "-" if r["ffmpeg_reference_fps"] is None else f"{r['ffmpeg_reference_fps']:.1f} fps"
        gpu = "-" if r["peak_gpu_mib"] is None else f"{r['peak_gpu_mib']:.0f} MiB"
        rates = [
            f"{r[k + '_fps']:.1f} fps\n{r[k + '_mps']:.1f} MP/s" for k in ("decode", "network", "encode", "end_to_end")
        ]
        table.add_row(
            f"{r['size']} x{r['frames_in']}",
            *rates[:2],
            f"{r['gflop_per_frame']:.1f}",
            *rates[2:],
            ref,
            f"{r['peak_host_mib']:.0f} MiB",
            gpu,
        )
    return table
