"""`tpstvsr upscale`: one video or frame folder in, one video or frame folder out, 2x rate and 4x size.

Three stages overlap in time (pipeline.py): a thread decodes, a thread runs the network in segments that
never span a scene cut (shots.py), and the calling thread encodes each segment and shows progress.
Segments make the work resumable (segments.py): an interrupted run keeps every complete one.
"""

import hashlib
import itertools
import time
from contextlib import nullcontext
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from .errors import TpstvsrError
from .pipeline import run_pipeline
from .progress import ConversionProgress, progress_bar
from .lock import writer_lock
from .memory import queue_depth
from .inference import check_options, context_frames, resolve_device, resolve_precision, upscale_frames
from .scenes import DEFAULT_THRESHOLD
from .sizes import check_max_memory
from .segments import FolderFrames, VideoSegments, WorkDir, work_dir_for
from .shots import SegmentEnd, segment_outputs
from .video.check import check_output_settings
from .video.endpoints import check_output, is_video_path, open_source
from .video.streams import plan_streams
from .video.writer import EncoderOptions


@dataclass
class UpscaleResult:
    input: Path
    output: Path
    frames_in: int
    frames_out: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


def load_network(weights: Path | None, device: torch.device, dtype: torch.dtype) -> tuple:
    """(model, metadata) from a weights file (None: the shipped default weights)."""
    from .weights import load_model

    # Half precision on a GPU: convert the weights (faster than autocast). On the CPU keep fp32 weights
    # and let autocast run bf16 where asked.
    return load_model(weights, device=device, dtype=dtype if device.type == "cuda" else torch.float32)


@dataclass(frozen=True)
class Compute:
    """Where and in what precision the network runs, as decided from --device and --precision."""

    device: torch.device
    dtype: torch.dtype
    precision: str  # fp32, fp16 or bf16: what upscale_frames is given
    note: str = ""  # why the precision asked for is not used (a one-line warning), or ""
    max_memory: int | None = None  # bytes automatic tiling may plan with (--max-memory), None: what the host allows


_PRECISION_NAMES = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}


def cpu_runs_bf16() -> bool:
    """The CPU has bf16 instructions (AVX512-BF16 / AMX) that oneDNN uses; without them bf16 is emulated."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def fit_precision(dev: torch.device, dtype: torch.dtype, asked: str) -> Compute:
    """Half precision only where it runs well. On the CPU fp16 was 1.4x slower than fp32 here even with
    AVX512-FP16 (47.8 vs 33.6 s for 40 frames of 160x96; a user saw a 18 s clip still running after 15 min),
    and bf16 is emulated without bf16 instructions: both fall back to fp32, with a one-line reason."""
    if dev.type != "cpu" or dtype == torch.float32 or (dtype == torch.bfloat16 and cpu_runs_bf16()):
        return Compute(dev, dtype, _PRECISION_NAMES[dtype])
    why = ("is slower than fp32 on the CPU (and less exact)" if dtype == torch.float16 else
           "would be emulated on this CPU (no AVX512-BF16 or AMX), many times slower than fp32")
    return Compute(dev, torch.float32, "fp32", f"--precision {asked} {why}; using fp32")


def check_settings(chunk: int, overlap: int, tile: int | None, tile_overlap: int, encoder: EncoderOptions | None,
                   fps: float, device: str, precision: str, ensemble: int = 1, max_memory: int | None = None) -> Compute:
    """Every option checked before any file is opened or ffmpeg started; returns the device, precision and memory cap."""
    if chunk < 2:
        raise TpstvsrError(f"--chunk must be 2 or more, got {chunk}")
    check_options(chunk, overlap, tile, tile_overlap, ensemble)
    if encoder is not None and encoder.crf is not None and encoder.crf < 0:
        raise TpstvsrError(f"--crf must be 0 or more, got {encoder.crf}")
    if not fps > 0:
        raise TpstvsrError(f"--fps must be positive, got {fps}")
    cap = check_max_memory(max_memory)
    dev = resolve_device(device)
    return replace(fit_precision(dev, resolve_precision(precision, dev), precision), max_memory=cap)


def _plan_output(source, output: Path, encoder: EncoderOptions, to_video: bool) -> tuple:
    """(stream plan, warnings) for OUTPUT; for a video every encoder and container setting is tried on this
    ffmpeg first (video/check.py), so a bad one fails now and not after hours of work."""
    info = source.info
    if not to_video:
        side = info is not None and (info.audio_streams or info.subtitle_streams)
        notes = ["a frame folder holds no sound or subtitles; they are not kept"] if side else []
        if source.sar != 1:
            notes.append(f"the source's pixels are not square (SAR {source.sar.numerator}:{source.sar.denominator}); "
                         "PNG frames cannot say so: show them stretched by that ratio, or convert to a video")
        return None, notes
    plan = plan_streams(info, output) if info is not None else None
    plan = check_output_settings(output, encoder, 4 * source.width, 4 * source.height, 2 * source.rate,
                                 source.colour, info, plan, sar=source.sar)
    return plan, list(plan.warnings) if plan is not None else []


def _two_or_more(frames: Iterable[np.ndarray], source) -> Iterator[np.ndarray]:
    """A video of one frame has nothing to interpolate: refuse it before anything is written."""
    it = iter(frames)
    first = list(itertools.islice(it, 2))
    if len(first) == 1 and source.info is not None:
        raise TpstvsrError(f"{source.path} holds a single frame: there is nothing to interpolate "
                           "(put the picture in a folder to upscale it alone)")
    yield from first
    yield from it


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a conversion; `kept` complete segments wait in `work_dir` for --resume
    (none when it came before the first segment was complete: then the folder is gone)."""

    def __init__(self, work_dir: Path, kept: int):
        super().__init__(f"interrupted; {kept} complete segment(s) kept in {work_dir}")
        self.work_dir, self.kept = work_dir, kept


