"""Is this input clean or compressed? `--source auto`'s judgement, from the stream and from the frames.

A stream: a lossless codec (FFV1, PNG, raw...) is clean; a legacy codec (MPEG-1/2/4 part 2, DivX, WMV, Cinepak,
...) is compressed under 2 bits per pixel (no deblocking filter: its blocks show at rates where H.264's do not)
and clean above; any other lossy codec is compressed under 0.2 at SD size or less and clean at 1 bit per pixel or
more (bits per pixel: the file's bits per second over width x height x frame rate, sound included). Anything
else, and a folder of frames, is judged from up to SAMPLE_FRAMES consecutive frames:
- recompression: the frames are encoded again with x264 at CRF 16, 24 and 34 (media.degrade) and the mean luma
  change of each measured. Footage already through a lossy encode has lost what a mild encode removes, so the
  CRF 16 and 24 changes are small next to the CRF 34 one; the ratios are compared, so that the content's own
  detail cancels out (clean val input: 16/34 0.23-0.28, 24/34 0.48-0.51; x264 at CRF 18-32: 0.15-0.25, 0.24-0.46);
- blocking: the luma steps across 8-pixel block edges over those inside blocks (MPEG-2 and MPEG-4 part 2, with
  no deblocking filter: 1.04-1.29 on val; clean and x264 input: 0.99-1.06);
- noise: Immerkaer's estimate over the flattest 30% of the frame, in grey levels (clean val input 0.3-3.5).
Thresholds were set on the three val sequences' 4x-down input (docs in README, "Clean or compressed input").
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import ffmpeg
import numpy as np

from ..errors import TpstvsrError
from .degrade import X264, DegradeSpec, degrade_frames
from .frame_folder import list_frames, read_frame
from .probe import VideoInfo, ffmpeg_exe, probe

SAMPLE_FRAMES = 12
MAX_SIDE = 320  # frames are center-cropped to at most this many pixels a side before measuring
LOSSLESS = ("ffv1", "rawvideo", "png", "huffyuv", "ffvhuff", "utvideo", "magicyuv", "qtrle", "v210", "r210", "apng")
LEGACY = ("mpeg1video", "mpeg2video", "mpeg4", "msmpeg4v1", "msmpeg4v2", "msmpeg4v3", "h263", "wmv1", "wmv2",
          "wmv3", "cinepak", "indeo3", "indeo4", "indeo5", "svq1", "svq3", "rv10", "rv20", "rv30", "rv40",
          "flv1", "vp6", "vp6f", "theora", "mjpeg", "dvvideo", "msvideo1", "vc1")  # fmt: skip
CLEAN_BPP = 1.0
LEGACY_CLEAN_BPP = 2.0  # README, "Old films": where the clean weights catch up on MPEG-2
SD_PIXELS, SD_LOW_BPP = 720 * 576, 0.2  # any lossy codec under 0.2 bits per pixel at SD size or less: compressed
RATIO_16, RATIO_24 = 0.215, 0.45  # below either: already compressed
BLOCKING = 1.10
NOISE = 5.0


@dataclass(frozen=True)
class Judgement:
    source: str  # "clean" or "compressed"
    reason: str  # one line, for the log and --json
    bits_per_pixel: float | None = None
    ratio_16: float | None = None  # recompression change at CRF 16 over that at CRF 34
    ratio_24: float | None = None
    blocking: float | None = None
    noise: float | None = None


def _luma(frames: np.ndarray) -> np.ndarray:
    return frames[..., 0] * np.float32(0.299) + frames[..., 1] * np.float32(0.587) + frames[..., 2] * np.float32(0.114)


def _sample(frames: np.ndarray) -> np.ndarray:
    n, h, w = frames.shape[:3]
    start = max(0, (n - SAMPLE_FRAMES) // 2)
    ch, cw = min(h, MAX_SIDE), min(w, MAX_SIDE)
    top, left = (h - ch) // 2, (w - cw) // 2
    return np.ascontiguousarray(frames[start : start + SAMPLE_FRAMES, top : top + ch, left : left + cw])


def recompression_ratios(frames: np.ndarray) -> tuple[float, float]:
    """(change at CRF 16 / change at CRF 34, change at CRF 24 / change at CRF 34) of uint8 frames [N, H, W, 3]."""
    y = _luma(frames.astype(np.float32))

    def change(crf: int) -> float:
        out = degrade_frames(frames, DegradeSpec((X264(crf=crf),))).frames
        return float(np.abs(_luma(out.astype(np.float32)) - y).mean())

    strong = max(change(34), 1e-6)
    return change(16) / strong, change(24) / strong


def blocking(frames: np.ndarray, block: int = 8) -> float:
    """Median over frames of the mean luma step across block edges over the mean step inside blocks."""
    ratios = []
    for y in _luma(frames.astype(np.float32)):
        dx, dy = np.abs(np.diff(y, axis=1)), np.abs(np.diff(y, axis=0))
        edge = dx[:, block - 1 :: block].mean() + dy[block - 1 :: block].mean()
        inside = (
            np.delete(dx, np.s_[block - 1 :: block], axis=1).mean() + np.delete(dy, np.s_[block - 1 :: block], 0).mean()
        )
        ratios.append(edge / max(inside, 1e-6))
    return float(np.median(ratios))


def noise_level(frames: np.ndarray) -> float:
    """Median over frames of Immerkaer's noise sigma (grey levels), over the flattest 30% of each frame."""
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    sigmas = []
    for y in _luma(frames.astype(np.float32)):
        response = np.abs(cv2.filter2D(y, -1, kernel))[1:-1, 1:-1]
        grad = np.abs(cv2.Sobel(y, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(y, cv2.CV_32F, 0, 1))
        grad = cv2.blur(grad, (7, 7))[1:-1, 1:-1]
        flat = grad <= np.percentile(grad, 30)
        sigmas.append(np.sqrt(np.pi / 2) / 6 * float(response[flat].mean()))
    return float(np.median(sigmas))


def judge_frames(frames: np.ndarray, bits_per_pixel: float | None = None) -> Judgement:
    """Clean or compressed, from consecutive uint8 frames [N, H, W, 3] (N >= 2; a sample is measured)."""
    sample = _sample(frames)
    r16, r24 = recompression_ratios(sample)
    blocks, noise = blocking(sample), noise_level(sample)
    measured = dict(bits_per_pixel=bits_per_pixel, ratio_16=r16, ratio_24=r24, blocking=blocks, noise=noise)
    if r16 < RATIO_16 or r24 < RATIO_24:
        reason = f"the frames change little when re-encoded (CRF 16/34 {r16:.2f}, 24/34 {r24:.2f}): already lossy"
    elif blocks >= BLOCKING:
        reason = f"8x8 block edges stand out ({blocks:.2f}x the steps inside blocks)"
    elif noise >= NOISE:
        reason = f"noisy ({noise:.1f} grey levels in flat areas)"
    else:
        return Judgement("clean", f"no sign of compression or noise in the frames (CRF 16/34 {r16:.2f})", **measured)
    return Judgement("compressed", reason, **measured)


def judge_stream(codec: str, bits_per_pixel: float | None, frames: np.ndarray) -> Judgement:
    """Clean or compressed, from a video stream's codec and bits per pixel, and its frames where those don't say."""
    codec = codec.lower()
    if codec in LOSSLESS:
        return Judgement("clean", f"lossless codec {codec}", bits_per_pixel)
    legacy = codec in LEGACY
    if bits_per_pixel is not None and bits_per_pixel >= (LEGACY_CLEAN_BPP if legacy else CLEAN_BPP):
        return Judgement("clean", f"{codec} at {bits_per_pixel:.2f} bits per pixel: little lost", bits_per_pixel)
    if legacy and bits_per_pixel is not None:
        return Judgement("compressed", f"{codec} at {bits_per_pixel:.2f} bits per pixel", bits_per_pixel)
    small = frames.shape[1] * frames.shape[2] <= SD_PIXELS
    if small and bits_per_pixel is not None and bits_per_pixel < SD_LOW_BPP:
        reason = f"{codec} at {bits_per_pixel:.2f} bits per pixel, SD size or less"
        return Judgement("compressed", reason, bits_per_pixel)
    judged = judge_frames(frames, bits_per_pixel)
    rate = f" at {bits_per_pixel:.2f} bits per pixel" if bits_per_pixel is not None else ""
    return Judgement(judged.source, f"{codec}{rate}; {judged.reason}", **_measures(judged))


def _measures(j: Judgement) -> dict:
    keys = ("bits_per_pixel", "ratio_16", "ratio_24", "blocking", "noise")
    return {k: getattr(j, k) for k in keys}


def _video_sample(path: Path, info: VideoInfo) -> np.ndarray:
    """SAMPLE_FRAMES consecutive frames from the middle of a video, RGB uint8 (ffmpeg's default conversion)."""
    middle = max(0.0, (info.duration or 0.0) / 2 - SAMPLE_FRAMES / max(info.fps, 1.0) / 2)
    stream = ffmpeg.input(str(path), ss=f"{middle:.3f}").output(
        "pipe:", format="rawvideo", pix_fmt="rgb24", vframes=SAMPLE_FRAMES
    )
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", *stream.get_args()]
    raw = subprocess.run(cmd, capture_output=True, check=False).stdout
    size = info.width * info.height * 3
    if len(raw) < 2 * size:  # a seek past the decodable part: from the start instead
        cmd[cmd.index("-ss") : cmd.index("-ss") + 2] = []
        raw = subprocess.run(cmd, capture_output=True, check=False).stdout
    count = len(raw) // size
    if count < 2:
        raise TpstvsrError(f"--source auto: could not decode 2 frames of {path} to judge it")
    return np.frombuffer(raw[: count * size], np.uint8).reshape(count, info.height, info.width, 3)


def judge_path(path: Path) -> Judgement:
    """Judge a video file (codec, bits per pixel, frames) or a folder of frames (frames alone)."""
    path = Path(path)
    if path.is_dir():
        files = list_frames(path)
        start = max(0, (len(files) - SAMPLE_FRAMES) // 2)
        frames = [read_frame(f) for f in files[start : start + SAMPLE_FRAMES]]
        if len(frames) < 2 or len({f.shape for f in frames}) > 1:
            raise TpstvsrError(f"--source auto: {path} needs 2 or more frames of one size to judge")
        return judge_frames(np.stack(frames))
    info = probe(path)
    bpp = None
    if info.duration and info.fps:
        bpp = 8 * path.stat().st_size / info.duration / (info.width * info.height * info.fps)
    return judge_stream(info.codec, bpp, _video_sample(path, info))
