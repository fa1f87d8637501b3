"""Decode (thread) -> network (thread) -> the caller, with bounded queues in between.

torch releases the GIL in its kernels, so the three stages overlap in time; the queues keep memory flat:
at most a couple of windows of frames are in flight, whatever the length of the video.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

import numpy as np

_END = object()


class _Stage(threading.Thread):
    """Pulls from an iterable and puts each item on a bounded queue; ends with _END or the exception."""

    def __init__(self, items: Callable[[], Iterable], out: queue.Queue, stop: threading.Event):
        super().__init__(daemon=True)
        self.items, self.out, self.stop = items, out, stop

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        items = None
        try:
            items = iter(self.items())
            for item in items:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, which raises it in the main thread
            self._put(exc)
        finally:
            if hasattr(items, "close"):
                items.close()  # a generator holding a decoder: stop that ffmpeg now, not at garbage collection


def _drain(q: queue.Queue, stop: threading.Event) -> Iterator:
    while True:
        try:
            item = q.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return
            continue
        if item is _END:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def run_pipeline(
    frames: Callable[[], Iterable[np.ndarray]],
    network: Callable[[Iterable[np.ndarray]], Iterable[np.ndarray]],
    depth: int = 16,
) -> Iterator[np.ndarray]:
    """Decode (thread) -> network (thread) -> the caller; bounded queues of `depth` frames in between."""
    stop = threading.Event()
    decoded, upscaled = queue.Queue(depth), queue.Queue(max(2, depth // 2))
    stages = [_Stage(frames, decoded, stop), _Stage(lambda: network(_drain(decoded, stop)), upscaled, stop)]
    for stage in stages:
        stage.start()
    try:
        yield from _drain(upscaled, stop)
    finally:
        stop.set()  # an error or an early exit downstream stops the other stages
        for stage in stages:
            stage.join(timeout=5)  # daemon threads: a stage stuck in a long kernel does not hold up exit
