"""`tpstvsr bench`: parse options, call evaluation.bench.bench."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .options import (
    Chunk,
    Device,
    Ensemble,
    MaxMemory,
    NetPreset,
    Overlap,
    Precision,
    Quality,
    Quiet,
    Tile,
    Weights,
    memory_cap,
)
from .root import app


@app.command("bench")
def bench_command(  # one parameter per flag: typer reads the signature
    sizes: Annotated[
        str,
        typer.Option("--sizes", help="Synthetic input sizes WxH, comma-separated (two sizes fit 80 columns)."),
    ] = "180x144,320x180",
    input: Annotated[Path | None, typer.Option("--input", help="Time this video instead of synthetic clips.")] = None,
    frames: Annotated[int, typer.Option("--frames", help="Input frames per clip.")] = 6,
    weights: Weights = None,
    model: NetPreset = None,
    device: Device = "auto",
    precision: Precision = "auto",
    quality: Quality = "balanced",
    chunk: Chunk = 16,
    overlap: Overlap = 2,
    tile: Tile = None,
    ensemble: Ensemble = None,
    max_memory: MaxMemory = None,
    reference: Annotated[
        bool,
        typer.Option("--reference/--no-reference", help="Also time ffmpeg's lanczos + minterpolate (slow)."),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (every field) instead of a table.")] = False,
    quiet: Quiet = False,
) -> None:
    """Seconds per output frame on this machine: decode, the network stage by stage, encode, end to end; and
    peak memory. The defaults take under 2 minutes on 2 CPU cores; progress goes to stderr."""
    from ..evaluation.bench import bench
    from ..evaluation.bench_table import bench_report

    err = Console(stderr=True)
    options = dict(
        sizes=sizes,
        input=input,
        frames=frames,
        weights=weights,
        preset=model,
        device=device,
        precision=precision,
        quality=quality,
        chunk=chunk,
        overlap=overlap,
        tile=tile,
        ensemble=ensemble,
        max_memory=memory_cap(max_memory),
        reference=reference,
    )
    if quiet:
        result = bench(**options)
    elif err.is_terminal:  # one status line that changes in place
        with err.status("tpstvsr bench: starting") as status:
            result = bench(**options, progress=lambda text: status.update(f"tpstvsr bench: {escape(text)}"))
    else:  # a log: a line per step
        result = bench(**options, progress=lambda text: err.print(f"bench: {escape(text)}", highlight=False))
    if json_out:
        typer.echo(json.dumps(result, indent=2))
    else:
        Console().print(bench_report(result))
