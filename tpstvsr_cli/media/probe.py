"""What a video file holds, read from `ffmpeg -i` (the imageio-ffmpeg wheel ships no ffprobe).

ffmpeg prints a video stream as `Video: CODEC, PIX_FMT(RANGE, COLOUR, FIELD_ORDER), WxH [SAR ..], .. fps, ..`
where COLOUR is one name when matrix, primaries and transfer agree and `matrix/primaries/transfer` otherwise.
"""

import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg

from ..errors import TpstvsrError


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int  # as decoded: already swapped when the file is rotated by +-90 degrees (ffmpeg autorotates)
    height: int
    fps: float
    duration: float | None  # seconds, from the container; None when unknown
    has_audio: bool
    rate: Fraction | None = None  # the exact frame rate (29.97 -> 30000/1001); None: use fps
    codec: str = ""
    pix_fmt: str = ""
    color_range: str | None = None  # "tv" (limited) or "pc" (full); None when untagged
    color_matrix: str | None = None  # ffmpeg names: bt709, bt470bg, smpte170m, bt2020nc, ...
    color_primaries: str | None = None
    color_transfer: str | None = None
    field_order: str | None = None  # progressive, tt, bb, tb, bt (ffmpeg's -field_order names)
    rotation: int = 0  # degrees of the display matrix, as ffmpeg prints it
    audio_codecs: tuple[str, ...] = ()  # one per audio stream, in file order
    subtitle_codecs: tuple[str, ...] = ()
    chapters: int = 0
    variable_rate: bool = False  # average and base rates differ: timestamps are irregular
    container: str = ""  # the demuxer ffmpeg chose, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "jpeg_pipe"
    sar: Fraction = Fraction(
        1
    )  # sample (pixel) aspect ratio as decoded: 4/3 for 160x96 shown at 20:9 (DVDs, old tapes)

    @property
    def audio_streams(self) -> int:
        return len(self.audio_codecs)

    @property
    def subtitle_streams(self) -> int:
        return len(self.subtitle_codecs)

    @property
    def frames_estimate(self) -> int | None:
        return None if self.duration is None else max(1, round(self.duration * self.fps))

    @property
    def frame_rate(self) -> Fraction:
        return self.rate if self.rate is not None else Fraction(self.fps).limit_denominator(1001)


_INPUT = re.compile(r"Input #0, ([\w,]+), from")
# Demuxers of single pictures: a JPEG or PNG renamed .mp4 opens as a "video" of one frame.
_STILL = re.compile(r"(_pipe|^image2|^apng)$")
_VIDEO = re.compile(r"Stream #\d+:\d+.*?: Video: (?P<rest>.*)")
_SIZE = re.compile(r"(?<![0-9a-fA-Fx])(\d{1,5})x(\d{1,5})(?![0-9])")
_FPS = re.compile(r"([\d.]+)(k?) (fps|tbr)\b")
_DURATION = re.compile(r"Duration: (\d+):(\d+):([\d.]+)")
_SAR = re.compile(r"\[SAR (\d+):(\d+) DAR \d+:\d+\]")
_ROTATION = re.compile(r"(?:displaymatrix|Display Matrix): rotation of (-?[\d.]+) degrees", re.IGNORECASE)
_FIELDS = {
    "progressive": "progressive",
    "top first": "tt",
    "bottom first": "bb",
    "top coded first (swapped)": "tb",
    "bottom coded first (swapped)": "bt",
}
# ffmpeg prints rounded rates; these are the NTSC family's exact values.
_NTSC = {
    "23.98": Fraction(24000, 1001),
    "29.97": Fraction(30000, 1001),
    "47.95": Fraction(48000, 1001),
    "59.94": Fraction(60000, 1001),
    "119.88": Fraction(120000, 1001),
    "14.99": Fraction(15000, 1001),
}


