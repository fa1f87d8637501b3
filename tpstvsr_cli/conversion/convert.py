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

import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.device import resolve_compute
from ..engine.memory import queue_depth
from ..errors import TpstvsrError
from .lock import writer_lock
from .network_stage import SegmentEnd, SegmentStart, planned_outputs
from .pipeline import run_pipeline
from .plan import pass_ends
from .planning import Conversion, check_paths, plan_conversion
from .progress import progress_bar
from .settings import ConversionSettings, RunOptions, split_options
from .workdir import WorkDir, work_dir_for


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
    check_paths(input, output, run.overwrite)  # before the lock, which needs the output's folder
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
