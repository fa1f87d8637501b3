"""Everything a training run is configured by; stored in its checkpoint."""

from dataclasses import asdict, dataclass, field
from pathlib import Path

STAGE_NAMES = ("tpsrm", "fsm", "joint")


@dataclass
class TrainConfig:
    data: list[Path]
    run_dir: Path
    preset: str = "default"
    cache_dir: Path = Path.home() / ".cache" / "tpstvsr" / "frames"
    # Steps per stage: TPSRM alone, FSM with TPSRM frozen, all three modules together (paper, 4.1).
    stage_steps: tuple[int, int, int] = (2000, 4000, 30000)
    batch: int = 8
    crop: int = 64  # ground-truth crop (multiple of 4); the input is crop/4
    in_frames: int = 4  # T; the sample has 2T-1 ground-truth frames (7 as in the paper)
    max_stride: int = 1  # temporal stride drawn from 1..max_stride per sample (larger motion)
    crop_tries: int = 1  # the crop is the most detailed of this many random positions (samples.py)
    detail_power: float = 0.0  # clips drawn by sqrt(length) x their detail to this power (samples.py)
    degrade: bool = False  # inputs through random x264 encodes, noise and blur (degradations.py)
    lr: float = 4e-4
    lr_milestones: tuple[float, ...] = (0.5, 0.8)  # fractions of each stage where lr is multiplied by 0.2
    max_minutes: float | None = None
    max_steps: int | None = None  # stop (with a checkpoint) once this many steps are done in all
    ckpt_minutes: float = 10.0
    val: list[Path] = field(default_factory=list)
    val_every: int = 500
    vgg_weights: Path | None = None
    init_from: Path | None = None  # release weights to start from (step and stage from their header)
    train_only: str | None = None  # joint stage: train only this module (e.g. "fusion"), the rest frozen
    restart_stage: bool = False  # with init_from: the stage's step count (so its lr schedule) starts at 0
    release: Path | None = None  # half-precision release weights written with every checkpoint
    device: str = "auto"
    seed: int = 0
    log_every: int = 50

    def to_dict(self) -> dict:
        d = asdict(self)
        return {
            k: (str(v) if isinstance(v, Path) else [str(x) for x in v] if k in ("data", "val") else v)
            for k, v in d.items()
        }
