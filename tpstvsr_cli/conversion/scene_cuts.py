"""Scene-cut detection on decoded frames: pure functions and a small streaming detector.

The score follows ffmpeg's `select='gt(scene,T)'`: the mean absolute difference (MAFD) between
consecutive frames, taken only as far as it jumps above the previous frame pair's MAFD. Steady fast
motion has a large MAFD every frame and so a small jump; a cut has one large MAFD after small ones.
Scores lie in 0..1; a cut is a score above the threshold (0 turns detection off).
"""

import numpy as np

DEFAULT_THRESHOLD = 0.3


def luma(frame: np.ndarray, max_width: int = 160) -> np.ndarray:
    """[H, W, 3] uint8 RGB -> a float32 luma plane, subsampled to at most `max_width` columns (cheap)."""
    step = max(1, frame.shape[1] // max_width)
    small = frame[::step, ::step].astype(np.float32)
    return small @ np.array([0.299, 0.587, 0.114], np.float32)


def mafd(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two luma planes, 0..255."""
    return float(np.abs(a - b).mean())


def scene_score(current_mafd: float, previous_mafd: float) -> float:
    """0..1: how much the difference to the previous frame jumped (ffmpeg's scene score, scaled by 1/100)."""
    return float(np.clip(min(current_mafd, abs(current_mafd - previous_mafd)) / 100.0, 0.0, 1.0))


class CutDetector:
    """Feed frames in order; push() says whether a cut lies between the previous frame and this one.

    It depends only on the last two frames, so running it over every decoded frame from the start gives
    the same cuts in a resumed run as in an uninterrupted one.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD):
        if not 0 <= threshold <= 1:
            raise ValueError(f"scene threshold must lie in 0..1, got {threshold}")
        self.threshold = threshold
        self._prev: np.ndarray | None = None
        self._prev_mafd = 0.0

    def push(self, frame: np.ndarray) -> bool:
        if self.threshold == 0:
            return False
        y = luma(frame)
        cut = False
        if self._prev is not None and self._prev.shape == y.shape:
            d = mafd(y, self._prev)
            cut = scene_score(d, self._prev_mafd) > self.threshold
            self._prev_mafd = d
        self._prev = y
        return cut


def find_cuts(frames, threshold: float = DEFAULT_THRESHOLD) -> list[int]:
    """Indices i where a cut lies between frame i-1 and frame i."""
    detector = CutDetector(threshold)
    return [i for i, f in enumerate(frames) if detector.push(f)]
