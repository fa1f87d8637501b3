"""`tpstvsr bench`'s table: one column per clip, one row per stage, in seconds per output frame.

Stages as rows, so that 80 columns hold the default run (two sizes) with every figure whole: a column per stage
(issue 19) cut "320x180" to "320x1..." at that width.
"""

from rich.console import Group
from rich.table import Table
from rich.text import Text

from .bench import NETWORK_STAGES

LABELS = {
    "decode": "decode",
    "network": "network",
    **{stage: f"  {stage}" for stage in NETWORK_STAGES},
    "encode": "encode",
    "end_to_end": "end to end",
}
NOTES = (
    "Seconds per output frame: the 2N-1 frames the network makes from N input frames. decode, network and "
    "encode are timed one after another; end to end overlaps them on three threads. The network's stages come "
    "from the models' marks (engine/stage_clock.py; launch times on a GPU), other is the rest of its time. "
    "GFLOP: per output frame, convolutions counted, motion and flow estimated."
)


def machine_line(m: dict) -> str:
    where = m["device"]
    if where.startswith("cpu ("):
        bf16 = ", bf16 instructions" if m.get("cpu_bf16") else ", no bf16 instructions"
        where = f"CPU {m['cpu']} ({m['threads']} threads{bf16})"
    return (
        f"tpstvsr bench on {where}, {m['precision']}, torch {m['torch']}\n"
        f"network: preset {m['preset']} ({m['parameters']:,} parameters), quality {m['quality']}, ensemble "
        f"{m['ensemble']}, chunk {m['chunk']}+{m['overlap']}; weights: {m['weights']}"
    )


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 100 else f"{value:.0f}"


def bench_table(result: dict) -> Table:
    rows = result["rows"]
    table = Table(title="seconds per output frame", title_justify="left")
    table.add_column("stage", no_wrap=True)
    for r in rows:
        w, h = (int(v) for v in r["size"].split("x"))
        table.add_column(f"{r['size']}\n-> {4 * w}x{4 * h}", justify="right", no_wrap=True)
    for part, label in LABELS.items():
        table.add_row(label, *(_seconds(r["seconds_per_frame"][part]) for r in rows))
    table.add_section()
    table.add_row("end to end, fps", *(f"{r['end_to_end_fps']:.2f}" for r in rows))
    if any(r["ffmpeg_reference_fps"] is not None for r in rows):
        table.add_row("ffmpeg reference, fps", *(_fps(r["ffmpeg_reference_fps"]) for r in rows))
    table.add_row("frames in / out", *(f"{r['frames_in']} / {r['frames_out']}" for r in rows))
    table.add_row("network GFLOP/frame", *(f"{r['gflop_per_frame']:.1f}" for r in rows))
    table.add_row("peak host memory", *(f"{r['peak_host_mib']:.0f} MiB" for r in rows))
    if any(r["peak_gpu_mib"] is not None for r in rows):
        table.add_row("peak GPU memory", *(_mib(r["peak_gpu_mib"]) for r in rows))
    return table


def _fps(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MiB"


def bench_report(result: dict) -> Group:
    """The machine line, the table and what its figures mean."""
    notes = [*result["machine"].get("notes", []), NOTES]
    return Group(Text(machine_line(result["machine"])), bench_table(result), Text("\n".join(notes), style="dim"))
