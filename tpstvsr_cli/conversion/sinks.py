"""Where a conversion's output frames go, segment by segment, inside the work folder (workdir.py).

Any segment can be written alone, in any order; a finished one is recorded in the state (workdir.py) and by a
file of its own (its renamed video, or a marker beside its frames). finish() assembles OUTPUT from all of them.
"""

import os
import shutil
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import TpstvsrError
from ..media.errors import disk_error
from ..media.suffixes import IMAGE_SUFFIXES
from .lock import is_lock_file
from .workdir import WorkDir


class FolderFrames:
    """A frame folder's output frames, written straight into the work folder with their final names (segment g's
    from 2 * segment_frames * g on); `seg_0000g.done` marks a finished segment. The folder becomes OUTPUT."""

    def __init__(self, work: WorkDir, segment_frames: int):
        self.work, self.per_segment = work, 2 * segment_frames
        self.next_index = 0

    def start_segment(self, index: int) -> None:
        self.next_index = self.per_segment * index
        for p in self.work.path.glob("*.png"):  # frames an earlier, unfinished try at this segment left
            if p.stem.isdigit() and int(p.stem) // self.per_segment == index:
                p.unlink()

    def write(self, frame: np.ndarray) -> None:
        path = self.work.path / f"{self.next_index:08d}.png"
        tmp = path.with_name(path.stem + ".part.png")
        try:
            # compress_level 1: lossless, and a fraction of level 6's time for 4x frames.
            Image.fromarray(np.ascontiguousarray(frame)).save(tmp, compress_level=1)
            os.replace(tmp, path)
        except OSError as exc:
            raise disk_error(exc, path) from None
        self.next_index += 1

    def end_segment(self, index: int) -> None:
        marker = self.work.segment_path(index, ".done")
        try:
            marker.touch()
        except OSError as exc:
            raise disk_error(exc, marker) from None
        self.work.mark_finished(index)

    def abort(self) -> None:
        pass  # frames of the unfinished segment are replaced when it is converted again

    def finish(self, output: Path, segments: int) -> None:
        if output.is_dir() and any(p.is_dir() or p.suffix.lower() not in IMAGE_SUFFIXES for p in output.iterdir()):
            raise TpstvsrError(f"not replacing {output}: it holds more than frames")
        work = self.work.path
        for p in work.iterdir():  # the state, the plan, the markers and the writer lock do not go with the frames
            if p.suffix.lower() not in IMAGE_SUFFIXES or is_lock_file(p.name):
                p.unlink(missing_ok=True)
        if output.is_dir():
            shutil.rmtree(output)  # empty, or frames (check_output required --overwrite then)
        elif output.exists():
            output.unlink()
        work.rename(output)


class VideoSegments:
    """Output frames -> one encoded file per segment; finish() joins them and muxes the source's streams in."""

    def __init__(self, work: WorkDir, source, options, plan, output: Path, size_factor: int = 4, rate_factor: int = 2):
        from ..media.writer import segment_ext

        options = options.for_output(output)  # the segments' own extension must not pick the codec
        self.work, self.source, self.options, self.plan = work, source, options, plan
        self.ext = segment_ext(options.codec)
        self.size_factor, self.rate_factor = size_factor, rate_factor  # the output's size and rate over the source's
        self.writer = None
        self.index = None

    def start_segment(self, index: int) -> None:
        self.index = index

    def write(self, frame: np.ndarray) -> None:
        from ..media.writer import VideoWriter

        if self.writer is None:
            src = self.source
            # A name of its own per writer: a segment retried elsewhere (a worker that died, issue 11) never
            # shares a file with an encoder the dead try may have left running.
            part = self.work.segment_path(self.index, f".part.{uuid.uuid4().hex[:12]}{self.ext}")
            s = self.size_factor
            self.writer = VideoWriter(
                part, s * src.width, s * src.height, self.rate_factor * src.rate, src.colour, self.options, sar=src.sar
            ).__enter__()
        self.writer.write(frame)

    def end_segment(self, index: int) -> None:
        writer, self.writer = self.writer, None
        writer.__exit__(None, None, None)  # waits for the encoder; raises (and removes the part) if it failed
        os.replace(writer.path, self.work.segment_path(index, self.ext))
        self.work.mark_finished(index)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.__exit__(TpstvsrError, None, None)  # stops the encoder and removes the part file
            self.writer = None

    def finish(self, output: Path, segments: int) -> None:
        from ..media.join import join_segments

        if output.is_dir():
            raise TpstvsrError(f"output {output} is a folder; not replacing it with a video")
        joined = self.work.path / ("joined" + output.suffix)
        join_segments(
            [self.work.segment_path(i, self.ext) for i in range(segments)], joined, self.source.info, self.plan
        )
        os.replace(joined, output)
        self.work.remove()
