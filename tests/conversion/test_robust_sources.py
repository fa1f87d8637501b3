"""Sources that must simply work: odd sizes, rotation, variable rate, 10 bits, interlacing, PNG modes, names."""

import numpy as np
import pytest
from PIL import Image

from tpstvsr_cli.conversion.convert import upscale
from tpstvsr_cli.conversion.workdir import work_dir_for
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.endpoints import open_source
from tpstvsr_cli.media.frame_folder import read_frame as read_rgb
from tpstvsr_cli.media.probe import probe
from tpstvsr_cli.media.reader import VideoReader, read_all_frames
from tpstvsr_cli.media.writer import EncoderOptions

FAST = EncoderOptions(preset="ultrafast")


def shrink(frame, k=4):
    """Undo the 4x upscale by block means, to compare content with the source."""
    h, w, _ = frame.shape
    return frame.reshape(h // k, k, w // k, k, 3).mean(axis=(1, 3))


def convert(src, out, tiny_weights, **kw):
    return upscale(src, out, weights=tiny_weights, device="cpu", encoder=kw.pop("encoder", FAST), quiet=True, **kw)


def test_odd_width_and_height(tmp_path, clips, tiny_weights):
    result = convert(clips / "odd.mkv", tmp_path / "odd.mp4", tiny_weights)
    info = probe(tmp_path / "odd.mp4")
    assert (info.width, info.height) == (4 * 37, 4 * 29) and result.frames_out == 14


def test_rotated_portrait_video_comes_out_upright(tmp_path, clip_maker, run_ffmpeg, tiny_weights):
    plain = clip_maker(tmp_path / "plain.mp4", size="64x48", frames=4)
    rotated = tmp_path / "portrait.mp4"
    run_ffmpeg("-display_rotation", "90", "-i", str(plain), "-c", "copy", str(rotated))
    assert probe(rotated).rotation == 90
    convert(rotated, tmp_path / "up.mp4", tiny_weights)
    out = probe(tmp_path / "up.mp4")
    assert (out.width, out.height, out.rotation) == (4 * 48, 4 * 64, 0)  # upright pixels, no rotation flag
    upright = read_all_frames(rotated)[0].astype(float)
    assert np.abs(shrink(read_all_frames(tmp_path / "up.mp4")[0].astype(float)) - upright).mean() < 12


def test_variable_frame_rate_becomes_constant_with_sound_in_sync(tmp_path, run_ffmpeg, tiny_weights):
    vfr = tmp_path / "vfr.mp4"
    # 8 frames at 25 fps, then 8 at 12.5 fps (every other timestamp missing): last frame at 22/25 s
    run_ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=32x24:r=25",
        "-f",
        "lavfi",
        "-i",
        "sine",
        "-frames:v",
        "16",
        "-vf",
        "setpts='if(lt(N,8),N,8+(N-8)*2)/25/TB'",
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-t",
        "0.92",
        str(vfr),
    )
    src = probe(vfr)
    assert src.variable_rate and src.frame_rate == 25
    result = convert(vfr, tmp_path / "cfr.mp4", tiny_weights)
    out = probe(tmp_path / "cfr.mp4")
    assert result.frames_in == 23 and out.frame_rate == 50 and not out.variable_rate  # 23 slots of 1/25 s
    assert abs(result.frames_out / 50 - 23 / 25) < 1e-9
    assert out.audio_streams == 1 and abs(out.duration - src.duration) <= 1 / 25


def test_ten_bit_input_gives_eight_bit_unless_asked(tmp_path, clip_maker, tiny_weights):
    ten = clip_maker(tmp_path / "ten.mp4", size="32x24", frames=3, pix_fmt="yuv420p10le")
    eight = read_all_frames(ten)
    convert(ten, tmp_path / "out8.mp4", tiny_weights)
    assert probe(tmp_path / "out8.mp4").pix_fmt == "yuv420p"
    assert np.abs(shrink(read_all_frames(tmp_path / "out8.mp4")[0].astype(float)) - eight[0]).mean() < 12
    convert(
        ten, tmp_path / "out10.mp4", tiny_weights, encoder=EncoderOptions(preset="ultrafast", pix_fmt="yuv420p10le")
    )
    assert probe(tmp_path / "out10.mp4").pix_fmt == "yuv420p10le"


