"""Resumable output: the converted video is written in segments beside OUTPUT, then joined and renamed.

Work goes to `NAME.tpstvsr-partial-work/` next to the output: `resume.json` (what the run was started with
and how many segments are complete) and, for a video, `seg_00000.mp4`, `seg_00001.mp4`, ... (each written
as `*.part.*` and renamed when its encoder has finished, so a crash or a full disk leaves only whole
segments). For a frame folder the work folder holds the frames themselves. A finished run joins the
segments without re-encoding (ffmpeg's concat demuxer), muxes the source's sound and subtitles in, renames
the result to OUTPUT and removes the work folder.
"""

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import TpstvsrError
from .frame_folder import IMAGE_SUFFIXES
from .lock import is_lock_file
from .video.endpoints import PARTIAL

WORK_SUFFIX = PARTIAL + "-work"


class ResumeMismatch(TpstvsrError):
    """Unfinished work exists but was started with other settings."""


def work_dir_for(output: Path) -> Path:
    """`movie.mp4` -> `movie.mp4.tpstvsr-partial-work`: the whole name, so that work left for `movie.webm`
    never stands in the way of a try as `movie.mp4` (and batch outputs `x.mp4`, `x.mkv` never share one)."""
    output = Path(output)
    return output.with_name(output.name + WORK_SUFFIX)


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)  # the state file is always either the old or the new one


def disk_error(exc: OSError, where: Path) -> TpstvsrError:
    """An OSError while writing, as a message naming the cause (a full disk above all)."""
    import errno

    if exc.errno == errno.ENOSPC:
        return TpstvsrError(f"the disk is full (no space left on device) writing {where}; free some space and run again with --resume")
    return TpstvsrError(f"cannot write {where}: {exc.strerror or exc}")


def _holds_work(path: Path) -> bool:
    """The work folder exists and holds more than the writer lock."""
    return path.is_dir() and any(not is_lock_file(p.name) for p in path.iterdir())


def _clear_work(path: Path) -> None:
    """Everything in the work folder but the writer lock (which the caller holds)."""
    for p in path.iterdir():
        if is_lock_file(p.name):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


@dataclass
class WorkDir:
    path: Path
    settings: dict  # everything that decides the output frames; a resume must match it exactly
    done: int = 0  # complete segments

    @classmethod
    def open(cls, output: Path, settings: dict, *, resume: bool, overwrite: bool, on_warning=None) -> "WorkDir":
        """Start fresh or pick up an earlier run's complete segments (resume). The caller holds the folder's
        writer lock (lock.py), so the folder may exist holding only that lock."""
        path = work_dir_for(output)
        state_file = path / "resume.json"
        if _holds_work(path):
            state = {}
            try:
                state = json.loads(state_file.read_text())
            except (OSError, ValueError):
                pass
            if resume and state.get("settings") == settings:
                work = cls(path, settings, int(state.get("done", 0)))
                work._drop_incomplete()
                return work
            if resume and not overwrite:
                old = state.get("settings", {})
                diff = ", ".join(f"{k}: {old.get(k)!r} -> {v!r}" for k, v in settings.items() if old.get(k) != v)
                raise ResumeMismatch(f"the unfinished work in {path} was started with other settings ({diff or 'unreadable'}); "
                                     "use the same settings, or --overwrite to start again")
            if not resume and not overwrite:
                raise TpstvsrError(f"unfinished work from an earlier run is in {path}: pass --resume to continue it, "
                                   "or --overwrite to start again")
            if resume and on_warning:
                on_warning(f"the unfinished work in {path} was made with other settings; starting again")
            _clear_work(path)
        try:
            path.mkdir(exist_ok=True)
            work = cls(path, settings)
            work.save()
        except OSError as exc:
            raise disk_error(exc, path) from None
        return work

    def save(self) -> None:
        _write_json_atomic(self.path / "resume.json", {"settings": self.settings, "done": self.done})

    def segment_path(self, index: int, ext: str) -> Path:
        return self.path / f"seg_{index:05d}{ext}"

    def _drop_incomplete(self) -> None:
        """Remove what a killed run left half-written: *.part.* files and anything past the complete segments."""
        for p in self.path.iterdir():
            if is_lock_file(p.name):
                continue
            if ".part." in p.name or p.name.endswith(".tmp"):
                p.unlink()
            elif p.name.startswith("seg_") and int(p.name[4:9]) >= self.done:
                p.unlink()

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class FolderFrames:
    """A frame folder's output frames, written straight into the work folder with their final names."""

    def __init__(self, work: WorkDir, segment: int):
        self.work, self.next_index = work, 2 * segment * work.done
        for p in work.path.glob("*.png"):  # frames of a segment that did not complete
            if int(p.stem) >= self.next_index:
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

    def end_segment(self) -> None:
        self.work.done += 1
        self.work.save()

    def abort(self) -> None:
        pass  # frames of the unfinished segment are removed on resume

    def finish(self, output: Path) -> None:
        if output.is_dir() and any(p.is_dir() or p.suffix.lower() not in IMAGE_SUFFIXES for p in output.iterdir()):
            raise TpstvsrError(f"not replacing {output}: it holds more than frames")
        (self.work.path / "resume.json").unlink()
        for p in self.work.path.iterdir():  # the writer lock does not go with the frames
            if is_lock_file(p.name):
                p.unlink(missing_ok=True)
        if output.is_dir():
            shutil.rmtree(output)  # empty, or frames (check_output required --overwrite then)
        elif output.exists():
            output.unlink()
        self.work.path.rename(output)


class VideoSegments:
    """Output frames -> one encoded file per segment; finish() joins them and muxes the source's streams in."""

    def __init__(self, work: WorkDir, width: int, height: int, rate, colour, options, source_info, plan, output: Path,
                 sar=1):
        from .video.writer import segment_ext

        options = options.for_output(output)  # the segments' own extension must not pick the codec
        self.work, self.size, self.rate, self.colour, self.options = work, (width, height), rate, colour, options
        self.source_info, self.plan, self.sar = source_info, plan, sar
        self.ext = segment_ext(options.codec)
        self.writer = None
        self.frames_written = 0

    def write(self, frame: np.ndarray) -> None:
        from .video.writer import VideoWriter

        if self.writer is None:
            part = self.work.segment_path(self.work.done, ".part" + self.ext)
            self.writer = VideoWriter(part, *self.size, self.rate, self.colour, self.options, sar=self.sar).__enter__()
        self.writer.write(frame)
        self.frames_written += 1

    def end_segment(self) -> None:
        writer, self.writer = self.writer, None
        writer.__exit__(None, None, None)  # waits for the encoder; raises (and removes the part) if it failed
        os.replace(writer.path, self.work.segment_path(self.work.done, self.ext))
        self.work.done += 1
        self.work.save()

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.__exit__(TpstvsrError, None, None)  # stops the encoder and removes the part file
            self.writer = None

    def finish(self, output: Path) -> None:
        from .video.join import join_segments

        if output.is_dir():
            raise TpstvsrError(f"output {output} is a folder; not replacing it with a video")
        joined = self.work.path / ("joined" + output.suffix)
        segments = [self.work.segment_path(i, self.ext) for i in range(self.work.done)]
        join_segments(segments, joined, self.source_info, self.plan)
        os.replace(joined, output)
        self.work.remove()
