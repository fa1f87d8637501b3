"""The coordinator's counts when a segment's node left between writing it and reporting it (no Ray needed: a
stand-in gives the coordinator its task handles). The task's retry finds the segment finished; this job made it."""

from collections import deque
from pathlib import Path
from types import SimpleNamespace

from tpstvsr_cli.conversion.progress import progress_bar
from tpstvsr_cli.distributed.ray_engine import UNREPORTED, _Film, _Job
from tpstvsr_cli.distributed.summary import RayOutcome, RaySummary


class _Task:
    def options(self, **_kwargs):
        return self


class _FakeRay:
    def remote(self, _function):
        return _Task()

    def cluster_resources(self):
        return {"CPU": 2}


def _result(index: int, converted: bool, outputs: int) -> dict:
    return {"index": index, "converted": converted, "outputs": outputs, "warnings": [], "node": "n1", "host": "h"}


def test_a_segment_whose_report_was_lost_counts_as_this_jobs():
    summary = RaySummary(address="", nodes=2, slots=2, resource="CPU")
    run = SimpleNamespace(quiet=True, warn=lambda _text: None)
    with progress_bar(quiet=True) as bar:
        job = _Job(_FakeRay(), [], None, None, None, run, bar, summary)
        film = _Film(RayOutcome(Path("a.mp4"), Path("out/a.mp4"), "converted"), sizes=[8, 7, 5])
        film.state, film.running, film.queue = "converting", 2, deque([2])
        job._segment_done(film, _result(0, converted=True, outputs=8))
        job._segment_done(film, _result(1, converted=False, outputs=0))  # the retry found it written
    assert film.outcome.segments_converted == [0, 1] and film.outcome.segments_before == 0
    assert summary.segments_converted == 2 and summary.segments_before == 0 and summary.frames == 8 + 7
    assert summary.segments_by_node == {"n1": 1, UNREPORTED: 1}
