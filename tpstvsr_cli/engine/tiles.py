"""Where the network looks in space: tiles and the weights that stitch them (pure functions, no torch).

Tiles overlap by at least `tile_overlap` input pixels; over each shared strip the outer quarter on either side
belongs to the tile that is far from its edge there, the middle half crossfades. Tile starts are multiples of
`align`, so the network's stride-2 grids match the whole frame's.
"""

import math


def crossfade(count: int) -> list[float]:
    """Weights of the later of two pieces over their `count` shared samples (the earlier gets 1 - w):
    0 over the first quarter, a linear ramp over the middle half, 1 over the last quarter."""
    quarter, half = count / 4, count / 2
    return [min(1.0, max(0.0, (i + 0.5 - quarter) / half)) for i in range(count)]


def ramp(length: int, lead: int, trail: int) -> list[float]:
    """Per-sample weights of one piece that shares `lead` samples with the previous piece and `trail`
    with the next: the crossfade over each shared part, 1 elsewhere.

    Where only two pieces meet, their weights sum to 1; where one piece's ramps cross (lead + trail >
    length) the smaller wins, and callers divide by the summed weights, so any coverage stitches.
    """
    up, down = crossfade(lead), [1.0 - w for w in crossfade(trail)]
    return [
        min(up[i] if i < lead else 1.0, down[i - (length - trail)] if i >= length - trail else 1.0)
        for i in range(length)
    ]


def tile_spans(size: int, tile: int | None, overlap: int, align: int = 1) -> list[tuple[int, int]]:
    """Cover [0, size) with spans of about `tile` samples overlapping by at least `overlap`.

    Every start is a multiple of `align`; the last span ends at `size` (it may be a little longer than
    `tile` because its start is rounded down). tile=None or tile >= size gives one span.
    """
    if tile is None or tile >= size:
        return [(0, size)]
    if overlap < 0 or tile < 2 * overlap + align:
        raise ValueError(f"tile {tile} too small for a tile overlap of {overlap}")
    stride = max(align, (tile - overlap) // align * align)
    spans, start = [], 0
    while start + tile < size:
        spans.append((start, start + tile))
        start += stride
    last = max(0, (size - tile) // align * align)
    if spans and last <= spans[-1][0]:
        spans.pop()  # the rounded-down last span covers everything the previous one did
    spans.append((last, size))
    return spans


def span_weights(spans: list[tuple[int, int]], scale: int = 1) -> list[list[float]]:
    """Crossfade weights of each span at `scale` times its resolution (the network's output is 4x)."""
    weights = []
    for i, (a, b) in enumerate(spans):
        lead = (spans[i - 1][1] - a) * scale if i > 0 else 0
        trail = (b - spans[i + 1][0]) * scale if i + 1 < len(spans) else 0
        weights.append(ramp((b - a) * scale, lead, trail))
    return weights


def even_spans(size: int, parts: int, overlap: int, align: int = 1) -> list[tuple[int, int]]:
    """Cover [0, size) with `parts` spans of near-equal length, neighbours sharing at least `overlap` samples.

    Starts are multiples of `align` (rounded down, so a span may be up to align-1 longer than the others).
    Used for automatic tiling: n equal tiles waste less work than fixed-size tiles with a ragged last one.
    """
    if size <= overlap:
        return [(0, size)]
    while parts > 1:
        length = min(size, -(-(size + (parts - 1) * overlap) // parts))  # ceil: parts*length >= size + overlaps
        if (size - length) / (parts - 1) >= align:
            break
        parts -= 1  # more parts than aligned starts: fewer, longer spans
    if parts <= 1:
        return [(0, size)]
    spans = []
    for i in range(parts):
        ideal = (
            i * (size - length) / (parts - 1)
        )  # exact starts would overlap by length - (size-length)/(parts-1) >= overlap
        start = int(ideal) // align * align
        spans.append((start, min(size, math.ceil(ideal) + length)))
    return spans


def plan_tiles(
    height: int, width: int, max_pixels: float, overlap: int, align: int = 1, min_tile: int = 0
) -> tuple[int, int]:
    """The fewest tiles (rows, cols) of even_spans whose largest tile has at most `max_pixels` pixels.

    Ties go to the plan that computes the smallest total area. Tiles never shrink below `min_tile` samples
    a side (nor below 2*overlap + align); when even those are over budget, the finest such grid is returned.
    """

    def longest(size: int, parts: int) -> int:
        return max(b - a for a, b in even_spans(size, parts, overlap, align))

    def shortest(size: int, parts: int) -> int:
        spans = even_spans(size, parts, overlap, align)
        return min(b - a for a, b in spans) if len(spans) == parts else 0

    floor = max(min_tile, 2 * overlap + align)

    def counts(size: int) -> list[int]:  # tile counts along one side whose tiles stay at least `floor` long
        out = [1]
        while len(out) < 64 and out[-1] < size and shortest(size, out[-1] + 1) >= floor:
            out.append(out[-1] + 1)
        return out

    rows, cols = counts(height), counts(width)
    best, finest = None, (rows[-1], cols[-1])
    for ny in rows:
        th = longest(height, ny)
        for nx in cols:
            tw = longest(width, nx)
            if th * tw <= max_pixels:
                key = (ny * nx, ny * nx * th * tw)
                if best is None or key < best[0]:
                    best = (key, (ny, nx))
                break  # more columns only add tiles for this row count
    return best[1] if best else finest
