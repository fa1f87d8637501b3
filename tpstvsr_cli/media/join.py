"""Join encoded segments into the final video without re-encoding, muxing in the source's other streams."""

import subprocess
from pathlib import Path

import ffmpeg

from ..errors import TpstvsrError
from .errors import disk_full_message
from .probe import VideoInfo, ffmpeg_exe
from .reader import ffmpeg_reason
from .streams import StreamPlan, faststart, keep_source_input, map_side_streams


def join_command(
    list_file: Path, output: Path, source: VideoInfo | None, plan: StreamPlan | None, limit: float | None = None
) -> list[str]:
    """The ffmpeg command that joins the listed segments into OUTPUT; `limit`: stop after that many seconds
    (the settings check joins one frame and a moment of sound, not the whole film's)."""
    # The concat demuxer reads the segments one after another, shifting each one's timestamps by the
    # durations before it; -c:v copy keeps the encoded frames bit for bit. Segment names are ours and
    # relative to the list, so -safe 0 is only needed because the list's own folder may hold any name.
    video = ffmpeg.input(str(list_file), f="concat", safe=0)
    streams, kwargs = [video.video], {"c:v": "copy"}
    with_source = source is not None and plan is not None
    if with_source:
        map_side_streams(streams, kwargs, source.path, plan)
    faststart(kwargs, output)
    if limit is not None:
        kwargs["t"] = limit
    cmd = (
        ffmpeg.output(*streams, str(output), **kwargs)
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error", "-y")
        .compile(cmd=ffmpeg_exe())
    )
    return keep_source_input(cmd, str(list_file), source.path, plan) if with_source else cmd


def join_segments(segments: list[Path], output: Path, source: VideoInfo | None, plan: StreamPlan | None) -> None:
    """segments (in order) -> output, with the source's audio/subtitles/chapters/metadata as planned."""
    list_file = output.with_name(output.name + ".list.txt")
    list_file.write_text("".join(f"file '{p.name}'\n" for p in segments))  # relative to the list's folder
    proc = subprocess.run(
        join_command(list_file, output, source, plan),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
    )
    list_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        output.unlink(missing_ok=True)
        tail = ffmpeg_reason(proc.stderr) if proc.stderr.strip() else f"exit code {proc.returncode}"
        if "No space left on device" in tail:
            raise TpstvsrError(disk_full_message(f"joining the segments into {output.name}"))
        raise TpstvsrError(f"ffmpeg failed joining the segments into {output.name}: {tail}")
