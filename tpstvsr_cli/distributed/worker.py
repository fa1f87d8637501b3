"""What runs on a Ray worker: plan a film, convert one of its segments, finish it (join and mux).

Plain functions on paths and settings (no Ray here; ray_engine.py sends them as tasks), so a task that Ray
retries on another node simply runs again: the plan is stored in the film's work folder, a finished segment is a
file there, and a finished film is its output. Every function loads the network once per worker process (a
worker runs many tasks) and starts with the process settings the CLI makes in main().
"""

import os
import socket
import time
from pathlib import Path

from ..errors import TpstvsrError

_MODELS: dict = {}  # (weights, device, weights dtype) -> the network, once per worker process


class NotShared(TpstvsrError):
    """A path the coordinator wrote is missing on this worker: the storage is not shared."""


def _prepare() -> None:
    from ..cli.process import apply_process_settings

    apply_process_settings()  # OMP_WAIT_POLICY (if torch is not loaded yet) and malloc's options


def where() -> dict:
    """This worker's host and Ray node (for the summary: which node converted what)."""
    node = ""
    try:
        import ray

        node = ray.get_runtime_context().get_node_id()
    except Exception:  # not inside Ray (a direct call in a test)
        pass
    return {"host": socket.gethostname(), "node": node, "pid": os.getpid()}


def check_shared(paths: list[str], marker: str) -> dict:
    """Run on each node before any work: every path and the coordinator's marker file must be visible here."""
    host = socket.gethostname()
    for path in [*paths, marker]:
        if not os.path.exists(path):
            raise NotShared(
                f"{path} is not visible on worker {host}: inputs, outputs and weights must be on storage every "
                "worker sees (a shared or mounted file system), at the same path"
            )
    return where()


def _model(weights: str | None, settings):
    from ..engine.device import resolve_compute
    from ..models.loading import get_model

    compute = resolve_compute(settings.device, settings.precision)
    key = (weights, str(compute.device), str(compute.weights_dtype))
    if key not in _MODELS:
        _MODELS[key] = get_model(
            weights=Path(weights) if weights else None, device=compute.device, dtype=compute.weights_dtype
        )[0]
    return _MODELS[key]


def _open(input: str, output: str, settings, weights: str | None, warnings: list[str], shared: bool):
    from ..conversion.planning import plan_conversion
    from ..conversion.settings import RunOptions

    run = RunOptions(resume=True, overwrite=True, shared=shared, on_warning=warnings.append)
    return plan_conversion(Path(input), Path(output), settings, model=_model(weights, settings), run=run)


def plan_film(input: str, output: str, settings, weights: str | None) -> dict:
    """The film's plan (one decoding pass for the frame count and scene cuts, stored in its work folder), or the
    stored one of an earlier run with the same settings. The coordinator holds the film's writer lock, so
    half-written files of a killed earlier job are dropped here; segment tasks then share the folder."""
    _prepare()
    warnings: list[str] = []
    conversion = _open(input, output, settings, weights, warnings, shared=False)
    finished = sorted(conversion.work.finished)
    return {
        "segments": [s.outputs for s in conversion.frames.segments],
        "finished": finished,
        "frames_in": conversion.frames.frames,
        "warnings": list(dict.fromkeys(warnings + conversion.source.warnings)),
        **where(),
    }


def convert_film_segment(input: str, output: str, settings, weights: str | None, index: int) -> dict:
    """Segment `index` into the film's work folder (nothing when it is there already: a retried task whose
    first try finished). Returns its output frames and seconds, and where it ran."""
    from ..conversion.convert import convert_segment
    from ..conversion.workdir import work_dir_for

    _prepare()
    plan = work_dir_for(Path(output)) / "plan.json"
    if not plan.is_file():  # plan_conversion would quietly plan again in a folder the coordinator cannot see
        raise NotShared(
            f"{plan} is not visible on worker {socket.gethostname()}: outputs must be on storage every worker "
            "sees (a shared or mounted file system), at the same path"
        )
    warnings: list[str] = []
    start = time.perf_counter()
    conversion = _open(input, output, settings, weights, warnings, shared=True)
    converted = index in conversion.pending()
    frames = convert_segment(conversion, index) if converted else 0
    return {
        "index": index,
        "outputs": frames,
        "converted": converted,
        "seconds": time.perf_counter() - start,
        "warnings": list(dict.fromkeys(warnings + conversion.run_warnings)),
        **where(),
    }


def finish_film(input: str, output: str, settings, weights: str | None) -> dict:
    """Join the film's segments into OUTPUT and mux its sound, subtitles and metadata (renamed into place at the
    end, so nothing half-written appears there). A retried task whose first try finished finds the output
    there and its work folder gone, and does nothing."""
    from ..conversion.convert import finish
    from ..conversion.workdir import work_dir_for

    _prepare()
    start = time.perf_counter()
    if Path(output).is_file() and not work_dir_for(Path(output)).exists():
        return {"seconds": 0.0, **where()}
    conversion = _open(input, output, settings, weights, [], shared=True)
    finish(conversion)
    return {"seconds": time.perf_counter() - start, **where()}
