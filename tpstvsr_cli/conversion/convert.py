"""`tpstvsr upscale`: one video or frame folder in, one video or frame folder out, 2x rate and 4x size (or what
ConversionSettings ask: --scale, --keep-rate, --keep-size, a piece of the input with --start and --duration).

The public API converts a video as independent segments, so that they can run anywhere, in any order:

    conversion = plan_conversion(input, output, settings)   # checks, the work folder, the frame plan (stored)
    for index in conversion.pending():
        convert_segment(conversion, index)                  # one segment into the work folder
    finish(conversion)                                      # join the segments into OUTPUT

plan_conversion with RunOptions(shared=True) on a work folder another process planned loads that plan instead of
scanning the source again, and leaves the partial files of other workers alone (a worker's handle). upscale() is
the straight run: it takes the output's writer lock and converts the pending segments in one decoding pass, three
stages overlapping in time (pipeline.py).
"""

import hashlib
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..engine.device import Compute, resolve_compute
from ..engine.memory import queue_depth
from ..engine.stream import context_frames
from ..errors import TpstvsrError
from ..media.check import check_output_settings
from ..media.endpoints import Source, check_output, is_video_path, open_source
from ..media.streams import plan_streams
from ..models.loading import get_model
from ..models.quality import DEFAULT_QUALITY, apply_quality
from .lock import writer_lock
from .network_stage import SegmentEnd, SegmentStart, frame_maker, planned_outputs
from .pipeline import run_pipeline
from .plan import FramePlan, find_cuts_and_count, pass_ends, plan_frames
from .progress import progress_bar
from .settings import ConversionSettings, RunOptions, split_options
from .sinks import FolderFrames, VideoSegments
from .workdir import WorkDir, work_dir_for

SETTINGS_VERSION = 2  # 2: segments finished in any order, the frame plan stored (plan.json)


@dataclass
class UpscaleResult:
    input: Path
    output: Path
    frames_in: int
    frames_out: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a conversion; `kept` complete segments wait in `work_dir` for --resume
    (none when it came before the first segment was complete: then the folder is gone)."""

    def __init__(self, work_dir: Path, kept: int):
        super().__init__(f"interrupted; {kept} complete segment(s) kept in {work_dir}")
        self.work_dir, self.kept = work_dir, kept


@dataclass
class Conversion:
    """One video's conversion: what plan_conversion found, and the handle convert_segment and finish take."""

    input: Path
    output: Path
    settings: ConversionSettings
    compute: Compute
    source: Source
    model: torch.nn.Module
    work: WorkDir
    frames: FramePlan
    stream_plan: object = None  # media.streams.StreamPlan for a video output
    warnings: list[str] = field(default_factory=list)  # about the output (streams left out or converted)
    run_warnings: list[str] = field(default_factory=list)  # said while the network ran (an out-of-memory retry)
    on_warning: Callable[[str], None] | None = None
    tile_plans: dict = field(default_factory=dict)  # one tile plan for the video: a finer one after an OOM stays

    @property
    def to_video(self) -> bool:
        return self.frames.hold_last

    def pending(self) -> list[int]:
        """The segments not finished yet, in order."""
        self.work.refresh()
        return [s.index for s in self.frames.segments if s.index not in self.work.finished]

    def outputs_done(self) -> int:
        return sum(s.outputs for s in self.frames.segments if s.index in self.work.finished)

    def sink(self):
        opts = self.settings
        if self.to_video:
            return VideoSegments(
                self.work, self.source, opts.encoder, self.stream_plan, self.output, opts.size_factor, opts.rate_factor
            )
        return FolderFrames(self.work, opts.rate_factor * opts.segment_frames)

    def network_warn(self, message: str) -> None:
        self.run_warnings.append(message)
        if self.on_warning is not None:
            self.on_warning(message)

    def upscale(self, clip: list) -> Iterable:
        """L input frames -> 2L-1 output frames (L with --keep-rate), as the settings say."""
        return frame_maker(self.model, self.settings, self.compute, self.network_warn, self.tile_plans)(clip)


def _identity(path: Path, source: Source) -> dict:
    if source.is_frame_folder:  # its file names and sizes
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


