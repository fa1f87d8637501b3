"""Windows run as one key-frame stream (models/key_stream.py): each window super-resolves its core's key frames
only, and the neighbour fusion and in-between frames run across windows, each once (issue 19).

Used where a window runs whole: whole frames (no tiles, which the stream's fusion cannot see across) in full
windows (no shorter pieces), on a network that makes its in-between frames from key frames; the transform ensemble
runs one stream per transform. Anything
else runs window by window as before (runner.py). When the stream runs out of memory, the video goes on in
windows from the first output not handed out (StreamStopped), for the rest of the video and the next pieces.
"""

import numpy as np
import torch

from ..models.key_stream import KeyStream
from .ensemble import ENSEMBLES, transform, untransform
from .runner import WindowRunner, is_out_of_memory
from .team import installed
from .tensors import frames_to_tensor
from .windows import Window


class StreamStopped(Exception):
    """The stream ran out of memory; `restart` is the input frame whose window runs next, `skip` how many of
    that window's kept outputs were handed out already."""

    def __init__(self, restart: int, skip: int):
        super().__init__(f"restart at frame {restart}")
        self.restart, self.skip = restart, skip


def can_stream(run: WindowRunner, h: int, w: int) -> bool:
    """Whether a video of h x w frames runs as a key-frame stream (decided at its first window)."""
    model = run.model
    if getattr(model, "interp", None) is None or not hasattr(model, "key_frames"):
        return False
    if not hasattr(run.backend, "key_frames"):
        return False
    rows, cols = run.spans(h, w)
    windowed = ("piece", h, w) in run.plans or ("windowed", h, w) in run.plans
    return len(rows) == 1 and len(cols) == 1 and not windowed


class StreamedWindows:
    """One video's windows through one KeyStream per transform of the ensemble; window() gives the outputs each
    makes final (the transforms' streams stay in step: the same frames go into each)."""

    def __init__(self, run: WindowRunner, keys_only: bool = False):
        self.run, self.keys_only = run, keys_only
        self.transforms = ENSEMBLES[run.options.ensemble]
        self.streams = [KeyStream(run.model, midpoints=not keys_only) for _ in self.transforms]
        self.handed = 0  # the stream's outputs handed out (in keys-only runs, the skipped in-between ones too)

    @property
    def oldest_needed(self) -> int:
        """The first input frame a restart in windows would need outputs of (frames before it can go)."""
        return self.handed // 2

    def window(self, frames: list[np.ndarray], win: Window) -> list[torch.Tensor]:
        """The window's core key frames into the stream; out, the outputs now final, each [3, 4H, 4W] float32 on
        the CPU. Raises StreamStopped after an allocation failure (with the user warned)."""
        try:
            with torch.no_grad():
                out = self._window(frames, win)
        except (RuntimeError, MemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            failure = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        else:
            self.handed = self.streams[0].emitted
            return out
        h, w = frames[0].shape[:2]
        self.run.plans[("windowed", h, w)] = True
        self.run.warn(f"out of memory ({failure}); continuing window by window")
        self.streams = []  # their tensors go before the windows run
        if self.keys_only:
            raise StreamStopped((self.handed + 1) // 2, 0)
        raise StreamStopped(self.handed // 2, self.handed % 2)

    def _window(self, frames: list[np.ndarray], win: Window) -> list[torch.Tensor]:
        clip = frames_to_tensor(np.stack(frames), self.run.backend.input_dtype, self.run.device).unsqueeze(0)
        total: list[torch.Tensor] = []
        for k, stream in zip(self.transforms, self.streams):
            made = [untransform(frame, k) for frame in self._one(stream, transform(clip, k).contiguous(), win)]
            if len(self.transforms) == 1:
                return made
            # a sum of its own: the frames are views of keys the stream may still fuse or make midpoints from
            total = [m.clone() for m in made] if not total else [t.add_(m) for t, m in zip(total, made)]
        return [t.div_(len(self.transforms)) for t in total]

    def _one(self, stream: KeyStream, clip: torch.Tensor, win: Window) -> list[torch.Tensor]:
        """One transform's stream: its outputs now final, each [3, 4h, 4w] for the clip's h x w, float32 on the CPU
        (frame by frame: a window's outputs at once, and their uint8 conversion, took a third more memory)."""
        h, w = clip.shape[-2:]
        keys = list(range(win.core_start - win.start, win.core_end - win.start))
        pairs = [] if self.keys_only else [k for k in keys if k + 1 < clip.shape[1]]
        if stream.count != win.core_start:
            raise ValueError(f"the stream has {stream.count} key frames; the window's core starts at {win.core_start}")
        sr, inputs, motion = self.run.backend.key_frames(clip, keys, pairs)
        stream.push(inputs, sr, {k + win.start: m for k, m in motion.items()})
        del sr, inputs, motion
        if win.last:
            stream.finish()
        with installed(getattr(self.run.backend, "team", None)):
            made = stream.pop()
        return [frame[0, :, : 4 * h, : 4 * w].float().cpu() for frame in made]
