"""Scene cuts: found on decoded frames, never interpolated across, no temporal window spans one."""

import numpy as np
import pytest
from PIL import Image

from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.conversion.network_stage import SegmentEnd, SegmentStart, planned_outputs
from tpstvsr_cli.conversion.plan import find_cuts_and_count, plan_frames, shot_windows
from tpstvsr_cli.conversion.scene_cuts import CutDetector, find_cuts, scene_score
from tpstvsr_cli.media.reader import read_all_frames


def segment_outputs(frames, upscale, *, segment, pad, scene_threshold, start_segment=0, hold_last=True):
    """The frames through the conversion plan (one scan, then the segments from start_segment on)."""
    count, cuts = find_cuts_and_count(frames, scene_threshold)
    plan = plan_frames(count, cuts, segment, pad, hold_last)
    indices = range(start_segment, len(plan.segments))
    return [x for x in planned_outputs(iter(frames), upscale, plan, indices) if not isinstance(x, SegmentStart)]


def plan_pieces(a, b, lo, hi, n, cuts):
    """(core start, core end, window start, window end, ends a shot) of each piece, as shot_windows plans them."""
    return [(w.core_start, w.core_end, w.start, w.end, w.last) for w in shot_windows(a, b, lo, hi, n, cuts, pad=2)]


def flat(v):
    return np.full((4, 6, 3), v, np.uint8)


def blend_upscale(clip):
    """A stand-in network: 2L-1 outputs, odd ones the mean of their neighbours (a blend across anything)."""
    for i in range(2 * len(clip) - 1):
        yield clip[i // 2] if i % 2 == 0 else ((clip[i // 2].astype(int) + clip[i // 2 + 1]) // 2).astype(np.uint8)


def test_score_needs_a_jump_not_just_motion():
    assert scene_score(80.0, 0.0) == pytest.approx(0.8)
    assert scene_score(80.0, 78.0) == pytest.approx(0.02)  # steady fast motion
    detector = CutDetector(0.3)
    assert [detector.push(flat(v)) for v in (10, 12, 200, 201)] == [False, False, True, False]
    assert find_cuts([flat(10), flat(200)], threshold=0) == []


def test_pieces_stop_their_context_at_cuts():
    # core [8, 16), frames [6, 18) at hand, a cut before frame 11
    assert plan_pieces(8, 16, 6, 18, None, {11}) == [(8, 11, 6, 11, True), (11, 16, 11, 18, False)]
    assert plan_pieces(8, 12, 6, 12, 12, set()) == [(8, 12, 6, 12, True)]  # the end of the video ends a shot


@pytest.mark.parametrize("segment", [3, 4, 100])
def test_no_output_mixes_two_shots(segment):
    values = [10] * 5 + [200] * 4 + [90] * 3  # three shots
    items = list(segment_outputs([flat(v) for v in values], blend_upscale, segment=segment, pad=2, scene_threshold=0.3))
    frames = [int(x[0, 0, 0]) for x in items if not isinstance(x, SegmentEnd)]
    assert len(frames) == 2 * len(values)
    assert set(frames) == {10, 200, 90}  # no blend anywhere
    assert frames[9] == 10 and frames[10] == 200 and frames[17] == 200 and frames[18] == 90
    off = list(segment_outputs([flat(v) for v in values], blend_upscale, segment=segment, pad=2, scene_threshold=0))
    assert 105 in [int(x[0, 0, 0]) for x in off if not isinstance(x, SegmentEnd)]  # without detection: a blend


def test_resuming_mid_stream_gives_the_same_tail():
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (4, 6, 3), dtype=np.uint8) for _ in range(11)]
    whole = [
        x
        for x in segment_outputs(frames, blend_upscale, segment=3, pad=2, scene_threshold=0.3)
        if not isinstance(x, SegmentEnd)
    ]
    tail = [
        x
        for x in segment_outputs(frames, blend_upscale, segment=3, pad=2, scene_threshold=0.3, start_segment=2)
        if not isinstance(x, SegmentEnd)
    ]
    assert len(whole) == 22 and all(np.array_equal(a, b) for a, b in zip(whole[12:], tail, strict=True))


def _save(frames, folder):
    folder.mkdir()
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"{i:03d}.png")
    return folder


def test_two_clips_joined_convert_as_two_shots(tmp_path, clip_maker, tiny_weights):
    """testsrc2 then mandelbrot: the joined conversion is each clip's own conversion, with the cut held."""
    a = read_all_frames(clip_maker(tmp_path / "a.mp4", size="32x24", frames=6, audio=False))
    b = read_all_frames(clip_maker(tmp_path / "b.mp4", size="32x24", frames=5, audio=False, source="mandelbrot"))
    assert find_cuts(list(a) + list(b)) == [6]
    opts = dict(weights=tiny_weights, device="cpu", chunk=2, overlap=2, segment=4, quiet=True)
    joined = upscale(_save(list(a) + list(b), tmp_path / "ab"), tmp_path / "ab_x4", **opts)
    upscale(_save(list(a), tmp_path / "a"), tmp_path / "a_x4", **opts)
    upscale(_save(list(b), tmp_path / "b"), tmp_path / "b_x4", **opts)

    def frames(folder):
        return [np.asarray(Image.open(p)) for p in sorted(folder.iterdir())]

    ab, alone_a, alone_b = frames(tmp_path / "ab_x4"), frames(tmp_path / "a_x4"), frames(tmp_path / "b_x4")
    assert joined.frames_out == len(ab) == 2 * 11 - 1
    assert all(np.array_equal(x, y) for x, y in zip(ab[:11], alone_a, strict=True))
    assert np.array_equal(ab[11], ab[10])  # the frame between the shots: a copy, not a blend
    assert all(np.array_equal(x, y) for x, y in zip(ab[12:], alone_b, strict=True))


def test_scene_threshold_zero_interpolates_across(tmp_path, clip_maker, run_ffmpeg, tiny_weights):
    """Through the CLI on a video: with detection the cut frame repeats the last frame; with 0 it is a blend."""
    from typer.testing import CliRunner

    from tpstvsr_cli.cli import app

    a = clip_maker(tmp_path / "a.mp4", size="32x24", frames=4, audio=False)
    b = clip_maker(tmp_path / "b.mp4", size="32x24", frames=4, audio=False, source="mandelbrot")
    both = tmp_path / "both.mp4"
    run_ffmpeg(
        "-i",
        str(a),
        "-i",
        str(b),
        "-filter_complex",
        "[0:v][1:v]concat=n=2:v=1",
        "-c:v",
        "libx264",
        "-qp",
        "0",
        str(both),
    )
    results = {}
    for threshold in ("0.3", "0"):
        out = tmp_path / f"out_{threshold}.mp4"
        r = CliRunner().invoke(
            app,
            [
                "upscale",
                str(both),
                str(out),
                "--weights",
                str(tiny_weights),
                "--device",
                "cpu",
                "--scene-threshold",
                threshold,
                "--encoder-opt",
                "qp=0",
                "-q",
            ],
        )
        assert r.exit_code == 0, r.output
        results[threshold] = read_all_frames(out).astype(int)
    cut = results["0.3"]
    assert np.abs(cut[7] - cut[6]).mean() < 1.0  # held (lossless encode: only conversion rounding)
    assert np.abs(results["0"][7] - results["0"][6]).mean() > 10  # blended toward the next shot
