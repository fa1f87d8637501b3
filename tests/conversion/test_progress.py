"""Progress tells the truth (issue 9, defect 3; issue 20): rate and time left from whole network passes over the
run, smooth while the network works on a window, a line before the first frames, plain lines off a terminal."""

import io
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from rich.console import Console

from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.conversion.plan import Piece, Segment, pass_ends
from tpstvsr_cli.conversion.progress import ConversionProgress, TaskState, time_left
from tpstvsr_cli.engine.windows import Window
from tpstvsr_cli.media.writer import EncoderOptions


def test_time_left_counts_down_while_the_next_window_is_due_and_grows_once_it_is_late():
    # 4 windows of 10 units took 120 s (30 s each); 6 windows (60 units) remain.
    assert time_left(60, 40, 120.0, 0.0, 10) == 180.0  # right after a window: the run's pace
    assert time_left(60, 40, 120.0, 10.0, 10) == 170.0  # counts down while the next window runs
    assert time_left(60, 40, 120.0, 30.0, 10) == 150.0  # on time: the two readings meet (no jump either way)
    assert abs(time_left(60, 40, 120.0, 30.0, 10) - 50 * 150.0 / 50) < 1e-9  # = the pace if it ended right now
    late = [time_left(60, 40, 120.0, idle, 10) for idle in (40.0, 60.0, 90.0)]
    assert late == sorted(late) and late[0] > 150.0  # a late window: the rest will be slower, so it grows
    assert abs(late[-1] - 50 * 210.0 / 50) < 1e-9
    assert time_left(5, 95, 100.0, 50.0, 10) == 0.0  # the last window is running: nothing past it


def test_rate_is_sampled_on_whole_passes_not_on_frames_of_a_burst():
    # Each pass hands over 16 frames at once (encoded one by one, 0.1 s apart) every 30 s, seeing 14 input frames.
    task = TaskState("clip", total=64, run_start=100.0)
    task.set_passes([(16, 14), (32, 14), (48, 14), (64, 14)])
    task.advance(1, 130.0)
    assert task.rate(130.0) is None and task.time_left(130.0) is None  # a burst has begun: no reading from 1 frame
    for k in range(2, 17):
        task.advance(1, 130.0 + 0.1 * (k - 1))
    assert abs(task.rate(131.5) - 16 / 31.5) < 1e-9
    assert abs(task.time_left(131.5) - 3 * 31.5) < 1e-9
    assert abs(task.time_left(141.5) - (3 * 31.5 - 10)) < 1e-9  # smooth: down 1 s a second between windows
    task.advance(1, 160.0)  # the next burst's first frame changes nothing until its pass is in
    assert abs(task.time_left(160.0) - task.time_left(159.9) + 0.1) < 1e-9


def test_a_resume_counts_neither_its_frames_nor_passes():
    # 32 frames were done before; this run has two passes left of 16 frames each.
    task = TaskState("clip", total=64, completed=32, run_from=32, run_start=100.0)
    task.set_passes([(16, 14), (32, 14)])
    for k in range(16):
        task.advance(1, 140.0 + 0.1 * k)
    assert abs(task.rate(141.5) - 16 / 41.5) < 1e-9  # this run's 16 frames over this run's time
    assert abs(task.time_left(141.5) - 41.5) < 1e-9  # one pass like this one left


def test_without_passes_frames_are_the_unit():
    # The Ray engine's frame count: a segment's frames come at once, and the total grows as films are planned.
    task = TaskState("frames", total=400, run_start=0.0)
    task.advance(100, 50.0)
    assert abs(task.time_left(50.0) - 150.0) < 1e-9
    task.total = 500
    assert abs(task.time_left(50.0) - 200.0) < 1e-9


def test_pass_ends_follow_the_engines_walk():
    # A middle segment of 64 frames, 3 frames of context each side, chunk 8: its window starts 3 frames before its
    # core, so its first pass keeps 10 outputs, then 7 of 16, and a 6 from the last core (measured: burst sizes).
    middle = Piece(Window(61, 131, 64, 128, False), hold=False)
    ends = pass_ends([Segment(1, (middle,))], chunk=8, pad=3)
    assert [end for end, _ in ends] == [10, 26, 42, 58, 74, 90, 106, 122, 128]
    assert [seen for _, seen in ends] == [11] + [14] * 7 + [9]  # 8 + 3 + 3 seen, less at the window's edges
    # The first segment: no context before; its outputs end on a core's end, so one more pass runs (nothing kept).
    first = Piece(Window(0, 67, 0, 64, False), hold=False)
    ends = pass_ends([Segment(0, (first,))], chunk=8, pad=3)
    assert [end for end, _ in ends] == [16, 32, 48, 64, 80, 96, 112, 128, 129]
    assert ends[0][1] == 11 and ends[-1][1] == 6
    # A shot's end holds its last frame: the copy comes with the last pass.
    held = pass_ends([Segment(0, (Piece(Window(0, 5, 0, 5, True), hold=True),))], chunk=8, pad=3)
    assert held == [(10, 5)]


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


class CountingModel(torch.nn.Module):
    """The tiny network, counting its passes."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.calls = inner, 0
        self.pad_multiple = getattr(inner, "pad_multiple", 1)

    def forward(self, *args, **kwargs):
        self.calls += 1
        return self.inner(*args, **kwargs)


@pytest.mark.parametrize(
    "options",
    [
        dict(segment_frames=8),  # segments after the first start with context; one ends on a core's end
        dict(segment_frames=16, keep_rate=True),  # key frames alone
        dict(segment_frames=64, scene_threshold=0.0),  # one segment, the last frame held
    ],
)
def test_pass_ends_are_where_the_network_stage_hands_over_each_pass(tmp_path, clip_maker, options):
    from tpstvsr_cli.conversion.network_stage import planned_outputs
    from tpstvsr_cli.conversion.planning import plan_conversion
    from tpstvsr_cli.conversion.settings import ConversionSettings, InferenceOptions
    from tpstvsr_cli.models import build_model

    clip = clip_maker(tmp_path / "clip.mp4", size="32x24", frames=21, audio=False)
    settings = ConversionSettings(inference=InferenceOptions(chunk=4, overlap=1), device="cpu", **options)
    model = CountingModel(build_model("tiny"))
    conversion = plan_conversion(clip, tmp_path / "out.mp4", settings, model=model)
    indices = range(len(conversion.frames.segments))
    passes_at = []  # the passes run when each output frame was handed over (the stage is a plain generator here)
    for item in planned_outputs(conversion.source.frames(0), conversion.upscale, conversion.frames, indices):
        if isinstance(item, np.ndarray):
            passes_at.append(model.calls)
    seen = []
    for p in range(1, model.calls + 1):
        handed = sum(c <= p for c in passes_at)
        seen.append(handed if p in passes_at else handed + 1)  # a pass handing over nothing shows with the next
    planned = pass_ends(conversion.frames.segments, 4, conversion.frames.pad)
    assert [end for end, _ in planned] == seen
