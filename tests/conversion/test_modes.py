"""--scale 2|3|4, --keep-rate (space only) and --keep-size (time only), each computed as cheaply as the network
allows (issue 9): rate, frame count, duration, pixel shape, sound and resume right in each."""

from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from tpstvsr_cli.conversion.convert import Interrupted, upscale
from tpstvsr_cli.media.probe import probe
from tpstvsr_cli.media.reader import read_all_frames
from tpstvsr_cli.media.writer import EncoderOptions

FAST = dict(device="cpu", quiet=True, chunk=4, encoder=EncoderOptions(preset="ultrafast"))


@pytest.fixture(scope="module")
def clip(tmp_path_factory, clip_maker):
    return clip_maker(tmp_path_factory.mktemp("modes") / "clip.mp4", size="32x24", frames=10)


@pytest.fixture(scope="module")
def anamorphic(tmp_path_factory, clip_maker):
    return clip_maker(tmp_path_factory.mktemp("ana") / "ana.mp4", size="40x24", frames=4, extra=("-vf", "setsar=4/3"))


def frames_of(folder):
    return [np.asarray(Image.open(p), np.int16) for p in sorted(folder.iterdir())]


@pytest.mark.parametrize(
    "options,size,rate,frames",
    [
        (dict(), 4, 2, 20),
        (dict(keep_rate=True), 4, 1, 10),
        (dict(keep_size=True), 1, 2, 20),
        (dict(scale=2), 2, 2, 20),
        (dict(scale=3, keep_rate=True), 3, 1, 10),
    ],
)
def test_each_mode_gives_its_size_rate_and_duration_with_sound(
    tmp_path, clip, tiny_weights, options, size, rate, frames
):
    out = tmp_path / "out.mp4"
    result = upscale(clip, out, weights=tiny_weights, **FAST, **options)
    src, dst = probe(clip), probe(out)
    assert (dst.width, dst.height) == (size * src.width, size * src.height)
    assert dst.frame_rate == rate * src.frame_rate
    assert result.frames_out == frames == len(read_all_frames(out)) and result.frames_in == 10
    assert abs(dst.duration - src.duration) <= 1 / float(src.frame_rate) and dst.audio_streams == 1


@pytest.mark.parametrize("options", [dict(scale=2), dict(keep_size=True), dict(keep_rate=True)])
def test_the_pixel_shape_is_kept(tmp_path, anamorphic, tiny_weights, options):
    out = tmp_path / "out.mkv"
    upscale(anamorphic, out, weights=tiny_weights, **FAST, **options)
    info = probe(out)
    assert info.sar == Fraction(4, 3) and info.width * info.sar / info.height == Fraction(40 * 4, 24 * 3)


def test_keep_rate_gives_the_key_frames_of_a_full_run_and_no_in_between_work(tmp_path, clip, mixing_net, monkeypatch):
    full, keys = tmp_path / "full", tmp_path / "keys"
    upscale(clip, full, model=mixing_net, **FAST)
    calls = []
    warp = mixing_net.interp.warp_midpoint
    monkeypatch.setattr(mixing_net.interp, "warp_midpoint", lambda *a: calls.append(1) or warp(*a))
    upscale(clip, keys, model=mixing_net, keep_rate=True, **FAST)
    expected = frames_of(full)[::2]
    got = frames_of(keys)
    assert len(got) == 10 and all(np.abs(a - b).max() <= 1 for a, b in zip(got, expected))
    assert not calls  # no in-between frame was made


def test_keep_size_runs_no_network_and_keeps_the_input_frames(tmp_path, clip, tiny_failing):
    folder = tmp_path / "frames"
    upscale(clip, folder, model=tiny_failing(fail_at=1, error=RuntimeError), keep_size=True, device="cpu", quiet=True)
    got = frames_of(folder)
    source = read_all_frames(clip).astype(np.int16)
    assert len(got) == 19 and got[0].shape == source[0].shape
    assert all(np.array_equal(got[2 * k], source[k]) for k in range(10))  # key frames: the input itself


def test_scale_2_is_the_4x_frames_downscaled(tmp_path, clip, tiny_weights):
    four, two = tmp_path / "four", tmp_path / "two"
    upscale(clip, four, weights=tiny_weights, **FAST)
    upscale(clip, two, weights=tiny_weights, scale=2, **FAST)
    for a, b in zip(frames_of(four), frames_of(two)):
        small = np.asarray(Image.fromarray(a.astype(np.uint8)).resize(b.shape[1::-1], Image.Resampling.BICUBIC))
        assert np.array_equal(small, b)


@pytest.mark.parametrize("options", [dict(keep_rate=True), dict(keep_size=True)])
def test_an_interrupted_run_resumes_to_the_same_frames(tmp_path, clip, tiny_failing, options, monkeypatch):
    from tpstvsr_cli.engine import time_only

    opts = dict(FAST, segment=4, chunk=2, overlap=1, **options)
    reference = tmp_path / "ref"
    upscale(clip, reference, model=tiny_failing(), **opts)
    out = tmp_path / "out"
    midpoint, calls = time_only.midpoint, []

    def interrupted_midpoint(*args):  # keep_size runs no network: stop it in its midpoints instead
        calls.append(1)
        if len(calls) >= 5:
            raise KeyboardInterrupt
        return midpoint(*args)

    monkeypatch.setattr(time_only, "midpoint", interrupted_midpoint)
    with pytest.raises(Interrupted):
        upscale(clip, out, model=tiny_failing(fail_at=4), **opts)
    assert 0 < len(list(out.with_name("out.tpstvsr-partial-work").glob("seg_*.done"))) < 3
    monkeypatch.undo()
    upscale(clip, out, model=tiny_failing(), resume=True, **opts)
    assert [p.name for p in sorted(out.iterdir())] == [p.name for p in sorted(reference.iterdir())]
    assert all(np.array_equal(a, b) for a, b in zip(frames_of(out), frames_of(reference)))


@pytest.mark.parametrize(
    "args,message",
    [
        (["--keep-rate", "--keep-size"], "choose one"),
        (["--scale", "2", "--keep-size"], "choose one"),
        (["--scale", "5"], "--scale must be 2, 3 or 4"),
    ],
)
def test_contradictory_modes_are_one_line_errors(tmp_path, clip, tiny_weights, upscale_refused, args, message):
    upscale_refused(tmp_path, clip, tiny_weights, args, message)
