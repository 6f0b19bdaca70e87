"""One table of tolerances for the whole suite (STYLE.md habit 11).

float64: tight, limited by eigh round-off on graphs of a few hundred nodes.
float32: documented accuracy of the float32 path (README "Numerical accuracy").
"""

import numpy as np

TOL = {
    np.dtype("float64"): {"rtol": 1e-10, "atol": 1e-12},
    np.dtype("float32"): {"rtol": 2e-4, "atol": 2e-5},
}


def tol(dtype) -> dict:
    return TOL[np.dtype(dtype)]
