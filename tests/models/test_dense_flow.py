import pytest
import torch
from test_keyframe_interp import _shifted_pair, _texture  # tests/models is on sys.path (pytest prepend mode)

from tpstvsr_cli.models.dense_flow import dense_flow, warp_flow


@pytest.mark.parametrize("shift4", [(6, -9), (-3, 5), (0, 2)])
def test_flow_recovers_a_sub_pixel_translation(shift4):
    """Content moved (dy, dx) = shift4 / 4 pixels: the flow from the first frame to the second is that move, to
    about a tenth of a pixel on this smooth texture (in the network it runs at the output's size, 4x finer)."""
    first, second, _ = _shifted_pair(*shift4, h=64, w=80)
    flow = dense_flow(first, second)
    assert flow.shape == (1, 2, 64, 80)
    inner = flow[..., 8:-8, 8:-8]
    dy, dx = shift4[0] / 4, shift4[1] / 4
    assert inner[:, 0].median().item() == pytest.approx(dx, abs=0.15)
    assert inner[:, 1].median().item() == pytest.approx(dy, abs=0.15)


def test_the_flow_lines_the_second_frame_up_with_the_first():
    """As the network uses it: frames at the output's size, smooth at the pixel scale, moved a few pixels."""
    big = _texture(320, 384, seed=4)
    first, second = big[None, :, 32:224, 32:288], big[None, :, 26:218, 41:297]  # content moved (6, -9)
    flow = dense_flow(first, second)
    inner = (..., slice(16, -16), slice(16, -16))
    assert flow[:, 0][inner].median().item() == pytest.approx(-9, abs=0.05)
    assert flow[:, 1][inner].median().item() == pytest.approx(6, abs=0.05)
    aligned = warp_flow(second, flow)
    assert (aligned - first)[inner].abs().mean() < 0.1 * (second - first)[inner].abs().mean()


@pytest.mark.parametrize("hw", [(1, 1), (4, 6), (12, 9), (33, 17)])
def test_any_frame_size_gives_a_flow_of_that_size(hw):
    a = torch.rand(2, 3, *hw)
    flow = dense_flow(a, a)
    assert flow.shape == (2, 2, *hw)
    assert torch.isfinite(flow).all()


def test_zero_flow_warps_nothing_and_a_whole_pixel_flow_shifts():
    frames = _texture(16, 20)[None]
    assert torch.allclose(warp_flow(frames, torch.zeros(1, 2, 16, 20)), frames, atol=1e-5)
    right = torch.zeros(1, 2, 16, 20)
    right[:, 0] = 1.0  # sample one pixel to the right
    assert torch.allclose(warp_flow(frames, right)[..., :-1], frames[..., 1:], atol=1e-5)


def test_frames_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="one shape"):
        dense_flow(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 17))


@pytest.mark.parametrize("mode", ["bicubic", "bilinear"])
def test_the_cpu_warp_matches_grid_sample_borders_included(mode):
    """Inference warps with cv2.remap, training (gradients) with torch's grid_sample: the same picture."""
    from tpstvsr_cli.models.motion import warp_by

    torch.manual_seed(4)
    frames = torch.rand(2, 3, 37, 53)
    flow = 6 * torch.randn(2, 2, 37, 53)  # many samples land outside the frame: the border is clamped
    fast = warp_flow(frames, flow, mode)
    with torch.enable_grad():
        reference = warp_flow(frames.clone().requires_grad_(True), flow, mode)  # the grid_sample path
    assert torch.allclose(fast, warp_by(frames, flow[:, 1:2], flow[:, 0:1], mode), atol=2e-4)
    assert torch.allclose(fast, reference.detach(), atol=2e-4)
    assert fast.shape == frames.shape and fast.is_contiguous()


def test_the_cpu_warp_is_the_same_for_any_thread_count():
    torch.manual_seed(5)
    frames, flow = torch.rand(1, 3, 64, 96), 3 * torch.randn(1, 2, 64, 96)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = warp_flow(frames, flow)
        torch.set_num_threads(2)
        two = warp_flow(frames, flow)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one, two)


