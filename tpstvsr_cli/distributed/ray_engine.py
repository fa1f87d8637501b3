"""`tpstvsr batch --engine ray`: a collection of films converted on a Ray cluster, a segment per task.

The coordinator (this process) walks the films in order. For each it checks whether the output is complete
(skipped), takes the film's writer lock (a film another run writes is skipped, as batch does), and sends three
kinds of task (worker.py): plan the film (once; a rerun loads the stored plan), convert each pending segment
(any worker, any order), finish (join the segments, mux sound, subtitles and metadata, rename into place).
At most `workers` tasks are in flight (default: the cluster's GPUs, or its CPU cores when it has none), and
segments of films already open go first, so films finish in order while many small films still fill the cluster.

Faults: a worker or node that dies takes its task with it and Ray runs the task again elsewhere (max_retries);
a task that fails for a reason of its own (an unreadable film) fails that film alone. A job killed and started
again skips finished films (their outputs are complete) and finished segments (files in the work folders).
"""

import os
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..conversion.batch import _videos, check_encoders, is_complete, output_paths
from ..conversion.lock import OutputLocked, WriterLock
from ..conversion.progress import progress_bar
from ..conversion.settings import ConversionSettings, split_options
from ..conversion.workdir import work_dir_for
from ..errors import TpstvsrError
from . import worker
from .cluster import absolute_paths, check_storage, connect, task_reason, task_shape
from .summary import RayOutcome, RaySummary

MAX_RETRIES = 3  # tries of a task after its worker or node died (Ray's system failures)
SLOTS_EVERY_S = 5.0  # how often the cluster's size is read again (nodes join and leave)
UNREPORTED = "unreported"  # segments_by_node's key for segments whose node left before it reported them


@dataclass
class _Film:
    outcome: RayOutcome
    lock: WriterLock | None = None
    sizes: list[int] = field(default_factory=list)  # output frames of each segment, once planned
    queue: deque = field(default_factory=deque)  # segments not sent yet
    running: int = 0
    started: float = 0.0
    state: str = "planning"  # planning, converting, finishing, done


