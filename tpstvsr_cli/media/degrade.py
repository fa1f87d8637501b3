"""Degraded low-res input, as old footage is: lossy encodes, Gaussian noise and blur, in a written order.

A spec is steps separated by commas, each `NAME:KEY=VALUE:KEY=VALUE`, applied in the order written:
  x264:crf=23:fps=12            an H.264 encode and decode at CRF 23, the frames declared at 12 fps
  mpeg2:q=8:fps=25              an MPEG-2 encode (DVDs) at constant quantizer 8; mpeg4:q=8 is MPEG-4 part 2 (DivX)
  noise:sigma=5                 Gaussian noise of 5 grey levels (seeded: the same every run)
  x264:crf=32,noise:sigma=3     both, the encode first
The steps and their keys are in STEP_KEYS. Encodes go through the bundled ffmpeg (imageio-ffmpeg) on pipes, one
process encoding raw RGB and one decoding it back (no temporary files); encoders run on one thread, so
the same frames and spec give the same bytes every time. Frames of odd width or height are edge-padded to even
for the 4:2:0 encode and cropped back. `parse_degrade` checks a spec once; `degrade_frames` applies it to uint8
[N, H, W, 3] frames. Training draws random specs (training/degradations.py) and applies them the same way.
"""

import subprocess
from dataclasses import dataclass
from typing import ClassVar

import cv2
import ffmpeg
import numpy as np

from ..errors import TpstvsrError
from .probe import ffmpeg_exe

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
_SWS = "accurate_rnd+full_chroma_int"


@dataclass(frozen=True)
class X264:
    """An H.264 encode at constant quality `crf` (0..51), the frames declared at `fps`."""

    crf: int
    fps: float = 25.0
    preset: str = "medium"
    NAME: ClassVar[str] = "x264"

    def __post_init__(self):
        if not 0 <= self.crf <= 51:
            raise TpstvsrError(f"x264 crf must be 0..51, got {self.crf}")
        if not 1 <= self.fps <= 240:
            raise TpstvsrError(f"x264 fps must be 1..240, got {self.fps:g}")
        if self.preset not in X264_PRESETS:
            raise TpstvsrError(f"x264 preset must be one of {', '.join(X264_PRESETS)}, got {self.preset!r}")

    def __str__(self) -> str:
        extra = "" if self.preset == "medium" else f":preset={self.preset}"
        return f"x264:crf={self.crf}:fps={self.fps:g}{extra}"


@dataclass(frozen=True)
class Noise:
    """Gaussian noise of `sigma` grey levels, per channel (or the same in all three with gray), seeded."""

    sigma: float
    seed: int = 0
    gray: bool = False

    def __post_init__(self):
        if not 0 < self.sigma <= 50:
            raise TpstvsrError(f"noise sigma must be in (0, 50] grey levels, got {self.sigma:g}")

    def __str__(self) -> str:
        return f"noise:sigma={self.sigma:g}" + (f":seed={self.seed}" if self.seed else "") + (":gray=1" * self.gray)


@dataclass(frozen=True)
class Blur:
    """A Gaussian blur of `sigma` pixels (of the low-res input)."""

    sigma: float

    def __post_init__(self):
        if not 0 < self.sigma <= 5:
            raise TpstvsrError(f"blur sigma must be in (0, 5] pixels, got {self.sigma:g}")

    def __str__(self) -> str:
        return f"blur:sigma={self.sigma:g}"


@dataclass(frozen=True)
class Mpeg2:
    """An MPEG-2 encode (DVDs) at constant quantizer `q` (2..31, higher is coarser), the frames declared at `fps`,
    in DVD's group of pictures (15 frames, 2 B-frames between references). No deblocking filter: 8x8 blocks show."""

    q: int
    fps: float = 25.0
    NAME: ClassVar[str] = "mpeg2"
    CODEC: ClassVar[str] = "mpeg2video"

    def __post_init__(self):
        if not 2 <= self.q <= 31:
            raise TpstvsrError(f"{self.NAME} q must be 2..31, got {self.q}")
        if not 1 <= self.fps <= 240:
            raise TpstvsrError(f"{self.NAME} fps must be 1..240, got {self.fps:g}")

    def __str__(self) -> str:
        return f"{self.NAME}:q={self.q}:fps={self.fps:g}"


@dataclass(frozen=True)
class Mpeg4(Mpeg2):
    """The same as an MPEG-4 part 2 encode (DivX and Xvid rips)."""

    NAME: ClassVar[str] = "mpeg4"
    CODEC: ClassVar[str] = "mpeg4"


Step = X264 | Mpeg2 | Noise | Blur
ENCODES = (X264, Mpeg2)  # the steps that go through an encoder (Mpeg4 is an Mpeg2)
# name -> (class, {key: type}); the first key is required, the rest have defaults.
STEP_KEYS: dict[str, tuple[type, dict[str, type]]] = {
    "x264": (X264, {"crf": int, "fps": float, "preset": str}),
    "mpeg2": (Mpeg2, {"q": int, "fps": float}),
    "mpeg4": (Mpeg4, {"q": int, "fps": float}),
    "noise": (Noise, {"sigma": float, "seed": int, "gray": bool}),
    "blur": (Blur, {"sigma": float}),
}


@dataclass(frozen=True)
class DegradeSpec:
    steps: tuple[Step, ...]

    def __str__(self) -> str:
        return ",".join(map(str, self.steps))


def _value(name: str, key: str, kind: type, text: str):
    try:
        if kind is bool:
            if text not in ("0", "1"):
                raise ValueError
            return text == "1"
        return kind(text)
    except ValueError:
        wanted = {int: "a whole number", float: "a number", bool: "0 or 1", str: "a word"}[kind]
        raise TpstvsrError(f"--degrade {name}: {key} must be {wanted}, got {text!r}") from None