def _work_settings(
    input: Path, source: Source, settings: ConversionSettings, compute: Compute, model, output: Path
) -> dict:
    """Everything that decides the output frames and file: a resume must match it exactly."""
    inf, to_video = settings.inference, is_video_path(output)
    return {
        "version": SETTINGS_VERSION,
        **_identity(input, source),
        "model": model_digest(model),
        "chunk": inf.chunk,
        "overlap": inf.overlap,
        "tile": inf.tile,
        "tile_overlap": inf.tile_overlap,
        "frames_per_pass": inf.frames_per_pass,
        "precision": str(compute.dtype),
        "ensemble": inf.ensemble,
        "scene_threshold": settings.scene_threshold,
        "segment": settings.segment_frames,
        "fps": settings.fps,
        "deinterlace": source.deinterlace,
        "encoder": asdict(settings.encoder.for_output(output)),
        "output": output.suffix.lower() if to_video else "frames",
        "span": list(source.span),  # the piece converted (--start, --duration), on frames (a list, as in JSON)
        "size_factor": settings.size_factor,
        "rate_factor": settings.rate_factor,
        # --quality changes no weight, so the model's digest misses it. Left out at the default, so that work
        # folders made before --quality existed (all balanced) still resume.
        **({"quality": settings.quality} if settings.quality != DEFAULT_QUALITY else {}),
    }


def _check_paths(input: Path, output: Path, overwrite: bool) -> None:
    if not input.exists():
        raise TpstvsrError(f"no such file or folder: {input}")
    if input.resolve() == output.resolve():
        raise TpstvsrError("input and output are the same path")
    check_output(output, overwrite)


def _plan_output(source: Source, output: Path, settings: ConversionSettings) -> tuple:
    """(stream plan, warnings) for OUTPUT; for a video every encoder and container setting is tried on this
    ffmpeg first (media/check.py), so a bad one fails now and not after hours of work."""
    info = source.info
    if not is_video_path(output):
        side = info is not None and (info.audio_streams or info.subtitle_streams)
        notes = ["a frame folder holds no sound or subtitles; they are not kept"] if side else []
        if source.sar != 1:
            notes.append(
                f"the source's pixels are not square (SAR {source.sar.numerator}:{source.sar.denominator}); "
                "PNG frames cannot say so: show them stretched by that ratio, or convert to a video"
            )
        return None, notes
    plan = plan_streams(info, output) if info is not None else None
    if plan is not None:
        plan.cut_to(source.span, output)  # the sound and subtitles of the converted piece alone
    plan = check_output_settings(
        output,
        settings.encoder.for_output(output),
        settings.size_factor * source.width,
        settings.size_factor * source.height,
        settings.rate_factor * source.rate,
        source.colour,
        info,
        plan,
        sar=source.sar,
    )
    return plan, list(plan.warnings) if plan is not None else []


def _frame_plan(work: WorkDir, source: Source, settings: ConversionSettings, pad: int, to_video: bool) -> FramePlan:
    """The plan stored in the work folder, or a new one from one decoding pass (frame count and scene cuts)."""
    import json

    stored = work.path / "plan.json"
    if stored.is_file():  # a resumed run's (WorkDir.open cleared the folder of one with other settings)
        return FramePlan.from_json(json.loads(stored.read_text()))
    count, cuts = find_cuts_and_count(source.frames(), settings.scene_threshold)
    if count == 0:
        raise TpstvsrError("no frames were decoded, so nothing was written")
    if count == 1 and not source.is_frame_folder and settings.rate_factor == 2:
        raise TpstvsrError(
            f"{source.path} holds a single frame: there is nothing to interpolate "
            "(put the picture in a folder to upscale it alone)"
        )
    plan = plan_frames(count, cuts, settings.segment_frames, pad, hold_last=to_video, in_between=not settings.keep_rate)
    work.write_json("plan.json", plan.to_json())
    return plan


