"""`tpstvsr batch`: convert every video in a folder, mirroring its layout, surviving bad files.

Each conversion resumes from the complete segments an interrupted earlier run left (unless it was made with
other settings: then it starts again). A film another run is converting (its output's work folder is locked,
lock.py) is skipped, with that run named in the reason. An output that exists is complete (upscale renames into place only at the end), and is checked against
its source's duration before it is skipped; one that fails the check is converted again.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .errors import TpstvsrError
from .lock import OutputLocked
from .scenes import DEFAULT_THRESHOLD
from .progress import progress_bar
from .upscale import check_settings, load_network, upscale
from .video.check import check_encoder, check_output_settings
from .video.colour import SRGB_FRAMES
from .video.endpoints import PARTIAL, VIDEO_SUFFIXES
from .video.probe import probe
from .video.writer import EncoderOptions


@dataclass
class FileOutcome:
    input: Path
    output: Path
    status: str  # "converted", "skipped" or "failed"
    frames: int | None = None
    seconds: float = 0.0
    reason: str = ""
    busy: bool = False  # skipped because another run is writing this output now (it is not done)


def find_videos(in_dir: Path, recursive: bool) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    # Segments inside an unfinished run's work folder are not sources.
    return sorted(p for p in in_dir.glob(pattern) if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
                  and not any(PARTIAL in part for part in p.relative_to(in_dir).parts))


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
            raise TpstvsrError(f"{claimed[out]} and {rel} would both be written to {out}; leave out --ext, or "
                               "convert one of them on its own")
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


def batch(in_dir: Path, out_dir: Path, *, recursive: bool = False, ext: str | None = None, weights: Path | None = None,
          model=None, device: str = "auto", precision: str = "auto", chunk: int = 8, overlap: int = 2,
          tile: int | None = None, tile_overlap: int = 16, encoder: EncoderOptions | None = None, quiet: bool = False,
          on_warning: Callable[[str], None] | None = None, scene_threshold: float = DEFAULT_THRESHOLD,
          segment: int = 64, ensemble: int = 1, max_memory: int | None = None) -> list[FileOutcome]:
    """Convert each video under IN_DIR to the same relative path under OUT_DIR (suffix `ext` if given)."""
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise TpstvsrError(f"not a folder: {in_dir}")
    if out_dir.resolve() == in_dir.resolve():
        raise TpstvsrError("the output folder must differ from the input folder")
    videos = [v for v in find_videos(in_dir, recursive) if out_dir.resolve() not in v.resolve().parents]
    if not videos:
        raise TpstvsrError(f"no videos in {in_dir}" + ("" if recursive else " (use --recursive for subfolders)"))
    if ext is not None and not ext.startswith("."):
        ext = "." + ext
    pairs = output_paths(videos, in_dir, out_dir, ext)
    compute = check_settings(chunk, overlap, tile, tile_overlap, encoder, 25.0, device, precision, ensemble, max_memory)
    dev, dtype, precision = compute.device, compute.dtype, compute.precision  # said once, not once per file
    if compute.note and on_warning:
        on_warning(compute.note)
    check_encoders(encoder or EncoderOptions(), {(ext or v.suffix).lower() for v in videos}, ext)
    net = model if model is not None else load_network(weights, dev, dtype)[0]
    outcomes: list[FileOutcome] = []
    with progress_bar(quiet) as bar:
        overall = bar.add_task("files", total=len(videos), unit="files", rate_unit=None)
        for video, out in pairs:
            start = time.perf_counter()
            if is_complete(video, out):
                outcomes.append(FileOutcome(video, out, "skipped", reason="output already complete"))
            else:
                try:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    result = upscale(video, out, model=net, device=str(dev), precision=precision, chunk=chunk,
                                     overlap=overlap, tile=tile, tile_overlap=tile_overlap, encoder=encoder,
                                     overwrite=True, resume=True, progress=bar, on_warning=on_warning,
                                     scene_threshold=scene_threshold, segment=segment, ensemble=ensemble,
                                     max_memory=compute.max_memory)
                    outcomes.append(FileOutcome(video, out, "converted", result.frames_out, result.seconds))
                except OutputLocked as exc:  # two batches over one folder share the work instead of both failing
                    outcomes.append(FileOutcome(video, out, "skipped", reason=str(exc), busy=True))
                except (TpstvsrError, OSError, RuntimeError, ValueError) as exc:  # one bad file must not stop the rest
                    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    outcomes.append(FileOutcome(video, out, "failed", seconds=time.perf_counter() - start, reason=reason))
            bar.advance(overall)
    return outcomes


def report_table(outcomes: list[FileOutcome], root: Path) -> Table:
    table = Table(title="tpstvsr batch")
    for col, justify in (("file", "left"), ("status", "left"), ("frames", "right"), ("time", "right"), ("reason", "left")):
        table.add_column(col, justify=justify, overflow="fold")
    colours = {"converted": "green", "skipped": "cyan", "failed": "red"}
    for o in outcomes:
        table.add_row(str(o.input.relative_to(root)), f"[{colours[o.status]}]{o.status}[/]",
                      "" if o.frames is None else str(o.frames), f"{o.seconds:.1f} s" if o.seconds else "", o.reason)
    return table


def print_report(outcomes: list[FileOutcome], root: Path, console: Console | None = None) -> None:
    console = console or Console()
    console.print(report_table(outcomes, root))
    failed = sum(o.status == "failed" for o in outcomes)
    busy = sum(o.busy for o in outcomes)
    also = f", {busy} being converted by another run" if busy else ""
    console.print(f"{len(outcomes) - failed - busy} of {len(outcomes)} file(s) done{also}, {failed} failed", highlight=False)
