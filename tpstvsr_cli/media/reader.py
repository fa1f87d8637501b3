"""Decode a video into uint8 RGB frames through an FFmpeg pipe, frame by frame."""

import re
import subprocess
import threading
from fractions import Fraction
from pathlib import Path

import ffmpeg
import numpy as np

from ..errors import TpstvsrError
from .colour import ColourSpec, source_colour
from .probe import VideoInfo, ffmpeg_exe, probe

_PREFIX = re.compile(r"^(\[[^\]]*\] ?)+")  # "[vost#0:0/libx264 @ 0x5564] [enc:libx264 @ 0x5565] "
# Lines ffmpeg prints after the real cause of a failure; the cause is the first line that is none of these.
_CONSEQUENCES = (
    "Task finished",
    "Terminating thread",
    "Nothing was written",
    "Error while opening encoder",
    "Could not open encoder",
    "Error sending frames",
    "Conversion failed",
    "Error opening output file",
    "Error opening output files",
    "Could not write header",
    "Error initializing output stream",
    "Error splitting the argument list",
    "Error applying encoder options",
    "Error selecting an encoder",
)


def ffmpeg_reason(stderr: str) -> str:
    """The line of ffmpeg's stderr that says why it failed, without its `[component @ 0x..]` prefix."""
    lines = [_PREFIX.sub("", line).strip() for line in stderr.splitlines() if line.strip()]
    causes = [line for line in lines if not line.startswith(_CONSEQUENCES)]
    return (causes or lines or ["no message"])[0]


class StderrTail:
    """Drains a process's stderr on a thread (so ffmpeg never blocks on a full pipe), keeping the last lines."""

    def __init__(self, stream, keep: int = 20):
        self.lines: list[str] = []
        self._keep = keep
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.decode("utf-8", "replace").rstrip())
            del self.lines[: -self._keep]

    def text(self, last: int = 3) -> str:
        self._thread.join(timeout=5)
        return "; ".join(line for line in self.lines[-last:] if line)


class VideoReader:
    """`with VideoReader(path) as r: for frame in r: ...` yields [H, W, 3] uint8 RGB arrays.

    Reads exactly W*H*3 bytes per frame. YUV becomes RGB with the source's own matrix and range
    (colour.source_colour), not swscale's BT.601 default; rotated files come out upright (ffmpeg
    autorotates, and probe reports the rotated size).
    """

    def __init__(
        self,
        path: Path,
        info: VideoInfo | None = None,
        colour: ColourSpec | None = None,
        deinterlace: bool = False,
        constant_rate=None,
        start=0,
        frames: int | None = None,
    ):
        self.path = Path(path)
        self.start, self.limit = start, frames  # where to begin (seconds, on a frame) and how many frames to read
        self.info = info or probe(self.path)
        self.colour = colour or source_colour(self.info)
        self.deinterlace, self.constant_rate = deinterlace, constant_rate
        self.frames_read = 0
        self.errors: list[str] = []  # what ffmpeg reported while decoding (a damaged file decodes partly)
        self._eof = False
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> "VideoReader":
        # A seek a quarter frame before the first wanted frame: that frame comes first, a quarter frame after the
        # new zero, where the fps filter below puts it at 0 (a seek onto its exact time could miss it by rounding).
        rate = self.constant_rate or self.info.frame_rate
        seek = {"ss": f"{float(self.start - Fraction(1, 4) / rate):.6f}"} if self.start > 0 else {}
        video = ffmpeg.input(str(self.path), **seek).video
        if self.deinterlace:
            # bwdif: motion-adaptive; send_frame keeps one output frame per input frame (the rate stays),
            # deint=interlaced touches only frames flagged as interlaced.
            video = video.filter(
                "bwdif", mode="send_frame", parity="auto", deint="interlaced" if self._flagged() else "all"
            )
        if self.constant_rate is not None:
            # Variable frame rate: drop or repeat frames onto a constant grid, so frame k shows time k/rate
            # and the copied audio stays in sync.
            video = video.filter("fps", fps=f"{self.constant_rate.numerator}/{self.constant_rate.denominator}")
        cmd = (
            video.filter("scale", **self.colour.decode_filter())
            .output(
                "pipe:", format="rawvideo", pix_fmt="rgb24", **({} if self.limit is None else {"frames:v": self.limit})
            )
            .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
            .compile(cmd=ffmpeg_exe())
        )
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._stderr = StderrTail(self._proc.stderr)
        return self

    def _flagged(self) -> bool:
        return self.info.field_order in ("tt", "bb", "tb", "bt")

    def __iter__(self):
        w, h = self.info.width, self.info.height
        nbytes = w * h * 3
        while True:
            buf = self._proc.stdout.read(nbytes)
            if len(buf) < nbytes:
                self._eof = True
                break
            self.frames_read += 1
            yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)

    def __exit__(self, *exc) -> None:
        self._proc.stdout.close()
        if exc[0] is not None or not self._eof:
            self._proc.kill()  # the caller stopped early: don't wait for the decode to finish
        code = self._proc.wait()
        tail = self._stderr.text()
        self.errors = [line for line in self._stderr.lines if line]
        if code != 0 and exc[0] is None and self._eof:
            raise TpstvsrError(f"ffmpeg failed decoding {self.path}: {tail or f'exit code {code}'}")


def read_all_frames(path: Path) -> np.ndarray:
    """The whole video as [N, H, W, 3] uint8 (for short clips: training caches, evaluation)."""
    with VideoReader(path) as reader:
        frames = list(reader)
    if not frames:
        raise TpstvsrError(f"no frames decoded from {path}")
    return np.stack(frames)
