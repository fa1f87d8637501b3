"""A few steps of each stage on the tiny preset, checkpoint/resume equality, release export."""

import numpy as np
import pytest
import torch

from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.models.release import load_model, read_metadata
from tpstvsr_cli.training.config import TrainConfig
from tpstvsr_cli.training.frame_pool import halve_if_large, load_pool
from tpstvsr_cli.training.samples import make_batch
from tpstvsr_cli.training.trainer import train


@pytest.fixture(scope="module")
def frame_dirs(tmp_path_factory):
    from tpstvsr_cli.media.frame_folder import write_frame

    root = tmp_path_factory.mktemp("pool")
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (40, 56, 3), dtype=np.uint8)
    for name in ("a", "b"):
        (root / name).mkdir()
        for t in range(9):  # a texture moving one pixel per frame
            write_frame(root / name / f"{t:03d}.png", np.roll(base, t, axis=1)[:32, :48])
    return root


def _cfg(frame_dirs, tmp_path, **kw):
    args = dict(
        data=[frame_dirs],
        run_dir=tmp_path / "run",
        preset="tiny",
        cache_dir=tmp_path / "cache",
        stage_steps=(2, 2, 2),
        batch=2,
        crop=16,
        in_frames=3,
        ckpt_minutes=1e9,
        val=[frame_dirs / "a"],
        val_every=3,
    )
    args.update(kw)
    return TrainConfig(**args)


def test_pool_and_batch_shapes(frame_dirs, tmp_path):
    clips = load_pool([frame_dirs], tmp_path / "cache", 5, log=lambda *_: None)
    assert len(clips) == 2 and clips[0].frames.shape == (9, 32, 48, 3)
    lr, gt = make_batch(clips, np.random.default_rng(0), 3, 3, 16)
    assert gt.shape == (3, 5, 3, 16, 16) and lr.shape == (3, 3, 3, 4, 4)
    assert torch.equal(lr, (lr * 255).round() / 255)  # 8-bit input, as in the evaluation protocol


def test_halving_rule():
    assert halve_if_large(np.zeros((2, 720, 1280, 3), np.uint8)).shape == (2, 360, 640, 3)
    assert halve_if_large(np.zeros((2, 480, 640, 3), np.uint8)).shape == (2, 480, 640, 3)


def test_all_stages_run_and_release_loads(frame_dirs, tmp_path):
    release = tmp_path / "rel.safetensors"
    torch.set_num_threads(1)
    result = train(_cfg(frame_dirs, tmp_path, release=release))
    assert result["stopped"] == "done" and result["step"] == 6 and result["stage"] == 3
    assert [h["stage"] for h in result["history"]] == ["fsm", "joint"]
    model, meta = load_model(release)
    assert meta["preset"] == "tiny" and read_metadata(release)["step"] == "6"
    assert next(model.parameters()).dtype == torch.float32


def test_resume_equals_uninterrupted(frame_dirs, tmp_path):
    torch.set_num_threads(1)
    a = train(_cfg(frame_dirs, tmp_path / "a", val=[]))
    half = train(_cfg(frame_dirs, tmp_path / "b", val=[], max_steps=3))
    assert half["step"] == 3 and half["stopped"] == "max-steps"
    b = train(_cfg(frame_dirs, tmp_path / "b", val=[]), resume=True)
    assert a["step"] == b["step"] == 6
    sa = torch.load(tmp_path / "a" / "run" / "last.ckpt", weights_only=False)["model"]
    sb = torch.load(tmp_path / "b" / "run" / "last.ckpt", weights_only=False)["model"]
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_resume_without_checkpoint_is_a_clear_error(frame_dirs, tmp_path):
    with pytest.raises(TpstvsrError, match="no checkpoint"):
        train(_cfg(frame_dirs, tmp_path), resume=True)


def test_temporal_stride_takes_every_sth_frame():
    from tpstvsr_cli.training.frame_pool import Clip
    from tpstvsr_cli.training.samples import draw_sample

    frames = np.zeros((20, 8, 8, 3), np.uint8)
    frames[:, :, :, 0] = np.arange(20)[:, None, None]  # frame index in the red channel
    rng = np.random.default_rng(3)
    steps = set()
    for _ in range(40):
        win = draw_sample([Clip("c", frames)], rng, 5, 8, max_stride=3)
        d = np.abs(np.diff(win[:, 0, 0, 0].astype(int)))
        assert len(set(d)) == 1  # evenly spaced (time reversal allowed)
        steps.add(int(d[0]))
    assert steps == {1, 2, 3}


