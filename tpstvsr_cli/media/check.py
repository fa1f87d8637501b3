"""Every output setting tried on this ffmpeg before any work starts.

A bad --codec, --encoder-preset, --pix-fmt or --encoder-opt, or an extension whose container cannot hold the video
(out.webm with H.264, out.txt), used to fail only once work had started, or at the join after the whole
conversion. Here the two commands of a real run are run on one black frame: the segment encode
(VideoWriter) and the join into OUTPUT's container with the source's sound and subtitles (join_command,
cut to a moment). A failure is traced to the one setting that causes it and named in a one-line error.
"""

import functools
import re
import subprocess
import tempfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from ..errors import TpstvsrError
from .colour import ColourSpec
from .join import join_command
from .probe import VideoInfo, ffmpeg_exe
from .reader import ffmpeg_reason
from .streams import StreamPlan
from .writer import EncoderOptions, VideoWriter, segment_ext

COMMON_CONTAINERS = ".mp4, .mkv, .mov or .webm"


def _ffmpeg_text(*args: str) -> str:
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", *args], capture_output=True, text=True, errors="replace"
    )
    return proc.stdout + proc.stderr


@functools.cache
def video_encoders() -> frozenset[str]:
    """Names of the video encoders this ffmpeg build has (`ffmpeg -encoders`: ' V....D libx264  ...')."""
    return frozenset(m.group(1) for m in re.finditer(r"^ V\S{5} (\S+)", _ffmpeg_text("-encoders"), re.MULTILINE))


@functools.cache
def encoder_help(codec: str) -> str:
    return _ffmpeg_text("-h", f"encoder={codec}")


def pixel_formats(codec: str) -> list[str] | None:
    """The pixel formats an encoder takes; None when ffmpeg does not list them."""
    found = re.search(r"Supported pixel formats: (.*)", encoder_help(codec))
    return found.group(1).split() if found else None


# Where the encoder library clamps silently (ffmpeg's own limit for x264/x265 is FLT_MAX): its real scale.
_CRF_RANGES = {
    "libx264": (0, 51),
    "libx264rgb": (0, 51),
    "libx265": (0, 51),
    "libvpx": (0, 63),
    "libvpx-vp9": (0, 63),
    "libaom-av1": (0, 63),
    "libsvtav1": (0, 63),
}


def crf_range(codec: str) -> tuple[float, float] | None:
    """The constant-quality scale of an encoder: known ones from the table, others from ffmpeg's help when it
    gives a finite range; None when the encoder has none (ffmpeg ignores --crf there)."""
    if codec in _CRF_RANGES:
        return _CRF_RANGES[codec]
    found = re.search(r"^\s*-crf\s.*\(from (-?[\d.]+) to (-?[\d.]+)\)", encoder_help(codec), re.MULTILINE)
    return (max(0.0, float(found.group(1))), float(found.group(2))) if found else None


def check_codec(options: EncoderOptions) -> None:
    """The codec exists and takes the pixel format: checked by name, without encoding anything."""
    codec = options.codec
    if codec not in video_encoders():
        known = [c for c in ("libx264", "libx265", "libvpx-vp9", "libaom-av1", "libsvtav1") if c in video_encoders()]
        raise TpstvsrError(f"--codec {codec}: this ffmpeg has no such video encoder (it has e.g. {', '.join(known)})")
    formats = pixel_formats(codec)
    if formats is not None and options.pix_fmt not in formats:
        raise TpstvsrError(f"--pix-fmt {options.pix_fmt}: {codec} cannot encode it; it takes {' '.join(formats)}")
    scale = crf_range(codec)
    if options.crf is not None and scale is not None and not scale[0] <= options.crf <= scale[1]:
        raise TpstvsrError(
            f"--crf {options.crf} is outside {codec}'s range {scale[0]:g}..{scale[1]:g} "
            "(lower is better and bigger; the default 18 is close to transparent)"
        )


def _run(cmd: list[str], stdin: bytes = b"") -> str | None:
    """None when ffmpeg succeeds, else the line that says why it failed."""
    proc = subprocess.run(cmd, input=stdin, capture_output=True)
    return None if proc.returncode == 0 else ffmpeg_reason(proc.stderr.decode("utf-8", "replace"))


class _Trial:
    """One black frame through the commands of a real run, in a temporary folder."""

    def __init__(
        self, folder: Path, width: int, height: int, rate: Fraction, colour: ColourSpec, sar: Fraction = Fraction(1)
    ):
        self.folder, self.size, self.rate, self.colour, self.sar = folder, (width, height), Fraction(rate), colour, sar

    def encode(self, options: EncoderOptions) -> str | None:
        self.segment = self.folder / ("check" + segment_ext(options.codec))
        cmd = VideoWriter(self.segment, *self.size, self.rate, self.colour, options, sar=self.sar).command()
        return _run(cmd, bytes(self.size[0] * self.size[1] * 3))

    def join(self, output: Path, source: VideoInfo | None, plan: StreamPlan | None) -> str | None:
        listing = self.folder / "check.list.txt"
        listing.write_text(f"file '{self.segment.name}'\n")
        joined = self.folder / ("joined" + output.suffix)
        # A moment of the source's sound and subtitles is enough to see that the container takes them.
        return _run(join_command(listing, joined, source, plan, limit=2 / self.rate + 0.1))


