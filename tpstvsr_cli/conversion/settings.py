"""What a conversion is asked to do, in two dataclasses checked once when made.

ConversionSettings decides the output (its frames and its file); RunOptions only how this run behaves.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, fields

from ..engine.options import InferenceOptions
from ..errors import TpstvsrError
from ..media.timecode import parse_time
from ..media.writer import EncoderOptions
from ..models.quality import DEFAULT_QUALITY, check_quality, quality_ensemble
from .progress import ConversionProgress
from .scene_cuts import DEFAULT_THRESHOLD


@dataclass(frozen=True)
class ConversionSettings:
    inference: InferenceOptions = field(default_factory=InferenceOptions)
    encoder: EncoderOptions = field(default_factory=EncoderOptions)
    device: str = "auto"
    precision: str = "auto"
    fps: float = 25.0  # of a frame-folder input
    scene_threshold: float = DEFAULT_THRESHOLD  # 0: no cut detection
    segment_frames: int = 64  # input frames per segment (the unit of resuming and of distributing work)
    deinterlace: bool | None = None  # None: when the file flags interlaced fields
    strict: bool = False  # a damaged video is an error instead of a warning
    start: float | str = 0.0  # seconds into the input (or HH:MM:SS[.ms]) where the converted piece begins
    duration: float | str | None = None  # seconds (or HH:MM:SS[.ms]) of it; None: to the end
    scale: int | None = None  # output size: 2, 3 or 4 times the input's (None: 4, or 1 with keep_size)
    keep_rate: bool = False  # space only: the input's frame rate (the network's key frames alone)
    keep_size: bool = False  # time only: the input's size (no network: motion-compensated midpoints)
    quality: str = DEFAULT_QUALITY  # fast, balanced or best (models/quality.py); its ensemble is in `inference`

    def __post_init__(self) -> None:
        check_quality(self.quality)
        self._check_range()
        self._check_mode()
        if self.encoder.crf is not None and self.encoder.crf < 0:
            raise TpstvsrError(f"--crf must be 0 or more, got {self.encoder.crf}")
        if not self.fps > 0:
            raise TpstvsrError(f"--fps must be positive, got {self.fps}")
        if not 0 <= self.scene_threshold <= 1:
            raise TpstvsrError(f"--scene-threshold must lie in 0..1 (0: off), got {self.scene_threshold}")
        if self.segment_frames < 1:
            raise TpstvsrError(f"--segment-frames must be 1 or more, got {self.segment_frames}")

    def _check_range(self) -> None:
        start, duration = parse_time(self.start, "--start"), parse_time(self.duration, "--duration")
        if start < 0:
            raise TpstvsrError(f"--start must be 0 or more seconds, got {self.start}")
        if duration is not None and not duration > 0:
            raise TpstvsrError(f"--duration must be more than 0 seconds, got {self.duration}")
        object.__setattr__(self, "start", start)  # seconds from here on
        object.__setattr__(self, "duration", duration)

    def _check_mode(self) -> None:
        if self.keep_rate and self.keep_size:
            raise TpstvsrError("--keep-rate and --keep-size together would leave the video as it is: choose one")
        if self.keep_size and self.scale is not None:
            raise TpstvsrError("--scale sets the size, which --keep-size keeps: choose one")
        if self.scale is not None and self.scale not in (2, 3, 4):
            raise TpstvsrError(f"--scale must be 2, 3 or 4, got {self.scale}")

    @property
    def size_factor(self) -> int:
        """Output width (and height) over the input's."""
        return 1 if self.keep_size else self.scale or 4

    @property
    def rate_factor(self) -> int:
        """Output frame rate over the input's."""
        return 1 if self.keep_rate else 2


@dataclass
class RunOptions:
    resume: bool = False  # continue the unfinished work of an earlier run with the same settings
    overwrite: bool = False  # replace OUTPUT, and start again over unfinished work
    quiet: bool = False
    progress: ConversionProgress | None = None  # a shared display (batch); None: one of its own
    on_warning: Callable[[str], None] | None = None
    shared: bool = False  # a worker among others on one work folder: resume their plan, touch no partial files

    def warn(self, message: str) -> None:
        if self.on_warning is not None:
            self.on_warning(message)


_INFERENCE = {f.name for f in fields(InferenceOptions)}
_RUN = {f.name for f in fields(RunOptions)}
_ALIASES = {"segment": "segment_frames"}  # the keyword upscale() has always taken


def split_options(settings: ConversionSettings | None, options: dict) -> tuple[ConversionSettings, RunOptions]:
    """Keywords (any field of ConversionSettings, InferenceOptions or RunOptions) over `settings`, checked."""
    options = {_ALIASES.get(k, k): v for k, v in options.items()}
    # No ensemble given (None, or left out, and no `inference`) beside a quality: the quality's (best: 2).
    if options.get("ensemble") is None and "quality" in options and "inference" not in options:
        options["ensemble"] = quality_ensemble(options["quality"])
    elif "ensemble" in options and options["ensemble"] is None:
        del options["ensemble"]
    run = RunOptions(**{k: options.pop(k) for k in list(options) if k in _RUN})
    inference = {k: options.pop(k) for k in list(options) if k in _INFERENCE}
    settings = settings or ConversionSettings()
    if options.get("encoder") is None:
        options.pop("encoder", None)
    try:
        base = options.pop("inference", settings.inference).__dict__ | inference
        return ConversionSettings(**(settings.__dict__ | options | {"inference": InferenceOptions(**base)})), run
    except TypeError as exc:  # an unknown keyword
        raise TypeError(f"conversion option: {exc}") from None
