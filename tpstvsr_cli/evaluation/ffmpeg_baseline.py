"""Baseline (b): FFmpeg's classical pipeline, lanczos x4 upscaling then motion-compensated interpolation.

The N input frames go to the imageio-ffmpeg binary as raw RGB on stdin, declared at INPUT_FPS; the filter
chain (filter_string) upscales 4x with lanczos, converts to YUV 4:4:4 (minterpolate takes no RGB) and
doubles the rate with minterpolate; raw RGB frames come back on stdout. minterpolate places output frame j
at time j / (2 * INPUT_FPS), so output frame 2k falls exactly on input frame k (a copy of its upscale) and
2k+1 halfway to k+1. minterpolate emits a frame only once it holds the input after it, so the last input
frame is sent twice (N+1 frames in) and exactly the first 2N-1 frames out are kept. `-fps_mode passthrough`
keeps the muxer from dropping or duplicating frames. tests/evaluation check this alignment with a moving
square. Scene-change detection stays at ffmpeg's default (a detected cut gives a repeated frame).
"""

import subprocess
import threading
from collections.abc import Iterator

import ffmpeg
import numpy as np

from ..errors import TpstvsrError
from ..media.probe import ffmpeg_exe
from .protocol import SCALE

INPUT_FPS = 25
# Colour conversion in swscale: BT.601 limited range both ways, with exact rounding.
_SWS = "lanczos+accurate_rnd+full_chroma_int"


def filter_string(width: int, height: int) -> str:
    """The -vf chain for input frames of width x height (documented verbatim in docs/eval.md)."""
    return (
        f"scale={SCALE * width}:{SCALE * height}:flags={_SWS},format=yuv444p,"
        f"minterpolate=fps={2 * INPUT_FPS}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1,"
        f"scale=flags=accurate_rnd+full_chroma_int,format=rgb24"
    )


def ffmpeg_command(width: int, height: int) -> list[str]:
    # Global options go first: ffmpeg-python would append them after the output, where ffmpeg ignores them.
    stream = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{width}x{height}", r=INPUT_FPS).output(
        "pipe:", vf=filter_string(width, height), format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough"
    )
    return [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", *stream.get_args()]


def lanczos_minterpolate(inputs: np.ndarray) -> Iterator[np.ndarray]:
    """Input frames [N, h, w, 3] uint8 -> 2N-1 frames [4h, 4w, 3] uint8, streamed from ffmpeg."""
    n, h, w = inputs.shape[:3]
    proc = subprocess.Popen(ffmpeg_command(w, h), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    errors: list[str] = []
    # `-nostdin` only stops ffmpeg reading the terminal; the frames still go in on the pipe. A thread feeds
    # them and another drains stderr, so neither pipe can fill up and block ffmpeg while we read stdout.
    feeder = threading.Thread(target=_feed, args=(proc, inputs), daemon=True)
    drain = threading.Thread(
        target=lambda: errors.extend(line.decode("utf-8", "replace").rstrip() for line in proc.stderr), daemon=True
    )
    feeder.start()
    drain.start()
    frame_bytes = 4 * h * 4 * w * 3
    wanted, produced = 2 * n - 1, 0
    try:
        while produced < wanted:
            buf = proc.stdout.read(frame_bytes)
            if len(buf) < frame_bytes:
                break
            produced += 1
            yield np.frombuffer(buf, np.uint8).reshape(4 * h, 4 * w, 3)
    finally:
        proc.stdout.close()  # frames beyond 2N-1 are not needed; ffmpeg may see a broken pipe
        code = proc.wait()
        feeder.join()
        drain.join()
    if produced < wanted:
        # ffmpeg's first error lines name the cause (say 'Height or width < 32'); later ones are consequences.
        reason = "; ".join(errors[:2]) or f"exit code {code}"
        raise TpstvsrError(f"ffmpeg baseline returned {produced} of {wanted} frames: {reason}")


def _feed(proc: subprocess.Popen, inputs: np.ndarray) -> None:
    try:
        for frame in (*inputs, inputs[-1]):  # the repeat lets minterpolate emit frame 2N-2
            proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        proc.stdin.close()
    except BrokenPipeError:  # ffmpeg died; its stderr says why
        pass
