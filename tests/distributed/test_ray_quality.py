"""`batch --engine ray --quality`: the settings every task receives carry the quality, and a worker applies it to
the network it keeps for all its tasks without changing that network (issue 19). No Ray is started."""

import pickle
from types import SimpleNamespace

import tpstvsr_cli.distributed.ray_engine as ray_engine
import tpstvsr_cli.distributed.worker as worker
from tpstvsr_cli.conversion.settings import ConversionSettings


def test_the_job_sends_the_quality_and_its_ensemble(tmp_path, clip_maker, monkeypatch):
    (tmp_path / "in").mkdir()
    clip_maker(tmp_path / "in" / "a.mp4", size="24x16", frames=2, audio=False)
    sent = {}

    class FakeJob:
        def __init__(self, ray, pairs, settings, *rest):
            sent["settings"] = settings

        def run_all(self):
            return []

    fake_ray = SimpleNamespace(get_runtime_context=lambda: SimpleNamespace(gcs_address="fake:6379"))
    monkeypatch.setattr(ray_engine, "connect", lambda address: (fake_ray, False))
    monkeypatch.setattr(ray_engine, "task_shape", lambda ray: ("CPU", {"num_cpus": 1}, 1))
    monkeypatch.setattr(ray_engine, "check_storage", lambda *args: ["node"])
    monkeypatch.setattr(ray_engine, "_Job", FakeJob)
    ray_engine.ray_batch(tmp_path / "in", tmp_path / "out", quality="best", ensemble=None, quiet=True)
    settings = pickle.loads(pickle.dumps(sent["settings"]))  # as a task receives it
    assert settings.quality == "best" and settings.inference.ensemble == 2


def test_a_worker_applies_the_quality_to_its_kept_network(tmp_path, clip_maker, mixing_net, monkeypatch):
    film = clip_maker(tmp_path / "a.mp4", size="24x16", frames=3, audio=False)
    monkeypatch.setattr(worker, "_model", lambda weights, settings: mixing_net)
    fast = ConversionSettings(device="cpu", quality="fast")
    conversion = worker._open(str(film), str(tmp_path / "fast.mp4"), fast, None, [], shared=False)
    assert conversion.model.neighbours is None and not conversion.model.interp.vote
    assert mixing_net.neighbours is not None and mixing_net.interp.vote  # the next task's film may be balanced
    balanced = worker._open(str(film), str(tmp_path / "b.mp4"), ConversionSettings(device="cpu"), None, [], False)
    assert balanced.model is mixing_net
