"""The inference options, in one dataclass checked once when it is made (every caller gets the same rules)."""

from dataclasses import dataclass

from ..errors import TpstvsrError
from .ensemble import ENSEMBLES

MIN_CHUNK = 2  # input frames per window core: the least --chunk, and the shortest the runner retries with
MIN_TILE_MARGIN = 8  # a tile is at least 2 * tile_overlap + this many input pixels


@dataclass(frozen=True)
class InferenceOptions:
    """How the network walks a clip: `chunk` input frames per pass with `overlap` frames of context each side,
    `tile` (None automatic, 0 whole frames, else input pixels) tiles sharing `tile_overlap` pixels, `ensemble`
    1, 2 or 8 transformed passes averaged, `frames_per_pass` frames through the per-frame modules at once, and
    `max_memory` (bytes, None: what the host allows) for automatic tiling."""

    chunk: int = 16  # 8 re-ran 5 context key frames per 8: 16 took a quarter less time and scored +0.005 dB on val
    overlap: int = 2
    tile: int | None = None
    tile_overlap: int = 16
    ensemble: int = 1
    frames_per_pass: int = 1
    max_memory: int | None = None

    def __post_init__(self) -> None:
        if self.chunk < MIN_CHUNK:
            raise TpstvsrError(f"--chunk must be {MIN_CHUNK} or more, got {self.chunk}")
        if self.overlap < 0:
            raise TpstvsrError(f"--overlap must be 0 or more frames, got {self.overlap}")
        if self.ensemble not in ENSEMBLES:
            choices = ", ".join(map(str, sorted(ENSEMBLES)))
            raise TpstvsrError(f"ensemble must be one of {choices}, got {self.ensemble}")
        if self.tile is not None and self.tile < 0:
            raise TpstvsrError(f"tile must be 0 (whole frames) or a size in input pixels, got {self.tile}")
        if self.tile_overlap < 0:
            raise TpstvsrError(f"tile overlap must be 0 or more, got {self.tile_overlap}")
        if self.tile and self.tile < self.min_tile:
            raise TpstvsrError(
                f"tile {self.tile} is too small for a tile overlap of {self.tile_overlap} "
                f"(need at least {self.min_tile})"
            )
        if self.frames_per_pass < 1:
            raise TpstvsrError(f"frames per pass must be 1 or more, got {self.frames_per_pass}")
        from .memory_size import check_max_memory

        check_max_memory(self.max_memory)

    @property
    def min_tile(self) -> int:
        return 2 * self.tile_overlap + MIN_TILE_MARGIN
