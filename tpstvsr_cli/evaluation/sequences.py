"""Loading evaluation sequences: a folder of frames (PNG/JPG) or a video file, up to a number of frames."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TpstvsrError
from ..media.frame_folder import is_frame_folder, list_frames, read_frame
from ..media.reader import VideoReader
from .protocol import prepare_truth


@dataclass
class Sequence:
    name: str
    path: Path
    source_size: tuple[int, int]  # (W, H) as stored, before --gt-scale and cropping
    truth: np.ndarray  # [2N-1, H, W, 3] uint8: the protocol's ground truth


def read_frames(path: Path, max_frames: int | None = None) -> np.ndarray:
    """The first `max_frames` frames (all when None) of a frame folder or a video, as [T, H, W, 3] uint8."""
    path = Path(path)
    if not path.exists():
        raise TpstvsrError(f"no such file or folder: {path}")
    if path.is_dir():
        if not is_frame_folder(path):
            raise TpstvsrError(f"no frames (PNG/JPG) in folder: {path}")
        files = list_frames(path)[:max_frames]
        frames = [read_frame(f) for f in files]
        sizes = {f.shape for f in frames}
        if len(sizes) > 1:
            raise TpstvsrError(f"frames of different sizes in {path}: {sorted(sizes)}")
        return np.stack(frames)
    return _read_video(path, max_frames)


def _read_video(path: Path, max_frames: int | None) -> np.ndarray:
    frames: list[np.ndarray] = []
    try:
        with VideoReader(path) as reader:
            for frame in reader:
                frames.append(frame.copy())
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except TpstvsrError:
        # Stopping early closes ffmpeg's pipe mid-write, and a reader may report ffmpeg's exit as a
        # failure; once we hold the frames we asked for they are good. Any other failure is the user's.
        if max_frames is None or len(frames) < max_frames:
            raise
    if not frames:
        raise TpstvsrError(f"no frames decoded from {path}")
    return np.stack(frames)


def load_sequence(
    path: Path, *, max_frames: int | None = None, gt_scale: float | None = None, crop: tuple[int, int] | None = None
) -> Sequence:
    """Read a sequence and turn it into the protocol's ground truth (see protocol.prepare_truth)."""
    if max_frames is not None and max_frames < 3:
        raise TpstvsrError(f"--max-frames must be at least 3, got {max_frames}")
    path = Path(path)
    raw = read_frames(path, max_frames)
    source_size = (raw.shape[2], raw.shape[1])
    try:
        truth = prepare_truth(raw, gt_scale=gt_scale, crop=crop)
    except TpstvsrError as exc:
        raise TpstvsrError(f"{path}: {exc}") from None
    return Sequence(name=path.name, path=path, source_size=source_size, truth=truth)
