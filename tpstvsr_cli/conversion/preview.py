"""`tpstvsr preview`: one frame pair of the input upscaled, bicubic beside tpstvsr, in one PNG, in seconds.

Input frame k (the one shown at --at) and k+1 go through the network in one window with the context a
conversion gives them (`--overlap` frames each side, within the film), and only two outputs are computed: key
frame 2k and the in-between frame 2k+1. The PNG holds two rows, each left bicubic, right tpstvsr, with a
caption strip above every panel: the key frame (bicubic: PIL's bicubic 4x of frame k), then the in-between
frame (bicubic: the average of the bicubic frames k and k+1, the baseline the evaluation compares with).
Scene cuts are not looked for: a pair across a cut shows a blend where a conversion would hold the frame.
With `also` (preview --source both) a third column shows a second network's frames (the compressed weights beside
the clean ones), from the same frames.
Nothing is written but OUTPUT, atomically (a hidden temporary file in its folder, renamed).
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import TpstvsrError
from ..media.endpoints import check_output, open_source
from ..media.timecode import clock, parse_time
from .settings import ConversionSettings, split_options

CAPTION = 16  # pixels of the caption strip above each panel
GAP = 4  # pixels between panels


@dataclass
class PreviewResult:
    input: Path
    output: Path
    frame: int  # input frame k: the key frame shown, and the in-between frame after it
    time: float  # its time in seconds
    width: int  # of the PNG
    height: int
    seconds: float


def _pair_with_context(input: Path, settings: ConversionSettings, at: float, pad: int) -> tuple[list, int, object]:
    """(frames k - pad .. k + 1 + pad within the film, index of k among them, source) for the frame at `at`."""
    probe_source = open_source(input, settings.fps, deinterlace=settings.deinterlace)
    rate = probe_source.rate
    length = probe_source.info.duration if probe_source.info is not None else len(probe_source.files) / rate
    if at < 0:
        raise TpstvsrError(f"--at must be 0 or more seconds, got {at:g}")
    if length is not None and at >= length:
        raise TpstvsrError(f"--at {at:g} s is past the end: the input lasts {clock(length)} ({float(length):g} s)")
    k = int(at * rate + 1e-6)  # the frame on screen at `at`
    first = max(0, k - pad)
    source = open_source(input, settings.fps, deinterlace=settings.deinterlace, start=float(first / rate))
    frames = []
    reader = source.frames()
    try:
        for frame in reader:
            frames.append(frame)
            if len(frames) >= k + 2 + pad - first:
                break
    finally:
        reader.close()  # stops the decoder
    if len(frames) < 2:
        raise TpstvsrError(f"{input} has a single frame at {at:g} s: there is no pair to preview")
    j = min(k - first, len(frames) - 2)  # the last frame pairs with the one before it
    return frames, j, source


def _bicubic(frame: np.ndarray, scale: int = 4) -> Image.Image:
    h, w = frame.shape[:2]
    return Image.fromarray(frame).resize((scale * w, scale * h), Image.Resampling.BICUBIC)


def _sheet(panels: list[tuple[str, Image.Image]], columns: int = 2) -> Image.Image:
    """Captioned panels, two rows of `columns`, in reading order."""
    w, h = panels[0][1].size
    sheet = Image.new("RGB", (columns * w + (columns - 1) * GAP, 2 * (h + CAPTION) + GAP), "white")
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default()
    for i, (caption, image) in enumerate(panels):
        x, y = (i % columns) * (w + GAP), (i // columns) * (h + CAPTION + GAP)
        draw.text((x + 2, y + 2), caption, fill="black", font=font)
        sheet.paste(image, (x, y + CAPTION))
    return sheet


def _save_atomically(image: Image.Image, output: Path) -> None:
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        image.save(tmp, format="PNG", compress_level=1)
        os.replace(tmp, output)
    except OSError as exc:
        raise TpstvsrError(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


def preview(
    input: Path,
    output: Path,
    at: float | str = 0.0,
    settings: ConversionSettings | None = None,
    *,
    model=None,
    weights: Path | None = None,
    overwrite: bool = False,
    label: str = "tpstvsr",
    also: tuple[str, Path] | None = None,
    **options,
) -> PreviewResult:
    """Write OUTPUT (a PNG): the key frame shown at `at` seconds and the in-between frame after it, each as
    bicubic (left) and tpstvsr (right; captioned `label`), and with `also` = (caption, weights) a third column from
    those weights. `options`: fields of ConversionSettings and InferenceOptions."""
    from ..engine.device import resolve_compute
    from ..engine.stream import context_frames, make_runner
    from ..engine.tensors import tensor_to_frames
    from ..models.loading import get_model
    from ..models.quality import apply_quality

    input, output = Path(input), Path(output)
    settings, run = split_options(settings, options)
    at = parse_time(at, "--at")
    if output.suffix.lower() != ".png":
        raise TpstvsrError(f"the preview is a PNG image: name OUTPUT *.png, not {output.name}")
    if not input.exists():
        raise TpstvsrError(f"no such file or folder: {input}")
    check_output(output, overwrite)
    compute = resolve_compute(settings.device, settings.precision)
    if compute.note:
        run.warn(compute.note)
    started = time.perf_counter()
    nets = [(label, model if model is not None else get_model(weights=weights, device=compute.device,
                                                                dtype=compute.weights_dtype)[0])]  # fmt: skip
    if also is not None:
        nets.append((also[0], get_model(weights=also[1], device=compute.device, dtype=compute.weights_dtype)[0]))
    for i, (name, net) in enumerate(nets):
        net, note = apply_quality(net, settings.quality)
        nets[i] = (name, net)
        if note and i == 0:
            run.warn(note)
    pad = max(context_frames(net, settings.inference.overlap) for _, net in nets)
    frames, j, source = _pair_with_context(input, settings, at, pad)
    k = round(float(source.start * source.rate)) + j
    t0, t1 = k / source.rate, (k + 0.5) / source.rate
    keys = [(f"bicubic: frame {k} ({float(t0):.3f} s)", _bicubic(frames[j]))]
    mids = [(f"bicubic + average: {k}|{k + 1} ({float(t1):.3f} s)",
             Image.blend(_bicubic(frames[j]), _bicubic(frames[j + 1]), 0.5))]  # fmt: skip
    for name, net in nets:
        runner = make_runner(net, settings.inference, compute.device, compute.precision, run.warn)
        key, mid = tensor_to_frames(runner(frames, slice(2 * j, 2 * j + 2)))
        keys.append((f"{name}: frame {k} ({float(t0):.3f} s)", Image.fromarray(key)))
        mids.append((f"{name}: in-between {k}|{k + 1} ({float(t1):.3f} s)", Image.fromarray(mid)))
    sheet = _sheet(keys + mids, columns=len(keys))
    _save_atomically(sheet, output)
    return PreviewResult(input, output, k, float(t0), *sheet.size, time.perf_counter() - started)
