"""The engine's team: pieces two at once on one-thread workers give exactly what the plain loop gives."""

import threading
import time

import pytest
import torch
from conftest import perturbed  # tests/ is on sys.path (pytest prepend mode)

from tpstvsr_cli.engine.stage_clock import StageClock, timed
from tpstvsr_cli.engine.team import Team, each, groups, installed, team_for, workers
from tpstvsr_cli.models.key_stream import KeyStream


@pytest.fixture(scope="module")
def team() -> Team:
    return Team(2, 1)


def test_without_a_team_each_is_a_plain_loop():
    seen = []
    assert each(lambda x: seen.append(threading.get_ident()) or x * 2, [1, 2, 3]) == [2, 4, 6]
    assert set(seen) == {threading.get_ident()} and workers() == 1


def test_a_team_keeps_the_order_and_runs_on_one_thread_each(team):
    def piece(x):
        time.sleep(0.01 * (3 - x))  # the first piece finishes last
        return x, torch.get_num_threads(), threading.current_thread().name

    with installed(team):
        assert workers() == 2
        out = each(piece, range(3))
    assert [x for x, _, _ in out] == [0, 1, 2]
    assert {n for _, n, _ in out} == {1}
    assert all(name.startswith("tpstvsr-team") for _, _, name in out)
    assert workers() == 1  # uninstalled after the block


def test_the_callers_torch_modes_reach_the_workers(team):
    def modes(_):
        return torch.is_grad_enabled(), torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")

    with installed(team), torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert each(modes, [0, 1]) == [(False, True, torch.bfloat16)] * 2
    with installed(team):
        assert each(modes, [0, 1])[0][:2] == (True, False)


def test_pieces_do_not_nest_and_an_error_comes_back_after_every_piece(team):
    done = []

    def piece(x):
        assert workers() == 1  # a worker's own `each` is a plain loop
        if x == 0:
            raise ValueError("piece 0 failed")
        time.sleep(0.05)
        done.append(x)

    with installed(team), pytest.raises(ValueError, match="piece 0 failed"):
        each(piece, [0, 1, 2])
    assert sorted(done) == [1, 2]


def test_making_a_team_leaves_torchs_thread_count_as_it_was():
    before = torch.get_num_threads()
    Team(2, 1)
    assert torch.get_num_threads() == before
    fresh = []
    thread = threading.Thread(target=lambda: fresh.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    assert fresh == [before]  # the default for threads started later too


def test_one_thread_or_a_gpu_gets_no_team():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert team_for(torch.device("cpu")) is None
    finally:
        torch.set_num_threads(before)
    assert team_for(torch.device("cuda")) is None


def test_groups():
    assert groups([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert groups([1, 2, 3]) == [[1], [2], [3]]  # no team: one at a time


def test_stage_time_of_a_busy_team_adds_up_to_the_wall_time(team):
    with StageClock() as clock, installed(team), timed("fusion"):
        each(lambda _: time.sleep(0.2), [0, 1])
    # two pieces of 0.2 s side by side, each counted half: 0.2 s of fusion, not 0.4 (the wait is not counted)
    assert 0.18 < clock.seconds["fusion"] < 0.3


def test_the_network_and_its_stream_give_the_same_numbers_with_a_team(team):
    net = perturbed("default")
    clip = torch.rand(1, 7, 3, 24, 32, generator=torch.Generator().manual_seed(4))
    keys = list(range(7))

    def run() -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            whole = net(clip, frames_per_pass=1)
            stream = KeyStream(net)
            sr, motion = net.key_frames(clip, keys, keys[:-1], 1)
            stream.push(clip, sr, motion)
            stream.finish()
            return whole, torch.stack(stream.pop(), 1)

    alone = run()
    with installed(team):
        together = run()
    assert alone[0].shape == (1, 13, 3, 96, 128) and alone[1].shape == (1, 13, 3, 96, 128)
    assert torch.equal(alone[0], together[0]) and torch.equal(alone[1], together[1])
