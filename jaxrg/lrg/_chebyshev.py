r"""Columns of the heat kernel :math:`e^{-\tau L}`: a Chebyshev expansion on blocks of unit vectors.

With a bound :math:`b \ge \lambda_{\max}(L)`, :math:`\hat L = 2L/b - I` has its spectrum in
:math:`[-1, 1]` and, with :math:`a = \tau b/2`,

.. math:: e^{-\tau L} = \sum_{k\ge 0} c_k T_k(\hat L), \qquad
    c_k = (2 - \delta_{k0})(-1)^k e^{-a} I_k(a),

so ``m`` terms cost ``m`` sparse products with an ``N × B`` block and err by at most
:math:`\sum_{k \ge m}|c_k|` in every entry (:math:`\|T_k(\hat L)\|_2 \le 1`). The coefficients
decay like :math:`e^{-k^2/2a}`: about :math:`9\sqrt a` terms reach float64 round-off.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def laplacian_bound(indptr, indices, weights) -> float:
    r"""Upper bound on :math:`\lambda_{\max}(L)` from a CSR adjacency (Collatz–Wielandt).

    :math:`\lambda_{\max}(D - A) \le \rho(D + A) \le \max_i (Qd)_i / d_i
    = \max_i (d_i + (Ad)_i/d_i)`
    over non-isolated nodes (``d`` the weighted degrees), i.e. degree plus mean neighbour
    degree: about half the Gershgorin bound :math:`2 d_{\max}` on hub-dominated graphs.

    The weights are divided by the power of two nearest the largest one first (exact) and the
    bound multiplied back: :math:`A d` squares the weights' scale, which overflowed for weights
    near 1e160 (an ``OverflowError`` deep inside the route) and underflowed near 1e-160.
    """
    weights = np.asarray(weights, dtype=np.float64)
    top = np.max(np.abs(weights), initial=0.0)
    scale = 2.0 ** np.frexp(top)[1] if 0 < top < np.inf else 1.0
    return _unit_bound(indptr, indices, weights / scale) * scale


def _unit_bound(indptr, indices, weights) -> float:
    """:func:`laplacian_bound` of weights of order one."""
    rows = np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))
    degree = np.bincount(rows, weights=weights, minlength=indptr.shape[0] - 1)
    neighbour = np.bincount(rows, weights=weights * degree[indices], minlength=degree.shape[0])
    active = degree > 0
    if not np.any(active):
        return 1.0
    bound = np.max(degree[active] + neighbour[active] / degree[active])
    return float(bound * (1 + 1e-12) + 1e-300)


#: Most Chebyshev terms the large-graph route will run (a = tau b / 2 up to about 1e8 in
#: float64); beyond it the eigendecomposition is cheaper on every graph that fits in memory.
MAX_TERMS = 100_000


def num_terms_bound(a: float, *, tol: float) -> int:
    r"""Closed-form upper bound on the number of terms :func:`heat_coefficients` keeps.

    :math:`e^{-a}I_k(a) \approx e^{-k^2/2a}/\sqrt{2\pi a}`, so the tail falls below ``tol`` by
    :math:`k = \sqrt{2a\log(2/\mathrm{tol})}`; ``+ log(2/tol)/2 + 5`` covers small ``a``, where
    the decay is factorial (checked against the recurrence for ``a`` from 1e-3 to 1e5 in
    ``tests/test_lrg.py``). Costs nothing, so the route can be chosen before any coefficient
    is computed.

    Args:
        a: :math:`\tau b/2 \ge 0`.
        tol: tail tolerance ``> 0``.

    Returns:
        The bound, a Python int.
    """
    log_tol = float(np.log(2 / tol))
    return int(np.ceil(np.sqrt(2 * max(a, 0.0) * log_tol) + log_tol / 2 + 5))


def heat_coefficients(a: float, *, tol: float) -> np.ndarray:
    r"""Chebyshev coefficients of :math:`e^{-a(1+x)}` on [-1, 1], truncated where the tail <= tol.

    :math:`e^{-a}I_k(a)` by Miller's backward recurrence
    :math:`I_{k-1} = I_{k+1} + (2k/a) I_k`, normalised with
    :math:`e^{-a}(I_0 + 2\sum_{k\ge1} I_k) = 1`: every coefficient to full relative accuracy, so
    the tail bound is not swamped by round-off.
    """
    if not a > 0:
        return np.array([1.0, 0.0])
    top = int(12 * np.sqrt(a) + 60)
    values = np.zeros(top + 2)
    values[top] = 1e-300
    for k in range(top, 0, -1):
        values[k - 1] = values[k + 1] + (2 * k / a) * values[k]
        if values[k - 1] > 1e250:  # rescale; the normalisation below removes the factor
            values[k - 1 :] *= 1e-250
    values = values[: top + 1] / (values[0] + 2 * np.sum(values[1 : top + 1]))
    coeffs = 2 * values * (-1.0) ** np.arange(top + 1)
    coeffs[0] /= 2
    tail = np.cumsum(np.abs(coeffs)[::-1])[::-1]  # tail[m] = sum_{k >= m} |c_k|
    num_terms = int(np.argmax(tail <= tol)) if np.any(tail <= tol) else top + 1
    return coeffs[: max(num_terms, 2)]


def padded(coeffs: np.ndarray) -> np.ndarray:
    """Zero-pad to the next power of two, so nearby ``tau`` share one compiled program."""
    size = 1 << int(np.ceil(np.log2(max(coeffs.shape[0], 2))))
    return np.concatenate([coeffs, np.zeros(size - coeffs.shape[0])])


@functools.partial(jax.jit, static_argnames=("block_size",))
def heat_block(lap, coeffs, num_terms, scale, start, *, block_size: int):
    r"""Columns ``start .. start + B - 1`` of :math:`\sum_{k<m} c_k T_k(\mathrm{scale}\cdot L - I)`.

    Args:
        lap: ``(N, N)`` Laplacian as a ``jax.experimental.sparse.BCSR`` matrix.
        coeffs: ``(M,)`` coefficients (zero-padded), ``num_terms = m <= M`` used.
        scale: ``2 / b``.
        start: first column; columns ``>= N`` come out zero.
        block_size: ``B`` (static).

    Returns:
        ``(N, B)``.
    """
    n = lap.shape[0]
    coeffs = coeffs.astype(lap.dtype)
    cols = start + jnp.arange(block_size)
    unit = (jnp.arange(n)[:, None] == cols[None, :]).astype(lap.dtype)

    def apply(x):
        return scale * (lap @ x) - x

    first = apply(unit)

    def body(k, state):
        previous, current, total = state
        following = 2 * apply(current) - previous
        return current, following, total + coeffs[k] * following

    total = coeffs[0] * unit + coeffs[1] * first
    return lax.fori_loop(2, num_terms, body, (unit, first, total))[2]
