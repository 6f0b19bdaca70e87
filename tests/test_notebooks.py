"""Every notebook in notebooks/ (jupytext .py) runs to the end, so none of them rots.

Notebooks with a dedicated test (``tests/test_notebook_<name>.py``, which also checks their
claims) are run there instead. ``JAXRG_NOTEBOOK_SMALL=1`` asks each notebook for small sizes.
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOKS = sorted(
    p
    for p in (ROOT / "notebooks").glob("*.py")
    if not (ROOT / "tests" / f"test_notebook_{p.stem}.py").exists()
)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(notebook, tmp_path):
    env = {
        **os.environ,
        "JAXRG_FIGURES": str(tmp_path),
        "JAXRG_NOTEBOOK_SMALL": "1",
        "MPLBACKEND": "Agg",
    }
    result = subprocess.run(
        [sys.executable, str(notebook)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