class _Job:
    """The coordinator's state: films open, tasks in flight, progress."""

    def __init__(self, ray, pairs, settings, weights, cap, run, bar, summary):
        self.ray, self.settings, self.weights, self.cap, self.run = ray, settings, weights, cap, run
        self.bar, self.summary = bar, summary
        self.waiting = deque(pairs)
        self.open: list[_Film] = []
        self.inflight: dict = {}  # ObjectRef -> (film, kind, segment index)
        self.outcomes: list[RayOutcome] = []
        opts = {"max_retries": MAX_RETRIES, "retry_exceptions": False}
        resource, shape, _slots = task_shape(ray)
        self.plan_task = ray.remote(worker.plan_film).options(**shape, **opts)
        self.segment_task = ray.remote(worker.convert_film_segment).options(**shape, **opts)
        self.finish_task = ray.remote(worker.finish_film).options(**shape, **opts)
        self.films_task = bar.add_task("films", total=len(pairs), unit="films", rate_unit=None)
        self.segments_task = bar.add_task("segments", total=0, unit="segments", rate_unit=None)
        self.frames_task = bar.add_task("output frames, all workers", total=0, phase="planning the first film")
        self.planned_outputs, self.planned_films = 0, 0
        self.slots_read = time.monotonic()

    def say(self, text: str) -> None:
        if not self.run.quiet:
            self.bar.console.print(text, highlight=False, markup=False, soft_wrap=True)

    # -- sending ------------------------------------------------------------------------------------------
    def _args(self, film: _Film) -> tuple:
        return str(film.outcome.input), str(film.outcome.output), self.settings, self.weights

    def _send(self, ref, film: _Film, kind: str, index: int | None = None) -> None:
        self.inflight[ref] = (film, kind, index)

    def _next(self) -> bool:
        """Send one task: a pending segment of an open film (the earliest film first), else open the next film."""
        for film in self.open:
            if film.state == "converting" and film.queue:
                index = film.queue.popleft()
                film.running += 1
                self._send(self.segment_task.remote(*self._args(film), index), film, "segment", index)
                return True
        while self.waiting:
            film = self._open(*self.waiting.popleft())
            if film is not None:
                self._send(self.plan_task.remote(*self._args(film)), film, "plan")
                return True
        return False

    def _open(self, video: Path, out: Path) -> _Film | None:
        outcome = RayOutcome(video, out, "converted")
        if is_complete(video, out):
            return self._close(_Film(outcome), "skipped", "output already complete")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            lock = WriterLock(work_dir_for(out), self.run.warn)
            lock.acquire()
        except OutputLocked as exc:
            outcome.busy = True
            return self._close(_Film(outcome), "skipped", str(exc))
        except OSError as exc:
            return self._close(_Film(outcome), "failed", f"cannot write the lock: {exc.strerror or exc}")
        film = _Film(outcome, lock, started=time.perf_counter())
        self.open.append(film)
        return film

    def _close(self, film: _Film, status: str, reason: str = "") -> None:
        """The film is done (converted, skipped or failed): its lock goes, its other tasks are cancelled."""
        o = film.outcome
        o.status, o.reason = status, reason
        if film.started:
            o.seconds = time.perf_counter() - film.started
        for ref, (other, _kind, _index) in list(self.inflight.items()):
            if other is film:
                self.ray.cancel(ref)
                del self.inflight[ref]
        if film.lock is not None:
            film.lock.release()
        if film in self.open:
            self.open.remove(film)
        film.state = "done"
        self.outcomes.append(o)
        self.bar.update(self.frames_task, total=self._total_estimate())
        self.bar.advance(self.films_task)
        if status == "failed":
            self.say(f"{o.input.name}: failed: {reason}")
        elif status == "converted":
            self.say(
                f"{o.input.name}: done, {o.frames} frames, {len(o.segments_converted)} segment(s) converted"
                + (f", {o.segments_before} done before" if o.segments_before else "")
            )
        return None

    # -- receiving ----------------------------------------------------------------------------------------
    def _planned(self, film: _Film, result: dict) -> None:
        o = film.outcome
        film.sizes = result["segments"]
        finished = set(result["finished"])
        o.segments, o.segments_before = len(film.sizes), len(finished)
        film.queue = deque(i for i in range(len(film.sizes)) if i not in finished)
        self._warn(film, result["warnings"])
        before = sum(film.sizes[i] for i in finished)
        self.planned_films += 1
        self.planned_outputs += sum(film.sizes)
        self.summary.segments_before += len(finished)
        task = self.bar.tasks[self.frames_task]
        self.bar.update(
            self.frames_task,
            total=self._total_estimate(),
            completed=task.completed + before,
            run_from=task.run_from + before,
        )
        seg = self.bar.tasks[self.segments_task]
        self.bar.update(
            self.segments_task, total=(seg.total or 0) + len(film.sizes), completed=seg.completed + len(finished)
        )
        if task.run_start is None:
            self.bar.start_run(self.frames_task)
        film.state = "converting"
        if not film.queue:
            self._finish(film)

    def _total_estimate(self) -> int:
        """Planned films' outputs, and as many per film again for those not planned yet."""
        unplanned = len(self.waiting) + sum(f.state == "planning" for f in self.open)
        mean = self.planned_outputs / self.planned_films if self.planned_films else 0
        return self.planned_outputs + round(mean * unplanned)

    def _segment_done(self, film: _Film, result: dict) -> None:
        film.running -= 1
        o = film.outcome
        index = result["index"]
        # A queued segment was not finished when the film was planned, so one the task found finished was made
        # by an earlier try in this job whose node left between writing it and reporting: this job's work.
        if result["converted"]:
            frames, node = result["outputs"], result["node"] or result["host"]
        else:
            frames, node = film.sizes[index], UNREPORTED
        o.segments_converted.append(index)
        self.summary.segments_converted += 1
        self.summary.frames += frames
        self.summary.segments_by_node[node] = self.summary.segments_by_node.get(node, 0) + 1
        self.bar.advance(self.frames_task, frames)
        self.bar.advance(self.segments_task)
        self._warn(film, result["warnings"])
        if not film.queue and film.running == 0:
            self._finish(film)

    def _finish(self, film: _Film) -> None:
        film.state = "finishing"
        self._send(self.finish_task.remote(*self._args(film)), film, "finish")

    def _warn(self, film: _Film, warnings: list[str]) -> None:
        for message in warnings:
            if message not in film.outcome.warnings:
                film.outcome.warnings.append(message)
                self.run.warn(f"{film.outcome.input.name}: {message}")

    def _received(self, ref) -> None:
        film, kind, _index = self.inflight.pop(ref)
        if film.state == "done":
            return
        try:
            result = self.ray.get(ref)
        except (self.ray.exceptions.RayError, TpstvsrError, OSError) as exc:
            # the task's own failure (an unreadable film, a full disk), or one that outlived its retries
            self._close(film, "failed", task_reason(exc))
            return
        if kind == "plan":
            self._planned(film, result)
        elif kind == "segment":
            self._segment_done(film, result)
        else:
            film.outcome.frames = sum(film.sizes)
            self._close(film, "converted")

    def _cap(self) -> int:
        if self.cap is not None:
            return self.cap
        if time.monotonic() - self.slots_read > SLOTS_EVERY_S:
            self.slots_read = time.monotonic()
            self.summary.slots = task_shape(self.ray)[2]
        return self.summary.slots

    def run_all(self) -> list[RayOutcome]:
        start = time.perf_counter()
        try:
            while self.waiting or self.open or self.inflight:
                while len(self.inflight) < self._cap() and self._next():
                    pass
                if not self.inflight:
                    continue
                ready, _ = self.ray.wait(list(self.inflight), num_returns=1, timeout=1.0)
                for ref in ready:
                    self._received(ref)
                self.summary.seconds = time.perf_counter() - start
            frames = self.bar.tasks[self.frames_task]
            self.bar.update(self.frames_task, total=frames.completed)  # every film planned or given up
        finally:
            for ref in list(self.inflight):
                self.ray.cancel(ref)
            for film in list(self.open):
                if film.lock is not None:
                    film.lock.release()
        self.summary.seconds = time.perf_counter() - start
        return self.outcomes


