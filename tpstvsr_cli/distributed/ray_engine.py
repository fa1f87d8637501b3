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

import logging
import os
import time
import uuid
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..conversion.batch import FileOutcome, _videos, check_encoders, is_complete, output_paths
from ..conversion.lock import OutputLocked, WriterLock
from ..conversion.progress import progress_bar
from ..conversion.settings import ConversionSettings, split_options
from ..conversion.workdir import work_dir_for
from ..errors import TpstvsrError
from . import worker

MAX_RETRIES = 3  # tries of a task after its worker or node died (Ray's system failures)
SLOTS_EVERY_S = 5.0  # how often the cluster's size is read again (nodes join and leave)
UNREPORTED = "unreported"  # segments_by_node's key for segments whose node left before it reported them


@dataclass
class RayOutcome(FileOutcome):
    segments: int = 0  # the film's segments
    segments_converted: list[int] = field(default_factory=list)  # converted by this job
    segments_before: int = 0  # finished by an earlier, interrupted job
    warnings: list[str] = field(default_factory=list)

    def extra_json(self) -> dict:
        return {
            "segments": self.segments,
            "segments_converted": len(self.segments_converted),
            "segments_before": self.segments_before,
            "warnings": self.warnings,
        }


@dataclass
class RaySummary:
    engine: str = "ray"
    address: str = ""
    nodes: int = 0
    slots: int = 0  # tasks in flight at most
    resource: str = "CPU"  # one of these per task
    seconds: float = 0.0
    frames: int = 0  # output frames converted by this job, across the cluster
    segments_converted: int = 0
    segments_before: int = 0
    segments_by_node: dict = field(default_factory=dict)

    @property
    def fps(self) -> float | None:
        return round(self.frames / self.seconds, 4) if self.frames and self.seconds > 0 else None

    def to_json(self) -> dict:
        keys = ("engine", "address", "nodes", "slots", "resource", "frames", "segments_converted", "segments_before")
        return {
            **{k: getattr(self, k) for k in keys},
            "seconds": round(self.seconds, 3),
            "fps": self.fps,
            "segments_by_node": self.segments_by_node,
        }


def print_summary(summary: RaySummary, console=None) -> None:
    from rich.console import Console

    console = console or Console()
    fps = f", {summary.fps:.2f} output fps across the cluster" if summary.fps else ""
    before = f", {summary.segments_before} finished before" if summary.segments_before else ""
    console.print(
        f"ray: {summary.nodes} node(s), {summary.slots} {summary.resource} slot(s): "
        f"{summary.segments_converted} segment(s) converted{before}, {summary.frames} frames in "
        f"{summary.seconds:.1f} s{fps}",
        highlight=False,
    )


@dataclass
class _Film:
    outcome: RayOutcome
    lock: WriterLock | None = None
    sizes: list[int] = field(default_factory=list)  # output frames of each segment, once planned
    queue: deque = field(default_factory=deque)  # segments not sent yet
    running: int = 0
    started: float = 0.0
    state: str = "planning"  # planning, converting, finishing, done


def _refuse_relative(paths: dict[str, Path | None], joining: bool) -> dict[str, Path | None]:
    """Absolute paths for the workers: on a cluster every path must be absolute already (a relative one means
    this machine's working folder, which workers do not share); started here, they are made absolute."""
    out = {}
    for name, path in paths.items():
        if path is not None and not Path(path).is_absolute():
            if joining:
                raise TpstvsrError(
                    f"{name} must be an absolute path on storage every worker sees (a shared or mounted file "
                    f"system, the same path on every node), got {str(path)!r}"
                )
            path = Path(path).resolve()
        out[name] = None if path is None else Path(os.path.abspath(path))
    return out


def _connect(address: str | None):
    try:
        import ray
    except ImportError:
        raise TpstvsrError('--engine ray needs Ray: pip install ".[ray]" in the tpstvsr checkout') from None

    if ray.is_initialized():
        return ray, False
    env = {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    kwargs = dict(logging_level=logging.WARNING, log_to_driver=False, runtime_env={"env_vars": env})
    if address is None and not os.environ.get("RAY_ADDRESS"):
        kwargs["include_dashboard"] = False  # embedded: Ray starts on this machine and stops with the job
    ray.init(address=address, **kwargs)
    return ray, True


def _shape(ray) -> tuple[str, dict, int]:
    """(resource, task options, slots): a GPU per task where the cluster has GPUs, else a CPU core."""
    total = ray.cluster_resources()
    if total.get("GPU", 0) >= 1:
        return "GPU", {"num_gpus": 1, "num_cpus": 1}, int(total["GPU"])
    return "CPU", {"num_cpus": 1}, max(1, int(total.get("CPU", 1)))


def _check_storage(ray, resource: str, paths: list[Path], out_dir: Path) -> list[str]:
    """Each node that can run a task must see the inputs, the weights and a file written here in OUT_DIR."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / f".tpstvsr-ray-check-{uuid.uuid4().hex}"
    marker.write_text("written by the coordinator; workers must see it\n")
    try:
        check = ray.remote(worker.check_shared)
        nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get(resource, 0) >= 1]
        refs = [
            check.options(
                num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
            ).remote([str(p) for p in paths], str(marker))
            for n in nodes
        ]
        # A node removed just before the check can still be listed alive: it cannot run tasks either, so it is
        # left out rather than failing the job (seen in the node-removal test's next job).
        gone = (ray.exceptions.TaskUnschedulableError, ray.exceptions.NodeDiedError)
        checked = []
        for node, ref in zip(nodes, refs):
            try:
                ray.get(ref)
            except ray.exceptions.RayTaskError as exc:
                raise _cause(exc) from None
            except gone:
                continue
            checked.append(node["NodeID"])
        return checked
    finally:
        marker.unlink(missing_ok=True)


def _cause(exc: BaseException) -> BaseException:
    """The worker's own exception inside Ray's wrapper."""
    return getattr(exc, "cause", None) or exc


def _reason(exc: BaseException) -> str:
    exc = _cause(exc)
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
        resource, shape, _slots = _shape(ray)
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
            self._close(film, "failed", _reason(exc))
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
            self.summary.slots = _shape(self.ray)[2]
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
    paths = _refuse_relative({"IN_DIR": Path(in_dir), "OUT_DIR": Path(out_dir), "--weights": weights}, joining)
    in_dir, out_dir, weights = paths["IN_DIR"], paths["OUT_DIR"], paths["--weights"]
    videos = _videos(in_dir, out_dir, recursive)
    if ext is not None and not ext.startswith("."):
        ext = "." + ext
    pairs = output_paths(videos, in_dir, out_dir, ext)
    settings, run = split_options(settings, options)
    check_encoders(settings.encoder, {(ext or v.suffix).lower() for v in videos}, ext)
    if weights is not None and not weights.is_file():
        raise TpstvsrError(f"no such weights file: {weights}")
    ray, started = _connect(address)
    try:
        resource, _shape_opts, slots = _shape(ray)
        nodes = _check_storage(ray, resource, [in_dir] + ([weights] if weights else []), out_dir)
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