def _identity(path: Path, source) -> dict:
    if source.info is None:  # a frame folder: its file names and sizes
        listing = [(f.name, f.stat().st_size) for f in source.files]
        return {"input": str(path.resolve()), "input_files": hashlib.sha1(repr(listing).encode()).hexdigest()}
    st = path.stat()
    return {"input": str(path.resolve()), "input_bytes": st.st_size, "input_mtime_ns": st.st_mtime_ns}


def model_digest(model) -> str:
    digest = hashlib.sha1()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def _check_job(input: Path, output: Path, scene_threshold: float, segment: int, overwrite: bool) -> None:
    if not 0 <= scene_threshold <= 1:
        raise TpstvsrError(f"--scene-threshold must lie in 0..1 (0: off), got {scene_threshold}")
    if segment < 1:
        raise TpstvsrError(f"--segment-frames must be 1 or more, got {segment}")
    if not input.exists():
        raise TpstvsrError(f"no such file or folder: {input}")
    if input.resolve() == output.resolve():
        raise TpstvsrError("input and output are the same path")
    check_output(output, overwrite)


def _network_stage(net, *, first: int, hold_last: bool, segment: int, scene_threshold: float, **pass_options) -> Callable:
    """Decoded frames -> output frames and SegmentEnd marks, from segment `first` on (earlier ones are done)."""
    plans: dict = {}  # one tile plan for the whole video: a finer one after running out of memory stays

    def piece(clip):
        return upscale_frames(net, clip, plans=plans, **pass_options)

    def network(frames):
        return segment_outputs(frames, piece, segment=segment, pad=context_frames(net, pass_options["overlap"]),
                               scene_threshold=scene_threshold, start_segment=first, hold_last=hold_last)
    return network


def _stream(source, network: Callable, sink, work: WorkDir, output: Path, bar, task: int, depth: int,
            still_ours: Callable[[], None]) -> int:
    """Run the pipeline into the sink and finish OUTPUT; returns the frames written. `still_ours` raises once
    another run has taken the output's lock over (checked before each segment is committed)."""
    written = 0
    for item in run_pipeline(lambda: _two_or_more(source.frames(), source), network, depth=depth):
        if isinstance(item, SegmentEnd):
            still_ours()
            sink.end_segment()
            continue
        sink.write(item)
        written += 1
        bar.advance(task)
    if work.done == 0:
        raise TpstvsrError("no frames were decoded, so nothing was written")
    sink.finish(output)
    return written


def _failure(exc: BaseException, sink, work: WorkDir) -> BaseException:
    """What a run that failed once its work folder existed raises: the complete segments stay for --resume
    (Interrupted says how many); a folder with none is removed, a Ctrl-C is still an Interrupted (with 0)."""
    if sink is not None:
        sink.abort()
    if work.done == 0 or not work.path.exists():
        work.remove()  # nothing worth keeping; --resume with no work simply starts again
        return Interrupted(work.path, 0) if isinstance(exc, KeyboardInterrupt) else exc
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted(work.path, work.done)
    if isinstance(exc, TpstvsrError):
        # No advice to --resume here: most errors (settings, the source) would only recur. Those a
        # resume does fix (a full disk) say so themselves, and a plain rerun names --resume.
        return TpstvsrError(f"{exc} ({work.done} complete segment(s) kept in {work.path})")
    return exc


