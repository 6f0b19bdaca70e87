"""One table of tolerances for the whole suite (STYLE.md habit 11).

float64: tight, limited by eigh round-off on graphs of a few hundred nodes.
float32: documented accuracy of the float32 path (README "Numerical accuracy").
"""

import json
import pathlib

import numpy as np

TOL = {
    np.dtype("float64"): {"rtol": 1e-10, "atol": 1e-12},
    np.dtype("float32"): {"rtol": 2e-4, "atol": 2e-5},
}


def tol(dtype) -> dict:
    return TOL[np.dtype(dtype)]


#: records of small study units written by the code before the studies moved (issue 22)
STUDY_RECORDS = pathlib.Path(__file__).resolve().parent / "records" / "study_units.json"


def study_record(name: str):
    """The committed record ``name`` of a small study unit, to be matched with zero tolerance.

    The records were written on a CPU in float64; other backends order float sums differently,
    so a test comparing with them is skipped there.
    """
    import jax
    import pytest

    if jax.default_backend() != "cpu":
        pytest.skip("the study records were written on a CPU; other backends round differently")
    return json.loads(STUDY_RECORDS.read_text(encoding="utf-8"))[name]
