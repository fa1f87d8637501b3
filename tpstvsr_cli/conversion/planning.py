"""Planning a conversion: checks, the work folder and the frame plan, before any frame is converted.

plan_conversion is the first step of the segment API (convert.py): it checks the input, the output and its
encoder settings, loads the network, opens (or resumes) the work folder under the settings that decide the
output, and plans the frames (one decoding pass for the frame count and scene cuts, stored as plan.json). The
Conversion it returns is the handle convert_segment and finish take.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..engine.device import Compute, resolve_compute
from ..engine.stream import context_frames
from ..errors import TpstvsrError
from ..media.check import check_output_settings
from ..media.endpoints import Source, check_output, is_video_path, open_source
from ..media.streams import plan_streams
from ..models.loading import get_model
from ..models.quality import DEFAULT_QUALITY, apply_quality
from .network_stage import frame_maker
from .plan import FramePlan, find_cuts_and_count, plan_frames
from .settings import ConversionSettings, RunOptions
from .sinks import FolderFrames, VideoSegments
from .workdir import WorkDir

SETTINGS_VERSION = 2  # 2: segments finished in any order, the frame plan stored (plan.json)


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


def check_paths(input: Path, output: Path, overwrite: bool) -> None:
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
    check_paths(input, output, run.overwrite)
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
