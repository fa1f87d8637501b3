"""The windows as one key-frame stream (engine/streamed.py): each key frame through the network once, a whole-clip
pass's fusion, and window by window again after running out of memory, with nothing lost."""

import dataclasses

import numpy as np
import pytest
import torch
from test_inference import mad, moving_frames, whole_clip  # tests/engine is on sys.path (pytest prepend mode)

from tpstvsr_cli.engine import upscale_frames
from tpstvsr_cli.engine.backend import TorchBackend
from tpstvsr_cli.engine.ensemble import ensembled
from tpstvsr_cli.engine.options import InferenceOptions
from tpstvsr_cli.engine.stream import make_runner
from tpstvsr_cli.engine.streamed import can_stream
from tpstvsr_cli.models import PRESETS, build_model


@pytest.fixture(scope="module")
def clip13(fusing_net):
    frames = moving_frames(13)
    return frames, whole_clip(fusing_net, frames)


def test_whole_frames_stream_and_tiles_do_not(fusing_net):
    assert can_stream(make_runner(fusing_net, InferenceOptions(tile=0)), 48, 64)
    assert not can_stream(make_runner(fusing_net, InferenceOptions(tile=32, tile_overlap=8)), 48, 64)
    paper_path = build_model(
        dataclasses.replace(PRESETS["tiny"], keyframe_radius=0, fusion_channels=0, blend_channels=0, neighbour_reach=0)
    )
    assert not can_stream(make_runner(paper_path, InferenceOptions(tile=0)), 48, 64)


WINDOWED = {("windowed", 48, 64): True}  # a plan that runs a 64x48 video window by window, as before the stream


@pytest.mark.parametrize("chunk", [4, 6])
def test_streamed_windows_come_closer_to_the_whole_clip_pass(fusing_net, clip13, chunk):
    """Window by window, each window's fusion was cut off at its edges: on this perturbed network up to 5.9 grey
    levels from one whole-clip pass; the stream's fusion sees the whole video's neighbours (TPSRM's windows
    remain)."""
    frames, whole = clip13
    out = np.stack(list(upscale_frames(fusing_net, frames, chunk=chunk, tile=0)))
    windowed = np.stack(list(upscale_frames(fusing_net, frames, chunk=chunk, tile=0, plans=dict(WINDOWED))))
    assert out.shape == windowed.shape == whole.shape == (25, 192, 256, 3)
    assert max(mad(o, w) for o, w in zip(out, whole)) < 1.0  # the seam frames too, not just the mean
    assert mad(out, whole) < mad(windowed, whole) / 3


def test_each_key_frame_is_super_resolved_once(fusing_net):
    calls = []
    hook = fusing_net.fsm.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))
    try:
        out = list(upscale_frames(fusing_net, moving_frames(13, 16, 16), chunk=4, tile=0))
    finally:
        hook.remove()
    assert len(out) == 25 and sum(calls) == 13


def test_the_ensemble_streams_one_pass_per_transform(fusing_net, clip13):
    frames, _ = clip13
    clip = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)[None].float() / 255
    with torch.no_grad():
        whole = ensembled(lambda c: fusing_net(c), clip, 2)[0]
    whole = (whole.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()
    out = np.stack(list(upscale_frames(fusing_net, frames, chunk=4, tile=0, ensemble=2)))
    # 0.49-0.50 per frame at most and 0.30 on the whole in torch 2.13 (TPSRM's windows remain): float rounding
    # in any resize moves single frames by 0.01, as the flow is found on frames rounded to 8 bits
    assert max(mad(o, w) for o, w in zip(out, whole)) < 0.6
    assert mad(out, whole) < 0.35


@pytest.mark.parametrize("keys_only", [False, True])
def test_out_of_memory_goes_on_window_by_window(fusing_net, monkeypatch, keys_only):
    """The fourth of five windows fails in the stream: what it handed out stays, the rest comes window by window,
    each output once."""
    frames = moving_frames(20)
    streamed = list(upscale_frames(fusing_net, frames, chunk=4, tile=0, key_frames_only=keys_only))
    windowed = list(upscale_frames(fusing_net, frames, chunk=4, plans=dict(WINDOWED), key_frames_only=keys_only))
    real, calls, warned = TorchBackend.key_frames, [], []

    def failing(self, *args):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes")
        return real(self, *args)

    monkeypatch.setattr(TorchBackend, "key_frames", failing)
    out = list(upscale_frames(fusing_net, frames, chunk=4, tile=0, warn=warned.append, key_frames_only=keys_only))
    assert len(out) == len(streamed) == (20 if keys_only else 39) and len(calls) == 4
    same = next(i for i, (o, s) in enumerate(zip(out, streamed)) if not np.array_equal(o, s))
    assert 0 < same < len(out) - 4  # the stream's outputs first, then the windows'
    assert max(mad(o, w) for o, w in zip(out[same:], windowed[same:])) < 6.0
    assert len(warned) == 1 and "window by window" in warned[0]


def test_streamed_windows_restore_as_the_whole_clip_pass_does(restoring_tiny):
    """Each window's frames are restored with their neighbours: chunks of 4 stay as close to one whole-clip pass
    as without the module (TPSRM's windows remain)."""
    model, frames = restoring_tiny(tail_std=0.02), moving_frames(9)
    whole = whole_clip(model, frames)
    out = np.stack(list(upscale_frames(model, frames, chunk=4, tile=0)))
    assert out.shape == whole.shape
    assert max(mad(o, w) for o, w in zip(out, whole)) < 1.0
