"""Small synthetic sequences for the evaluation tests, as arrays, frame folders and lossless videos."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tpstvsr_cli.cli import main
from tpstvsr_cli.media.probe import ffmpeg_exe


def moving_texture(frames: int, height: int, width: int, step: int = 1, seed: int = 0) -> np.ndarray:
    """[frames, height, width, 3] uint8: a smooth random texture panning right by `step` pixels per frame."""
    rng = np.random.default_rng(seed)
    canvas = torch.from_numpy(rng.uniform(0, 255, (1, 3, height + 8, width + step * frames + 8)))
    canvas = F.avg_pool2d(canvas, 5, 1)  # smooth, so that upscaling methods have something to get right
    canvas = canvas[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()
    return np.stack([canvas[:height, k * step : k * step + width] for k in range(frames)])


def write_folder(folder: Path, frames: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"frame{i}.png")  # natural order: frame2 before frame10
    return folder


def write_lossless_video(path: Path, frames: np.ndarray) -> Path:
    """FFV1 in Matroska from RGB frames on a pipe: decodes back to exactly these frames."""
    n, h, w = frames.shape[:3]
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{w}x{h}",
        "-r",
        "25",
        "-i",
        "pipe:",
        "-c:v",
        "ffv1",
        "-pix_fmt",
        "bgr0",
        str(path),
    ]
    subprocess.run(cmd, input=np.ascontiguousarray(frames).tobytes(), check=True, capture_output=True)
    return path


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run `tpstvsr eval ARGS` through the installed entry point (cli.main) in-process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["tpstvsr", "eval", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code or 0, out, err