def plan_conversion(
    input: Path,
    output: Path,
    settings: ConversionSettings | None = None,
    *,
    model=None,
    weights: Path | None = None,
    run: RunOptions | None = None,
    phase=None,
) -> Conversion:
    """Check everything, open (or resume) the work folder and plan the frames: the first step of a conversion.

    `model` (already on its device) or `weights` (None: the shipped weights) give the network; `run` says whether
    to resume or overwrite and where warnings go; `phase(text)` hears what happens (a progress display)."""
    input, output = Path(input), Path(output)
    settings, run = settings or ConversionSettings(), run or RunOptions()
    phase = phase or (lambda text: None)
    compute = resolve_compute(settings.device, settings.precision)
    _check_paths(input, output, run.overwrite)
    source = open_source(
        input,
        settings.fps,
        deinterlace=settings.deinterlace,
        strict=settings.strict,
        start=settings.start,
        duration=settings.duration,
    )
    if is_video_path(output):
        phase("trying the output settings on one frame")
    stream_plan, warnings = _plan_output(source, output, settings)
    if model is None:
        phase("loading the network")
        model = get_model(weights=weights, device=compute.device, dtype=compute.weights_dtype)[0]
    model, note = apply_quality(model, settings.quality)  # a copy where it differs: the caller's stays as it was
    if note:
        run.warn(note)
    work = WorkDir.open(
        output,
        _work_settings(input, source, settings, compute, model, output),
        resume=run.resume or run.shared,
        overwrite=run.overwrite and not run.shared,
        on_warning=run.on_warning,
        shared=run.shared,
    )
    try:
        for msg in warnings:
            run.warn(msg)
        phase("decoding the source once to find its scene cuts")
        # --keep-size: each in-between frame needs its two input frames alone (no network, no context)
        pad = 0 if settings.keep_size else context_frames(model, settings.inference.overlap)
        frames = _frame_plan(work, source, settings, pad, is_video_path(output))
    except BaseException:
        if not work.done and not run.shared:
            work.remove()
        raise
    return Conversion(
        input, output, settings, compute, source, model, work, frames, stream_plan, warnings, on_warning=run.on_warning
    )


def convert_segments(
    conversion: Conversion,
    indices: Iterable[int],
    on_frame: Callable[[], None] | None = None,
    still_ours: Callable[[], None] | None = None,
) -> int:
    """Convert these segments (one decoding pass, in order) into the work folder; returns the frames written.
    `on_frame` is called after each output frame; `still_ours` before each segment is committed (it raises once
    another run has taken the output over)."""
    indices = sorted(indices)
    sink, written = conversion.sink(), 0
    pad = conversion.frames.pad
    depth = queue_depth(conversion.settings.inference.chunk, pad)

    # Decoding starts at the first frame the first segment's windows read: a segment converted alone (on a
    # worker elsewhere) does not decode the film from its start.
    first = min((conversion.frames.segments[g].first_frame for g in indices), default=0)

    def network(frames):
        return planned_outputs(frames, conversion.upscale, conversion.frames, indices, first)

    try:
        for item in run_pipeline(lambda: conversion.source.frames(first), network, depth=depth):
            if isinstance(item, SegmentStart):
                sink.start_segment(item.index)
            elif isinstance(item, SegmentEnd):
                if still_ours is not None:
                    still_ours()
                sink.end_segment(item.index)
            else:
                sink.write(item)
                written += 1
                if on_frame is not None:
                    on_frame()
    except BaseException:
        sink.abort()
        raise
    return written


def convert_segment(conversion: Conversion, index: int) -> int:
    """Convert segment `index` alone (any segment, in any order); returns its output frames."""
    if not 0 <= index < len(conversion.frames.segments):
        raise TpstvsrError(f"no segment {index}: the plan has {len(conversion.frames.segments)}")
    return convert_segments(conversion, [index])


def finish(conversion: Conversion) -> None:
    """Join the finished segments into OUTPUT and remove the work folder; an error names missing segments."""
    missing = conversion.pending()
    if missing:
        raise TpstvsrError(
            f"segment(s) {', '.join(map(str, missing[:10]))} of {conversion.output} are not converted yet"
        )
    conversion.sink().finish(conversion.output, len(conversion.frames.segments))


