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
    """The committed record ``name`` of a small study unit.

    The records were written on a CPU in float64; other backends order float sums differently,
    so a test comparing with them is skipped there. They matched bit for bit on the CPU that wrote
    them (an AMD EPYC); on another x86 CPU (an Intel Xeon, 2026-12-05) the CLT-RG unit differed in
    the last bits (values that are 0 there came out ±3.5e-18), so float64 units are compared with
    :func:`assert_records_close`.
    """
    import jax
    import pytest

    if jax.default_backend() != "cpu":
        pytest.skip("the study records were written on a CPU; other backends round differently")
    return json.loads(STUDY_RECORDS.read_text(encoding="utf-8"))[name]


def assert_records_close(got, want, *, rtol: float = 1e-9, atol: float = 1e-15, path: str = ""):
    """``got == want`` for JSON-like records, floats within ``atol + rtol·|want|``.

    Keys, list lengths, strings, ints and bools must be equal; ``path`` names the first
    difference in the assertion message.
    """
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), f"{path}: keys differ"
        for key in want:
            assert_records_close(got[key], want[key], rtol=rtol, atol=atol, path=f"{path}/{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: lengths differ"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_records_close(g, w, rtol=rtol, atol=atol, path=f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, float | int), f"{path}: {got!r} is not a number"
        if got == want or (got != got and want != want):  # equal, infinities, NaN with NaN
            return
        assert abs(got - want) <= atol + rtol * abs(want), f"{path}: {got!r} != {want!r}"
    else:
        assert got == want and type(got) is type(want), f"{path}: {got!r} != {want!r}"
