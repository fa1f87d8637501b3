"""Encode uint8 RGB frames into a video file through an FFmpeg pipe, copying the source's other streams."""

import subprocess
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import ffmpeg
import numpy as np

from ..errors import TpstvsrError
from .colour import ColourSpec
from .errors import disk_full_message
from .probe import VideoInfo, ffmpeg_exe
from .reader import StderrTail, ffmpeg_reason
from .streams import StreamPlan, default_video_codec, faststart, keep_source_input, map_side_streams

# Segments go in MP4 (exact timestamps, so joined segments keep a constant rate); these codecs do not fit in it.
_NOT_IN_MP4 = {"ffv1", "huffyuv", "ffvhuff", "utvideo", "magicyuv", "rawvideo", "libtheora", "libvpx", "vp8"}


@dataclass(frozen=True)
class EncoderOptions:
    codec: str | None = None  # None: the output container's default (default_video_codec)
    crf: int | None = 18
    preset: str | None = None  # the encoder's speed preset (libx264: ultrafast .. veryslow)
    pix_fmt: str = "yuv420p"
    extra: dict[str, str] = field(default_factory=dict)  # further output options, e.g. {"tune": "film"}

    def for_output(self, output: Path) -> "EncoderOptions":
        """These options with the codec made explicit for OUTPUT's container. Resolved once, from the real
        output name: segments are written under other extensions (.mp4), which must not change the codec."""
        return self if self.codec else replace(self, codec=default_video_codec(output))


def segment_ext(codec: str) -> str:
    """The container segments of this codec are written in before the join."""
    return ".mkv" if codec in _NOT_IN_MP4 else ".mp4"


class VideoWriter:
    """`with VideoWriter(path, w, h, rate, colour) as w: w.write(frame)`; frames are [h, w, 3] uint8 RGB.

    Writes exactly w*h*3 bytes per frame to ffmpeg's stdin. `source` + `plan` map the source's audio,
    subtitles, chapters and global metadata into the output. If anything fails (here or in the caller),
    the output file is removed: a file at `path` is always a finished one.
    """

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        rate: Fraction,
        colour: ColourSpec,
        options: EncoderOptions | None = None,
        source: VideoInfo | None = None,
        plan: StreamPlan | None = None,
        sar: Fraction = Fraction(1),
    ):
        self.path, self.width, self.height, self.sar = Path(path), width, height, Fraction(sar)
        self.rate, self.colour = Fraction(rate), colour
        self.options = options or EncoderOptions()
        self.source, self.plan = source, plan
        self.frames_written = 0
        self._proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        opt = self.options
        video = ffmpeg.input(
            "pipe:",
            format="rawvideo",
            pix_fmt="rgb24",
            s=f"{self.width}x{self.height}",
            framerate=f"{self.rate.numerator}/{self.rate.denominator}",
        )
        # RGB -> YUV with the matrix and range we tag: the same colours come back when it is decoded.
        video = video.video.filter("scale", **self.colour.encode_filter()).filter(
            "setparams", **self.colour.setparams()
        )
        # Raw RGB carries no pixel shape: an anamorphic source's (4x both ways keeps it) is set here, so the
        # encoder writes it and the output shows at the source's display aspect ratio.
        streams = [video.filter("setsar", f"{self.sar.numerator}/{self.sar.denominator}")]
        kwargs = {"c:v": opt.codec or default_video_codec(self.path), "pix_fmt": opt.pix_fmt, **self.colour.tags()}
        if opt.crf is not None:
            kwargs["crf"] = opt.crf
            if kwargs["c:v"] in ("libvpx-vp9", "libvpx"):
                kwargs["b:v"] = 0  # VP9's constant-quality mode needs a zero bitrate target
        if opt.preset:
            kwargs["preset"] = opt.preset
        with_source = self.source is not None and self.plan is not None
        if with_source:
            map_side_streams(streams, kwargs, self.source.path, self.plan)
        faststart(kwargs, self.path)
        kwargs.update(opt.extra)
        cmd = (
            ffmpeg.output(*streams, str(self.path), **kwargs)
            .global_args("-nostdin", "-hide_banner", "-loglevel", "error", "-y")
            .compile(cmd=ffmpeg_exe())
        )
        return keep_source_input(cmd, "pipe:", self.source.path, self.plan) if with_source else cmd

    def __enter__(self) -> "VideoWriter":
        self._proc = subprocess.Popen(
            self.command(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._stderr = StderrTail(self._proc.stderr)
        return self

    def _failed(self, what: str) -> TpstvsrError:
        self._proc.kill()
        self._proc.wait()
        self.path.unlink(missing_ok=True)
        self._stderr.text()
        tail = (
            ffmpeg_reason("\n".join(self._stderr.lines)) if self._stderr.lines else f"exit code {self._proc.returncode}"
        )
        if "No space left on device" in tail:
            return TpstvsrError(disk_full_message(f"{what} {self.path.name}"))
        return TpstvsrError(f"ffmpeg failed {what} {self.path.name}: {tail}")

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise TpstvsrError(
                f"frame of {frame.dtype} {list(frame.shape)} given to a {self.width}x{self.height} writer"
            )
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except (BrokenPipeError, OSError):
            raise self._failed("encoding") from None
        self.frames_written += 1

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is not None:  # the caller failed: no half-written file
            try:
                self._proc.stdin.close()
            except OSError:
                pass
            self._proc.kill()
            self._proc.wait()
            self._stderr.text()
            self.path.unlink(missing_ok=True)
            return
        try:
            self._proc.stdin.close()
        except OSError:
            raise self._failed("finishing") from None
        if self._proc.wait() != 0:
            raise self._failed("finishing")