def _blame_encoder(trial: _Trial, options: EncoderOptions, reason: str) -> TpstvsrError:
    """The setting without which the one-frame encode works."""
    if options.preset and trial.encode(replace(options, preset=None)) is None:
        # Named by its current flag: --preset is only the old spelling (and means the network on bench/eval/train).
        return TpstvsrError(f"--encoder-preset {options.preset} does not work with {options.codec} ({reason})")
    for key, value in options.extra.items():
        others = {k: v for k, v in options.extra.items() if k != key}
        if trial.encode(replace(options, extra=others)) is None:
            return TpstvsrError(f"--encoder-opt {key}={value} does not work with {options.codec} ({reason})")
    if options.crf is not None and trial.encode(replace(options, crf=None)) is None:
        return TpstvsrError(f"--crf {options.crf} does not work with {options.codec} ({reason})")
    w, h = trial.size
    return TpstvsrError(
        f"--codec {options.codec} with --pix-fmt {options.pix_fmt} cannot encode {w}x{h} video "
        f"with this ffmpeg ({reason})"
    )


def _check_encode(trial: _Trial, options: EncoderOptions) -> None:
    check_codec(options)
    reason = trial.encode(options)
    if reason is not None:
        raise _blame_encoder(trial, options, reason)


def check_encoder(
    options: EncoderOptions,
    width: int = 256,
    height: int = 192,
    rate: Fraction = Fraction(50),
    colour: ColourSpec = ColourSpec("smpte170m", "tv"),
) -> None:
    """TpstvsrError naming the bad setting unless these options (codec resolved) encode a frame of this size
    (`batch` checks once for all its files before loading the network)."""
    with tempfile.TemporaryDirectory(prefix="tpstvsr-check-") as tmp:
        _check_encode(_Trial(Path(tmp), width, height, rate, colour), options)


def _container_error(output: Path, codec: str, reason: str) -> TpstvsrError:
    if "Unable to choose an output format" in reason:
        return TpstvsrError(
            f"{output.name}: ffmpeg knows no video format for the extension {output.suffix!r}; use "
            f"{COMMON_CONTAINERS} (or a name without an extension for a folder of frames)"
        )
    return TpstvsrError(
        f"a {output.suffix} file cannot hold {codec} video ({reason}); choose another --codec, or {COMMON_CONTAINERS}"
    )


def _fallback_plans(plan: StreamPlan, ext: str) -> list[tuple[StreamPlan, str]]:
    """Ever plainer plans for side streams the container refused, each with what it changes: subtitles left
    out, then sound re-encoded with the container's own default codec (ffmpeg picks it when none is named),
    then sound left out, then chapters."""
    steps = []
    if any(c is not None for c in plan.subtitles):
        steps.append(("subtitles left out", lambda p: replace(p, subtitles=[None] * len(p.subtitles))))
    if plan.audio:
        steps.append(
            (
                f"sound re-encoded with ffmpeg's default codec for {ext}",
                lambda p: replace(p, audio=[None] * len(p.audio)),
            )
        )
        steps.append(("sound left out", lambda p: replace(p, audio=[])))
    if plan.chapters:
        steps.append(("chapters left out", lambda p: replace(p, chapters=False)))
    plans, current, notes = [], replace(plan, warnings=[]), []
    for note, change in steps:
        current = change(current)
        notes = [n for n in notes if not n.startswith("sound re-encoded")] + [note]
        plans.append((current, "; ".join(notes)))
    return plans


def check_output_settings(
    output: Path,
    options: EncoderOptions,
    width: int,
    height: int,
    rate: Fraction,
    colour: ColourSpec,
    source: VideoInfo | None = None,
    plan: StreamPlan | None = None,
    sar: Fraction = Fraction(1),
) -> StreamPlan | None:
    """TpstvsrError naming the bad setting unless OUTPUT can be written with these options (codec resolved);
    returns the stream plan to use: where the container refuses a side stream the plan had kept, a plainer
    one (subtitles left out, sound converted or left out) with a warning saying what changed."""
    with tempfile.TemporaryDirectory(prefix="tpstvsr-check-") as tmp:
        trial = _Trial(Path(tmp), width, height, rate, colour, sar)
        _check_encode(trial, options)
        reason = trial.join(output, source, plan)
        if reason is None:
            return plan
        video_only = reason if source is None or plan is None else trial.join(output, None, None)
        if video_only is not None:
            raise _container_error(output, options.codec, video_only)
        for candidate, change in _fallback_plans(plan, output.suffix):
            if trial.join(output, source, candidate) is None:
                candidate.warnings.append(
                    f"a {output.suffix} file does not take the source's other streams as they are ({reason}): {change}"
                )
                return candidate
    raise _container_error(output, options.codec, reason)  # not reached: the last plan holds no side streams
