"""Options shared by several commands, so that each means the same, with the same default, everywhere.

Two presets must not be confused: `--encoder-preset` is the video encoder's speed preset (upscale, batch; the
old spelling `--preset` still works there), `--model` the network preset (bench, eval, train; `--preset` still
works there too).
"""

from pathlib import Path
from typing import Annotated

import typer

Weights = Annotated[
    Path | None,
    typer.Option("--weights", help="Weights file (.safetensors); default: the weights shipped with tpstvsr."),
]
NetPreset = Annotated[
    str | None,
    typer.Option(
        "--model",
        "--preset",
        metavar="PRESET",
        help="Network preset (default, paper, tiny) with random weights instead of a weights file: for speed and "
        "tests. (Not the encoder's preset: that is --encoder-preset on upscale and batch.)",
    ),
]
Source = Annotated[
    str | None,
    typer.Option(
        "--source",
        metavar="clean|compressed|auto",
        show_default=False,
        help="Which shipped weights: clean (trained on clean input), compressed (for lossy encodes, noise: DVDs, "
        "rips, VHS captures) or auto, the default: the input judged by its codec and bits per pixel, and by "
        "re-encoding, block edges and noise in its frames. Not with --weights.",
    ),
]
Device = Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")]
Precision = Annotated[
    str,
    typer.Option(
        "--precision",
        help="auto (fp16/bf16 on a GPU; on the CPU bf16 convolutions where it has bf16 instructions, "
        "else fp32), fp32, fp16 or bf16.",
    ),
]
Chunk = Annotated[
    int, typer.Option("--chunk", help="Input frames whose outputs each network pass supplies (2 or more).")
]
Overlap = Annotated[
    int,
    typer.Option(
        "--overlap",
        help="Context frames the network also sees on each side of a chunk (outputs discarded), hiding seams between "
        "chunks.",
    ),
]
Tile = Annotated[
    int | None,
    typer.Option(
        "--tile",
        help="Split frames into overlapping tiles of this many input pixels; 0: whole frames always. Default: whole "
        "frames when they fit half the free memory, else as few even tiles as fit.",
    ),
]
TileOverlap = Annotated[int, typer.Option("--tile-overlap", help="Input pixels shared by neighbouring tiles.")]
Ensemble = Annotated[
    int | None,
    typer.Option(
        "--ensemble",
        show_default=False,
        help="Average 1, 2 or 8 transposed/flipped network passes: 2 lets the temporal profiles follow horizontal "
        "motion too (better in-between frames, 2x the time). Default: 1, or 2 with --quality best.",
    ),
]
Quality = Annotated[
    str,
    typer.Option(
        "--quality",
        metavar="fast|balanced|best",
        help="How much work the network does per frame, with the same weights. fast: without the neighbour fusion "
        "and midpoint vote (no optical flow: key frames not fused with their super-resolved neighbours, "
        "in-between frames warped by block matching alone); "
        "balanced: the network as trained; best: balanced plus --ensemble 2 (a second, transposed pass) unless "
        "--ensemble is given. A network without fusion or vote runs fast as balanced. Measured on 2 CPU cores "
        "(fp32) at 180x144 input, seconds per output frame and val dB over bicubic (all frames): fast 0.26 s, "
        "+1.92 dB; balanced 0.43 s, +2.53 dB; best 0.85 s, +2.57 dB (README).",
    ),
]
MaxMemory = Annotated[
    str | None,
    typer.Option(
        "--max-memory",
        metavar="SIZE",
        show_default=False,
        help="Most memory the network may plan with, e.g. 4G or 512M (powers of 1024); never more than the free "
        "memory, "
        "cgroup and ulimit limits allow. Default: those alone.",
    ),
]
Fps = Annotated[float, typer.Option("--fps", help="Frame rate of a frame-folder input.")]
Codec = Annotated[str | None, typer.Option("--codec", help="Video encoder (default libx264; libvpx-vp9 for .webm).")]
Crf = Annotated[int, typer.Option("--crf", help="Constant-quality level of the encoder (lower is better and bigger).")]
EncoderPreset = Annotated[
    str | None,
    typer.Option(
        "--encoder-preset",
        "--preset",
        metavar="SPEED",
        help="The video encoder's speed preset, e.g. libx264's ultrafast .. veryslow (--preset is the old spelling; "
        "the network preset is --model on bench, eval and train).",
    ),
]
PixFmt = Annotated[str, typer.Option("--pix-fmt", help="Output pixel format.")]
EncoderOpt = Annotated[
    list[str] | None,
    typer.Option("--encoder-opt", help="Further ffmpeg output option KEY=VALUE, e.g. tune=film (repeatable)."),
]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Deinterlace = Annotated[
    bool | None,
    typer.Option(
        "--deinterlace/--no-deinterlace",
        show_default=False,
        help="Deinterlace (bwdif) before upscaling; default: when the file flags interlaced fields.",
    ),
]
SceneThreshold = Annotated[
    float,
    typer.Option(
        "--scene-threshold",
        help="Scene-cut sensitivity, 0..1 (lower finds more cuts; 0 turns detection off). No frame is interpolated "
        "across a cut.",
    ),
]
SegmentFrames = Annotated[int, typer.Option("--segment-frames", help="Input frames per resumable segment of work.")]
Strict = Annotated[
    bool, typer.Option("--strict", help="Refuse a damaged or truncated video instead of converting what decodes.")
]
Start = Annotated[
    str | None,
    typer.Option(
        "--start",
        metavar="TIME",
        show_default=False,
        help="Convert from this time on (seconds, or HH:MM:SS[.ms]); the sound is cut to the same piece.",
    ),
]
Duration = Annotated[
    str | None,
    typer.Option(
        "--duration",
        metavar="TIME",
        show_default=False,
        help="Convert this long a piece (seconds, or HH:MM:SS[.ms]) from --start: to try settings on a long film.",
    ),
]
Scale = Annotated[
    int | None,
    typer.Option(
        "--scale",
        metavar="2|3|4",
        show_default=False,
        help="Output width and height over the input's; default 4. The network works at 4x: 2 and 3 are its frames "
        "downscaled with an antialiased bicubic filter (the network has no cheaper 2x or 3x output).",
    ),
]
KeepRate = Annotated[
    bool,
    typer.Option(
        "--keep-rate",
        help="Space only: keep the frame rate. The network makes its key frames alone: the default network's "
        "in-between frames (motion search and warps) were about a fifth of its CPU time at 160x90.",
    ),
]
KeepSize = Annotated[
    bool,
    typer.Option(
        "--keep-size",
        help="Time only: keep the size, twice the frame rate. No network runs: each in-between frame is the two "
        "input frames warped to the midpoint with the default network's parameter-free motion search.",
    ),
]
JsonOut = Annotated[
    bool, typer.Option("--json", help="Print what was written (frames, seconds, fps) as JSON on stdout.")
]


def memory_cap(text: str | None) -> int | None:
    """--max-memory as bytes (None: no cap), read once, before any work (engine.memory_size.parse_size)."""
    from ..engine.memory_size import parse_size

    return None if text is None else parse_size(text)


def encoder_options(codec, crf, preset, pix_fmt, opts):
    """EncoderOptions from the encoder flags; --encoder-opt KEY=VALUE pairs checked here."""
    from ..errors import TpstvsrError
    from ..media.writer import EncoderOptions

    extra = {}
    for item in opts or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise TpstvsrError(f"--encoder-opt expects KEY=VALUE, got {item!r}")
        extra[key.strip().lstrip("-")] = value
    return EncoderOptions(codec=codec, crf=crf, preset=preset, pix_fmt=pix_fmt, extra=extra)


def rate(frames: int | None, seconds: float) -> float | None:
    return round(frames / seconds, 4) if frames and seconds > 0 else None
