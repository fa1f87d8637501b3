"""Progress tells the truth (issue 9, defect 3): rate and time left from the frames finished over the run,
updates while the network works on a window, a line before the first frames, plain lines off a terminal."""

import io
import re
import subprocess
import sys
import time

import torch
from rich.console import Console

from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.conversion.progress import ConversionProgress, TaskState
from tpstvsr_cli.media.writer import EncoderOptions


def test_rate_and_time_left_come_from_the_whole_run():
    # 16 frames arrive at once after 30 s (one window), as on a CPU: 0.53 fps, not a burst's speed.
    task = TaskState("clip", total=150, completed=32, run_start=100.0, run_from=32)
    assert task.rate(129.0) is None  # nothing finished in this run yet (32 were a resume's)
    task.completed += 16
    assert abs(task.rate(130.0) - 16 / 30) < 1e-9
    assert abs(task.time_left(130.0) - (150 - 48) * 30 / 16) < 1e-6
    assert task.rate(160.0) < task.rate(130.0)  # while the next window runs, the estimate ticks instead of freezing


class SlowModel(torch.nn.Module):
    """The tiny network taking `seconds` per pass, as a real one does on a CPU."""

    def __init__(self, inner, seconds):
        super().__init__()
        self.inner, self.seconds = inner, seconds
        self.pad_multiple = getattr(inner, "pad_multiple", 1)

    def forward(self, *args, **kwargs):
        time.sleep(self.seconds)
        return self.inner(*args, **kwargs)


def _frames_and_rates(text):
    return [(int(m.group(1)), float(m.group(2))) for m in re.finditer(r"(\d+)/24 frames \(\d+%\), ([\d.]+) fps", text)]


def test_plain_lines_while_the_network_works(tmp_path, clip_maker, tiny_weights):
    from tpstvsr_cli.models.release import load_model

    clip = clip_maker(tmp_path / "clip.mp4", size="32x24", frames=12)
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False, width=200)
    start = time.perf_counter()
    with ConversionProgress(console=console, interval=0.1) as progress:
        upscale(
            clip,
            tmp_path / "out.mp4",
            model=SlowModel(load_model(tiny_weights)[0], 0.4),
            device="cpu",
            chunk=4,
            overlap=1,
            progress=progress,
            encoder=EncoderOptions(preset="ultrafast"),
        )
    seconds = time.perf_counter() - start
    lines = stream.getvalue().splitlines()
    first_count = next(i for i, line in enumerate(lines) if re.search(r"[1-9]\d*/24 frames", line))
    assert any("running the network on the first window" in line for line in lines[:first_count])
    counts = _frames_and_rates(stream.getvalue())
    assert counts[-1][0] == 24
    assert len(counts) >= 4 and len({c for c, _ in counts}) < len(counts)  # lines between the windows' bursts
    overall = 24 / seconds
    assert max(rate for _, rate in counts) < 2 * overall  # never a burst's speed


def test_plain_lines_when_stderr_is_not_a_terminal(tmp_path, clip_maker, tiny_weights):
    clip = clip_maker(tmp_path / "clip.mp4", size="32x24", frames=6)
    cmd = [
        sys.executable,
        "-m",
        "tpstvsr_cli",
        "upscale",
        str(clip),
        str(tmp_path / "out.mp4"),
        "--weights",
        str(tiny_weights),
        "--device",
        "cpu",
        "--preset",
        "ultrafast",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert any(line.startswith("clip.mp4: loading the network") for line in lines)
    assert any(re.match(r"clip\.mp4: 12/12 frames \(100%\), [\d.]+ fps, ", line) for line in lines)
    assert "\x1b[" not in proc.stderr  # plain text, no cursor movement
