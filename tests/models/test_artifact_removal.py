import dataclasses

import pytest
import torch

from tpstvsr_cli.engine.backend import TorchBackend
from tpstvsr_cli.models import PRESETS, build_model
from tpstvsr_cli.models.artifact_removal import ArtifactRemoval
from tpstvsr_cli.models.release import load_state


def _trained(reach: int = 1) -> ArtifactRemoval:
    """A module whose tail is no longer zero (as after training)."""
    torch.manual_seed(1)
    module = ArtifactRemoval(channels=4, blocks=1, reach=reach).eval()
    torch.nn.init.normal_(module.tail.weight, std=0.1)
    return module


@pytest.mark.parametrize("shape", [(1, 2, 3, 1, 1), (2, 5, 3, 7, 9)])
def test_untrained_module_changes_nothing(shape):
    clip = torch.rand(shape)
    with torch.no_grad():
        assert torch.equal(ArtifactRemoval(channels=4, blocks=2)(clip), clip)


def test_each_frame_reads_only_its_neighbours_within_reach():
    module, clip = _trained(reach=1), torch.rand(1, 6, 3, 8, 10)
    changed = clip.clone()
    changed[:, 0] = 1 - changed[:, 0]
    with torch.no_grad():
        a, b = module(clip), module(changed)
    assert not torch.equal(a[:, :2], b[:, :2])  # frame 0 and its next neighbour
    assert torch.equal(a[:, 2:], b[:, 2:])  # out of reach


def test_edge_frames_repeat_themselves_as_missing_neighbours():
    module, clip = _trained(reach=1), torch.rand(1, 4, 3, 8, 10)
    with torch.no_grad():
        first = module(clip)[:, 0]
        by_hand = module.restore(clip[:, [0, 0, 1]])
    assert torch.equal(first, by_hand)


def test_output_stays_in_range():
    module = _trained()
    torch.nn.init.normal_(module.tail.weight, std=10.0)
    with torch.no_grad():
        out = module(torch.rand(1, 3, 3, 8, 8))
    assert out.min() >= 0 and out.max() <= 1


def test_the_network_and_the_key_frame_path_read_the_restored_input(restoring_tiny):
    """TPNet.prepared runs the removal before padding; the engine's key-frame path hands those frames on."""
    model = restoring_tiny()
    clip = torch.rand(1, 3, 3, 8, 10)
    with torch.no_grad():
        prepared = model.prepared(clip)
        _, inputs, _ = TorchBackend(model, torch.device("cpu"), torch.float32).key_frames(clip, [0, 1, 2], [0])
    assert torch.allclose(prepared, model.padded(model.restore(clip)))
    assert not torch.allclose(prepared, model.padded(clip))
    assert torch.allclose(inputs, prepared)


def test_weights_without_the_module_load_and_leave_the_output_unchanged():
    torch.manual_seed(0)
    without = build_model("tiny").eval()
    with_restore = build_model(dataclasses.replace(PRESETS["tiny"], restore_channels=4, restore_blocks=1)).eval()
    load_state(with_restore, without.state_dict())
    clip = torch.rand(1, 3, 3, 8, 10)
    with torch.no_grad():
        assert torch.equal(with_restore(clip), without(clip))
