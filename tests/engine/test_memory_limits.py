"""Memory the planner may use (cgroup and address-space limits, --max-memory) and recovery from allocation failures."""

import resource
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from tpstvsr_cli.engine import InferenceOptions, memory, upscale_frames
from tpstvsr_cli.engine.backend import TorchBackend
from tpstvsr_cli.engine.runner import WindowRunner, core_pieces, is_out_of_memory
from tpstvsr_cli.engine.stream import make_runner
from tpstvsr_cli.engine.windows import temporal_windows
from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.models import build_model


@pytest.fixture(scope="module")
def net(mixing_net):
    return mixing_net


class FailsAbove(torch.nn.Module):
    """The network, except that a clip of more than `limit` input pixels per frame raises the CPU allocator's error."""

    def __init__(self, net, limit: int):
        super().__init__()
        self.net, self.limit, self.failures = net, limit, 0
        self.pad_multiple, self.interp = net.pad_multiple, net.interp

    def forward(self, clip, **kw):
        if clip.shape[-2] * clip.shape[-1] > self.limit:
            self.failures += 1
            raise RuntimeError(
                "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: "
                "you tried to allocate 1 bytes"
            )
        return self.net(clip, **kw)


def _frames(n=5, h=40, w=56):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def _runner(model, warnings=None, tile=None):
    backend = TorchBackend(model, torch.device("cpu"), torch.float32)
    return WindowRunner(
        backend,
        model,
        InferenceOptions(tile=tile, tile_overlap=8),
        window_frames=5,
        kept_frames=9,
        warn=(warnings.append if warnings is not None else None),
    )


def test_out_of_memory_errors_are_told_apart():
    assert is_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 5 GB"))
    assert is_out_of_memory(MemoryError())
    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))


