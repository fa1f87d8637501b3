"""Named network sizes. A preset is data; build_model turns it into a TPNet."""

from dataclasses import asdict, dataclass, replace

from .artifact_removal import ArtifactRemoval
from .fsm import FSM
from .key_fusion import KeyFusion
from .keyframe_interp import KeyframeInterp
from .mid_blend import MidBlend
from .motion import BilateralMidpoint
from .neighbour_fusion import NeighbourFusion
from .output_refine import OutputRefine
from .refine_unet import RefineUNet
from .tpnet import TPNet
from .tpsrm import TPSRM


@dataclass(frozen=True)
class NetConfig:
    """Sizes of the three modules. See each preset's description for how it departs from the paper."""

    description: str
    tp_channels: int  # TPSRM's IMDN width
    tp_blocks: int  # TPSRM's IMDN blocks
    fsm_channels: int  # FSM feature width C (even; divisible by the number of dilation rates)
    csr_channels: int  # FSM's cascaded-SR IMDN width
    csr_blocks: int
    rm_channels: tuple[int, ...]  # U-Net width per level, full resolution first
    rm_enc_blocks: tuple[int, ...]
    rm_mid_blocks: int
    rm_dec_blocks: tuple[int, ...]
    dilations: tuple[int, ...] = (1, 2, 3, 4)
    alpha: float = 0.2
    # Host memory per input pixel for one fp32 window of 13 input frames (engine.memory scales it for other
    # windows); automatic tiling plans with it. Measured per preset: docs/robustness.md (scripts/measure_memory.py
    # for the engine alone, scripts/check_memory_plan.py for whole conversions).
    kib_per_input_px: float = 17.0
    # The in-between frames' base (models/motion.py): bilateral block matching within this radius (in pixels of
    # the input upscaled motion_scale times); 0 keeps the paper's plain average of the neighbours.
    motion_radius: int = 0
    motion_window: int = 11
    motion_penalty: float = 0.005
    motion_scale: int = 2
    # In-between frames warped from the super-resolved key frames (models/keyframe_interp.py) with a coarse
    # search of this radius and window at the input's size; 0 runs FSM and RM on TPSRM's in-between frames.
    keyframe_radius: int = 0
    keyframe_window: int = 19
    # ...and blended per pixel with two optical-flow midpoints, each weighted by how well its two warped key
    # frames agree (models/midpoint_vote.py); False: the block matching's midpoint alone.
    keyframe_vote: bool = False
    # Key frames get a multi-frame residual from their motion-aligned neighbours (models/key_fusion.py): a plain
    # stack of this many 3x3 convolutions of this width at the input's size; 0 channels leaves it out. An
    # experiment (64 channels, 6 layers) not in `default`; `tiny` has one so the tests cover it.
    fusion_channels: int = 0
    fusion_layers: int = 6
    # The in-between frames' per-pixel blend of the two warped key frames (models/mid_blend.py): convolutions of
    # this width at twice the input's size; 0 channels keeps the plain average.
    blend_channels: int = 0
    blend_layers: int = 3
    # Key frames fused with their super-resolved neighbours (models/neighbour_fusion.py, no parameters): up to
    # this many key frames each side aligned by dense flow, weighted by how well they explain the key frame's
    # input (sigma in grey levels), then this many back-projection steps, all repeated `passes` times;
    # reach 0 keeps each key frame alone.
    neighbour_reach: int = 0
    neighbour_sigma: float = 5.0
    neighbour_steps: int = 3
    neighbour_passes: int = 1
    # ...with the flow between key frames found anew every this many passes (1: every pass)
    neighbour_flow_every: int = 1
    # The input's compression artefacts and noise removed first (models/artifact_removal.py): ResBlocks of this
    # width at the input's size over each frame and `restore_reach` frames either side; 0 channels leaves it out.
    restore_channels: int = 0
    restore_blocks: int = 4
    restore_reach: int = 1
    # Each finished output frame corrected from itself and its two input frames (models/output_refine.py): ResBlocks
    # of this width at the input's size, trained apart on the network's outputs; 0 channels leaves it out.
    refine_channels: int = 0
    refine_blocks: int = 4

    def as_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, NetConfig] = {
    "paper": NetConfig(
        description="The paper's sizes as far as it states them: IMDNs of 64 channels and 6 blocks, FSM C=64, "
        "an RM U-Net of 15 ResBlocks (64/128/256 channels); 7.67M parameters (the paper reports 7.53M).",
        tp_channels=64,
        tp_blocks=6,
        fsm_channels=64,
        csr_channels=64,
        csr_blocks=6,
        rm_channels=(64, 128, 256),
        rm_enc_blocks=(3, 3),
        rm_mid_blocks=3,
        rm_dec_blocks=(3, 3),
        kib_per_input_px=56.0,
    ),
    "default": NetConfig(
        description="Sized for 2 CPU cores. Departures from the paper: narrower IMDNs (32 channels, 4 and 3 "
        "blocks), FSM C=32, and an RM U-Net whose full-resolution level has 8 channels and no ResBlocks; "
        "its 15 ResBlocks sit at 1/2, 1/4 and 1/8 resolution (16/32/64 channels). FSM and RM run on the key "
        "frames only: the in-between frames are warped from the two super-resolved key frames around them "
        "with coarse-to-fine bilateral motion (no parameters; models/keyframe_interp.py), which scored better "
        "than TPSRM's time interpolation through FSM and RM at half the cost, and blended per pixel with two "
        "optical-flow midpoints by how well each motion's warps agree (models/midpoint_vote.py). Each key frame "
        "is fused with the super-resolved key frames up to 2 either side, aligned by dense optical flow and "
        "weighted by how well they explain its input, then back-projected onto it, four times over "
        "(models/neighbour_fusion.py, no parameters). (A learnt KeyFusion, models/key_fusion.py, is not in it: "
        "trained for 1,150 steps it added nothing measurable; docs/design-keyframes.md.)",
        tp_channels=32,
        tp_blocks=4,
        fsm_channels=32,
        csr_channels=32,
        csr_blocks=3,
        rm_channels=(8, 16, 32, 64),
        rm_enc_blocks=(0, 2, 3),
        rm_mid_blocks=5,
        rm_dec_blocks=(0, 2, 3),
        keyframe_radius=5,
        keyframe_vote=True,
        neighbour_reach=2,
        neighbour_passes=4,
        neighbour_flow_every=2,
        neighbour_sigma=4.0,
        kib_per_input_px=23.0,  # scripts/check_memory_plan.py, session 14 (two pieces in flight: engine/team.py)
    ),
    "tiny": NetConfig(
        description="For tests only: a few thousand parameters, every part of the architecture present (the "
        "key-frame interpolation too, with a small search; and TPSRM's motion base, which the stage-0/1 training "
        "of its in-between frames still uses; a 2-layer key fusion). Not the compressed preset's artifact removal: "
        "tests/models/test_artifact_removal.py adds one.",
        tp_channels=8,
        tp_blocks=1,
        fsm_channels=8,
        csr_channels=8,
        csr_blocks=1,
        rm_channels=(4, 8),
        rm_enc_blocks=(1,),
        rm_mid_blocks=1,
        rm_dec_blocks=(1,),
        kib_per_input_px=10.0,
        motion_radius=2,
        motion_window=3,
        keyframe_radius=2,
        keyframe_window=5,
        keyframe_vote=True,
        fusion_channels=4,
        fusion_layers=2,
        blend_channels=4,
        neighbour_reach=1,
    ),
}

