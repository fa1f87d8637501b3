"""upscale_frames: shapes, streaming, and no visible seams where windows or tiles meet."""

import numpy as np
import pytest
import torch

from tpstvsr_cli.engine import resolve_device, resolve_precision, upscale_frames
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.models import build_model


def moving_frames(n: int, h: int = 48, w: int = 64) -> list[np.ndarray]:
    """Smooth patterns sliding in different directions: content that changes in space and in time."""
    yy, xx = np.mgrid[0:h, 0:w]
    return [
        np.stack(
            [
                127 + 100 * np.sin((xx + 3 * t) / 5),
                127 + 100 * np.cos((yy - 2 * t) / 7),
                127 + 80 * np.sin((xx + yy + t) / 9),
            ],
            -1,
        ).astype(np.uint8)
        for t in range(n)
    ]


def whole_clip(net, frames) -> np.ndarray:
    clip = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)[None].float() / 255
    with torch.no_grad():
        out = net(clip, frames_per_pass=1)[0]
    return (out.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b).mean())


@pytest.fixture(scope="module")
def clip13(mixing_net):
    frames = moving_frames(13)
    return frames, whole_clip(mixing_net, frames)


@pytest.mark.parametrize("chunk,overlap", [(8, 2), (4, 2), (3, 3)])
def test_chunked_equals_whole_clip(mixing_net, clip13, chunk, overlap):
    frames, whole = clip13
    out = np.stack(list(upscale_frames(mixing_net, frames, chunk=chunk, overlap=overlap)))
    assert out.shape == whole.shape == (25, 192, 256, 3)
    assert mad(out, whole) < 0.5
    # The seam frames themselves, not just the average over the clip.
    assert max(mad(o, w) for o, w in zip(out, whole)) < 0.5


@pytest.mark.parametrize("tile,tile_overlap", [(32, 8), (40, 16)])
def test_tiled_equals_whole_frame(mixing_net, clip13, tile, tile_overlap):
    frames, whole = clip13
    out = np.stack(list(upscale_frames(mixing_net, frames, chunk=16, tile=tile, tile_overlap=tile_overlap)))
    assert mad(out, whole) < 0.5


def test_automatic_tiles_follow_free_memory(mixing_net, clip13, monkeypatch):
    frames, whole = clip13
    # Plenty of memory: whole frames, bit-identical to an explicit --tile 0.
    monkeypatch.setattr("tpstvsr_cli.engine.runner.available_bytes", lambda device, cap=None: 1 << 40)
    auto = np.stack(list(upscale_frames(mixing_net, frames, chunk=16)))
    assert np.array_equal(auto, np.stack(list(upscale_frames(mixing_net, frames, chunk=16, tile=0))))
    # Room for about a quarter of a 48x64 frame per window: the planner cuts it into even tiles, no seams.
    per_px = 10.0 * 1024 * 33 / 13  # the tiny preset's figure for a 33-frame window (chunk 16 + 2*overlap 8 + 1)
    budget = 48 * 64 * (per_px / 4 + 33 * 3 * 16 * 4 * 1.25)
    monkeypatch.setattr("tpstvsr_cli.engine.runner.available_bytes", lambda device, cap=None: budget)
    seen = []
    real = __import__("tpstvsr_cli.engine.runner", fromlist=["even_spans"]).even_spans
    monkeypatch.setattr("tpstvsr_cli.engine.runner.even_spans", lambda *a: seen.append(a[1]) or real(*a))
    tiled = np.stack(list(upscale_frames(mixing_net, frames, chunk=16, overlap=8, tile_overlap=8)))
    # The outputs alone take over half that budget, so the plan also halves the windows (chunk 8: 27 frames),
    # and the tiles are planned for those: at least 2 (4 for the whole chunk's window).
    assert seen and seen[0] * seen[1] >= 2
    assert mad(tiled, whole) < 0.5


def test_chunks_and_tiles_together_on_an_odd_size(mixing_net):
    frames = moving_frames(11, 37, 53)  # odd sizes: tiles end ragged, the network pads inside
    whole = whole_clip(mixing_net, frames)
    out = np.stack(list(upscale_frames(mixing_net, frames, chunk=4, overlap=2, tile=32, tile_overlap=8)))
    assert out.shape == (21, 148, 212, 3)
    assert mad(out, whole) < 0.5


def test_streams_without_holding_the_whole_clip(mixing_net):
    pulled = []

    def source():
        for i, f in enumerate(moving_frames(30, 16, 16)):
            pulled.append(i)
            yield f

    gen = upscale_frames(mixing_net, source(), chunk=4, overlap=2)
    first = next(gen)
    assert first.shape == (64, 64, 3)
    assert len(pulled) <= 4 + 2 + 1  # one window's worth, not 30 frames
    assert 1 + sum(1 for _ in gen) == 59


@pytest.mark.parametrize("n", [2, 3, 5])
def test_short_clips_give_2n_minus_1_frames(mixing_net, n):
    frames = moving_frames(n, 16, 24)
    out = list(upscale_frames(mixing_net, frames))
    assert len(out) == 2 * n - 1 and out[0].shape == (64, 96, 3) and out[0].dtype == np.uint8
    assert mad(np.stack(out), whole_clip(mixing_net, frames)) == 0


def test_one_frame_gives_one_frame_and_none_gives_none(mixing_net):
    frame = moving_frames(1, 16, 24)[0]
    (out,) = list(upscale_frames(mixing_net, [frame]))
    assert out.shape == (64, 96, 3)
    assert list(upscale_frames(mixing_net, [])) == []


def test_untrained_network_reproduces_input_frames():
    """An untrained net is bicubic + averaging: output 2k, shrunk back, is close to input k."""
    frames = moving_frames(4, 16, 16)
    out = list(upscale_frames(build_model("tiny"), frames, chunk=2, overlap=1))
    shrunk = out[2].reshape(16, 4, 16, 4, 3).mean(axis=(1, 3))
    assert mad(shrunk, frames[1]) < 6


def test_bad_input_is_a_clear_error(mixing_net):
    frames = moving_frames(3, 16, 16)
    with pytest.raises(TpstvsrError, match="frame 1 is 8x8"):
        list(upscale_frames(mixing_net, [frames[0], frames[1][:8, :8], frames[2]]))
    with pytest.raises(TpstvsrError, match="chunk"):
        list(upscale_frames(mixing_net, frames, chunk=0))
    with pytest.raises(TpstvsrError, match="tile"):
        list(upscale_frames(mixing_net, frames, tile=10, tile_overlap=16))
    with pytest.raises(TpstvsrError, match="device"):
        resolve_device("tpu")
    with pytest.raises(TpstvsrError, match="precision"):
        resolve_precision("fp8", torch.device("cpu"))


def test_bf16_runs_on_cpu_close_to_fp32(mixing_net):
    frames = moving_frames(3, 16, 16)
    fp32 = np.stack(list(upscale_frames(mixing_net, frames)))
    bf16 = np.stack(list(upscale_frames(mixing_net, frames, precision="bf16")))
    assert mad(fp32, bf16) < 8  # bf16 keeps 8 bits of mantissa: close, not equal
