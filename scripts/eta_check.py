"""How far the time left is off during a real conversion, now and as it was counted frame by frame (issue 20).

Converts a generated clip with the shipped network (one thread), optionally after an interrupted first run
(--resume-after N output frames), records when each output frame arrives, and then replays the run: four times
a second it asks the progress for its time left and compares it with the time the run really still took. The
old estimate (this run's frames over this run's time, read on every frame) is replayed beside it. A negative
error is an optimistic reading.

    python scripts/eta_check.py                        # 64x48, 160 frames, segments of 64: about 40 s
    python scripts/eta_check.py --resume-after 140     # the same, continued from its first segment
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg
import torch

from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.conversion.progress import ConversionProgress, TaskState
from tpstvsr_cli.media.writer import EncoderOptions
from tpstvsr_cli.models.release import load_model


class Recorder(ConversionProgress):
    """Quiet; keeps the run's start, its passes and each frame's arrival time."""

    def __init__(self, stop_after: int | None = None):
        super().__init__(quiet=True)
        self.stop_after, self.arrivals, self.passes = stop_after, [], None

    def start_run(self, task_id, passes=None):
        super().start_run(task_id, passes=passes)
        task = self.tasks[task_id]
        self.start, self.total, self.run_from, self.passes = self.clock(), task.total, task.completed, passes

    def advance(self, task_id, n=1):
        super().advance(task_id, n)
        self.arrivals.append(self.clock())
        if self.stop_after is not None and self.tasks[task_id].completed >= self.stop_after:
            raise KeyboardInterrupt  # an interrupted run: its complete segments stay for the resume


def make_clip(path: Path, size: str, frames: int) -> None:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r=25"]
    subprocess.run([*cmd, "-frames:v", str(frames), "-pix_fmt", "yuv420p", str(path)], check=True)


def replay(rec: Recorder, end: float) -> dict[str, list[float]]:
    """Errors (estimate - truth) of the current and the frame-by-frame estimate, 4 times a second."""
    task = TaskState("clip", total=rec.total, completed=rec.run_from, run_from=rec.run_from, run_start=rec.start)
    task.set_passes(rec.passes)
    errors: dict[str, list[float]] = {"now": [], "frame by frame": []}
    now, i = rec.start, 0
    while now < end:
        while i < len(rec.arrivals) and rec.arrivals[i] <= now:
            task.advance(1, rec.arrivals[i])
            i += 1
        truth = end - now
        if task.time_left(now) is not None:
            errors["now"].append(task.time_left(now) - truth)
        if i:
            old = (rec.total - rec.run_from - i) * (now - rec.start) / i
            errors["frame by frame"].append(old - truth)
        now += 0.25
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="64x48")
    parser.add_argument("--frames", type=int, default=160)
    parser.add_argument("--segment-frames", type=int, default=64)
    parser.add_argument("--resume-after", type=int, default=None, help="interrupt a first run after N outputs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model()[0]
    with tempfile.TemporaryDirectory() as tmp:
        clip, out = Path(tmp) / "clip.mp4", Path(tmp) / "out.mp4"
        make_clip(clip, args.size, args.frames)
        opts = dict(model=model, device="cpu", segment=args.segment_frames, encoder=EncoderOptions(preset="ultrafast"))
        if args.resume_after:
            try:
                with Recorder(stop_after=args.resume_after) as first:
                    upscale(clip, out, progress=first, **opts)
            except KeyboardInterrupt:
                pass
        with Recorder() as rec:
            upscale(clip, out, progress=rec, resume=bool(args.resume_after), **opts)
        end = time.monotonic()
    print(f"run: {end - rec.start:.1f} s for {rec.total - rec.run_from} output frames")
    for name, errors in replay(rec, end).items():
        short = sum(e < -0.5 for e in errors)
        span = f"off by {min(errors):+.1f} .. {max(errors):+.1f} s (first reading {errors[0]:+.1f})"
        print(f"{name:>15}: {span}; short by over 0.5 s in {short} of {len(errors)} readings")


if __name__ == "__main__":
    sys.exit(main())