def _failure(exc: BaseException, work: WorkDir) -> BaseException:
    """What a run that failed once its work folder existed raises: the complete segments stay for --resume
    (Interrupted says how many); a folder with none is removed, a Ctrl-C is still an Interrupted (with 0)."""
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


def _straight_run(conversion: Conversion, bar, task, still_ours) -> tuple[int, int, float]:
    """The pending segments in one pass, with progress: (outputs done before, outputs written, seconds)."""
    pending, skipped = conversion.pending(), conversion.outputs_done()
    chunk, pad = conversion.settings.inference.chunk, conversion.frames.pad
    first = f"skipping the {conversion.work.done} segment(s) done before, then " if conversion.work.done else ""
    total = sum(s.outputs for s in conversion.frames.segments)
    doing = (
        "warping the first in-between frames"
        if conversion.settings.keep_size
        else "running the network on the first window"
    )
    bar.update(
        task,
        total=total,
        completed=skipped,
        phase=f"{first}decoding and {doing} ({chunk + 2 * pad} input frames)",
    )
    bar.start_run(task, **_progress_units(conversion, pending))
    start = time.perf_counter()
    written = convert_segments(conversion, pending, on_frame=lambda: bar.advance(task), still_ours=still_ours)
    finish(conversion)
    return skipped, written, time.perf_counter() - start


def _progress_units(conversion: Conversion, pending: list[int]) -> dict:
    """Where this run's network passes end, for the time left (--keep-size runs none: frame by frame)."""
    if conversion.settings.keep_size:
        return {}
    segments = [conversion.frames.segments[g] for g in pending]
    return {"passes": pass_ends(segments, conversion.settings.inference.chunk, conversion.frames.pad)}


def upscale(
    input: Path,
    output: Path,
    settings: ConversionSettings | None = None,
    *,
    model=None,
    weights: Path | None = None,
    **options,
) -> UpscaleResult:
    """Convert INPUT (video file or frame folder) into OUTPUT (video file or frame folder) in one run.

    `options` are fields of ConversionSettings (device, precision, encoder, fps, scene_threshold, segment_frames
    or segment, deinterlace, strict, start, duration, scale, keep_rate, keep_size), of InferenceOptions (chunk,
    overlap, tile, tile_overlap, ensemble, frames_per_pass, max_memory) and of RunOptions (resume, overwrite, quiet,
    progress, on_warning), all checked before any file is opened. Work is written in segments beside OUTPUT; an
    interrupted run keeps every complete one for resume=True.
    """
    input, output = Path(input), Path(output)
    settings, run = split_options(settings, options)
    compute = resolve_compute(settings.device, settings.precision)
    _check_paths(input, output, run.overwrite)  # before the lock, which needs the output's folder
    if compute.note:
        run.warn(compute.note)
    own_bar = run.progress is None
    bar = run.progress or progress_bar(run.quiet)
    # The lock first: a second run on this output stops here, before it reads, loads or deletes anything.
    with writer_lock(work_dir_for(output), run.warn) as lock, bar if own_bar else nullcontext():
        task = bar.add_task(input.name, phase="reading the source")
        try:
            conversion = plan_conversion(
                input,
                output,
                settings,
                model=model,
                weights=weights,
                run=run,
                phase=lambda text: bar.update(task, phase=text),
            )
            try:  # from here on a failure or Ctrl-C must leave the work folder tidy (_failure)
                skipped, written, seconds = _straight_run(conversion, bar, task, lock.check)
            except BaseException as exc:
                failure = _failure(exc, conversion.work)
                if failure is exc:
                    raise
                raise failure from None
        finally:
            if not own_bar:
                bar.remove_task(task)
    return _result(conversion, skipped + written, seconds, run)


def _result(conversion: Conversion, done: int, seconds: float, run: RunOptions) -> UpscaleResult:
    source = conversion.source
    for msg in source.warnings:
        run.warn(msg)
    if not conversion.frames.in_between:
        frames_in = done
    else:
        frames_in = (done + 1) // 2 if not conversion.to_video else done // 2
    warnings = conversion.warnings + conversion.run_warnings + source.warnings
    return UpscaleResult(conversion.input, conversion.output, frames_in, done, seconds, warnings)
