"""Fixtures of the guard in front of Flask: the write slots, held by others."""

from __future__ import annotations

import pytest

from blog.web.writers import WriteSlots


@pytest.fixture
def slots_dir(tmp_path) -> str:
    """Where the app's write slots (WRITE_SLOTS_DIR) keep their lock files."""
    directory = tmp_path / "slots"
    directory.mkdir()
    return str(directory)


@pytest.fixture
def busy(slots_dir):
    """Another writer (another worker) holds the only slot."""
    other = WriteSlots(1, slots_dir)
    slot = other.try_acquire()
    assert slot is not None
    yield
    other.release(slot)
