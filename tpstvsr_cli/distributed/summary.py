"""What a `batch --engine ray` job reports: per film (RayOutcome, batch's FileOutcome with its segments) and for
the whole job (RaySummary: the cluster, the segments by node, output frames per second)."""

from dataclasses import dataclass, field

from ..conversion.batch import FileOutcome


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
