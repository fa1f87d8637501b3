"""Join encoded segments into the final video without re-encoding, muxing in the source's other streams."""

import subprocess
from pathlib import Path

import ffmpeg

from ..errors import TpstvsrError
from .probe import VideoInfo, ffmpeg_exe
from .reader import ffmpeg_reason
from .streams import StreamPlan, side_streams


def join_command(list_file: Path, output: Path, source: VideoInfo | None, plan: StreamPlan | None,
                 limit: float | None = None) -> list[str]:
    """The ffmpeg command that joins the listed segments into OUTPUT; `limit`: stop after that many seconds
    (the settings check joins one frame and a moment of sound, not the whole film's)."""
    # The concat demuxer reads the segments one after another, shifting each one's timestamps by the
    # durations before it; -c:v copy keeps the encoded frames bit for bit. Segment names are ours and
    # relative to the list, so -safe 0 is only needed because the list's own folder may hold any name.
    video = ffmpeg.input(str(list_file), f="concat", safe=0)
    streams, kwargs = [video.video], {"c:v": "copy"}
    with_source = source is not None and plan is not None
    if with_source:
        extra_streams, extra_opts = side_streams(ffmpeg.input(str(source.path)), plan)
        streams += extra_streams
        kwargs.update(extra_opts)
        kwargs["map_metadata"] = 1
        kwargs["map_chapters"] = 1 if plan.chapters else -1
    if output.suffix.lower() in (".mp4", ".m4v", ".mov"):
        kwargs["movflags"] = "+faststart"  # index at the front: plays while downloading
    if limit is not None:
        kwargs["t"] = limit
    cmd = (ffmpeg.output(*streams, str(output), **kwargs)
           .global_args("-nostdin", "-hide_banner", "-loglevel", "error", "-y")
           .compile(cmd=ffmpeg_exe()))
    if with_source and not side_streams(ffmpeg.input("x"), plan)[0]:
        # No stream comes from the source, so ffmpeg-python left that input out; it is still input 1
        # for -map_metadata / -map_chapters.
        at = cmd.index(str(list_file)) + 1
        cmd[at:at] = ["-i", str(source.path)]
    return cmd


def join_segments(segments: list[Path], output: Path, source: VideoInfo | None, plan: StreamPlan | None) -> None:
    """segments (in order) -> output, with the source's audio/subtitles/chapters/metadata as planned."""
    list_file = output.with_name(output.name + ".list.txt")
    list_file.write_text("".join(f"file '{p.name}'\n" for p in segments))  # relative to the list's folder
    proc = subprocess.run(join_command(list_file, output, source, plan), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors="replace")
    list_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        output.unlink(missing_ok=True)
        tail = ffmpeg_reason(proc.stderr) if proc.stderr.strip() else f"exit code {proc.returncode}"
        if "No space left on device" in tail:
            raise TpstvsrError(f"the disk is full (no space left on device) joining the segments into {output.name}; "
                               "free some space and run again with --resume")
        raise TpstvsrError(f"ffmpeg failed joining the segments into {output.name}: {tail}")