def _top_level_split(text: str) -> list[str]:
    """Split on ', ' outside parentheses: 'yuv420p(tv, bt709), 64x48' -> ['yuv420p(tv, bt709)', '64x48']."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return parts + [cur.strip()]


def _colour(props: list[str]) -> dict:
    """The tokens inside PIX_FMT(...) -> range, matrix/primaries/transfer and field order."""
    out = {}
    for tok in props:
        if tok in ("tv", "pc"):
            out["color_range"] = tok
        elif tok in _FIELDS:
            out["field_order"] = _FIELDS[tok]
        elif re.fullmatch(r"[\w-]+(/[\w-]+/[\w-]+)?", tok):
            names = tok.split("/") if "/" in tok else [tok] * 3
            keys = ("color_matrix", "color_primaries", "color_transfer")
            out.update({k: v for k, v in zip(keys, names) if v not in ("unknown", "reserved", "unspecified")})
    return out


def _sample_aspect(stream: str) -> Fraction:
    """'[SAR 4:3 DAR 20:9]' -> 4/3; square when absent or unknown ('SAR 0:1')."""
    found = _SAR.search(stream)
    num, den = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
    return Fraction(num, den) if num > 0 and den > 0 else Fraction(1)


def _no_video(text: str, path: Path) -> TpstvsrError:
    lines = [ln for ln in text.strip().splitlines() if "At least one output file" not in ln]
    last = lines[-1].split("] ")[-1].strip() if lines else "unknown error"
    if "Stream #" in text:
        last = "it has no video stream (audio or subtitles only)"
    elif _INPUT.search(text):  # the container opened but lists nothing: "Duration: N/A, bitrate: N/A"
        last = "it holds no streams at all (an empty video: no frames, no sound)"
    elif "Invalid data found" in text:
        last = "not a video file FFmpeg can read (invalid data)"
    return TpstvsrError(f"cannot read a video from {path}: {last}")


def _frame_rate(rest: str) -> tuple[float, Fraction | None, bool]:
    """(fps, exact rate or None, variable) from a video stream's line.

    "fps" is the average rate, "tbr" the base rate all timestamps fit: they differ for a variable rate
    (mp4 with dropped frames: "17.39 fps, 25 tbr"), and then tbr is the constant rate to convert to."""
    rates = {kind: (float(num) * (1000 if k else 1), num) for num, k, kind in _FPS.findall(rest)}
    avg, base = rates.get("fps"), rates.get("tbr")
    chosen = base if base and (avg is None or base[0] <= 2 * avg[0]) else avg
    fps, rate = 25.0, None
    if chosen:
        fps = chosen[0]
        rate = _NTSC.get(chosen[1]) or Fraction(chosen[1]).limit_denominator(1001) * (1000 if chosen[0] >= 1000 else 1)
    variable = bool(avg and base and abs(avg[0] - base[0]) > 0.01 * base[0])
    return fps, rate, variable


def _rotation(text: str, video: re.Match) -> int:
    """Side data follows the first video stream; only that stream's display matrix matters."""
    after_video = text[video.end() :]
    next_stream = after_video.find("Stream #")
    rot = _ROTATION.search(after_video if next_stream < 0 else after_video[:next_stream])
    return round(float(rot.group(1))) if rot else 0


def parse_stream_dump(text: str, path: Path) -> VideoInfo:
    """VideoInfo from the stderr of `ffmpeg -i path` (kept separate so it can be tested on captured text)."""
    video = _VIDEO.search(text)
    if video is None:
        raise _no_video(text, path)
    container = _INPUT.search(text)
    container = container.group(1) if container else ""
    if _STILL.search(container.split(",")[0]):
        raise TpstvsrError(
            f"{path} is a still image ({container.removesuffix('_pipe')}), not a video; "
            "put images in a folder to convert them as frames"
        )
    items = _top_level_split(video.group("rest"))
    codec = items[0].split(" ")[0]
    pix = re.match(r"([\w]+)(?:\((.*)\))?$", items[1]) if len(items) > 1 else None
    extra = _colour(_top_level_split(pix.group(2))) if pix and pix.group(2) else {}
    size = next((m for m in map(_SIZE.match, items[1:]) if m), None) or _SIZE.search(video.group("rest"))
    if size is None:
        raise TpstvsrError(f"cannot tell the frame size of {path}")
    fps, rate, variable = _frame_rate(video.group("rest"))
    dur = _DURATION.search(text)
    duration = int(dur.group(1)) * 3600 + int(dur.group(2)) * 60 + float(dur.group(3)) if dur else None
    rotation = _rotation(text, video)
    w, h = int(size.group(1)), int(size.group(2))
    sar = _sample_aspect(video.group("rest"))
    if rotation % 180 != 0:
        w, h = h, w  # ffmpeg autorotates while decoding (and its transpose turns the pixel shape too)
        sar = 1 / sar
    audio = tuple(re.findall(r"Stream #\d+:\d+.*?: Audio: ([\w-]+)", text))
    subs = tuple(re.findall(r"Stream #\d+:\d+.*?: Subtitle: ([\w-]+)", text))
    return VideoInfo(
        path,
        w,
        h,
        fps,
        duration,
        bool(audio),
        rate=rate,
        codec=codec,
        pix_fmt=pix.group(1) if pix else "",
        rotation=rotation,
        audio_codecs=audio,
        subtitle_codecs=subs,
        chapters=len(re.findall(r"Chapter #\d+:\d+", text)),
        container=container,
        variable_rate=variable,
        sar=sar,
        **extra,
    )


def probe(path: Path) -> VideoInfo:
    path = Path(path)
    if not path.exists():
        raise TpstvsrError(f"no such file: {path}")
    if not path.is_file():
        raise TpstvsrError(f"not a file: {path}")
    if path.stat().st_size == 0:
        raise TpstvsrError(f"{path} is empty (0 bytes)")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True, errors="replace"
    )
    return parse_stream_dump(proc.stderr, path)
