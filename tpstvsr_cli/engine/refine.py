"""The output refinement (models/output_refine.py) over the engine's finished uint8 frames.

It runs after the windows, tiles and ensemble, on each output frame as it is handed out, so it sees the rounded
frames it was trained on and none of the windowing: output t reads only itself and the input frames it lies
between (t // 2 and (t + 1) // 2; with --keep-rate, output t is input t's key frame). Those inputs were read before
output t could be made, so they are kept from the source as it is read, and dropped once no later output needs them.
"""

from collections.abc import Iterator

import numpy as np
import torch

from .tensors import frames_to_tensor, tensor_to_frames


class KeptInputs:
    """The source's frames as the windows read them, each kept until `drop_before` lets it go."""

    def __init__(self, source: Iterator[np.ndarray]):
        self.source, self.frames, self.read = source, {}, 0

    def __iter__(self) -> Iterator[np.ndarray]:
        for frame in self.source:
            self.frames[self.read] = frame
            self.read += 1
            yield frame

    def pair(self, a: int, b: int) -> np.ndarray:
        return np.stack([self.frames[a], self.frames[b]])

    def drop_before(self, index: int) -> None:
        for k in [k for k in self.frames if k < index]:
            del self.frames[k]


def refined_frames(
    backend, outputs: Iterator[np.ndarray], inputs: KeptInputs, keys_only: bool = False
) -> Iterator[np.ndarray]:
    """Each uint8 output frame [4H, 4W, 3] of `outputs` through backend.refine, with its two input frames."""
    for t, frame in enumerate(outputs):
        a, b = (t, t) if keys_only else (t // 2, (t + 1) // 2)
        pair = inputs.pair(a, b)
        inputs.drop_before(a)  # no later output lies before input a
        yield backend.refine(frame, pair)


def refine_on(module, frame: np.ndarray, pair: np.ndarray, device: torch.device, autocast) -> np.ndarray:
    """One uint8 frame [4H, 4W, 3] and its input pair [2, H, W, 3] through OutputRefine on `device`, in strips."""
    dtype = next(module.parameters()).dtype
    with torch.no_grad(), autocast:
        x = frames_to_tensor(frame[None], dtype, device)
        pair_t = frames_to_tensor(pair[None], dtype, device)
        out = module.strips(x.contiguous(), pair_t.contiguous())
    return tensor_to_frames(out[0].float())
