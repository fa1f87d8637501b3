import pytest
import torch

from tpstvsr_cli.models.output_refine import OutputRefine


def _trained(blocks: int = 1) -> OutputRefine:
    """A module whose tail is no longer zero (as after training)."""
    torch.manual_seed(1)
    module = OutputRefine(channels=4, blocks=blocks).eval()
    torch.nn.init.normal_(module.tail.weight, std=0.1)
    return module


@pytest.mark.parametrize("size", [(1, 1), (7, 9)])
def test_untrained_module_changes_nothing(size):
    frame, inputs = torch.rand(2, 3, 4 * size[0], 4 * size[1]), torch.rand(2, 2, 3, *size)
    with torch.no_grad():
        assert torch.equal(OutputRefine(channels=4, blocks=2)(frame, inputs), frame)


def test_a_trained_module_reads_the_frame_and_both_inputs():
    module = _trained()
    frame, inputs = torch.rand(1, 3, 32, 40), torch.rand(1, 2, 3, 8, 10)
    with torch.no_grad():
        base = module(frame, inputs)
        for changed in (inputs[:, [1, 1]], inputs[:, [0, 0]]):
            assert not torch.equal(module(frame, changed), base)
        assert not torch.equal(module(1 - frame, inputs), base)
        assert base.min() >= 0 and base.max() <= 1


@pytest.mark.parametrize("rows", [3, 5, 12])
def test_strips_give_the_numbers_of_one_pass(rows):
    module, frame, inputs = _trained(blocks=2), torch.rand(1, 3, 4 * 23, 36), torch.rand(1, 2, 3, 23, 9)
    with torch.no_grad():
        assert torch.equal(module.strips(frame, inputs, rows=rows), module(frame, inputs))


def test_a_frame_not_4x_its_inputs_is_refused():
    with pytest.raises(ValueError, match="4x"):
        OutputRefine(channels=4, blocks=1)(torch.rand(1, 3, 16, 16), torch.rand(1, 2, 3, 5, 4))


def test_the_experiment_preset_has_one_and_loads_weights_without_it():
    """compressed-refine = compressed + a refinement: the compressed weights load into it, the refinement at zero."""
    from tpstvsr_cli.models import build_model
    from tpstvsr_cli.models.release import load_state

    torch.manual_seed(0)
    net = build_model("compressed-refine")
    assert isinstance(net.refine, OutputRefine) and build_model("compressed").refine is None
    load_state(net, {k: v for k, v in build_model("compressed").state_dict().items()})
    assert not net.refine.tail.weight.any()
