import os
import shutil
from collections import namedtuple

import numpy as np
import pytest

from tpstvsr_cli.errors import TpstvsrError
from tpstvsr_cli.media.frame_folder import write_frame
from tpstvsr_cli.training import frame_pool
from tpstvsr_cli.training.frame_pool import _cache_name, load_pool


@pytest.fixture
def clip_folder(tmp_path):
    folder = tmp_path / "data" / "clip"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for t in range(6):
        write_frame(folder / f"{t:03d}.png", rng.integers(0, 255, (16, 24, 3), dtype=np.uint8))
    return folder


def test_the_cache_follows_content_not_place_or_time(tmp_path, clip_folder):
    """Data re-mounted elsewhere with new times (a new session's ../shared) reuses its cache entry."""
    moved = tmp_path / "elsewhere" / "clip"
    shutil.copytree(clip_folder, moved)
    for frame in moved.iterdir():
        os.utime(frame, (1, 1))
    assert _cache_name(moved) == _cache_name(clip_folder)
    film = tmp_path / "film.bin"
    film.write_bytes(b"x" * 3_000_000)
    copy = tmp_path / "elsewhere" / "film.bin"
    shutil.copy(film, copy)
    os.utime(copy, (1, 1))
    assert _cache_name(copy) == _cache_name(film)
    copy.write_bytes(b"x" * 2_999_999 + b"y")  # the same size, another last byte
    assert _cache_name(copy) != _cache_name(film)


def test_a_second_load_decodes_nothing(tmp_path, clip_folder):
    logged = []
    load_pool([clip_folder.parent], tmp_path / "cache", 3, log=logged.append)
    load_pool([clip_folder.parent], tmp_path / "cache", 3, log=logged.append)
    assert len(logged) == 1 and len(list((tmp_path / "cache").iterdir())) == 1


def test_a_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path, clip_folder, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(frame_pool.shutil, "disk_usage", lambda _: usage(2**40, 2**40 - 2**29, 2**29))
    with pytest.raises(TpstvsrError, match="not enough space .* 0.5 GiB are free"):
        load_pool([clip_folder.parent], tmp_path / "cache", 3, log=lambda *_: None)
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_failed_write_removes_its_partial_file(tmp_path, clip_folder, monkeypatch):
    def fail(path, frames):
        open(path, "wb").write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(frame_pool.np, "save", fail)
    with pytest.raises(TpstvsrError, match="could not cache clip .*No space left"):
        load_pool([clip_folder.parent], tmp_path / "cache", 3, log=lambda *_: None)
    assert list((tmp_path / "cache").iterdir()) == []
