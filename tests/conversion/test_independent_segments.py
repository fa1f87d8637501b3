"""Independent segments (issue 10): the plan is computed once and stored with the work, and any segment can be
converted alone, in any order (here: on a fresh handle, as another machine would), joining into the frames of a
straight run."""

import json

import numpy as np
import pytest

from tpstvsr_cli.conversion.convert import convert_segment, finish, upscale
from tpstvsr_cli.conversion.planning import plan_conversion
from tpstvsr_cli.conversion.settings import ConversionSettings, RunOptions
from tpstvsr_cli.conversion.workdir import work_dir_for
from tpstvsr_cli.engine import InferenceOptions
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.frame_folder import list_frames, read_frame
from tpstvsr_cli.media.reader import read_all_frames
from tpstvsr_cli.media.writer import EncoderOptions

SETTINGS = ConversionSettings(
    InferenceOptions(chunk=2, overlap=1), EncoderOptions(preset="ultrafast"), device="cpu", segment_frames=4
)


@pytest.fixture(scope="module")
def movie(tmp_path_factory, run_ffmpeg):
    """25 frames with a scene cut after frame 10 (two lavfi pictures), and sound."""
    path = tmp_path_factory.mktemp("movie") / "cut.mp4"
    graph = (
        "testsrc2=s=32x24:r=25:d=0.44,format=yuv420p[a];mandelbrot=s=32x24:r=25,trim=end_frame=14,"
        "setpts=PTS-STARTPTS,format=yuv420p[b];[a][b]concat=n=2:v=1:a=0[out0]"
    )
    run_ffmpeg(
        "-f",
        "lavfi",
        "-i",
        graph,
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=1",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-shortest",
        str(path),
    )
    return path


@pytest.fixture(scope="module")
def model(tiny_failing):
    return tiny_failing()


@pytest.mark.parametrize("name", ["out.mp4", "frames"])
def test_segments_out_of_order_join_into_the_straight_runs_frames(tmp_path, movie, model, name):
    straight = tmp_path / ("straight" + (".mp4" if name.endswith(".mp4") else ""))
    upscale(movie, straight, SETTINGS, model=model, quiet=True)
    out = tmp_path / name
    conversion = plan_conversion(movie, out, SETTINGS, model=model)
    plan = json.loads((work_dir_for(out) / "plan.json").read_text())
    assert plan["cuts"] and plan["frames"] == 25 and len(plan["segments"]) == 7
    order = [5, 0, 6, 3, 1, 4, 2]
    for index in order[:3]:
        convert_segment(conversion, index)
    # Another process: a fresh handle on the same work loads the stored plan instead of scanning again, and
    # leaves alone what other workers are writing now.
    busy = work_dir_for(out) / ("seg_00004.part.mp4" if name.endswith(".mp4") else "00000032.part.png")
    busy.write_bytes(b"another worker's segment 4, half written")
    again = plan_conversion(movie, out, SETTINGS, model=model, run=RunOptions(shared=True))
    assert busy.exists()
    busy.unlink()
    assert again.frames == conversion.frames and again.pending() == [1, 2, 3, 4]
    with pytest.raises(TpstvsrError, match="not converted yet"):
        finish(again)
    for index in order[3:]:
        convert_segment(again, index)
    state = json.loads((work_dir_for(out) / "resume.json").read_text())
    assert state["finished"] == list(range(7)) and state["done"] == 7
    finish(again)
    if name.endswith(".mp4"):
        assert np.array_equal(read_all_frames(out), read_all_frames(straight))
    else:
        got, want = list_frames(out), list_frames(straight)
        assert [p.name for p in got] == [p.name for p in want] and len(got) == 49
        assert all(np.array_equal(read_frame(a), read_frame(b)) for a, b in zip(got, want))
    assert not work_dir_for(out).exists()


def test_a_segment_alone_decodes_from_its_own_first_frame(tmp_path, movie, model, monkeypatch):
    """A worker converting segment 5 seeks to the first frame its windows read, not to the film's start."""
    conversion = plan_conversion(movie, tmp_path / "out.mp4", SETTINGS, model=model)
    segment = conversion.frames.segments[5]
    assert segment.first_frame > 0
    decoded = []
    frames = conversion.source.frames

    def counted(first=0):
        for frame in frames(first):
            decoded.append(first + len(decoded))
            yield frame

    monkeypatch.setattr(conversion.source, "frames", counted)
    convert_segment(conversion, 5)
    assert decoded[0] == segment.first_frame
    straight = read_all_frames(movie)
    assert np.array_equal(next(iter(frames(segment.first_frame))), straight[segment.first_frame])
