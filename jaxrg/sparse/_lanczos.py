r"""Lanczos tridiagonalisation with a breakdown guard, Gauss quadrature and Ritz values.

``k`` steps of Lanczos on a symmetric operator :math:`M` from a start vector :math:`v`
(:math:`\|v\| = \beta_0`) give a tridiagonal :math:`T_k = Y\,\mathrm{diag}(\theta)\,Y^\top` with

.. math::
    v^\top f(M)\, v \approx \beta_0^2\sum_{j=1}^k Y_{1j}^2 f(\theta_j)
    \qquad\text{(Gauss quadrature, exact for polynomials of degree} \le 2k-1),

for *every* function :math:`f` at once — so one run per probe serves every :math:`\tau`. The
Ritz values :math:`\theta_j` converge first at the ends of the spectrum; each lies within its
residual :math:`|\beta_k Y_{kj}|` of an eigenvalue of :math:`M`.

Why not :func:`matfree.decomp.tridiag_sym`: it allocates the ``(k, N)`` Lanczos basis even
without re-orthogonalisation (0.8 GB per probe at ``N = 10^6``, ``k = 100``, float64), and it has
no breakdown guard — on a graph whose probe lies in a small invariant subspace (few distinct
eigenvalues, e.g. ``K_N``) the residual norm reaches 0 and the division returns garbage or NaN.
Here ``reortho="none"`` keeps three vectors (``O(N)`` memory: the route for ``10^6``+ nodes), and a
residual below ``100 eps ||M||`` ends the recurrence with zero couplings (the extra Ritz values get
weight 0). The tests check these coefficients against matfree's where both apply.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from jaxrg.eigenvalues import eigh_subspaces, projected_spectrum

REORTHO = ("full", "none")


class Tridiagonal(NamedTuple):
    """Lanczos coefficients; ``beta[-1]`` is the final residual norm (not part of ``T``)."""

    alpha: Float[Array, " k"]
    beta: Float[Array, " k"]
    norm: Float[Array, ""]  # ||v||, the start vector's norm
    basis: Float[Array, "b n"]  # the k Lanczos vectors if stored (reortho="full"), else (0, N)


def _norm(v):
    """``||v||`` with a finite gradient at ``v = 0`` (after a breakdown every vector is 0)."""
    squared = jnp.sum(v**2)
    positive = squared > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, squared, 1)), 0)


def lanczos(
    matvec, vector, num_matvecs: int, *, reortho: str, bound, project=None, keep_basis=False
) -> Tridiagonal:
    """``num_matvecs`` Lanczos steps (``lax.scan``) from ``vector``.

    Args:
        matvec: ``v -> M v`` for a symmetric ``M``.
        vector: ``(N,)`` start vector (any norm; 0 gives an all-zero result).
        num_matvecs: ``k`` (static), at most ``N``.
        reortho: ``"full"`` (classical Gram-Schmidt twice against every stored vector;
            ``O(kN)`` memory) or ``"none"`` (three-term recurrence; ``O(N)`` memory).
        bound: an upper bound of ``||M||`` (breakdown threshold ``100 eps bound``).
        project: optional ``v -> Pv``, an orthogonal projector that commutes with ``M``
            (the deflation of known eigenvectors), applied to every new Lanczos vector.
            Projecting only ``Mv`` is not enough: round-off along a deflated direction follows
            the Lanczos recurrence at its eigenvalue, which grows exponentially when that
            eigenvalue lies outside the rest of the spectrum (0 for the null space of ``L``).
        keep_basis: store the ``k`` Lanczos vectors with ``reortho="none"`` too (``O(kN)``
            memory; the Ritz vectors of the stable derivative,
            :func:`jaxrg.sparse._quadrature.run_quadrature`).

    Returns:
        :class:`Tridiagonal`.
    """
    if reortho not in REORTHO:
        raise ValueError(f"reortho must be one of {REORTHO}; got {reortho!r}.")
    n = vector.shape[0]
    if not 1 <= num_matvecs <= n:
        raise ValueError(f"num_matvecs must lie in [1, N={n}]; got {num_matvecs}.")
    dtype = vector.dtype
    tol = 100 * jnp.finfo(dtype).eps * jnp.asarray(bound, dtype)
    norm = _norm(vector)
    start = jnp.where(norm > 0, vector / jnp.where(norm > 0, norm, 1), 0)
    # the basis rides in the carry only where the steps need it (re-orthogonalisation); kept
    # for a caller, it is a stacked output (a carried basis costs reverse mode k copies of it)
    basis = jnp.zeros((num_matvecs, n) if reortho == "full" else (0, n), dtype)

    def step(carry, index):
        q, q_prev, beta_prev, basis = carry
        w = matvec(q)
        alpha = jnp.dot(q, w, precision=jax.lax.Precision.HIGHEST)  # no TF32 (docs/accelerators.md)
        w = w - alpha * q - beta_prev * q_prev
        if reortho == "full":
            basis = basis.at[index].set(q)
            for _ in range(2):  # "twice is enough" (Kahan, Parlett)
                w = w - jnp.matmul(
                    basis.T,
                    jnp.matmul(basis, w, precision=jax.lax.Precision.HIGHEST),
                    precision=jax.lax.Precision.HIGHEST,
                )
        if project is not None:
            w = project(w)
        beta = _norm(w)
        ok = beta > tol
        # breakdown: an invariant subspace is exhausted; stop coupling instead of dividing by ~0
        q_next = jnp.where(ok, w / jnp.where(ok, beta, 1), 0)
        beta = jnp.where(ok, beta, 0)
        kept = q if keep_basis and reortho != "full" else jnp.zeros((0,), dtype)
        return (q_next, q, beta, basis), (alpha, beta, kept)

    init = (start, jnp.zeros_like(start), jnp.zeros((), dtype), basis)
    (_, _, _, basis), (alpha, beta, kept) = jax.lax.scan(step, init, jnp.arange(num_matvecs))
    return Tridiagonal(alpha, beta, norm, kept if keep_basis and reortho != "full" else basis)


class Quadrature(NamedTuple):
    """Gauss quadrature of one Lanczos run."""

    nodes: Float[Array, " k"]  # Ritz values, ascending
    log_weights: Float[Array, " k"]  # log(||v||^2 Y_1j^2); -inf for weight < eps^2
    residuals: Float[Array, " k"]  # |beta_k Y_kj|: each node is this close to an eigenvalue


def tridiagonal_matrix(tri: Tridiagonal) -> jax.Array:
    """``T_k`` as a dense ``(k, k)`` matrix."""
    matrix = jnp.diag(tri.alpha)
    if tri.alpha.shape[0] > 1:
        off = tri.beta[:-1]
        matrix = matrix + jnp.diag(off, 1) + jnp.diag(off, -1)
    return matrix


def gauss_quadrature(tri: Tridiagonal) -> Quadrature:
    """Nodes, log-weights and residual bounds from the eigendecomposition of ``T_k``."""
    matrix = tridiagonal_matrix(tri)
    unit = jnp.zeros((matrix.shape[0], 1), matrix.dtype).at[0, 0].set(1)
    # the measure sum_j Y_1j^2 delta_theta_j with its exact derivative: through eigh's vectors it
    # is NaN where Ritz values repeat (the zero block after a breakdown, e.g. on K_N)
    nodes, first = projected_spectrum(matrix, unit, jnp.ones(matrix.shape[0], bool))
    vectors = jax.lax.stop_gradient(jnp.linalg.eigh(matrix)[1])  # residual bounds: no gradient
    # weights below eps^2 are round-off (e.g. the zero block after a breakdown): drop them
    # ... and a run from the zero vector (a dropped deflation row) has none: double where, as
    # d log(0) times a zero tangent is NaN
    live = (first > jnp.finfo(first.dtype).eps ** 2) & (tri.norm > 0)
    log_weights = jnp.where(
        live,
        2 * jnp.log(jnp.where(tri.norm > 0, tri.norm, 1)) + jnp.log(jnp.where(live, first, 1)),
        -jnp.inf,
    )
    residuals = jnp.abs(tri.beta[-1] * vectors[-1])
    return Quadrature(nodes, log_weights, residuals)


class RitzPairs(NamedTuple):
    """Ritz pairs of a block Krylov space, live ones first in ascending order.

    Attributes:
        values: ``(K b,)`` Ritz values; the live ones ascending, then the dead ones (``+inf``).
        vectors: ``(K b, N)`` orthonormal Ritz vectors (rows); zero rows for dead pairs.
        live: ``(K b,)`` False for the slots of columns lost to a breakdown.
    """

    values: Float[Array, " kb"]
    vectors: Float[Array, "kb n"]
    live: Bool[Array, " kb"]


def block_krylov_ritz(matvec, start, num_steps: int, *, bound, project=None) -> RitzPairs:
    r"""Rayleigh-Ritz on the block Krylov space of ``start`` (block Arnoldi, full re-orth.).

    A single-vector Krylov space holds one vector per *distinct* eigenvalue, so it misses the
    second copy of a degenerate eigenvalue (a lattice's :math:`\lambda_2` has two); a block of
    ``b`` start vectors resolves multiplicities up to ``b``. Every new block is orthogonalised
    twice against the whole basis; the Gram-Schmidt coefficients fill the projected matrix
    :math:`H = V^\top M V` (symmetrised), whose eigenpairs give the Ritz pairs. A new column
    whose norm after orthogonalisation is below ``100 eps bound`` (the Krylov space is
    exhausted, e.g. a graph with few distinct eigenvalues) is set to zero rather than
    normalised noise; its Ritz slots are reported as dead.

    Args:
        matvec: ``v -> M v`` for a symmetric ``M``.
        start: ``(b, N)`` start block.
        num_steps: block steps ``K`` (static; memory ``K b N``; ``K b <= N``).
        bound: an upper bound of ``||M||``.
        project: optional projector applied to every new block (see :func:`lanczos`).

    Returns:
        :class:`RitzPairs` with ``K b`` slots.
    """
    b, n = start.shape
    size = num_steps * b
    if size > n:
        raise ValueError(f"num_steps x block ({size}) must not exceed N={n}.")
    project = project or (lambda v: v)
    dtype = start.dtype
    tol = 100 * jnp.finfo(dtype).eps * jnp.asarray(bound, dtype)

    def orthonormal(w):
        q, r = jnp.linalg.qr(w.T)
        ok = jnp.abs(jnp.diagonal(r)) > tol
        # breakdown: drop exhausted columns instead of normalising round-off
        return jnp.where(ok[None, :], q, 0).T, jnp.where(ok[:, None], r, 0)

    block, _ = orthonormal(jax.vmap(project)(start))

    def step(carry, index):
        basis, block, h_matrix = carry
        basis = jax.lax.dynamic_update_slice(basis, block, (index * b, 0))
        w = jax.vmap(matvec)(block)  # (b, N)
        coeff = jnp.zeros((size, b), dtype)
        for _ in range(2):  # "twice is enough"
            c = jnp.matmul(basis, w.T, precision=jax.lax.Precision.HIGHEST)
            w = w - jnp.matmul(c.T, basis, precision=jax.lax.Precision.HIGHEST)
            coeff = coeff + c
        new_block, r = orthonormal(jax.vmap(project)(w))
        # column block `index` of V^T M V: the coefficients, and R on the next block row
        below = jax.lax.dynamic_update_slice(
            jnp.zeros((size, b), dtype), r, (jnp.minimum((index + 1) * b, size - b), 0)
        )
        column = coeff + jnp.where(index + 1 < num_steps, below, 0)
        h_matrix = jax.lax.dynamic_update_slice(h_matrix, column, (0, index * b))
        return (basis, new_block, h_matrix), None

    init = (jnp.zeros((size, n), dtype), block, jnp.zeros((size, size), dtype))
    (basis, _, h_matrix), _ = jax.lax.scan(step, init, jnp.arange(num_steps))
    # the deflation depends on the span of the low Ritz vectors, not on their basis
    values, vectors = eigh_subspaces((h_matrix + h_matrix.T) / 2)
    vectors = jnp.matmul(vectors.T, basis, precision=jax.lax.Precision.HIGHEST)
    live = jnp.sum(vectors**2, axis=1) > 0.5  # Ritz vectors of dead slots are 0
    order = jnp.argsort(jnp.where(live, values, jnp.inf))
    return RitzPairs(jnp.where(live, values, jnp.inf)[order], vectors[order], live[order])
