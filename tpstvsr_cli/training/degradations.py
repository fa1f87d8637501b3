"""Random degradations of the training input, as Real-ESRGAN and RealBasicVSR train for real footage.

`tpstvsr train --degrade` degrades each sample's low-res input clip (after the protocol's 4x bicubic shrink and
8-bit rounding) with a random chain of steps, each present with its own probability, in a random order, at a
random strength: an H.264 encode and decode through the bundled ffmpeg (x264 at a random CRF and frame rate,
the lossy compression of DVDs and rips), Gaussian noise (per channel or grey, as sensor and film grain), and a
mild Gaussian blur (soft lenses, earlier rescales). A share of samples stays clean, so that the weights keep
what they learnt of clean input. The steps are media.degrade's, the same code as `tpstvsr eval --degrade`, so a
chain drawn here is a spec that eval can replay (str(spec)). All draws come from the training's numpy Generator
(the noise's seed too), so a resumed run degrades the same samples the same way.
"""

from dataclasses import dataclass

import numpy as np
import torch

from ..engine.tensors import frames_to_tensor, tensor_to_frames
from ..errors import TpstvsrError
from ..media.degrade import X264, Blur, DegradeSpec, Noise, degrade_frames


@dataclass(frozen=True)
class DegradeOptions:
    """How often and how strongly each step is drawn (probabilities per sample; ranges uniform)."""

    p_clean: float = 0.1  # the whole chain left out
    p_x264: float = 0.85
    crf: tuple[int, int] = (18, 35)  # inclusive
    fps: tuple[float, ...] = (12.0, 15.0, 24.0, 25.0, 30.0)
    p_noise: float = 0.5
    noise_sigma: tuple[float, float] = (1.0, 8.0)  # grey levels
    p_gray_noise: float = 0.4  # of the noisy samples: the same noise in R, G and B
    p_blur: float = 0.3
    blur_sigma: tuple[float, float] = (0.2, 0.8)  # input pixels: mild

    def __post_init__(self):
        for name in ("p_clean", "p_x264", "p_noise", "p_gray_noise", "p_blur"):
            if not 0 <= getattr(self, name) <= 1:
                raise TpstvsrError(f"degradation probability {name} must be in [0, 1], got {getattr(self, name)}")
        if not 0 <= self.crf[0] <= self.crf[1] <= 51:
            raise TpstvsrError(f"degradation CRF range must lie in 0..51, got {self.crf}")


def random_spec(rng: np.random.Generator, opts: DegradeOptions) -> DegradeSpec | None:
    """One random chain of steps (None: this sample stays clean)."""
    if rng.random() < opts.p_clean:
        return None
    steps = []
    if rng.random() < opts.p_x264:
        steps.append(X264(crf=int(rng.integers(opts.crf[0], opts.crf[1] + 1)), fps=float(rng.choice(opts.fps))))
    if rng.random() < opts.p_noise:
        sigma = float(rng.uniform(*opts.noise_sigma))
        steps.append(Noise(sigma=sigma, seed=int(rng.integers(2**31)), gray=bool(rng.random() < opts.p_gray_noise)))
    if rng.random() < opts.p_blur:
        steps.append(Blur(sigma=float(rng.uniform(*opts.blur_sigma))))
    if not steps:
        return None
    order = rng.permutation(len(steps))
    return DegradeSpec(tuple(steps[i] for i in order))


def degrade_batch(lr: torch.Tensor, rng: np.random.Generator, opts: DegradeOptions) -> torch.Tensor:
    """Input clips [B, T, 3, h, w] in 0..1 (8-bit values) -> each degraded by its own random chain."""
    out = lr.clone()
    for b in range(lr.shape[0]):
        spec = random_spec(rng, opts)
        if spec is not None:
            out[b] = frames_to_tensor(degrade_frames(tensor_to_frames(lr[b]), spec).frames)
    return out