# For compressed or noisy input (issue 21; weights/tpstvsr-compressed.safetensors): the default network and
# parameters, but the neighbour fusion does not back-project its key frames onto their input, which would put
# the input's blocks, ringing and noise back (x264 CRF 32, bedroom, default weights: +0.82 dB over bicubic with
# no back-projection, +0.70 with the default's 3 steps).
PRESETS["compressed"] = replace(
    PRESETS["default"],
    description="The default network for compressed or noisy input: the same sizes and parts, with the neighbour "
    "fusion's back-projection onto the input left out (it puts the input's compression artefacts back).",
    neighbour_steps=0,
)
# An experiment of session 17 (issue 21), not shipped: the compressed preset after an artifact removal at the
# input's size; the default weights with a removal trained in two phases (scripts/train_compressed_restore.sh)
# came within +0.01..+0.04 dB of the shipped compressed weights on mid val (weights/README.md).
PRESETS["compressed-restore"] = replace(
    PRESETS["compressed"],
    description="An experiment (issue 21): the compressed preset with its input first through an artifact removal "
    "(models/artifact_removal.py: 4 ResBlocks of 32 channels over each frame and its two neighbours, at the input's "
    "size), trained on x264, noise and blur. It matched the shipped compressed weights on val, at more cost.",
    restore_channels=32,
)