def upscale(input: Path, output: Path, *, weights: Path | None = None, model=None, device: str = "auto",
            precision: str = "auto", chunk: int = 8, overlap: int = 2, tile: int | None = None, tile_overlap: int = 16,
            frames_per_pass: int = 1, fps: float = 25.0, encoder: EncoderOptions | None = None, overwrite: bool = False,
            quiet: bool = False, progress: ConversionProgress | None = None, on_warning: Callable[[str], None] | None = None,
            deinterlace: bool | None = None, strict: bool = False, resume: bool = False,
            scene_threshold: float = DEFAULT_THRESHOLD, segment: int = 64, ensemble: int = 1,
            max_memory: int | None = None) -> UpscaleResult:
    """Convert INPUT (video file or frame folder) into OUTPUT (video file or frame folder).

    Work is written in segments of `segment` input frames beside OUTPUT; `resume` continues an interrupted
    run from its last complete segment (with the same settings), `overwrite` also starts again over
    unfinished work. Scene cuts (score above `scene_threshold`, 0: off) are never interpolated across.
    `ensemble` (1, 2 or 8) averages that many transposed/flipped network passes (inference.upscale_frames).
    `max_memory` (bytes, --max-memory) caps the memory automatic tiling plans with; a window that runs out of
    memory anyway is redone in finer tiles, with a warning through `on_warning`.
    `progress` (batch's shared display) or a display of its own shows what happens (progress.py).
    """
    input, output = Path(input), Path(output)
    compute = check_settings(chunk, overlap, tile, tile_overlap, encoder, fps, device, precision, ensemble, max_memory)
    dev, dtype, precision = compute.device, compute.dtype, compute.precision
    _check_job(input, output, scene_threshold, segment, overwrite)
    warn = on_warning or (lambda msg: None)
    run_warnings: list[str] = []  # said while the network runs (an out-of-memory retry): also in the result

    def network_warn(msg: str) -> None:
        run_warnings.append(msg)
        warn(msg)

    if compute.note:
        warn(compute.note)
    own_bar = progress is None
    bar = progress or progress_bar(quiet)
    # The lock first: a second run on this output stops here, before it reads, loads or deletes anything.
    with writer_lock(work_dir_for(output), warn) as lock, bar if own_bar else nullcontext():
        task = bar.add_task(input.name, phase="reading the source")
        try:
            source = open_source(input, fps, deinterlace=deinterlace, strict=strict)
            to_video = is_video_path(output)
            encoder = (encoder or EncoderOptions()).for_output(output)
            if to_video:
                bar.update(task, phase="trying the output settings on one frame")
            plan, plan_warnings = _plan_output(source, output, encoder, to_video)
            if model is None:
                bar.update(task, phase="loading the network")
            net = model if model is not None else load_network(weights, dev, dtype)[0]
            settings = {"version": 1, **_identity(input, source), "model": model_digest(net), "chunk": chunk,
                        "overlap": overlap, "tile": tile, "tile_overlap": tile_overlap, "frames_per_pass": frames_per_pass,
                        "precision": str(dtype), "ensemble": ensemble, "scene_threshold": scene_threshold,
                        "segment": segment, "fps": fps, "deinterlace": source.deinterlace, "encoder": asdict(encoder),
                        "output": output.suffix.lower() if to_video else "frames"}
            work, sink = WorkDir.open(output, settings, resume=resume, overwrite=overwrite, on_warning=warn), None
            try:  # from here on a failure or Ctrl-C must leave the work folder tidy (_failure)
                for msg in plan_warnings:
                    warn(msg)
                if to_video:
                    sink = VideoSegments(work, 4 * source.width, 4 * source.height, 2 * source.rate, source.colour,
                                         encoder, source.info, plan, output, sar=source.sar)
                else:
                    sink = FolderFrames(work, segment)
                network = _network_stage(net, first=work.done, hold_last=to_video, segment=segment,
                                         scene_threshold=scene_threshold, chunk=chunk, overlap=overlap, tile=tile,
                                         tile_overlap=tile_overlap, device=dev, precision=precision,
                                         frames_per_pass=frames_per_pass, ensemble=ensemble,
                                         max_memory=compute.max_memory, warn=network_warn)
                skipped, pad = 2 * segment * work.done, context_frames(net, overlap)
                first = f"skipping the {work.done} segment(s) done before, then " if work.done else ""
                bar.update(task, total=None if source.count is None else 2 * source.count - (not to_video),
                           completed=skipped, phase=f"{first}decoding and running the network on the first window "
                                                    f"({chunk + 2 * pad} input frames)")
                bar.start_run(task)
                start = time.perf_counter()
                written = _stream(source, network, sink, work, output, bar, task, depth=queue_depth(chunk, pad),
                                  still_ours=lock.check)
            except BaseException as exc:
                failure = _failure(exc, sink, work)
                if failure is exc:
                    raise
                raise failure from None
        finally:
            if not own_bar:
                bar.remove_task(task)
    done = skipped + written
    warnings = plan_warnings + run_warnings + source.warnings
    for msg in source.warnings:
        warn(msg)
    frames_in = (done + 1) // 2 if not to_video else done // 2
    return UpscaleResult(input, output, frames_in, done, time.perf_counter() - start, warnings)
