"""One writer per output: a lock file in the work folder names the run that writes it.

`OUTPUT.tpstvsr-partial-work/writer.lock` holds the writer's host, pid and start time. It is created
atomically with link() (a fully written private file linked to the lock's name; link fails when the name
exists, also on NFS), or with O_CREAT|O_EXCL where the file system has no hard links. While the run lasts a
thread touches the lock every HEARTBEAT_S seconds.

A lock that exists is taken over, with a warning, only when its writer is certainly gone:
- written on this host: its pid no longer runs;
- written on another host (a shared file system): its heartbeat is older than STALE_S, many beats. Ages are
  measured on the file system's own clock (the mtime of a file just written there), so clocks that differ
  between machines do not matter.
Two runs taking over the same stale lock at once are serialised by a short-lived `writer.lock.takeover`
file (itself created with O_EXCL), and each re-reads the lock under it before replacing it.
"""

import errno
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import TpstvsrError
from ..media.endpoints import PARTIAL

LOCK_NAME = "writer.lock"
HEARTBEAT_S = 30.0  # the running process touches its lock this often
STALE_S = 600.0  # a lock from another host whose heartbeat is this old (20 missed beats) is taken over
TAKEOVER_STALE_S = 60.0  # a takeover file left by a process that died while taking over


class OutputLocked(TpstvsrError):
    """Another live run writes this output."""


def is_lock_file(name: str) -> bool:
    """The lock, its private link sources and the takeover file: never part of the work itself."""
    return name == LOCK_NAME or name.startswith(LOCK_NAME + ".")


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    started: float  # time.time() when the run took the lock
    token: str  # tells two locks with the same host and pid apart

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(self.started))
        return f"pid {self.pid} on {self.host}, since {since}"


def _pid_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True


def _read(path: Path) -> tuple[Holder | None, float | None]:
    """(holder, mtime) of a lock file; (None, None) when it is gone, (None, mtime) when it is unreadable."""
    try:
        st = path.stat()
        data = json.loads(path.read_text())
        return Holder(str(data["host"]), int(data["pid"]), float(data["started"]), str(data["token"])), st.st_mtime
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError, KeyError, TypeError):
        try:
            return None, path.stat().st_mtime
        except OSError:
            return None, None


