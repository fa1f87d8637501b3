"""`tpstvsr upscale`: one video or frame folder in, one video or frame folder out, 2x rate and 4x size.

Three stages overlap in time: a thread decodes, a thread runs the network (torch releases the GIL in its
kernels), and the calling thread encodes and shows progress. Bounded queues between them keep memory
flat: at most a couple of windows of frames are in flight, whatever the length of the video.
"""

import itertools
import queue
import threading
import time
from contextlib import nullcontext
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn

from .errors import TpstvsrError
from .inference import check_options, resolve_device, resolve_precision, upscale_frames
from .video.endpoints import FolderSink, VideoSink, check_output, is_video_path, open_source
from .video.writer import EncoderOptions

_END = object()


@dataclass
class UpscaleResult:
    input: Path
    output: Path
    frames_in: int
    frames_out: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


class FpsColumn(ProgressColumn):
    def render(self, task):
        unit = task.fields.get("unit", "fps")
        return TextColumn("").render(task) if task.speed is None else f"{task.speed:.1f} {unit}"


def progress_bar(quiet: bool = False) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), FpsColumn(),
                    TimeRemainingColumn(), disable=quiet, transient=False)


class _Stage(threading.Thread):
    """Pulls from an iterable and puts each item on a bounded queue; ends with _END or the exception."""

    def __init__(self, items: Callable[[], Iterable], out: queue.Queue, stop: threading.Event):
        super().__init__(daemon=True)
        self.items, self.out, self.stop = items, out, stop

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        items = None
        try:
            items = iter(self.items())
            for item in items:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, which raises it in the main thread
            self._put(exc)
        finally:
            if hasattr(items, "close"):
                items.close()  # a generator holding a decoder: stop that ffmpeg now, not at garbage collection


def _drain(q: queue.Queue, stop: threading.Event) -> Iterator:
    while True:
        try:
            item = q.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return
            continue
        if item is _END:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def run_pipeline(frames: Callable[[], Iterable[np.ndarray]], network: Callable[[Iterable[np.ndarray]], Iterable[np.ndarray]],
                 depth: int = 16) -> Iterator[np.ndarray]:
    """Decode (thread) -> network (thread) -> the caller; bounded queues of `depth` frames in between."""
    stop = threading.Event()
    decoded, upscaled = queue.Queue(depth), queue.Queue(max(2, depth // 2))
    stages = [_Stage(frames, decoded, stop), _Stage(lambda: network(_drain(decoded, stop)), upscaled, stop)]
    for stage in stages:
        stage.start()
    try:
        yield from _drain(upscaled, stop)
    finally:
        stop.set()  # an error or an early exit downstream stops the other stages
        for stage in stages:
            stage.join(timeout=5)  # daemon threads: a stage stuck in a long kernel does not hold up exit


def load_network(weights: Path | None, device: torch.device, dtype: torch.dtype) -> tuple:
    """(model, metadata) from a weights file (None: the shipped default weights)."""
    from .weights import load_model

    # Half precision on a GPU: convert the weights (faster than autocast). On the CPU keep fp32 weights
    # and let autocast run bf16 where asked.
    return load_model(weights, device=device, dtype=dtype if device.type == "cuda" else torch.float32)


def check_settings(chunk: int, overlap: int, tile: int | None, tile_overlap: int, encoder: EncoderOptions | None,
                   fps: float, device: str, precision: str) -> tuple[torch.device, torch.dtype]:
    """Every option checked before any file is opened or ffmpeg started; returns the device and dtype."""
    if chunk < 2:
        raise TpstvsrError(f"--chunk must be 2 or more, got {chunk}")
    check_options(chunk, overlap, tile, tile_overlap)
    if encoder is not None and encoder.crf is not None and encoder.crf < 0:
        raise TpstvsrError(f"--crf must be 0 or more, got {encoder.crf}")
    if not fps > 0:
        raise TpstvsrError(f"--fps must be positive, got {fps}")
    dev = resolve_device(device)
    return dev, resolve_precision(precision, dev)


def _two_or_more(frames: Iterable[np.ndarray], source) -> Iterator[np.ndarray]:
    """A video of one frame has nothing to interpolate: refuse it before anything is written."""
    it = iter(frames)
    first = list(itertools.islice(it, 2))
    if len(first) == 1 and source.info is not None:
        raise TpstvsrError(f"{source.path} holds a single frame: there is nothing to interpolate "
                           "(put the picture in a folder to upscale it alone)")
    yield from first
    yield from it


def upscale(input: Path, output: Path, *, weights: Path | None = None, model=None, device: str = "auto",
            precision: str = "auto", chunk: int = 8, overlap: int = 2, tile: int | None = None, tile_overlap: int = 16,
            frames_per_pass: int = 1, fps: float = 25.0, encoder: EncoderOptions | None = None, overwrite: bool = False,
            quiet: bool = False, progress: Progress | None = None, on_warning: Callable[[str], None] | None = None,
            deinterlace: bool | None = None, strict: bool = False) -> UpscaleResult:
    """Convert INPUT (video file or frame folder) into OUTPUT (video file or frame folder)."""
    input, output = Path(input), Path(output)
    dev, dtype = check_settings(chunk, overlap, tile, tile_overlap, encoder, fps, device, precision)
    if not input.exists():
        raise TpstvsrError(f"no such file or folder: {input}")
    if input.resolve() == output.resolve():
        raise TpstvsrError("input and output are the same path")
    check_output(output, overwrite)
    source = open_source(input, fps, deinterlace=deinterlace, strict=strict)
    net = model if model is not None else load_network(weights, dev, dtype)[0]
    to_video = is_video_path(output)
    sink = VideoSink(output, source, encoder or EncoderOptions(), overwrite) if to_video else FolderSink(output, overwrite)
    warn = on_warning or (lambda msg: None)
    if not to_video and source.info is not None and (source.info.audio_streams or source.info.subtitle_streams):
        sink.warnings.append("a frame folder holds no sound or subtitles; they are not kept")
    for msg in sink.warnings:
        warn(msg)
    total = None if source.count is None else (2 * source.count if to_video else 2 * source.count - 1)

    def network(frames):
        return upscale_frames(net, frames, chunk=chunk, overlap=overlap, tile=tile, tile_overlap=tile_overlap,
                              device=dev, precision=precision, frames_per_pass=frames_per_pass)

    own_bar = progress is None
    bar = progress or progress_bar(quiet)
    start = time.perf_counter()
    with bar if own_bar else nullcontext():
        task = bar.add_task(input.name, total=total)
        with sink:
            for frame in run_pipeline(lambda: _two_or_more(source.frames(), source), network, depth=max(16, chunk + 2 * overlap + 2)):
                sink.write(frame)
                bar.advance(task)
        done = sink.frames_written
        for msg in source.warnings:
            warn(msg)
        bar.update(task, total=done, completed=done)
        if not own_bar:
            bar.remove_task(task)
    frames_in = (done + 1) // 2 if not to_video else done // 2
    return UpscaleResult(input, output, frames_in, done, time.perf_counter() - start, sink.warnings + source.warnings)

