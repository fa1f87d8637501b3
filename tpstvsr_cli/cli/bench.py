"""`tpstvsr bench`: parse options, call evaluation.bench.bench."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .options import Chunk, Device, Ensemble, MaxMemory, NetPreset, Overlap, Precision, Tile, Weights, memory_cap
from .root import app


@app.command("bench")
def bench_command(  # one parameter per flag: typer reads the signature
    sizes: Annotated[
        str, typer.Option("--sizes", help="Synthetic input sizes WxH, comma-separated.")
    ] = "320x180,640x360",
    input: Annotated[Path | None, typer.Option("--input", help="Time this video instead of synthetic clips.")] = None,
    frames: Annotated[int, typer.Option("--frames", help="Input frames per clip.")] = 8,
    weights: Weights = None,
    model: NetPreset = None,
    device: Device = "auto",
    precision: Precision = "auto",
    chunk: Chunk = 8,
    overlap: Overlap = 2,
    tile: Tile = None,
    ensemble: Ensemble = 1,
    max_memory: MaxMemory = None,
    reference: Annotated[
        bool, typer.Option("--reference/--no-reference", help="Also time ffmpeg's lanczos + minterpolate.")
    ] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Measure decode, network, encode and end-to-end speed and peak memory on this machine."""
    from ..evaluation.bench import bench, bench_table

    cap = memory_cap(max_memory)
    result = bench(
        sizes=sizes,
        input=input,
        frames=frames,
        weights=weights,
        preset=model,
        device=device,
        precision=precision,
        chunk=chunk,
        overlap=overlap,
        tile=tile,
        reference=reference,
        ensemble=ensemble,
        max_memory=cap,
    )
    if json_out:
        typer.echo(json.dumps(result, indent=2))
    else:
        Console().print(bench_table(result))
