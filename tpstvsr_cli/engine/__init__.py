"""The inference engine: uint8 frames in, 2x the frames at 4x the size out, for a clip of any length and size.

- options.py: InferenceOptions (chunk, overlap, tiles, ensemble, memory cap), checked once when made;
- device.py: --device / --precision -> a Compute (device, dtype; half precision only where it runs well);
- windows.py: the one temporal window scheduler (core + context, the outputs each window keeps);
- tiles.py: spatial tiles and their crossfade weights;
- backend.py: the Backend interface (one window of one tile through the network) and TorchBackend;
- runner.py: a window through a backend, whole or in tiles, redone in finer tiles when memory runs out;
- team.py: a window's independent pieces (key frames, midpoints, ...) two at once on one-thread workers;
- stream.py: upscale_frames, the one entry point; memory.py / memory_size.py: what fits; cost.py: FLOPs.
"""

from .device import Compute, resolve_compute, resolve_device, resolve_precision
from .options import InferenceOptions
from .stream import context_frames, upscale_frames

__all__ = [
    "Compute",
    "InferenceOptions",
    "context_frames",
    "resolve_compute",
    "resolve_device",
    "resolve_precision",
    "upscale_frames",
]
