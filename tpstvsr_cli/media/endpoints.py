"""Where frames come from (a video file or a folder of frames) and where they go (a video or a folder).

Outputs are written by segments.py: in segments beside the output, renamed into place only when complete.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import TpstvsrError
from .colour import SRGB_FRAMES, ColourSpec, source_colour
from .frame_folder import list_frames, read_frame
from .probe import VideoInfo, probe
from .reader import VideoReader
from .suffixes import IMAGE_SUFFIXES
from .timecode import clock

PARTIAL = ".tpstvsr-partial"


@dataclass
class Source:
    path: Path
    width: int
    height: int
    rate: Fraction
    count: int | None  # frames: exact for a folder, an estimate for a video (None: unknown)
    colour: ColourSpec
    info: VideoInfo | None = None  # None for a frame folder
    files: list[Path] = field(default_factory=list)
    deinterlace: bool = False
    constant_rate: Fraction | None = None  # decode onto this grid (a variable-rate source becomes constant)
    strict: bool = False  # a damaged video is an error instead of a warning
    start: Fraction = Fraction(0)  # where a video's frames begin (--start, on a frame; a frame folder is sliced)
    frame_limit: int | None = None  # a video's frames from there (--duration); None: to the end
    warnings: list[str] = field(default_factory=list)  # found while decoding (damage)

    @property
    def is_frame_folder(self) -> bool:
        return self.info is None

    @property
    def sar(self) -> Fraction:
        """The pixel shape, which 4x in both directions keeps: written to the output so it shows as wide."""
        return self.info.sar if self.info is not None else Fraction(1)

    @property
    def span(self) -> tuple[float, float | None]:
        """(start, duration) in seconds of the piece of a video converted (duration None: to the end), for its
        sound: exactly the frames' times."""
        return float(self.start), None if self.frame_limit is None else float(self.frame_limit / self.rate)

    def frames(self, first: int = 0) -> Iterator[np.ndarray]:
        """The frames from frame `first` on (a video seeks there, onto its frame grid: a segment converted alone
        decodes from its own first frame, not from the film's start)."""
        if self.is_frame_folder:
            for f in self.files[first:]:
                yield read_frame(f)
            return
        limit = None if self.frame_limit is None else max(0, self.frame_limit - first)
        start = self.start + first / self.rate
        with VideoReader(
            self.path, self.info, self.colour, self.deinterlace, self.constant_rate, start, limit
        ) as reader:
            yield from reader
        self._check_damage(first + reader.frames_read, reader.errors)

    def _check_damage(self, decoded: int, errors: list[str]) -> None:
        """A file cut short decodes up to the cut and ffmpeg exits 0: compare with what the container promised."""
        lost = (self.count or 0) - decoded
        if not errors and lost <= max(2, self.count // 50 if self.count else 0):
            return
        said = f"; ffmpeg said: {errors[-1]}" if errors else ""
        what = (
            f"decoded {decoded} of about {self.count} frames (about {lost} lost)"
            if lost > 0
            else "decoding reported errors"
        )
        msg = f"{self.path.name} looks damaged or truncated: {what}{said}"
        if self.strict:
            raise TpstvsrError(msg + " (--strict refuses it; leave out --strict to convert what decodes)")
        if msg not in self.warnings:  # said once, however many times the source is decoded
            self.warnings.append(msg)


def _frame_size(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as img:  # reads the header only
            return img.size
    except (OSError, ValueError) as exc:
        raise TpstvsrError(f"cannot read image {path}: {exc}") from None


def _frame_range(length: float | None, start: float, duration: float | None, rate: Fraction) -> tuple[int, int | None]:
    """(first frame, frame count or None: to the end) of [start, start + duration) in a video of `length`
    seconds (None: unknown, not checked), the times rounded to the nearest frame; a range that begins past the
    end, or ends past it by more than a frame, is refused."""
    first = round(start * rate)
    count = None if duration is None else max(1, round(duration * rate))
    if length is None:
        return first, count
    if start > 0 and first >= round(length * rate):
        raise TpstvsrError(f"--start {start:g} s is past the end: the video lasts {clock(length)} ({length:g} s)")
    if duration is not None and start + duration > length + 1 / rate:
        raise TpstvsrError(
            f"--start {start:g} s --duration {duration:g} s ends past the end of the video at {length:g} s "
            f"(the most from there is --duration {length - start:g})"
        )
    return first, count


def open_source(
    path: Path,
    fps: float = 25.0,
    *,
    deinterlace: bool | None = None,
    strict: bool = False,
    start: float = 0.0,
    duration: float | None = None,
) -> Source:
    """A video file or a frame folder, checked before any work starts. deinterlace None: when the file
    flags an interlaced field order. `start` and `duration` (seconds) take a piece of it: checked here against
    its length, so a range past the end fails before any work."""
    path = Path(path)
    if path.is_dir():
        files = list_frames(path)
        rate = Fraction(fps).limit_denominator(1001)
        first, count = _frame_range(len(files) / rate, start, duration, rate)
        files = files[first : None if count is None else first + count]
        w, h = _frame_size(files[0])
        for i, f in enumerate(files[1:], 1):  # all sizes now, not after an hour of work
            if _frame_size(f) != (w, h):
                fw, fh = _frame_size(f)
                raise TpstvsrError(
                    f"frames of different sizes in {path}: frame {i} ({f.name}) is {fw}x{fh}, "
                    f"but frame 0 ({files[0].name}) is {w}x{h}"
                )
        return Source(path, w, h, rate, len(files), SRGB_FRAMES, files=files)
    info = probe(path)
    if deinterlace is None:
        deinterlace = info.field_order in ("tt", "bb", "tb", "bt")
    rate = info.frame_rate
    first, count = _frame_range(info.duration, start, duration, rate)
    if count is None and info.duration is not None:
        count = max(1, round(info.duration * rate) - first) if first else info.frames_estimate
    return Source(
        path,
        info.width,
        info.height,
        rate,
        count,
        source_colour(info),
        info,
        deinterlace=deinterlace,
        constant_rate=rate,
        strict=strict,
        start=first / rate,
        frame_limit=count if duration is not None else None,
    )


def is_video_path(path: Path) -> bool:
    """An output path names a video when it has a suffix; without one it is a frame folder."""
    path = Path(path)
    return bool(path.suffix) and not path.is_dir() and path.suffix.lower() not in IMAGE_SUFFIXES


def check_output(output: Path, overwrite: bool) -> None:
    """Before any work: the output's folder exists and takes a new file, and nothing is replaced unasked."""
    output = Path(output)
    parent = output.parent
    if not parent.exists():
        raise TpstvsrError(f"output folder does not exist: {parent}")
    if not parent.is_dir():
        raise TpstvsrError(f"cannot write {output}: {parent} is a file, not a folder")
    probe_file = parent / f".{output.name}.tpstvsr-write-test"
    try:  # permissions, read-only mounts and full disks all show up here, unlike with os.access
        probe_file.write_bytes(b"x")
        probe_file.unlink()
    except OSError as exc:
        raise TpstvsrError(f"cannot write in {parent}: {exc.strerror or exc}") from None
    if output.exists() and not (output.is_dir() and not any(output.iterdir())) and not overwrite:
        raise TpstvsrError(f"output exists: {output} (pass --overwrite to replace it)")
