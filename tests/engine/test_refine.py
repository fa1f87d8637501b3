"""The output refinement as the engine runs it: after the windows, on each uint8 output with its two inputs."""

import dataclasses

import numpy as np
import pytest
import torch

from tpstvsr_cli.engine import upscale_frames
from tpstvsr_cli.engine.refine import refine_on
from tpstvsr_cli.models import PRESETS, build_model


@pytest.fixture
def refining_tiny():
    """The tiny network with a one-block OutputRefine whose zero-started tail is no longer zero."""
    torch.manual_seed(0)
    net = build_model(dataclasses.replace(PRESETS["tiny"], refine_channels=4, refine_blocks=1)).eval()
    torch.nn.init.normal_(net.refine.tail.weight, std=0.1)
    return net


def _clip(count: int = 5, size=(12, 16)) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(count)]


def _without_refine(net):
    """The same network and weights with the refinement left out."""
    twin = build_model(dataclasses.replace(PRESETS["tiny"], refine_channels=4, refine_blocks=1)).eval()
    twin.load_state_dict(net.state_dict())
    twin.refine = None
    return twin


@pytest.mark.parametrize("keys_only", [False, True])
def test_each_output_is_refined_with_the_inputs_it_lies_between(refining_tiny, keys_only):
    frames = _clip()
    got = list(upscale_frames(refining_tiny, frames, chunk=2, overlap=1, key_frames_only=keys_only))
    base = list(upscale_frames(_without_refine(refining_tiny), frames, chunk=2, overlap=1, key_frames_only=keys_only))
    assert len(got) == len(base) == (5 if keys_only else 9)
    for t, frame in enumerate(base):
        a, b = (t, t) if keys_only else (t // 2, (t + 1) // 2)
        pair = np.stack([frames[a], frames[b]])
        by_hand = refine_on(
            refining_tiny.refine, frame, pair, torch.device("cpu"), torch.autocast("cpu", enabled=False)
        )
        assert np.array_equal(got[t], by_hand), t
    assert any(not np.array_equal(g, b) for g, b in zip(got, base))


def test_an_untrained_refinement_changes_no_output():
    torch.manual_seed(0)
    net = build_model(dataclasses.replace(PRESETS["tiny"], refine_channels=4, refine_blocks=1)).eval()
    frames = _clip(3)
    got = list(upscale_frames(net, frames))
    net.refine = None
    assert all(np.array_equal(g, b) for g, b in zip(got, upscale_frames(net, frames)))


def test_a_single_frame_is_refined_with_itself(refining_tiny):
    (frame,) = _clip(1)
    (got,) = list(upscale_frames(refining_tiny, [frame]))
    (base,) = list(upscale_frames(_without_refine(refining_tiny), [frame]))
    cpu, off = torch.device("cpu"), torch.autocast("cpu", enabled=False)
    assert np.array_equal(got, refine_on(refining_tiny.refine, base, np.stack([frame, frame]), cpu, off))
