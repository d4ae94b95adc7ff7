"""Fixtures for the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoenc_helpers.config import default_data_dir
from autoenc_helpers.data import FILES


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The data directory, when it holds every real data file; else the test is skipped."""
    root = default_data_dir()
    missing = [p for p in FILES if not (root / p).is_file()]
    if missing:
        pytest.skip(f"real data files not in {root} (set AUTOENC_DATA_DIR): {missing}")
    return root
