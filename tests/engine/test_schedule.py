"""The pure geometry of windows and tiles: every output covered once, weights that sum to one."""

import pytest

from tpstvsr_cli.engine.tiles import crossfade, even_spans, plan_tiles, ramp, span_weights, tile_spans
from tpstvsr_cli.engine.windows import frames_needed, temporal_windows, window_for_core


@pytest.mark.parametrize("n", [2, 3, 7, 8, 9, 16, 17, 33])
@pytest.mark.parametrize("chunk,overlap", [(1, 0), (2, 0), (8, 2), (4, 3), (5, 1), (3, 6)])
def test_kept_outputs_cover_every_output_frame_once(n, chunk, overlap):
    covered = []
    for win in temporal_windows(n, chunk, overlap):
        assert 0 <= win.start <= win.core_start < win.core_end <= win.end <= n
        assert win.end - win.start >= 2  # the network needs two frames
        assert win.end - win.start <= chunk + 2 * overlap + 1
        covered += [2 * win.start + i for i in range(2 * (win.end - win.start) - 1)[win.keep]]
    assert covered == list(range(2 * n - 1))


def test_windows_carry_context_on_both_sides():
    wins = temporal_windows(20, 8, 2)
    assert [(w.start, w.end, w.core_start, w.core_end) for w in wins] == [
        (0, 10, 0, 8),
        (6, 18, 8, 16),
        (14, 20, 16, 20),
    ]
    assert [w.last for w in wins] == [False, False, True]


def test_streaming_window_matches_the_known_length_one():
    # Before the end is known, the window of a core equals the one computed from the full length.
    for n in range(2, 30):
        for core in range(0, n, 8):
            if frames_needed(core, 8, 2) <= n:
                streamed = window_for_core(core, 8, 2, None)
                known = window_for_core(core, 8, 2, n)
                assert (streamed.start, streamed.end, streamed.core_end) == (known.start, known.end, known.core_end)
                assert not known.last


def test_bad_chunking_is_rejected():
    with pytest.raises(ValueError):
        temporal_windows(10, 0, 2)
    with pytest.raises(ValueError):
        temporal_windows(10, 4, -1)


def test_crossfade_keeps_edges_out_and_pairs_sum_to_one():
    w = crossfade(16)
    assert w[:4] == [0.0] * 4 and w[-4:] == [1.0] * 4
    assert all(a <= b for a, b in zip(w, w[1:]))
    r1, r2 = ramp(40, 0, 16), ramp(40, 16, 0)
    assert [a + b for a, b in zip(r1[-16:], r2[:16])] == pytest.approx([1.0] * 16)


@pytest.mark.parametrize("size", [17, 48, 64, 100, 181, 360])
@pytest.mark.parametrize("tile,overlap,align", [(32, 8, 1), (40, 16, 2), (24, 4, 4), (64, 16, 8)])
def test_tiles_cover_the_frame_with_aligned_overlapping_spans(size, tile, overlap, align):
    spans = tile_spans(size, tile, overlap, align)
    assert spans[0][0] == 0 and spans[-1][1] == size
    assert all(a % align == 0 for a, _ in spans)
    for (a0, b0), (a1, _b1) in zip(spans, spans[1:]):
        assert a0 < a1 and b0 - a1 >= min(overlap, size)
    # Weights: every output sample gets a positive total weight.
    total = [0.0] * (4 * size)
    for (a, b), w in zip(spans, span_weights(spans, 4)):
        assert len(w) == 4 * (b - a)
        for i, v in enumerate(w):
            total[4 * a + i] += v
    assert min(total) > 0.99 and max(total) < 1.01


def test_one_tile_when_the_frame_fits():
    assert tile_spans(48, None, 16) == [(0, 48)]
    assert tile_spans(48, 64, 16) == [(0, 48)]
    with pytest.raises(ValueError):
        tile_spans(100, 20, 16)


@pytest.mark.parametrize("size", [37, 100, 181, 720, 1280])
@pytest.mark.parametrize("parts,overlap,align", [(2, 16, 2), (3, 8, 1), (5, 16, 4), (7, 4, 8)])
def test_even_spans_cover_with_aligned_overlaps_and_near_equal_lengths(size, parts, overlap, align):
    spans = even_spans(size, parts, overlap, align)
    assert len(spans) == (parts if size >= 100 else len(spans)) and spans[0][0] == 0 and spans[-1][1] == size
    assert all(a % align == 0 for a, _ in spans)
    for (a0, b0), (a1, _b1) in zip(spans, spans[1:]):
        assert a0 < a1 and b0 - a1 >= overlap
    lengths = [b - a for a, b in spans]
    assert max(lengths) - min(lengths) <= align + 1
    total = [0.0] * (4 * size)
    for (a, _b), w in zip(spans, span_weights(spans, 4)):
        for i, v in enumerate(w):
            total[4 * a + i] += v
    assert min(total) > 0  # every output sample covered (the runner divides by the total)


def test_plan_tiles_uses_the_fewest_tiles_that_fit():
    assert plan_tiles(720, 1280, 2e6, 16, 2) == (1, 1)
    ny, nx = plan_tiles(720, 1280, 500e3, 16, 2)
    assert ny * nx == 2  # one cut is enough for a budget a little over half the frame
    for budget in (500e3, 120e3, 30e3):
        ny, nx = plan_tiles(720, 1280, budget, 16, 2)
        th = max(b - a for a, b in even_spans(720, ny, 16, 2))
        tw = max(b - a for a, b in even_spans(1280, nx, 16, 2))
        assert th * tw <= budget
        smaller = [(y, x) for y in range(1, 40) for x in range(1, 40) if y * x < ny * nx]
        assert all(
            max(b - a for a, b in even_spans(720, y, 16, 2)) * max(b - a for a, b in even_spans(1280, x, 16, 2))
            > budget
            for y, x in smaller
        )


def test_plan_tiles_never_goes_below_the_smallest_tile():
    ny, nx = plan_tiles(100, 100, 1, 8, 1, min_tile=40)
    assert min(b - a for a, b in even_spans(100, ny, 8, 1)) >= 40
    assert min(b - a for a, b in even_spans(100, nx, 8, 1)) >= 40
