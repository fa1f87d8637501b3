"""KeyStream: key frames pushed in any pieces come out as one whole-clip pass of the fusion makes them."""

import pytest
import torch

from tpstvsr_cli.models.key_stream import KeyStream


def _streamed(net, clip, piece: int, midpoints: bool = True, held: list | None = None) -> torch.Tensor:
    """The clip's key frames (TPSRM over the whole clip) pushed `piece` at a time; the outputs in order. The clip
    goes in as the engine hands it over (engine/backend.py): through TPNet.prepared."""
    t = clip.shape[1]
    stream, outs = KeyStream(net, midpoints), []
    with torch.no_grad():
        clip = net.prepared(clip)
        for a in range(0, t, piece):
            keys = list(range(a, min(a + piece, t)))
            sr, motion = net.key_frames(clip, keys, [k for k in keys if k + 1 < t] if midpoints else [])
            stream.push(clip[:, keys], sr, motion)
            if keys[-1] == t - 1:
                stream.finish()
            outs += stream.pop()
            if held is not None:
                held.append(sum(len(level) for level in stream.levels))
    return torch.stack(outs, 1)


@pytest.mark.parametrize("piece", [1, 3, 5, 13])
def test_pieces_give_the_whole_clip_pass(fusing_net, piece):
    clip = torch.rand(1, 13, 3, 24, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        whole = fusing_net(clip)
    out = _streamed(fusing_net, clip, piece)
    assert out.shape == whole.shape == (1, 25, 3, 96, 128)
    assert (out - whole).abs().max() < 1e-4  # float rounding of other batch sizes: 3.9e-5 one frame at a time


def test_key_frames_alone_skip_the_in_between_frames(fusing_net):
    clip = torch.rand(1, 9, 3, 24, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        whole = fusing_net(clip)
    out = _streamed(fusing_net, clip, 4, midpoints=False)
    assert out.shape == (1, 9, 3, 96, 128)
    assert (out - whole[:, ::2]).abs().max() < 1e-5


def test_what_it_holds_does_not_grow_with_the_video(fusing_net):
    clip = torch.rand(1, 40, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    held = []
    out = _streamed(fusing_net, clip, 4, held=held)
    assert out.shape[1] == 79
    # 4 new key frames, and per pass about 2 x reach behind: a bound set by the pieces and the reach, not by 40
    assert max(held) <= 4 + 2 * 2 * (4 + 1)
    assert max(held[len(held) // 2 :]) == max(held[: len(held) // 2])


def test_nothing_goes_in_after_the_end(fusing_net):
    clip = torch.rand(1, 2, 3, 16, 16)
    stream = KeyStream(fusing_net)
    with torch.no_grad():
        sr, motion = fusing_net.key_frames(clip, [0, 1], [0])
    stream.push(clip, sr, motion)
    stream.finish()
    assert len(stream.pop()) == 3
    with pytest.raises(ValueError, match="finished"):
        stream.push(clip, sr, motion)
