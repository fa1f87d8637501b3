"""Antialiased resizes as OpenCV polyphase filters (models/polyphase.py) against torch's own."""

import pytest
import torch
import torch.nn.functional as F

from tpstvsr_cli.models.polyphase import axis_plan, resize_polyphase
from tpstvsr_cli.models.profiles import resize_frames


def torch_resize(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    flat = frames.reshape(-1, *frames.shape[-3:])
    out = F.interpolate(flat, size=size, mode="bicubic", align_corners=False, antialias=True)
    return out.reshape(*frames.shape[:-2], *size)


@pytest.mark.parametrize(
    "shape, size",
    [
        ((1, 3, 288, 352), (72, 88)),  # the fusion's shrink
        ((1, 1, 72, 88), (288, 352)),  # its weights' enlargement
        ((2, 3, 72, 88), (288, 352)),  # the back-projection's correction
        ((1, 2, 3, 144, 500), (288, 500)),  # TPSRM's midpoints: twice the height, width kept
        ((1, 3, 256, 256), (128, 64)),  # different factors per axis
    ],
)
def test_same_numbers_as_torch(shape, size):
    torch.manual_seed(0)
    frames = torch.rand(shape)
    got = resize_polyphase(frames, size)
    assert got is not None and got.shape == (*shape[:-2], *size)
    assert (got - torch_resize(frames, size)).abs().max() < 1e-6


def test_borders_are_renormalised_as_torch_does():
    # a constant frame stays constant only where the border taps were renormalised over the image
    frames = torch.full((1, 3, 320, 320), 0.5)
    assert torch.allclose(resize_polyphase(frames, (80, 80)), torch.full((1, 3, 80, 80), 0.5), atol=1e-6)
    assert torch.allclose(resize_polyphase(frames[..., :80, :80].contiguous(), (320, 320)), frames, atol=1e-6)


def test_no_plan_where_the_factor_is_not_whole_or_the_frames_are_small():
    assert axis_plan(300, 200) is None and axis_plan(200, 300) is None
    assert axis_plan(1280, 320) is not None and axis_plan(320, 1280).factor == 4
    assert resize_polyphase(torch.rand(1, 3, 300, 300), (200, 200)) is None
    assert resize_polyphase(torch.rand(1, 3, 32, 32), (128, 128)) is None  # torch is as fast there


def test_same_numbers_for_any_thread_count():
    torch.manual_seed(1)
    frames = torch.rand(1, 3, 72, 88)
    own = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = resize_polyphase(frames, (288, 352))
        torch.set_num_threads(2)
        two = resize_polyphase(frames, (288, 352))
    finally:
        torch.set_num_threads(own)
    assert torch.equal(one, two)


def test_resize_frames_uses_it_without_gradient_and_torch_with():
    torch.manual_seed(2)
    frames = torch.rand(1, 3, 288, 352)
    want = torch_resize(frames, (72, 88))
    assert (resize_frames(frames, (72, 88)) - want).abs().max() < 1e-6
    leaf = frames.clone().requires_grad_()
    out = resize_frames(leaf, (72, 88))
    out.sum().backward()
    assert torch.equal(out.detach(), want) and leaf.grad is not None