def test_sigterm_stops_with_a_checkpoint(frame_dirs, tmp_path):
    import os
    import signal
    import threading

    torch.set_num_threads(1)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        result = train(_cfg(frame_dirs, tmp_path, val=[], stage_steps=(10**6, 1, 1)))
    finally:
        timer.cancel()
    assert result["stopped"] == "signal SIGTERM" and result["step"] > 0
    state = torch.load(tmp_path / "run" / "last.ckpt", weights_only=False)
    assert state["step"] == result["step"]


def test_init_from_release_continues_step_and_stage(frame_dirs, tmp_path):
    torch.set_num_threads(1)
    release = tmp_path / "rel.safetensors"
    train(_cfg(frame_dirs, tmp_path / "a", val=[], max_steps=3, release=release))
    assert read_metadata(release)["stage"] == "fsm" and read_metadata(release)["stage_step"] == "1"
    result = train(_cfg(frame_dirs, tmp_path / "b", val=[], init_from=release))
    assert result["step"] == 6 and result["stage"] == 3
    with pytest.raises(TpstvsrError, match="preset"):
        train(_cfg(frame_dirs, tmp_path / "c", val=[], init_from=release, preset="default"))


def test_restart_stage_runs_the_stage_anew_and_trains_the_key_fusion(frame_dirs, tmp_path):
    """--restart-stage: from release weights, the joint stage's steps start at 0; its KeyFusion learns."""
    torch.set_num_threads(1)
    release = tmp_path / "rel.safetensors"
    train(_cfg(frame_dirs, tmp_path / "a", val=[], release=release))  # all three stages: 6 steps
    assert read_metadata(release)["stage"] == "joint"
    before, _ = load_model(release)
    again = tmp_path / "again.safetensors"
    result = train(_cfg(frame_dirs, tmp_path / "b", val=[], init_from=release, restart_stage=True, release=again))
    assert result["step"] == 8 and result["stage"] == 3  # 6 before + a whole joint stage of 2
    after, _ = load_model(again)
    assert not torch.equal(before.fusion.tail.weight, after.fusion.tail.weight)


def test_train_only_one_module_leaves_the_others_as_they_were(frame_dirs, tmp_path):
    torch.set_num_threads(1)
    release = tmp_path / "rel.safetensors"
    train(_cfg(frame_dirs, tmp_path / "a", val=[], release=release))
    before, _ = load_model(release)
    again = tmp_path / "again.safetensors"
    train(
        _cfg(
            frame_dirs,
            tmp_path / "b",
            val=[],
            init_from=release,
            restart_stage=True,
            release=again,
            train_only="fusion",
        )
    )
    after, _ = load_model(again)
    assert not torch.equal(before.fusion.tail.weight, after.fusion.tail.weight)
    for name in ("tpsrm", "fsm", "rm"):
        for p, q in zip(getattr(before, name).parameters(), getattr(after, name).parameters()):
            assert torch.equal(p, q), name
    with pytest.raises(TpstvsrError, match="no such module"):
        train(_cfg(frame_dirs, tmp_path / "c", val=[], train_only="nothing"))


def test_degrade_run_trains_and_validates_on_degraded_input(frame_dirs, tmp_path):
    torch.set_num_threads(1)
    result = train(_cfg(frame_dirs, tmp_path, degrade=True, stage_steps=(0, 0, 3), crop=32))
    assert result["stopped"] == "done" and result["step"] == 3
    (entry,) = result["history"]
    assert {"deg_psnr", "deg_gain", "deg_gain_odd"} <= set(entry)
    assert entry["deg_psnr"] < entry["psnr"]  # the same crops, the input through x264 at CRF 28: a harder input


def test_init_from_another_preset_with_the_same_parameters(frame_dirs, tmp_path):
    """The compressed preset (default's parameters, no back-projection) starts from the default weights; a preset
    of other parameters is refused."""
    from tpstvsr_cli.models import build_model
    from tpstvsr_cli.models.release import save_release

    start = tmp_path / "default.safetensors"
    save_release(build_model("default"), "default", start, {"step": 7, "stage": "joint", "stage_step": 3})
    result = train(_cfg(frame_dirs, tmp_path / "a", preset="compressed", init_from=start, max_steps=0, val=[]))
    assert result["step"] == 7  # its step and stage came from the header
    with pytest.raises(TpstvsrError, match="holds preset 'default', not 'tiny'"):
        train(_cfg(frame_dirs, tmp_path / "b", init_from=start, max_steps=0, val=[]))
