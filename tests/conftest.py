"""Fixtures shared by the test modules.

The strict runtime (x64, strict promotion) is set in the root ``conftest.py``; pytest turns
warnings into errors (pyproject.toml). Shared tolerances live in ``tests/tolerances.py``.
"""

import os
import pathlib

import pytest


def _data_dir() -> pathlib.Path | None:
    root = os.environ.get("JAXRG_DATA")
    if not root:
        return None
    path = pathlib.Path(root)
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def data_dir() -> pathlib.Path:
    """The real datasets (``JAXRG_DATA``); tests that need them skip with a reason otherwise."""
    path = _data_dir()
    if path is None:
        pytest.skip(
            "real datasets not found: set JAXRG_DATA to the shared data folder "
            "(e.g. JAXRG_DATA=../shared/data)"
        )
    return path
