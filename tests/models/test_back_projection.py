"""Back-projection in one shrink and one enlargement (models/back_projection.py) against the step-by-step loop."""

import pytest
import torch

from tpstvsr_cli.models.back_projection import back_project, shrink_enlarge
from tpstvsr_cli.models.profiles import resize_frames


def step_by_step(estimate: torch.Tensor, seen: torch.Tensor, steps: int) -> torch.Tensor:
    large, small = estimate.shape[-2:], seen.shape[-2:]
    for _ in range(steps):
        estimate = estimate + resize_frames(seen - resize_frames(estimate, small), large)
    return estimate


@pytest.mark.parametrize("h, w", [(36, 45), (9, 7), (3, 20)])
@pytest.mark.parametrize("steps", [1, 3])
def test_same_as_the_loop_up_to_rounding(h, w, steps):
    torch.manual_seed(0)
    seen = torch.rand(2, 3, h, w)
    estimate = resize_frames(seen, (4 * h, 4 * w)) + 0.1 * torch.randn(2, 3, 4 * h, 4 * w)
    want = step_by_step(estimate, seen, steps)
    got = back_project(estimate.clone(), seen, steps)
    assert (got - want).abs().max() < 1e-5
    # and the steps did something: the result explains the input better than the estimate did
    assert (resize_frames(got, (h, w)) - seen).abs().mean() < 0.7 * (
        resize_frames(estimate, (h, w)) - seen
    ).abs().mean()


def test_shrink_enlarge_is_the_two_resizes():
    torch.manual_seed(1)
    residual = torch.randn(1, 3, 24, 31)
    want = resize_frames(resize_frames(residual, (96, 124)), (24, 31))
    assert (shrink_enlarge(residual, (96, 124)) - want).abs().max() < 1e-5


def test_zero_steps_leave_the_estimate_and_gradients_flow():
    seen = torch.rand(1, 3, 8, 8)
    estimate = torch.rand(1, 3, 32, 32)
    assert back_project(estimate, seen, 0) is estimate
    estimate.requires_grad_(True)
    back_project(estimate, seen, 2).sum().backward()
    assert estimate.grad is not None and torch.isfinite(estimate.grad).all()
