"""Fixtures for the evaluation tests (helpers live in eval_synthetic.py, importable from the tests)."""

from pathlib import Path

import pytest
from eval_synthetic import moving_texture, write_folder


@pytest.fixture
def sequence_folder(tmp_path: Path) -> Path:
    """A frame folder of 8 PNGs at 66x50: an even count and sizes that are not multiples of 4."""
    return write_folder(tmp_path / "seq", moving_texture(8, 50, 66))