def _parse_step(text: str) -> Step:
    name, *pairs = text.strip().split(":")
    if name not in STEP_KEYS:
        raise TpstvsrError(f"--degrade: unknown step {name!r} in {text!r} (known: {', '.join(STEP_KEYS)})")
    cls, keys = STEP_KEYS[name]
    args = {}
    for pair in pairs:
        key, sep, val = pair.partition("=")
        if not sep or key not in keys:
            raise TpstvsrError(f"--degrade {name}: expected KEY=VALUE with KEY one of {', '.join(keys)}, got {pair!r}")
        args[key] = _value(name, key, keys[key], val)
    required = next(iter(keys))
    if required not in args:
        raise TpstvsrError(f"--degrade {name}: {required}= is required (e.g. {name}:{required}=...)")
    try:
        return cls(**args)
    except TpstvsrError as exc:
        raise TpstvsrError(f"--degrade: {exc}") from None


def parse_degrade(text: str) -> DegradeSpec:
    """'x264:crf=32:fps=12,noise:sigma=3' -> DegradeSpec; a bad spec is a one-line TpstvsrError."""
    if not text or not text.strip():
        raise TpstvsrError("--degrade needs at least one step, e.g. x264:crf=23:fps=12 or noise:sigma=5")
    return DegradeSpec(tuple(_parse_step(part) for part in text.split(",")))


@dataclass(frozen=True)
class Degraded:
    frames: np.ndarray  # [N, H, W, 3] uint8
    bits_per_pixel: float | None  # of the last encode (None: no encode)


def degrade_frames(frames: np.ndarray, spec: DegradeSpec) -> Degraded:
    """Apply the spec's steps in order to uint8 frames [N, H, W, 3]; the same input gives the same output."""
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    bpp = None
    for step in spec.steps:
        if isinstance(step, ENCODES):
            frames, bpp = encode_roundtrip(frames, step)
        elif isinstance(step, Noise):
            frames = add_noise(frames, step)
        else:
            frames = blur(frames, step)
    return Degraded(frames, bpp)


def add_noise(frames: np.ndarray, step: Noise) -> np.ndarray:
    rng = np.random.default_rng(step.seed)
    shape = (*frames.shape[:3], 1) if step.gray else frames.shape
    noise = rng.standard_normal(shape, dtype=np.float32) * np.float32(step.sigma)
    return np.clip(np.rint(frames + noise), 0, 255).astype(np.uint8)


def blur(frames: np.ndarray, step: Blur) -> np.ndarray:
    out = [cv2.GaussianBlur(f.astype(np.float32), (0, 0), step.sigma, borderType=cv2.BORDER_REFLECT) for f in frames]
    return np.clip(np.rint(np.stack(out)), 0, 255).astype(np.uint8)


def _run(args: list[str], data: bytes, what: str) -> bytes:
    proc = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", *args],
                          input=data, capture_output=True, check=False)  # fmt: skip
    if proc.returncode:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise TpstvsrError(f"ffmpeg {what} failed: {reason[0] if reason else f'exit code {proc.returncode}'}")
    return proc.stdout


def _encoder_options(step: X264 | Mpeg2) -> dict:
    if isinstance(step, X264):
        return {"vcodec": "libx264", "crf": step.crf, "preset": step.preset}
    # -q:v is a constant quantizer; -g 15 -bf 2: DVD's group of pictures
    return {"vcodec": step.CODEC, "q:v": step.q, "g": 15, "bf": 2}


def encode_commands(width: int, height: int, step: X264 | Mpeg2) -> tuple[list[str], list[str]]:
    """ffmpeg arguments (without the binary and global flags) that encode raw RGB frames of width x height (both
    even) with the step's codec in NUT on stdout, and that decode such a stream back to raw RGB; BT.601 limited
    both ways."""
    encode = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{width}x{height}", r=f"{step.fps:g}")
    encode = encode.output(
        "pipe:",
        vf=f"scale=out_color_matrix=bt601:out_range=tv:flags={_SWS},format=yuv420p",
        threads=1,
        format="nut",
        **_encoder_options(step),
    )
    decode = ffmpeg.input("pipe:", format="nut").output(
        "pipe:",
        vf=f"scale=in_color_matrix=bt601:in_range=tv:flags={_SWS},format=rgb24",
        format="rawvideo",
        fps_mode="passthrough",
    )
    return encode.get_args(), decode.get_args()


def encode_roundtrip(frames: np.ndarray, step: X264 | Mpeg2) -> tuple[np.ndarray, float]:
    """Frames through the step's encode and back: (decoded frames, bits per pixel of the encoded stream)."""
    n, h, w, _ = frames.shape
    ph, pw = h + h % 2, w + w % 2
    padded = np.pad(frames, ((0, 0), (0, ph - h), (0, pw - w), (0, 0)), mode="edge") if (ph, pw) != (h, w) else frames
    encode, decode = encode_commands(pw, ph, step)
    stream = _run(encode, np.ascontiguousarray(padded).tobytes(), f"{step.NAME} encode")
    raw = _run(decode, stream, "decode")
    if len(raw) != n * ph * pw * 3:
        raise TpstvsrError(
            f"ffmpeg decode returned {len(raw) // (ph * pw * 3)} of {n} frames after the {step.NAME} encode"
        )
    out = np.frombuffer(raw, np.uint8).reshape(n, ph, pw, 3)[:, :h, :w].copy()  # writable, contiguous
    return out, 8 * len(stream) / (n * h * w)
