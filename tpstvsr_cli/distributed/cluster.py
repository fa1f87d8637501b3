"""The Ray cluster as the coordinator (ray_engine.py) meets it: connecting, its shape, what its nodes can see, and
the worker's own error inside Ray's wrapper."""

import logging
import os
import uuid
from pathlib import Path

from ..errors import TpstvsrError
from . import worker


def absolute_paths(paths: dict[str, Path | None], joining: bool) -> dict[str, Path | None]:
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


def connect(address: str | None):
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


def task_shape(ray) -> tuple[str, dict, int]:
    """(resource, task options, slots): a GPU per task where the cluster has GPUs, else a CPU core."""
    total = ray.cluster_resources()
    if total.get("GPU", 0) >= 1:
        return "GPU", {"num_gpus": 1, "num_cpus": 1}, int(total["GPU"])
    return "CPU", {"num_cpus": 1}, max(1, int(total.get("CPU", 1)))


def check_storage(ray, resource: str, paths: list[Path], out_dir: Path) -> list[str]:
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
                raise task_cause(exc) from None
            except gone:
                continue
            checked.append(node["NodeID"])
        return checked
    finally:
        marker.unlink(missing_ok=True)


def task_cause(exc: BaseException) -> BaseException:
    """The worker's own exception inside Ray's wrapper."""
    return getattr(exc, "cause", None) or exc


def task_reason(exc: BaseException) -> str:
    exc = task_cause(exc)
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
