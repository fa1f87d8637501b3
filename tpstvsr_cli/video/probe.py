"""What a video file holds, read from `ffmpeg -i` (the imageio-ffmpeg wheel ships no ffprobe)."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from ..errors import TpstvsrError


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: float
    duration: float | None  # seconds, from the container; None when unknown
    has_audio: bool

    @property
    def frames_estimate(self) -> int | None:
        return None if self.duration is None else max(1, round(self.duration * self.fps))


_VIDEO = re.compile(r"Stream #\d+:\d+.*?: Video: (?P<rest>.*)")
_SIZE = re.compile(r"(?<![0-9a-fA-Fx])(\d{2,5})x(\d{2,5})(?![0-9])")
_FPS = re.compile(r"([\d.]+)(k?) (?:fps|tbr)")
_DURATION = re.compile(r"Duration: (\d+):(\d+):([\d.]+)")


def probe(path: Path) -> VideoInfo:
    path = Path(path)
    if not path.exists():
        raise TpstvsrError(f"no such file: {path}")
    if not path.is_file():
        raise TpstvsrError(f"not a file: {path}")
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True, errors="replace")
    text = proc.stderr
    video = _VIDEO.search(text)
    if video is None:
        last = text.strip().splitlines()[-1] if text.strip() else "unknown error"
        reason = "no video stream" if "Stream #" in text else last
        raise TpstvsrError(f"cannot read a video from {path}: {reason}")
    rest = video.group("rest")
    size = _SIZE.search(rest)
    if size is None:
        raise TpstvsrError(f"cannot tell the frame size of {path}")
    fps_match = _FPS.search(rest)
    fps = float(fps_match.group(1)) * (1000 if fps_match.group(2) else 1) if fps_match else 25.0
    dur = _DURATION.search(text)
    duration = int(dur.group(1)) * 3600 + int(dur.group(2)) * 60 + float(dur.group(3)) if dur else None
    return VideoInfo(path, int(size.group(1)), int(size.group(2)), fps, duration, ": Audio:" in text)
