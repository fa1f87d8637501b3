"""`--source clean|compressed|auto`: which shipped weights a conversion runs.

clean: weights/tpstvsr-default.safetensors, trained on clean bicubic input (the evaluation protocol's);
compressed: weights/tpstvsr-compressed.safetensors, the same network fine-tuned on input through random x264
encodes, noise and blur (issue 21); auto: the input judged (media/judge.py) and the weights for what it is.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TpstvsrError
from ..media.judge import Judgement, judge_frames, judge_path

SOURCES = ("clean", "compressed", "auto")
DEFAULT_SOURCE = "auto"
COMPRESSED_NAME = "tpstvsr-compressed.safetensors"


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise TpstvsrError(f"--source must be one of {', '.join(SOURCES)}, got {source!r}")
    return source


def check_weights_or_source(source: str | None, weights: Path | None) -> None:
    """--weights and --source each name the weights: one of them at most."""
    if source is not None and weights is not None:
        raise TpstvsrError("give --weights or --source, not both")


def source_weights(source: str) -> Path:
    """The shipped weights file for 'clean' or 'compressed' (installed beside each other)."""
    from .release import default_weights_path

    clean = default_weights_path()
    if source == "clean":
        return clean
    if source == "compressed":
        return clean.with_name(COMPRESSED_NAME)
    raise TpstvsrError(f"no weights file for --source {source!r}")


def has_compressed_weights() -> bool:
    return source_weights("compressed").is_file()


@dataclass(frozen=True)
class WeightsChoice:
    weights: Path | None  # None: the shipped default (clean) weights
    source: str | None  # "clean" or "compressed" when --source chose; None when --weights did
    reason: str
    judgement: Judgement | None = None  # auto's measurements


def choose_weights(
    source: str | None, weights: Path | None, input: Path | None = None, frames: np.ndarray | None = None
) -> WeightsChoice:
    """--weights wins (with --source as well: an error); else --source (None: auto), auto judging `input` (a video
    or frame folder) or `frames` (uint8 [N, H, W, 3]). Without compressed weights installed auto means clean."""
    check_weights_or_source(source, weights)
    if weights is not None:
        return WeightsChoice(weights, None, f"--weights {weights}")
    source = check_source(source or DEFAULT_SOURCE)
    if source == "auto":
        if not has_compressed_weights():
            return WeightsChoice(None, "clean", "auto: no compressed weights installed")
        judged = judge_frames(frames) if frames is not None else judge_path(Path(input))
        source, reason = judged.source, f"auto: {judged.reason}"
        return WeightsChoice(source_weights(source), source, reason, judged)
    path = source_weights(source)
    if not path.is_file():
        raise TpstvsrError(f"--source {source}: weights file not found: {path}")
    return WeightsChoice(path, source, f"--source {source}")