def test_a_window_that_runs_out_of_memory_is_redone_in_finer_tiles(net, monkeypatch):
    """Same frames as a run that planned those tiles from the start; the finer plan is kept and announced once."""
    monkeypatch.setattr(
        "tpstvsr_cli.engine.runner.available_bytes", lambda device, cap=None: 1 << 40
    )  # plan: whole frames
    frames = _frames()
    warnings: list[str] = []
    failing = FailsAbove(net, limit=40 * 56 // 2)
    runner = _runner(failing, warnings)
    first = runner(frames, slice(0, 9))
    second = runner(frames, slice(0, 9))
    assert failing.failures >= 1 and len(warnings) >= 1 and "tiles" in warnings[0]
    rows, cols = runner.plans[(40, 56)]
    assert len(rows) * len(cols) > 1
    planned = _runner(net)
    planned.plans[(40, 56)] = (rows, cols)
    assert torch.equal(first, planned(frames, slice(0, 9)))
    assert torch.equal(first, second)
    count = failing.failures
    runner(frames, slice(0, 9))
    assert failing.failures == count  # the finer plan is kept: no new failure


def test_the_stream_finishes_with_a_warning(net, monkeypatch, capsys):
    monkeypatch.setattr("tpstvsr_cli.engine.runner.available_bytes", lambda device, cap=None: 1 << 40)
    frames = _frames(7)
    out = list(upscale_frames(FailsAbove(net, limit=40 * 56 // 2), frames, chunk=4, overlap=1, tile_overlap=8))
    assert len(out) == 13 and out[0].shape == (160, 224, 3)
    assert "out of memory" in capsys.readouterr().err


def test_when_even_the_smallest_tiles_fail_the_error_says_how_much_was_needed(net):
    runner = _runner(FailsAbove(net, limit=0))
    with pytest.raises(TpstvsrError, match=r"smallest tiles.*MiB"):
        runner(_frames(), slice(0, 9))


def test_max_memory_caps_the_budget():
    cpu = torch.device("cpu")
    assert memory.available_bytes(cpu, cap=12345) == 12345
    assert memory.available_bytes(cpu) > 12345


def test_cgroup_limit_is_read(tmp_path, monkeypatch):
    (tmp_path / "memory.max").write_text("1073741824\n")
    (tmp_path / "memory.current").write_text("268435456\n")
    monkeypatch.setattr(memory, "_cgroup_paths", lambda: [(tmp_path / "memory.max", tmp_path / "memory.current")])
    assert memory.cgroup_room() == 768 << 20
    assert memory.shared_room() <= 768 << 20
    (tmp_path / "memory.max").write_text("max\n")  # cgroup v2: no limit
    assert memory.cgroup_room() is None


def test_address_space_limit_is_seen_and_a_conversion_under_it_finishes(tmp_path):
    """Under `ulimit -v` the planner sees the room left, tiles, and the stream finishes (no allocator traceback)."""
    script = textwrap.dedent("""
        import resource, numpy as np, torch
        from tpstvsr_cli.engine import memory
        from tpstvsr_cli.engine.stream import upscale_frames
        from tpstvsr_cli.models import build_model
        torch.set_num_threads(1)
        net = build_model("tiny").eval()
        frames = [np.full((180, 320, 3), 100, np.uint8)] * 3
        list(upscale_frames(net, frames[:2], tile=0))  # warm-up: the allocator's own arenas
        vm = int([l for l in open("/proc/self/status") if l.startswith("VmSize")][0].split()[1]) * 1024
        limit = vm + (300 << 20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
        room = memory.address_space_room()
        assert 0 < room <= 300 << 20, room
        out = list(upscale_frames(net, frames, chunk=2, overlap=1))
        print("frames", len(out), out[0].shape)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "frames 5 (720, 1280, 3)" in done.stdout
    assert "Traceback" not in done.stderr
    assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY  # the limit stayed in the child


def _stitch_fails_above(frames: int, monkeypatch) -> None:
    """torch.zeros in the runner fails for stitch buffers of more than `frames` output frames."""
    real_zeros = torch.zeros

    def zeros(*shape, **kw):
        if len(shape) == 4 and shape[1] == 3 and shape[0] > frames:
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 176947200 bytes")
        return real_zeros(*shape, **kw)

    monkeypatch.setattr("tpstvsr_cli.engine.runner.torch.zeros", zeros)


def test_no_room_for_the_window_outputs_runs_the_window_in_shorter_pieces(net, monkeypatch):
    """The stitch buffer is as large as the window's outputs whatever the tiles, but shorter windows shrink it
    (issue 20: a 1.3 GB ulimit stopped here before the shorter-window retry could help)."""
    warnings = []
    runner = _runner(net, tile=24)
    runner.warn = warnings.append
    expected = _runner(net, tile=24)(_frames(), slice(0, 9))
    _stitch_fails_above(4, monkeypatch)
    out = runner(_frames(), slice(0, 9))
    assert out.shape == expected.shape
    assert any("chunks of" in w for w in warnings)


def test_no_room_for_the_outputs_of_the_shortest_pieces_is_an_error_that_names_the_chunk(net, monkeypatch):
    _stitch_fails_above(0, monkeypatch)
    with pytest.raises(TpstvsrError, match=r"output frames of one window.*smaller --chunk"):
        _runner(net, tile=24)(_frames(), slice(0, 9))


def test_onednn_allocation_failure_counts_as_out_of_memory():
    assert is_out_of_memory(RuntimeError("could not create a primitive"))


def test_conversion_estimate_grows_with_the_frame_and_counts_queues_and_stitching():
    model = build_model("tiny")
    fixed = memory.PIPELINE_FIXED_BYTES
    small = memory.conversion_bytes(model, 160, 96, 8, 3, torch.float32)
    big = memory.conversion_bytes(model, 320, 192, 8, 3, torch.float32)
    assert big - fixed == pytest.approx(4 * (small - fixed))
    network_only = 160 * 96 * memory.window_bytes_per_pixel(model, 15, torch.float32)  # 8 + 2 * 3 + 1 frames
    queues = 160 * 96 * memory.queue_bytes_per_pixel(memory.queue_depth(8, 3))
    assert small == pytest.approx(network_only + queues + fixed)
    assert memory.conversion_bytes(model, 160, 96, 8, 3, torch.float32, tiled=True) > small


def test_the_planner_leaves_room_for_the_frame_queues(monkeypatch):
    """A budget that fits one window alone but not with the converter's queues: the planner tiles."""
    model = build_model("tiny")
    runner = make_runner(model, InferenceOptions(chunk=8, overlap=2), "cpu")
    h, w = 96, 160
    window = h * w * memory.window_bytes_per_pixel(model, runner.window_frames, torch.float32)
    queues = h * w * memory.queue_bytes_per_pixel(memory.queue_depth(8, (runner.window_frames - 9) // 2))
    monkeypatch.setattr("tpstvsr_cli.engine.runner.available_bytes", lambda device, cap=None: int(window + queues / 2))
    rows, cols = runner.spans(h, w)
    assert len(rows) * len(cols) > 1
    monkeypatch.setattr("tpstvsr_cli.engine.runner.available_bytes", lambda device, cap=None: int(window + 2 * queues))
    runner.plans.clear()
    rows, cols = runner.spans(h, w)
    assert len(rows) * len(cols) == 1


@pytest.mark.parametrize("n, chunk, context, parts", [(20, 8, 2, 2), (21, 8, 3, 4), (9, 4, 0, 2), (17, 8, 2, 8)])
@pytest.mark.parametrize("keys_only", [False, True])
def test_core_pieces_are_the_windows_of_the_shorter_chunk(n, chunk, context, parts, keys_only):
    def as_run(window):
        keep = window.keep
        if keys_only:
            keep = slice(keep.start, 2 * (window.core_end - window.start) - 1, 2)
        return window.start, window.end, keep

    pieces = []
    for window in temporal_windows(n, chunk, context):
        start, end, keep = as_run(window)
        pieces += [(start + a, start + b, k) for a, b, k in core_pieces(end - start, keep, chunk // parts, context)]
    assert pieces == [as_run(window) for window in temporal_windows(n, chunk // parts, context)]


class FailsLonger(torch.nn.Module):
    """The network, except that a window of more than `limit` frames raises the CPU allocator's error."""

    def __init__(self, net, limit: int):
        super().__init__()
        self.net, self.limit = net, limit
        self.pad_multiple, self.interp = net.pad_multiple, net.interp

    def forward(self, clip, **kw):
        if clip.shape[1] > self.limit:
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes")
        return self.net(clip, **kw)


def test_when_the_smallest_tiles_fail_windows_get_shorter_for_the_rest_of_the_video(net, monkeypatch, capsys):
    """The pieces handed over stay as they were made; from the piece that failed on, the same frames as a run
    planned with the shorter chunk and those tiles from the start."""
    monkeypatch.setattr("tpstvsr_cli.engine.runner.available_bytes", lambda device, cap=None: 1 << 40)
    frames, plans = _frames(9), {}
    options = dict(overlap=1, tile_overlap=8)
    out = list(upscale_frames(FailsLonger(net, limit=6), frames, chunk=8, plans=plans, **options))
    assert plans[("piece", 40, 56)] == 2  # chunk 8 -> 4 -> 2: 2 + 2 * 2 context frames fit
    assert "continuing in chunks of 2 frames" in capsys.readouterr().err
    tiles = {(40, 56): plans[(40, 56)]}
    # chunk 4's first piece has no context before it (6 frames): it fits, and only the next one fails
    first = list(upscale_frames(net, frames, chunk=4, plans=dict(tiles), **options))[:8]
    rest = list(upscale_frames(net, frames, chunk=2, plans=dict(tiles), **options))[8:]
    assert len(out) == len(first) + len(rest) == 17
    assert all(np.array_equal(a, b) for a, b in zip(out, first + rest))


def test_when_one_frame_windows_fail_too_the_error_says_so(net, monkeypatch):
    monkeypatch.setattr("tpstvsr_cli.engine.runner.available_bytes", lambda device, cap=None: 1 << 40)
    with pytest.raises(TpstvsrError, match=r"smallest tiles and chunks of 2 frames.*MiB"):
        list(upscale_frames(FailsLonger(net, limit=2), _frames(9), chunk=4, overlap=1, tile_overlap=8))


def test_windows_are_planned_shorter_when_their_outputs_would_not_fit(net, monkeypatch):
    """The plan, not an allocation failure, shortens the windows when their stitched outputs alone would take
    more than half the budget (issue 20: a 1.3 GB ulimit reached it only after two failures)."""
    monkeypatch.setattr("tpstvsr_cli.engine.runner.available_bytes", lambda *a: 40 * 56 * 16 * 3 * 4 * 12)
    warnings = []
    backend = TorchBackend(net, torch.device("cpu"), torch.float32)
    options = InferenceOptions(chunk=8, tile_overlap=8)
    runner = WindowRunner(backend, net, options, window_frames=13, kept_frames=17, warn=warnings.append)
    expected = WindowRunner(backend, net, InferenceOptions(chunk=8, tile=0), 13, 17)(_frames(13), slice(4, 21))
    out = runner(_frames(13), slice(4, 21))
    assert runner.plans[("piece", 40, 56)] == 2 and any("chunks of 2 frames" in w for w in warnings)
    assert out.shape == expected.shape


def test_shorter_windows_hand_over_one_piece_at_a_time(net, monkeypatch):
    """A window run in pieces hands each piece's outputs over before the next piece runs, so one piece's outputs
    are held, not the whole window's (issue 20: concatenated, the pieces of a 320x180 window under a 1.3 GB
    ulimit took as much as the window they replaced)."""
    monkeypatch.setattr("tpstvsr_cli.engine.runner.available_bytes", lambda *a: 40 * 56 * 16 * 3 * 4 * 12)
    backend = TorchBackend(net, torch.device("cpu"), torch.float32)
    runs = []
    counting = lambda clip, keep: runs.append(keep) or backend(clip, keep)  # noqa: E731
    counting.device, counting.dtype, counting.input_dtype = backend.device, backend.dtype, backend.input_dtype
    counting.pad_multiple = backend.pad_multiple
    runner = WindowRunner(counting, net, InferenceOptions(chunk=8, tile_overlap=8), window_frames=13, kept_frames=17)
    parts = []
    for part in runner.outputs(_frames(13), slice(4, 21)):
        parts.append((part.shape[0], len(runs)))
    assert runner.plans[("piece", 40, 56)] == 2
    # outputs 4..20 of the window: cores of 2 frames, the last one frame; each piece run only when asked for
    tiles = parts[0][1]  # backend calls per piece
    assert [n for n, _ in parts] == [4, 4, 4, 4, 1] and [r for _, r in parts] == [tiles * i for i in range(1, 6)]
    assert torch.equal(torch.cat(list(runner.outputs(_frames(13), slice(4, 21)))), runner(_frames(13), slice(4, 21)))


def test_the_address_space_left_is_this_process_own(monkeypatch):
    """Under `ulimit -v` the budget is a larger share of the address space left (no other process takes from it)
    than of the host's free memory, which others share."""
    monkeypatch.setattr(memory, "shared_room", lambda: 8 << 30)
    monkeypatch.setattr(memory, "address_space_room", lambda: 400 << 20)
    cpu = torch.device("cpu")
    assert memory.available_bytes(cpu) == int((400 << 20) * memory.ADDRESS_SPACE_SHARE)
    monkeypatch.setattr(memory, "address_space_room", lambda: None)
    assert memory.available_bytes(cpu) == int((8 << 30) * memory.HOST_SHARE)
