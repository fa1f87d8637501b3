"""The work folder of a conversion and its resume state: which segments are finished, in any order.

Work goes to `NAME.tpstvsr-partial-work/` next to the output: `resume.json` (the settings the run was started
with, and the indices of the finished segments), `plan.json` (the frame plan, plan.py) and the segments: for a
video `seg_00003.mp4`, ... (each written as `*.part.*` and renamed when its encoder has finished, so a crash or a
full disk leaves only whole segments); for a frame folder the frames themselves with their final names, and
`seg_00003.done` once a segment's are all written (sinks.py). A segment counts as finished when resume.json lists
it or its file exists (two machines that finish segments at once may each miss the other's write to resume.json,
never its file).
"""

import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TpstvsrError
from ..media.endpoints import PARTIAL
from ..media.errors import disk_error
from .lock import is_lock_file

WORK_SUFFIX = PARTIAL + "-work"


class ResumeMismatch(TpstvsrError):
    """Unfinished work exists but was started with other settings."""


def work_dir_for(output: Path) -> Path:
    """`movie.mp4` -> `movie.mp4.tpstvsr-partial-work`: the whole name, so that work left for `movie.webm`
    never stands in the way of a try as `movie.mp4` (and batch outputs `x.mp4`, `x.mkv` never share one)."""
    output = Path(output)
    return output.with_name(output.name + WORK_SUFFIX)


def _write_json_atomic(path: Path, data: dict) -> None:
    # A name of this process and thread alone: Ray workers finishing segments of one film at once each save
    # resume.json, and with one shared name one's os.replace moved the other's file away ("No such file").
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)  # the state file is always either the old or the new one


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
    finished: set[int] = field(default_factory=set)  # indices of the complete segments

    @property
    def done(self) -> int:
        return len(self.finished)

    @classmethod
    def open(
        cls, output: Path, settings: dict, *, resume: bool, overwrite: bool, on_warning=None, shared: bool = False
    ) -> "WorkDir":
        """Start fresh or pick up an earlier run's complete segments (resume). The caller holds the folder's
        writer lock (lock.py), so the folder may exist holding only that lock; `shared` (a worker beside others
        on the same work): resume only, and leave the partial files, which may be another worker's."""
        path = work_dir_for(output)
        state_file = path / "resume.json"
        if _holds_work(path):
            state = {}
            try:
                state = json.loads(state_file.read_text())
            except (OSError, ValueError):
                pass
            if resume and state.get("settings") == settings:
                work = cls(path, settings, set(state.get("finished", [])))
                work.refresh()
                if not shared:
                    work._drop_incomplete()
                return work
            if (resume and not overwrite) or shared:
                old = state.get("settings", {})
                # both sides' keys: a setting recorded only when not at its default (quality) may be on either
                keys = {**old, **settings}
                diff = ", ".join(
                    f"{k}: {old.get(k)!r} -> {settings.get(k)!r}" for k in keys if old.get(k) != settings.get(k)
                )
                raise ResumeMismatch(
                    f"the unfinished work in {path} was started with other settings ({diff or 'unreadable'}); "
                    "use the same settings, or --overwrite to start again"
                )
            if not resume and not overwrite:
                raise TpstvsrError(
                    f"unfinished work from an earlier run is in {path}: pass --resume to continue it, "
                    "or --overwrite to start again"
                )
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
        self.write_json(
            "resume.json", {"settings": self.settings, "finished": sorted(self.finished), "done": self.done}
        )

    def write_json(self, name: str, data: dict) -> None:
        try:
            _write_json_atomic(self.path / name, data)
        except OSError as exc:
            raise disk_error(exc, self.path / name) from None

    def mark_finished(self, index: int) -> None:
        self.refresh()
        self.finished.add(index)
        self.save()

    def refresh(self) -> None:
        """Also count the segments whose finished entry exists (written by another process since)."""
        self.finished |= {int(p.name[4:9]) for p in self.path.glob("seg_?????*") if ".part" not in p.name}

    def segment_path(self, index: int, ext: str) -> Path:
        return self.path / f"seg_{index:05d}{ext}"

    def _drop_incomplete(self) -> None:
        """Remove what a killed run left half-written: *.part* entries and temporary files."""
        for p in self.path.iterdir():
            if is_lock_file(p.name):
                continue
            if ".part" in p.name or p.name.endswith(".tmp"):
                shutil.rmtree(p) if p.is_dir() else p.unlink()

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
