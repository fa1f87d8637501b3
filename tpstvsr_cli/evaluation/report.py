"""Presenting an EvalResult: a rich table for people, JSON for scripts."""

import json
from dataclasses import asdict

from rich import box
from rich.console import Console
from rich.table import Table

from .evaluate import BICUBIC, MODEL, EvalResult, Scores


def to_dict(result: EvalResult) -> dict:
    """Plain data, with the model's gain over bicubic (+ averaging) spelled out per sequence and overall."""
    data = asdict(result)
    for seq, raw in zip(result.sequences, data["sequences"]):
        raw["gain_over_bicubic"] = _gain(seq.scores)
    data["overall_gain_over_bicubic"] = _gain(result.overall)
    return data


def to_json(result: EvalResult) -> str:
    return json.dumps(to_dict(result), indent=2)


def _gain(scores: dict[str, Scores]) -> dict[str, float] | None:
    if MODEL not in scores or BICUBIC not in scores:
        return None
    m, b = scores[MODEL], scores[BICUBIC]
    return {"psnr": m.psnr - b.psnr, "psnr_interp": m.psnr_interp - b.psnr_interp}


def _rows(table: Table, name: str, scores: dict[str, Scores], end_section: bool) -> None:
    gain = _gain(scores)
    for i, (method, s) in enumerate(scores.items()):
        show_gain = method == MODEL and gain is not None
        table.add_row(
            name if i == 0 else "",
            method,
            f"{s.psnr:.2f}",
            f"{s.ssim:.4f}",
            f"{s.psnr_interp:.2f}",
            f"{s.ssim_interp:.4f}",
            f"{gain['psnr']:+.2f}" if show_gain else "",
            f"{gain['psnr_interp']:+.2f}" if show_gain else "",
            f"{s.seconds:.1f}s",
            end_section=end_section and i == len(scores) - 1,
        )


# (header, right-aligned); '-i' columns are the interpolated frames, 'gain' the model's PSNR over bicubic.
_COLUMNS = [
    ("sequence", False),
    ("method", False),
    ("PSNR", True),
    ("SSIM", True),
    ("PSNR-i", True),
    ("SSIM-i", True),
    ("gain", True),
    ("gain-i", True),
    ("time", True),
]


def build_table(result: EvalResult) -> Table:
    # A compact box and collapsed padding keep all nine columns inside an 80-column terminal.
    degrade = result.settings.get("degrade")
    table = Table(
        title=f"Luma (BT.601 Y) scores, model: {result.model}" + (f"; input degraded: {degrade}" if degrade else ""),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for header, right in _COLUMNS:
        if header == "sequence":  # long names fold; numbers never wrap
            table.add_column(header, overflow="fold", min_width=10, max_width=28)
        else:
            table.add_column(header, justify="right" if right else "left", no_wrap=True)
    for seq in result.sequences:
        _rows(table, seq.name, seq.scores, end_section=True)
    if len(result.sequences) > 1:
        _rows(table, f"mean of {len(result.sequences)}", result.overall, end_section=False)
    return table


def print_result(result: EvalResult, as_json: bool = False, console: Console | None = None) -> None:
    console = console or Console()
    if as_json:
        # print() rather than rich, so nothing wraps or colours the JSON.
        print(to_json(result))
        return
    console.print(build_table(result))
    s = result.settings
    console.print(
        f"device {s['device']}, {s['precision']}, chunk {s['chunk']}, {s['torch_threads']} torch threads. "
        "PSNR (dB)/SSIM: mean over all frames; '-i': over the interpolated (odd) frames only; "
        "gain: model PSNR minus bicubic PSNR (dB); time: producing the frames, scoring excluded. "
        "bicubic: bicubic x4 + averaging of neighbours; ffmpeg: lanczos x4 + minterpolate.",
        style="dim",
    )
