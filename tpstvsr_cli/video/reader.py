"""Decode a video into uint8 RGB frames through an FFmpeg pipe, frame by frame."""

import subprocess
import threading
from pathlib import Path

import ffmpeg
import numpy as np

from ..errors import TpstvsrError
from .probe import VideoInfo, ffmpeg_exe, probe


class VideoReader:
    """`with VideoReader(path) as r: for frame in r: ...` yields [H, W, 3] uint8 RGB arrays.

    Reads exactly W*H*3 bytes per frame; stderr is drained on a thread so ffmpeg never blocks on it,
    and its last lines become the error message if decoding fails.
    """

    def __init__(self, path: Path, info: VideoInfo | None = None):
        self.info = info or probe(path)
        self.path = Path(path)
        self._proc: subprocess.Popen | None = None
        self._stderr: list[str] = []

    def __enter__(self) -> "VideoReader":
        cmd = (
            ffmpeg.input(str(self.path))
            .output("pipe:", format="rawvideo", pix_fmt="rgb24")
            .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
            .compile(cmd=ffmpeg_exe())
        )
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        return self

    def _read_stderr(self) -> None:
        for line in self._proc.stderr:
            self._stderr.append(line.decode("utf-8", "replace").rstrip())

    def __iter__(self):
        w, h = self.info.width, self.info.height
        nbytes = w * h * 3
        while True:
            buf = self._proc.stdout.read(nbytes)
            if len(buf) < nbytes:
                break
            yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)

    def __exit__(self, *exc) -> None:
        self._proc.stdout.close()
        code = self._proc.wait()
        self._drain.join()
        if code != 0 and exc[0] is None:
            tail = "; ".join(self._stderr[-3:]) or f"exit code {code}"
            raise TpstvsrError(f"ffmpeg failed decoding {self.path}: {tail}")


def read_all_frames(path: Path) -> np.ndarray:
    """The whole video as [N, H, W, 3] uint8 (for short clips: training caches, evaluation)."""
    with VideoReader(path) as reader:
        frames = list(reader)
    if not frames:
        raise TpstvsrError(f"no frames decoded from {path}")
    return np.stack(frames)