def test_flow_found_at_half_size_is_dis_at_full_size():
    """MEDIUM stops at half size and enlarges bilinearly: matching half-size frames and enlarging gives the same
    flow, so the fusion can keep a quarter of it."""
    from tpstvsr_cli.models.dense_flow import flow_between, full_flow, grey_u8, half_grey, make_dis

    big = _texture(104, 136)
    first, second = big[:, :96, :128][None], big[:, 5:101, 3:131][None]
    half = flow_between(half_grey(grey_u8(first)), half_grey(grey_u8(second)), (96, 128), first.device)
    assert half.shape == (1, 2, 48, 64)
    reference = make_dis().calc(grey_u8(first)[0], grey_u8(second)[0], None)
    assert torch.equal(full_flow(half, (96, 128))[0].permute(1, 2, 0), torch.from_numpy(reference))
    assert torch.allclose(warp_flow(second, half), warp_flow(second, full_flow(half, (96, 128))))


def test_flows_for_many_pairs_on_parallel_threads_are_the_flows_one_by_one():
    from tpstvsr_cli.models.dense_flow import flow_between, flows_for_pairs, grey_u8, half_grey

    big = _texture(120, 150)
    frames = [big[:, i : i + 96, 2 * i : 2 * i + 128][None] for i in range(4)]
    greys = {k: half_grey(grey_u8(f)) for k, f in enumerate(frames)}
    pairs = [(0, 1), (1, 0), (1, 3), (3, 2), (2, 0)]
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        together = flows_for_pairs(greys, pairs, (96, 128), torch.device("cpu"))
    finally:
        torch.set_num_threads(threads)
    for i, j in pairs:
        assert torch.equal(together[i, j], flow_between(greys[i], greys[j], (96, 128), torch.device("cpu")))


def test_a_refined_flow_set_starts_from_the_earlier_one_and_does_not_depend_on_threads():
    """The fusion's later flow sets: the earlier flow refined on new frames (make_refinement), the same on one
    thread, on parallel threads, and with OpenCV's own two threads; nearer the motion than the start, left as it was."""
    import cv2

    from tpstvsr_cli.models.dense_flow import flow_between, flows_for_pairs, grey_u8, half_grey

    big = _texture(120, 150)
    frames = [big[:, i : i + 96, 2 * i : 2 * i + 128][None] for i in range(3)]
    greys = {k: half_grey(grey_u8(f)) for k, f in enumerate(frames)}
    pairs = [(0, 1), (1, 0), (1, 2)]
    cpu = torch.device("cpu")
    start = {(i, j): flow_between(greys[i], greys[j], (96, 128), cpu) + 0.3 for i, j in pairs}  # 0.3 px off
    kept = {pair: flow.clone() for pair, flow in start.items()}
    threads = torch.get_num_threads()
    try:
        outs = []
        for n in (1, 2):
            torch.set_num_threads(n)
            outs.append(flows_for_pairs(greys, pairs, (96, 128), cpu, start))
        cv2.setNumThreads(2)
        outs.append({pair: flows_for_pairs(greys, [pair], (96, 128), cpu, start)[pair] for pair in pairs})
    finally:
        torch.set_num_threads(threads)
    for pair in pairs:
        assert outs[0][pair].shape == (1, 2, 48, 64)
        assert torch.equal(outs[0][pair], outs[1][pair]) and torch.equal(outs[0][pair], outs[2][pair])
        assert torch.equal(start[pair], kept[pair])  # refined in a copy
    # frame 1 is frame 0 moved 1 pixel up and 2 left: at half size, a flow (dx, dy) = (-1, -0.5) from 0 to 1
    centre = outs[0][0, 1][0, :, 12:-12, 16:-16]
    start_error = (start[0, 1][0, :, 12:-12, 16:-16] - torch.tensor([-1.0, -0.5]).view(2, 1, 1)).abs().mean((1, 2))
    error = (centre - torch.tensor([-1.0, -0.5]).view(2, 1, 1)).abs().mean((1, 2))
    assert (error < start_error - 0.01).all()  # a few iterations nearer the motion (0.3 -> 0.27 px here)
