"""`tpstvsr batch`: convert every video in a folder, mirroring its layout, surviving bad files.

Each conversion resumes from the complete segments an interrupted earlier run left (unless it was made with
other settings: then it starts again). A film another run is converting (its output's work folder is locked,
lock.py) is skipped, with that run named in the reason. An output that exists is complete (upscale renames into
place only at the end), and is checked against
its source's duration before it is skipped; one that fails the check is converted again.
"""

import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..engine.device import resolve_compute
from ..errors import TpstvsrError
from ..media.check import check_encoder, check_output_settings
from ..media.colour import SRGB_FRAMES
from ..media.endpoints import PARTIAL
from ..media.probe import probe
from ..media.suffixes import VIDEO_SUFFIXES
from ..media.writer import EncoderOptions
from ..models.loading import get_model
from .convert import upscale
from .lock import OutputLocked
from .progress import progress_bar
from .settings import ConversionSettings, split_options
from .source import ModelPicker


@dataclass
class FileOutcome:
    input: Path
    output: Path
    status: str  # "converted", "skipped" or "failed"
    frames: int | None = None
    seconds: float = 0.0
    reason: str = ""
    busy: bool = False  # skipped because another run is writing this output now (it is not done)
    warnings: list[str] = field(default_factory=list)  # the warning lines said while this file was converted
    source: str | None = None  # the weights --source chose for it: "clean" or "compressed" (None: --weights)


def find_videos(in_dir: Path, recursive: bool) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    # Segments inside an unfinished run's work folder are not sources.
    return sorted(
        p
        for p in in_dir.glob(pattern)
        if p.is_file()
        and p.suffix.lower() in VIDEO_SUFFIXES
        and not any(PARTIAL in part for part in p.relative_to(in_dir).parts)
    )


def is_complete(source: Path, output: Path) -> bool:
    """The output exists, decodes as a video, and lasts as long as the source (within two frames)."""
    if not output.is_file():
        return False
    try:
        src, out = probe(source), probe(output)
    except TpstvsrError:
        return False
    if src.duration is None or out.duration is None:
        return True
    return abs(src.duration - out.duration) <= 2 / src.fps


def output_paths(videos: list[Path], in_dir: Path, out_dir: Path, ext: str | None) -> list[tuple[Path, Path]]:
    """(input, output) for each video: the same relative path under OUT_DIR, suffix `ext` if given. Two inputs
    that would share an output (x.mp4 and x.mkv with --ext mp4) refuse the batch before any work: otherwise
    one overwrote the other and every rerun converted both again."""
    pairs, claimed = [], {}
    for video in videos:
        rel = video.relative_to(in_dir)
        out = out_dir / (rel.with_suffix(ext) if ext else rel)
        if out in claimed:
            raise TpstvsrError(
                f"{claimed[out]} and {rel} would both be written to {out}; leave out --ext, or "
                "convert one of them on its own"
            )
        claimed[out] = rel
        pairs.append((video, out))
    return pairs


def check_encoders(encoder: EncoderOptions, suffixes: set[str], ext: str | None) -> None:
    """A bad encoder setting refuses the whole batch now, before the network loads, rather than failing every
    file in turn; --ext's container is checked too. (Each file's own container and streams are checked
    when its turn comes: one that cannot be written fails alone.)"""
    by_codec = {options.codec: options for options in (encoder.for_output(Path("x" + s)) for s in sorted(suffixes))}
    for options in by_codec.values():
        check_encoder(options)
    if ext is not None:
        out = Path("x" + ext)
        check_output_settings(out, encoder.for_output(out), 256, 192, Fraction(50), SRGB_FRAMES)


def _videos(in_dir: Path, out_dir: Path, recursive: bool) -> list[Path]:
    if not in_dir.is_dir():
        raise TpstvsrError(f"not a folder: {in_dir}")
    if out_dir.resolve() == in_dir.resolve():
        raise TpstvsrError("the output folder must differ from the input folder")
    videos = [v for v in find_videos(in_dir, recursive) if out_dir.resolve() not in v.resolve().parents]
    if not videos:
        raise TpstvsrError(f"no videos in {in_dir}" + ("" if recursive else " (use --recursive for subfolders)"))
    return videos


