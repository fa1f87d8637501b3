"""The training pool: every source video or frame folder decoded once into a uint8 .npy cache.

Decoding H.264 on the fly would compete with training for the same 2 cores, so each source is decoded
once, halved with antialiased bicubic if it is 720p or larger (the data README: big clips are heavily
compressed, their half-size frames are cleaner ground truth), and stored as [N, H, W, 3] uint8. The
cache is memory-mapped, so the pool costs page cache rather than process memory. Entries are named by the
source's content, not its path or times, so re-mounted or copied data reuses them (a path-and-mtime key once
filled a disk with a fresh 15 GB copy of the pool per session); a clip that would not fit, with 1 GiB to spare
for checkpoints, is refused with a clear error before anything is written.
"""

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import TpstvsrError
from ..media.frame_folder import is_frame_folder, list_frames, read_frame
from ..media.reader import read_all_frames
from ..media.suffixes import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from ..models.profiles import resize_frames


@dataclass
class Clip:
    name: str
    frames: np.ndarray  # [N, H, W, 3] uint8, usually a read-only memmap


def discover_sources(paths: list[Path]) -> list[Path]:
    """Video files and frame folders found under the given paths (recursively), sorted."""
    found: list[Path] = []
    for root in map(Path, paths):
        if not root.exists():
            raise TpstvsrError(f"training data not found: {root}")
        if root.is_file():
            found.append(root)
            continue
        for p in sorted(root.rglob("*")):
            if p.is_file() and (p.suffix.lower() in VIDEO_SUFFIXES or p.suffix == ".npy"):
                found.append(p)
            elif p.is_dir() and is_frame_folder(p):
                found.append(p)
        if root.is_dir() and is_frame_folder(root) and root not in found:
            found.append(root)
    if not found:
        raise TpstvsrError(f"no videos or frame folders under: {', '.join(map(str, paths))}")
    return sorted(set(found))


def halve_if_large(frames: np.ndarray, limit: int = 720) -> np.ndarray:
    """[N, H, W, 3] uint8 -> half size (antialiased bicubic) when min(H, W) >= limit, else unchanged."""
    n, h, w, _ = frames.shape
    if min(h, w) < limit:
        return frames
    out = np.empty((n, h // 2, w // 2, 3), np.uint8)
    for i in range(0, n, 16):
        x = torch.from_numpy(np.ascontiguousarray(frames[i : i + 16])).permute(0, 3, 1, 2).float()
        y = resize_frames(x, (h // 2, w // 2)).round_().clamp_(0, 255)
        out[i : i + 16] = y.to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return out


def _decode(source: Path) -> np.ndarray:
    if source.is_dir():
        frames = [read_frame(p) for p in list_frames(source)]
        shapes = {f.shape for f in frames}
        if len(shapes) != 1:
            raise TpstvsrError(f"frames of different sizes in {source}")
        return np.stack(frames)
    return read_all_frames(source)


FINGERPRINT_BYTES = 1 << 20
SPARE_BYTES = 1 << 30  # left free on the cache's disk for checkpoints and logs


def _cache_name(source: Path) -> str:
    """The cache file of a source: its name, size and first and last MiB (a frame folder: each frame's name and
    size); no path or modification time, so the same data anywhere maps to the same entry."""
    digest = hashlib.sha1(source.name.encode())
    if source.is_dir():
        for frame in list_frames(source):
            digest.update(f"|{frame.name}|{frame.stat().st_size}".encode())
    else:
        size = source.stat().st_size
        digest.update(f"|{size}|".encode())
        with open(source, "rb") as fh:
            digest.update(fh.read(FINGERPRINT_BYTES))
            if size > FINGERPRINT_BYTES:
                fh.seek(max(FINGERPRINT_BYTES, size - FINGERPRINT_BYTES))
                digest.update(fh.read())
    digest.update(b"|v2")
    return f"{source.stem}-{digest.hexdigest()[:12]}.npy"


def _store(frames: np.ndarray, target: Path, source: Path) -> None:
    """Write the decoded frames to the cache whole or not at all (a .part file renamed at the end)."""
    free = shutil.disk_usage(target.parent).free
    if frames.nbytes + SPARE_BYTES > free:
        raise TpstvsrError(
            f"not enough space in {target.parent} to cache {source.name}: it needs {frames.nbytes / 2**30:.1f} GiB "
            f"and 1 GiB to spare, {free / 2**30:.1f} GiB are free (free some, or give --cache-dir elsewhere)"
        )
    tmp = target.with_suffix(".part.npy")
    try:
        np.save(tmp, frames)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TpstvsrError(f"could not cache {source.name} in {target.parent}: {exc.strerror or exc}") from None
    tmp.replace(target)


def load_pool(paths: list[Path], cache_dir: Path, min_frames: int, log=print) -> list[Clip]:
    """Decode (or reuse cached) sources; clips shorter than min_frames are left out."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    clips = []
    for source in discover_sources(paths):
        if source.suffix == ".npy":  # a clip bank from scripts/make_trainset.py: [K, F, H, W, 3] uint8
            bank = np.load(source, mmap_mode="r")
            for k, frames in enumerate(bank if bank.ndim == 5 else [bank]):
                if frames.shape[0] >= min_frames:
                    clips.append(Clip(f"{source.name}[{k}]", frames))
            continue
        target = cache_dir / _cache_name(source)
        if not target.exists():
            frames = halve_if_large(_decode(source))
            _store(frames, target, source)
            log(f"cached {source.name}: {frames.shape[0]} frames {frames.shape[2]}x{frames.shape[1]}")
        frames = np.load(target, mmap_mode="r")
        if frames.shape[0] >= min_frames:
            clips.append(Clip(source.name, frames))
    if not clips:
        raise TpstvsrError(f"no training clip has at least {min_frames} frames")
    return clips


__all__ = ["Clip", "IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "discover_sources", "halve_if_large", "load_pool"]
