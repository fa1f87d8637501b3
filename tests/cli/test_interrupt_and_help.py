"""Issue 9, defect 6: Ctrl-C before the first segment finishes prints the resume command, an empty MP4 is a
clear one-line error, and help shows flags as flags."""

import signal
import subprocess
import sys

from typer.testing import CliRunner

from tpstvsr_cli.cli import app
from tpstvsr_cli.conversion.workdir import work_dir_for


def test_ctrl_c_before_the_first_segment_prints_the_resume_command(tmp_path, clip_maker, tiny_weights):
    movie = clip_maker(tmp_path / "movie.mp4", size="64x48", frames=300)
    out = tmp_path / "out.mp4"
    cmd = [
        sys.executable,
        "-m",
        "tpstvsr_cli",
        "upscale",
        str(movie),
        str(out),
        "--weights",
        str(tiny_weights),
        "--device",
        "cpu",
        "--preset",
        "ultrafast",
        "--segment-frames",
        "300",
    ]
    # A shell without job control starts background jobs with SIGINT ignored, and Python keeps it ignored:
    # give the child the default disposition so Ctrl-C is what a terminal user sends.
    default_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    seen = []
    for line in proc.stderr:  # plain progress lines: wait until the work has started
        seen.append(line)
        if "first window" in line:
            break
    assert proc.poll() is None, "".join(seen)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    err = "".join(seen) + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "nothing was kept" in err
    resume = next(line for line in err.splitlines() if line.startswith("to continue: tpstvsr upscale"))
    assert resume.endswith("--resume") and str(out) in resume
    assert not out.exists() and not work_dir_for(out).exists(), list(work_dir_for(out).iterdir())


def test_an_mp4_without_streams_is_a_clear_error(tmp_path, run_ffmpeg, tiny_weights):
    empty = tmp_path / "empty.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "color=s=64x48", "-frames:v", "0", str(empty))  # a header, no streams
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tpstvsr_cli",
            "upscale",
            str(empty),
            str(tmp_path / "o.mp4"),
            "--weights",
            str(tiny_weights),
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert "no streams" in proc.stderr and "N/A" not in proc.stderr


def test_help_shows_flags_without_a_value_type():
    for command in ("upscale", "batch", "bench"):
        text = CliRunner().invoke(app, [command, "--help"], terminal_width=200).output
        assert "<bool>" not in text, text
        assert "--overwrite" in text or "--recursive" in text or "--json" in text
    assert "<int>" in CliRunner().invoke(app, ["upscale", "--help"], terminal_width=200).output  # values keep theirs
