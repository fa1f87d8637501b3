"""Folders of frames (PNG/JPG): listing in natural order, reading and writing uint8 RGB arrays.

Pillow reads and writes the images: one library call per file instead of an ffmpeg process per frame.
"""

import re
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import TpstvsrError
from .suffixes import IMAGE_SUFFIXES


def natural_key(path: Path) -> list:
    """'frame2.png' sorts before 'frame10.png'."""
    return [int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", path.name)]


def list_frames(folder: Path) -> list[Path]:
    """Image files directly inside `folder`, in natural order; an error if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TpstvsrError(f"not a folder: {folder}")
    files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)
    if not files:
        raise TpstvsrError(f"no frames (PNG/JPG) in folder: {folder}")
    return files


def is_frame_folder(path: Path) -> bool:
    path = Path(path)
    return path.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir() if p.is_file())


def read_frame(path: Path) -> np.ndarray:
    """[H, W, 3] uint8 RGB from any PNG/JPG: 16-bit and 32-bit grey scaled down (Pillow's convert would clip
    them to white), paletted expanded, alpha composited over black (hidden colours under transparent
    pixels are arbitrary)."""
    try:
        with Image.open(path) as img:
            if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                grey = np.asarray(img).astype(np.uint32)
                return np.repeat(
                    ((grey >> 8) if img.mode != "I" or grey.max() > 255 else grey)
                    .clip(0, 255)
                    .astype(np.uint8)[..., None],
                    3,
                    axis=2,
                )
            if img.mode == "P" and "transparency" in img.info or img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
                rgba = np.asarray(img.convert("RGBA")).astype(np.uint16)
                return ((rgba[..., :3] * rgba[..., 3:] + 127) // 255).astype(np.uint8)
            return np.asarray(img.convert("RGB"))
    except (OSError, ValueError) as exc:
        raise TpstvsrError(f"cannot read image {path}: {exc}") from None


def write_frame(path: Path, frame: np.ndarray) -> None:
    Image.fromarray(np.ascontiguousarray(frame)).save(path)
