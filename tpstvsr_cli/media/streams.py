"""Which of a source's audio, subtitle and chapter streams go into an output container, and how.

Copying is preferred (no quality loss, no time); a stream the container cannot hold is converted
(text subtitles to the container's text format, audio to AAC or Opus) or, when that is impossible
(bitmap subtitles in WebM), left out with a warning the user sees.
"""

from dataclasses import dataclass, field
from pathlib import Path

from .probe import VideoInfo

TEXT_SUBS = {"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text"}
_MP4 = {".mp4", ".m4v", ".mov"}
_MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac", "flac", "opus", "mp2"}
_NO_SUBS = {".avi", ".flv", ".ts", ".m2ts", ".mpg", ".mpeg", ".wmv", ".3gp"}


@dataclass
class StreamPlan:
    audio: list[str | None] = field(
        default_factory=list
    )  # per source audio stream: "copy", an encoder, None: the container's default
    subtitles: list[str | None] = field(default_factory=list)  # per source subtitle stream: codec or None (dropped)
    chapters: bool = False
    warnings: list[str] = field(default_factory=list)
    span: tuple[float, float | None] = (0.0, None)  # the piece of the source converted: (start, duration or None)

    def cut_to(self, span: tuple[float, float | None], output: Path) -> None:
        """Take the source's streams from this piece of it alone. Copied sound is re-encoded when the piece starts
        after 0: copied packets would begin before the first frame, and the muxer would shift the video by the
        difference (out of sync)."""
        self.span = span
        if span[0] > 0:
            codec = "libopus" if Path(output).suffix.lower() == ".webm" else "aac"
            self.audio = [codec if a == "copy" else a for a in self.audio]

    def source_input_options(self) -> dict:
        """ffmpeg input options that cut the source's sound and subtitles to the converted piece."""
        start, duration = self.span
        return ({"ss": f"{start:.6f}"} if start > 0 else {}) | ({} if duration is None else {"t": f"{duration:.6f}"})


def default_video_codec(output: Path) -> str:
    """libx264 everywhere except WebM, which only holds VP8/VP9/AV1."""
    return "libvpx-vp9" if Path(output).suffix.lower() == ".webm" else "libx264"


def plan_streams(info: VideoInfo, output: Path) -> StreamPlan:
    ext = Path(output).suffix.lower()
    plan = StreamPlan(chapters=info.chapters > 0 and ext in _MP4 | {".mkv", ".webm"})
    for codec in info.audio_codecs:
        if ext in _MP4 and codec not in _MP4_AUDIO:
            plan.audio.append("aac")
        elif ext == ".webm" and codec not in ("opus", "vorbis"):
            plan.audio.append("libopus")
        else:
            plan.audio.append("copy")
    for i, codec in enumerate(info.subtitle_codecs):
        text = codec in TEXT_SUBS
        if ext in _MP4:
            choice = "mov_text" if text else ("copy" if codec == "dvd_subtitle" else None)
        elif ext == ".mkv":
            choice = "srt" if codec == "mov_text" else "copy"
        elif ext == ".webm":
            choice = "webvtt" if text else None
        else:
            choice = None if ext in _NO_SUBS else "copy"
        if choice is None:
            plan.warnings.append(f"subtitle stream {i} ({codec}) cannot go into a {ext} file; it is left out")
        plan.subtitles.append(choice)
    changed = [
        f"audio stream {i} ({c}) re-encoded as {e}"
        for i, (c, e) in enumerate(zip(info.audio_codecs, plan.audio))
        if e != "copy"
    ]
    plan.warnings += [f"{msg}: {ext} cannot hold the original" for msg in changed]
    return plan


def side_streams(source, plan: StreamPlan) -> tuple[list, dict]:
    """ffmpeg-python streams to map from `source` (an ffmpeg.input) and the output options for them."""
    streams, opts = [], {}
    for i, enc in enumerate(plan.audio):
        streams.append(source[f"a:{i}"])
        if enc is not None:  # None: the container's default encoder (video/check.py's fallback)
            opts[f"c:a:{i}"] = enc
    kept = [(i, c) for i, c in enumerate(plan.subtitles) if c is not None]
    for j, (i, codec) in enumerate(kept):
        streams.append(source[f"s:{i}"])
        opts[f"c:s:{j}"] = codec
    return streams, opts


def map_side_streams(streams: list, kwargs: dict, source_path: Path, plan: StreamPlan) -> None:
    """Add the source's planned audio and subtitles, its metadata and chapters, to an output's ffmpeg-python
    streams and options (the encoder and the segment joiner both write outputs this way)."""
    import ffmpeg

    extra_streams, extra_opts = side_streams(ffmpeg.input(str(source_path), **plan.source_input_options()), plan)
    streams += extra_streams
    kwargs.update(extra_opts)
    kwargs["map_metadata"] = 1
    kwargs["map_chapters"] = 1 if plan.chapters else -1


def faststart(kwargs: dict, output: Path) -> None:
    if Path(output).suffix.lower() in (".mp4", ".m4v", ".mov"):
        kwargs["movflags"] = "+faststart"  # index at the front: plays while downloading


def keep_source_input(cmd: list[str], first_input: str, source_path: Path, plan: StreamPlan) -> list[str]:
    """When no stream comes from the source, ffmpeg-python leaves that input out; it is still input 1 for
    -map_metadata / -map_chapters, so put it back after the first input."""
    import ffmpeg

    if not side_streams(ffmpeg.input("x"), plan)[0]:
        at = cmd.index(first_input) + 1
        cmd[at:at] = [
            *(arg for k, v in plan.source_input_options().items() for arg in (f"-{k}", v)),
            "-i",
            str(source_path),
        ]
    return cmd