def ray_batch(
    in_dir: Path,
    out_dir: Path,
    settings: ConversionSettings | None = None,
    *,
    recursive: bool = False,
    ext: str | None = None,
    weights: Path | None = None,
    address: str | None = None,
    workers: int | None = None,
    **options,
) -> tuple[list[RayOutcome], RaySummary]:
    """Convert each video under IN_DIR to the same relative path under OUT_DIR on a Ray cluster (`address`, or
    RAY_ADDRESS; neither: Ray starts on this machine for the job). Outcomes in the order of the films."""
    joining = address is not None or bool(os.environ.get("RAY_ADDRESS"))
    if workers is not None and workers < 1:
        raise TpstvsrError(f"--workers must be 1 or more, got {workers}")
    given_in, given_out = Path(in_dir), Path(out_dir)
    paths = absolute_paths({"IN_DIR": Path(in_dir), "OUT_DIR": Path(out_dir), "--weights": weights}, joining)
    in_dir, out_dir, weights = paths["IN_DIR"], paths["OUT_DIR"], paths["--weights"]
    videos = _videos(in_dir, out_dir, recursive)
    if ext is not None and not ext.startswith("."):
        ext = "." + ext
    pairs = output_paths(videos, in_dir, out_dir, ext)
    settings, run = split_options(settings, options)
    check_encoders(settings.encoder, {(ext or v.suffix).lower() for v in videos}, ext)
    if weights is not None and not weights.is_file():
        raise TpstvsrError(f"no such weights file: {weights}")
    ray, started = connect(address)
    try:
        resource, _shape_opts, slots = task_shape(ray)
        nodes = check_storage(ray, resource, [in_dir] + ([weights] if weights else []), out_dir)
        summary = RaySummary(
            address=ray.get_runtime_context().gcs_address,
            nodes=len(nodes),
            slots=slots if workers is None else workers,
            resource=resource,
        )
        with progress_bar(run.quiet) as bar:
            if not run.quiet:
                bar.console.print(
                    f"ray: {len(nodes)} node(s), {slots} {resource} slot(s)"
                    + (f", at most {workers} task(s) at once" if workers else "")
                    + f"; {len(pairs)} film(s)",
                    highlight=False,
                )
            job = _Job(ray, pairs, replace(settings), str(weights) if weights else None, workers, run, bar, summary)
            outcomes = job.run_all()
        order = {video: i for i, (video, _out) in enumerate(pairs)}
        outcomes.sort(key=lambda o: order[o.input])
        for o in outcomes:  # the paths as given, as batch reports them
            o.input, o.output = given_in / o.input.relative_to(in_dir), given_out / o.output.relative_to(out_dir)
        return outcomes, summary
    finally:
        if started:
            ray.shutdown()
