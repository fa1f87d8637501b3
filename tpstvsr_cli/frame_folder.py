"""Folders of frames (PNG/JPG): listing in natural order, reading and writing uint8 RGB arrays.

Pillow reads and writes the images: one library call per file instead of an ffmpeg process per frame.
"""

import re
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import TpstvsrError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


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
    """[H, W, 3] uint8 RGB; grey, paletted and alpha images are converted (alpha dropped)."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except (OSError, ValueError) as exc:
        raise TpstvsrError(f"cannot read image {path}: {exc}") from None


def write_frame(path: Path, frame: np.ndarray) -> None:
    Image.fromarray(np.ascontiguousarray(frame)).save(path)