# An experiment of session 19 (issue 21), not shipped: the compressed preset with an output refinement over each
# finished frame (models/output_refine.py), trained apart on the network's outputs of degraded training clips
# (scripts/train_output_refine.py): +0.08 dB at x264 CRF 32 and -0.07 at CRF 23 on mid val (weights/README.md).
PRESETS["compressed-refine"] = replace(
    PRESETS["compressed"],
    description="An experiment (issue 21): the compressed preset with each finished output frame corrected from "
    "itself and the two input frames it lies between (models/output_refine.py: 4 ResBlocks of 48 channels at the "
    "input's size over the frame pixel-unshuffled 4x), trained apart on x264 and MPEG-2 input.",
    refine_channels=48,
)


def build_model(preset: str | NetConfig = "default") -> TPNet:
    cfg = PRESETS[preset] if isinstance(preset, str) else preset
    levels = len(cfg.rm_channels) - 1
    # RM sees 4H x 4W frames and halves them `levels` times: the input needs 2**levels / 4 divisibility.
    pad_multiple = max(1, 2**levels // 4)
    motion = None
    if cfg.motion_radius > 0:
        motion = BilateralMidpoint(cfg.motion_radius, cfg.motion_window, cfg.motion_penalty, cfg.motion_scale)
    interp = None
    if cfg.keyframe_radius > 0:
        interp = KeyframeInterp(cfg.keyframe_radius, cfg.keyframe_window, vote=cfg.keyframe_vote)
    fusion = KeyFusion(cfg.fusion_channels, cfg.fusion_layers) if cfg.fusion_channels > 0 else None
    blend = MidBlend(cfg.blend_channels, cfg.blend_layers) if cfg.blend_channels > 0 else None
    neighbours = None
    if cfg.neighbour_reach > 0:
        neighbours = NeighbourFusion(
            cfg.neighbour_reach,
            cfg.neighbour_sigma,
            cfg.neighbour_steps,
            cfg.neighbour_passes,
            cfg.neighbour_flow_every,
        )
    return TPNet(
        TPSRM(cfg.tp_channels, cfg.tp_blocks, motion=motion),
        FSM(cfg.fsm_channels, cfg.dilations, cfg.alpha, cfg.csr_channels, cfg.csr_blocks),
        RefineUNet(cfg.rm_channels, cfg.rm_enc_blocks, cfg.rm_mid_blocks, cfg.rm_dec_blocks),
        pad_multiple=pad_multiple,
        kib_per_input_px=cfg.kib_per_input_px,
        interp=interp,
        fusion=fusion,
        blend=blend,
        neighbours=neighbours,
        # built last, so that adding it to a preset leaves the other modules' random start as it was
        restore=ArtifactRemoval(cfg.restore_channels, cfg.restore_blocks, cfg.restore_reach)
        if cfg.restore_channels > 0
        else None,
        refine=OutputRefine(cfg.refine_channels, cfg.refine_blocks) if cfg.refine_channels > 0 else None,
    )


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
