"""What a conversion is asked to do, in two dataclasses checked once when made.

ConversionSettings decides the output (its frames and its file); RunOptions only how this run behaves.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, fields

from ..engine.options import InferenceOptions
from ..errors import TpstvsrError
from ..media.writer import EncoderOptions
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

    def __post_init__(self) -> None:
        if self.encoder.crf is not None and self.encoder.crf < 0:
            raise TpstvsrError(f"--crf must be 0 or more, got {self.encoder.crf}")
        if not self.fps > 0:
            raise TpstvsrError(f"--fps must be positive, got {self.fps}")
        if not 0 <= self.scene_threshold <= 1:
            raise TpstvsrError(f"--scene-threshold must lie in 0..1 (0: off), got {self.scene_threshold}")
        if self.segment_frames < 1:
            raise TpstvsrError(f"--segment-frames must be 1 or more, got {self.segment_frames}")


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