def _convert_one(video: Path, out: Path, settings: ConversionSettings, net, bar, on_warning) -> FileOutcome:
    """The file's outcome, with the warnings said during it (batch --json reports them per file)."""
    said: list[str] = []

    def on_file_warning(message: str) -> None:
        said.append(message)
        if on_warning is not None:
            on_warning(message)

    outcome = _convert(video, out, settings, net, bar, on_file_warning)
    outcome.warnings = said
    return outcome


def _convert(video: Path, out: Path, settings: ConversionSettings, net, bar, on_warning) -> FileOutcome:
    start = time.perf_counter()
    if is_complete(video, out):
        return FileOutcome(video, out, "skipped", reason="output already complete")
    try:
        source = None
        if isinstance(net, ModelPicker):  # --source: this film's weights, judged when auto
            net, choice = net.for_input(video)
            source = choice.source
        out.parent.mkdir(parents=True, exist_ok=True)
        result = upscale(
            video, out, settings, model=net, overwrite=True, resume=True, progress=bar, on_warning=on_warning
        )
        return FileOutcome(video, out, "converted", result.frames_out, result.seconds, source=source)
    except OutputLocked as exc:  # two batches over one folder share the work instead of both failing
        return FileOutcome(video, out, "skipped", reason=str(exc), busy=True)
    except (TpstvsrError, OSError, RuntimeError, ValueError) as exc:  # one bad file must not stop the rest
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return FileOutcome(video, out, "failed", seconds=time.perf_counter() - start, reason=reason)


def batch(
    in_dir: Path,
    out_dir: Path,
    settings: ConversionSettings | None = None,
    *,
    recursive: bool = False,
    ext: str | None = None,
    model=None,
    weights: Path | None = None,
    source: str | None = None,
    **options,
) -> list[FileOutcome]:
    """Convert each video under IN_DIR to the same relative path under OUT_DIR (suffix `ext` if given); each film
    with `weights`, or the weights `source` picks for it (models/sources.py; None with no weights: auto).

    `options`: as upscale()'s (settings fields, inference fields, quiet and on_warning)."""
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    videos = _videos(in_dir, out_dir, recursive)
    if ext is not None and not ext.startswith("."):
        ext = "." + ext
    pairs = output_paths(videos, in_dir, out_dir, ext)
    settings, run = split_options(settings, options)
    compute = resolve_compute(settings.device, settings.precision)
    settings = replace(settings, device=str(compute.device), precision=compute.precision)  # said once, not per file
    if compute.note:
        run.warn(compute.note)
    check_encoders(settings.encoder, {(ext or v.suffix).lower() for v in videos}, ext)

    def load(path: Path | None):
        return get_model(weights=path, device=compute.device, dtype=compute.weights_dtype)[0]

    net = model
    if model is None:  # a weights file is loaded now (a bad one stops the batch); --source picks per film
        net = load(weights) if weights is not None and source is None else ModelPicker(source, weights, load)
    outcomes: list[FileOutcome] = []
    with progress_bar(run.quiet) as bar:
        overall = bar.add_task("files", total=len(videos), unit="files", rate_unit=None)
        for video, out in pairs:
            outcomes.append(_convert_one(video, out, settings, net, bar, run.on_warning))
            bar.advance(overall)
    return outcomes


def report_table(outcomes: list[FileOutcome], root: Path) -> Table:
    table = Table(title="tpstvsr batch")
    for col, justify in (
        ("file", "left"),
        ("status", "left"),
        ("frames", "right"),
        ("time", "right"),
        ("reason", "left"),
    ):
        table.add_column(col, justify=justify, overflow="fold")
    colours = {"converted": "green", "skipped": "cyan", "failed": "red"}
    for o in outcomes:
        table.add_row(
            str(o.input.relative_to(root)),
            f"[{colours[o.status]}]{o.status}[/]",
            "" if o.frames is None else str(o.frames),
            f"{o.seconds:.1f} s" if o.seconds else "",
            o.reason,
        )
    return table


def print_report(outcomes: list[FileOutcome], root: Path, console: Console | None = None) -> None:
    console = console or Console()
    console.print(report_table(outcomes, root))
    failed = sum(o.status == "failed" for o in outcomes)
    busy = sum(o.busy for o in outcomes)
    also = f", {busy} being converted by another run" if busy else ""
    console.print(
        f"{len(outcomes) - failed - busy} of {len(outcomes)} file(s) done{also}, {failed} failed", highlight=False
    )
