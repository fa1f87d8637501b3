"""What `tpstvsr bench` times on and with: synthetic clips, the ffmpeg reference, peak memory, the CPU's name."""

import os
import platform
import subprocess
import threading
import time
from pathlib import Path

from ..errors import TpstvsrError
from ..media.probe import ffmpeg_exe


class PeakRss:
    """Samples this process's resident memory every 20 ms (ru_maxrss cannot be reset between runs)."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        self.peak = self._rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def parse_sizes(text: str) -> list[tuple[int, int]]:
    try:
        sizes = [tuple(int(v) for v in item.lower().split("x")) for item in text.split(",") if item.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(len(s) != 2 or min(s) < 8 for s in sizes):
        raise TpstvsrError(f"--sizes expects WxH[,WxH...] with sides of at least 8, e.g. 180x144,320x180; got {text!r}")
    return sizes


def synthetic_clip(folder: Path, width: int, height: int, frames: int) -> Path:
    path = folder / f"testsrc2_{width}x{height}.mp4"
    video = ["-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r=25", "-f", "lavfi", "-i", "sine=frequency=440"]
    encode = ["-frames:v", str(frames), "-shortest", "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p"]
    cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", *video, *encode, "-c:a", "aac", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def cut_clip(clip: Path, frames_estimate: int | None, limit: int | None, folder: Path) -> Path:
    """The clip's first `limit` frames (stream copy), so end to end runs on the same frames as the stages."""
    if not (limit and frames_estimate and frames_estimate > limit):
        return clip
    cut = folder / f"cut{clip.suffix}"
    cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(clip), "-frames:v", str(limit), "-c", "copy"]
    subprocess.run([*cmd, str(cut)], check=True, capture_output=True)
    return cut


def ffmpeg_reference(clip: Path, width: int, height: int, rate) -> float:
    """Seconds ffmpeg needs for lanczos 4x + motion-compensated 2x frame rate (output discarded)."""
    vf = f"scale={4 * width}:{4 * height}:flags=lanczos,minterpolate=fps={2 * rate}:mi_mode=mci"
    start = time.perf_counter()
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(clip), "-vf", vf, "-an", "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise TpstvsrError(f"ffmpeg reference failed: {proc.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - start