def _comb(frames):
    """How much each row differs from the mean of its neighbours: the saw-tooth of unweaved fields."""
    f = np.asarray(frames, float).mean(axis=3)
    return np.abs(f[:, 1:-1] - (f[:, :-2] + f[:, 2:]) / 2).mean()


def test_interlaced_input_is_deinterlaced_when_flagged(tmp_path, run_ffmpeg, tiny_weights):
    inter = tmp_path / "interlaced.mp4"
    # a white bar moving fast over black: its edges comb when the two fields are shown woven together
    run_ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=64x48:r=50",
        "-frames:v",
        "16",
        "-vf",
        "format=yuv420p,geq=lum='if(lt(mod(X-T*300,64),12),235,16)':cb=128:cr=128,tinterlace=mode=interleave_top,setfield=tff",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-flags",
        "+ilme+ildct",
        "-x264-params",
        "tff=1",
        str(inter),
    )
    assert probe(inter).field_order == "tt"
    assert open_source(inter).deinterlace and not open_source(inter, deinterlace=False).deinterlace
    with VideoReader(inter, deinterlace=True) as r:
        smooth = list(r)
    with VideoReader(inter) as r:
        combed = list(r)
    assert len(smooth) == len(combed) == 16  # one frame per interlaced frame: the rate stays
    assert _comb(smooth) < 0.8 * _comb(combed)
    assert convert(inter, tmp_path / "up.mp4", tiny_weights).frames_out == 32


def test_grey_paletted_and_alpha_pngs(tmp_path, tiny_weights):
    src = tmp_path / "mixed modes"
    src.mkdir()
    grey16 = (np.arange(16 * 24).reshape(16, 24) * 170).astype(np.uint16)
    Image.fromarray(grey16).save(src / "0.png")  # 16-bit grey
    Image.fromarray((grey16 >> 8).astype(np.uint8)).save(src / "1.png")  # 8-bit grey
    Image.fromarray(np.full((16, 24, 3), 90, np.uint8)).convert("P", palette=Image.ADAPTIVE).save(src / "2.png")
    rgba = np.zeros((16, 24, 4), np.uint8)
    rgba[..., 0], rgba[:, 12:, 3] = 200, 255
    Image.fromarray(rgba).save(src / "3.png")
    assert np.array_equal(read_rgb(src / "0.png")[..., 0], (grey16 >> 8).astype(np.uint8))
    assert read_rgb(src / "2.png")[0, 0].tolist() == [90, 90, 90]
    assert read_rgb(src / "3.png")[0, 0].tolist() == [0, 0, 0] and read_rgb(src / "3.png")[0, 20].tolist() == [
        200,
        0,
        0,
    ]
    result = convert(src, tmp_path / "up", tiny_weights)
    assert result.frames_out == 7 and Image.open(tmp_path / "up" / "00000000.png").mode == "RGB"


def test_names_with_spaces_and_non_ascii(tmp_path, clip_maker, tiny_weights):
    folder = tmp_path / "vieux films ü"
    folder.mkdir()
    src = clip_maker(folder / "l'été 1962 — 東京.mp4", size="32x24", frames=3)
    out = folder / "sortie à l'écran 東京.mkv"
    convert(src, out, tiny_weights)
    assert probe(out).audio_streams == 1 and not work_dir_for(out).exists()


def test_full_disk_is_a_clear_message_and_keeps_work(tmp_path, clips, tiny_weights, monkeypatch):
    """The disk fills up while frame 10 is written: a message naming the cause, complete segments kept."""
    import errno

    real_save, calls = Image.Image.save, []

    def save(self, fp, *args, **kwargs):
        calls.append(fp)
        if len(calls) == 10:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save)
    out = tmp_path / "frames"
    with pytest.raises(TpstvsrError, match=r"disk is full.*--resume.*1 complete segment\(s\) kept"):
        convert(clips / "testsrc.mp4", out, tiny_weights, segment=4)
    assert not out.exists() and len(list(work_dir_for(out).glob("*.png"))) == 9  # 8 kept + 1 of the unfinished segment
    monkeypatch.undo()
    assert convert(clips / "testsrc.mp4", out, tiny_weights, segment=4, resume=True).frames_out == 23