class WriterLock:
    """The lock of one work folder, held by this process (acquire / release; a heartbeat thread meanwhile)."""

    def __init__(self, folder: Path, on_warning: Callable[[str], None] | None = None):
        self.folder, self.path = Path(folder), Path(folder) / LOCK_NAME
        self.warn = on_warning or (lambda msg: None)
        self.me = Holder(socket.gethostname(), os.getpid(), time.time(), uuid.uuid4().hex)
        self.private = self.folder / f"{LOCK_NAME}.{self.me.token}"
        self.created_folder = False
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self.lost = False  # set by the heartbeat when another run has replaced this lock

    def _write_private(self) -> float:
        """Write this run's lock contents to its private file; returns its mtime: the file system's "now"."""
        with open(self.private, "w") as f:
            json.dump({"host": self.me.host, "pid": self.me.pid, "started": self.me.started, "token": self.me.token}, f)
            f.flush()
            os.fsync(f.fileno())
        return self.private.stat().st_mtime

    def _link(self) -> bool:
        """Make the private file the lock; False when a lock exists already."""
        try:
            os.link(self.private, self.path)
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
        try:  # no hard links here (some FUSE and SMB mounts): O_EXCL, atomic on local file systems and NFSv3+
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            f.write(self.private.read_text())
        return True

    def _stale_reason(self, holder: Holder | None, mtime: float, now: float) -> str | None:
        """Why an existing lock's writer is gone (a warning's words), or None while it may still be running."""
        age = now - mtime
        if holder is None:
            return f"an unreadable lock, untouched for {age:.0f} s" if age > STALE_S else None
        if holder.host == self.me.host:
            return None if _pid_runs(holder.pid) else f"pid {holder.pid} no longer runs"
        if age > STALE_S:
            return f"its heartbeat stopped {age:.0f} s ago (more than {STALE_S:.0f} s)"
        return None

    def _take_over(self, judged: tuple[Holder | None, float]) -> bool:
        """Replace the stale lock judged so, unless another run changed it meanwhile."""
        guard = self.folder / f"{LOCK_NAME}.takeover"
        try:
            fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                if self._write_private() - guard.stat().st_mtime > TAKEOVER_STALE_S:
                    guard.unlink()  # its owner died mid-takeover
            except FileNotFoundError:
                pass
            return False
        os.close(fd)
        try:
            if _read(self.path) != judged:
                return False  # taken over or released by someone else meanwhile: look again
            os.replace(self.private, self.path)
            self._write_private()  # keep a private file for the heartbeat's checks and release
            return True
        finally:
            guard.unlink()

    def acquire(self) -> None:
        """Take the lock, or raise OutputLocked naming the run that holds it."""
        try:
            self.folder.mkdir()
            self.created_folder = True
        except FileExistsError:
            pass
        for _attempt in range(20):
            now = self._write_private()
            if self._link():
                break
            holder, mtime = _read(self.path)
            if mtime is None:
                continue  # released meanwhile: try again
            reason = self._stale_reason(holder, mtime, now)
            if reason is None:
                self._give_up()
                raise OutputLocked(self._refusal(holder, now - mtime))
            if self._take_over((holder, mtime)):
                if holder is not None and holder.token.isalnum():  # the dead run's private file
                    (self.folder / f"{LOCK_NAME}.{holder.token}").unlink(missing_ok=True)
                who = holder.describe() if holder else "an unknown run"
                self.warn(f"took over the lock of {self.folder} from {who}: {reason}")
                break
            time.sleep(0.1)
        else:
            self._give_up()
            raise OutputLocked(f"could not take the lock {self.path}: other runs keep changing it")
        self._beat = threading.Thread(target=self._heartbeat, name="tpstvsr-lock-heartbeat", daemon=True)
        self._beat.start()

    def _refusal(self, holder: Holder | None, age: float) -> str:
        output = self.folder.with_name(self.folder.name.removesuffix(PARTIAL + "-work"))
        who = holder.describe() if holder else "a run whose lock cannot be read"
        if holder is not None and holder.host != self.me.host:
            who += f", last heartbeat {age:.0f} s ago"
        return (
            f"{output} is being written by another run ({who}); wait for it to finish or stop it "
            f"(its lock: {self.path})"
        )

    def _give_up(self) -> None:
        self.private.unlink(missing_ok=True)

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            holder, _mtime = _read(self.path)
            if holder is not None and holder.token != self.me.token:
                self.lost = True
                return
            try:
                os.utime(self.path)  # no times given: "now" on the file server's clock
            except OSError:
                pass  # the folder was removed or renamed at the end of the run

    def check(self) -> None:
        """TpstvsrError when another run has taken this lock over (this run's heartbeat stopped for too long)."""
        if self.lost:
            raise TpstvsrError(
                f"another run took over {self.path} (this run's heartbeat had stopped for more than "
                f"{STALE_S:.0f} s); stopping so that only one writes"
            )

    def release(self) -> None:
        """Remove the lock if it is still this run's; the work folder too when this run made it and left it empty."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=1)
        holder, _mtime = _read(self.path)
        if holder is not None and holder.token == self.me.token:
            self.path.unlink(missing_ok=True)
        self.private.unlink(missing_ok=True)
        if self.created_folder:
            try:
                self.folder.rmdir()  # only if empty: kept segments stay for --resume
            except OSError:
                pass


@contextmanager
def writer_lock(folder: Path, on_warning: Callable[[str], None] | None = None) -> Iterator[WriterLock]:
    lock = WriterLock(folder, on_warning)
    try:
        lock.acquire()
    except OutputLocked:
        raise
    except OSError as exc:  # an unwritable or full file system: one line, like every other write
        lock.release()
        raise TpstvsrError(f"cannot write the lock {lock.path}: {exc.strerror or exc}") from None
    try:
        yield lock
    finally:
        lock.release()
