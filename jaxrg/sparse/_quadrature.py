r"""Stochastic Lanczos quadrature of a graph Laplacian, with exact and low-mode deflation.

With :math:`P` the projector that removes the ``c`` component-constant vectors (the null space
of :math:`L`) and :math:`Q` (``r`` orthonormal columns in the range of :math:`P`, approximate
eigenvectors of the smallest non-zero eigenvalues), :math:`\Pi = P - QQ^\top`:

.. math::
    \mathrm{Tr}\,f(L) = c\,f(0) + \sum_{i=1}^r q_i^\top f(L)\,q_i + \mathrm{Tr}\,\Pi f(L)\Pi,
    \qquad \mathrm{Tr}\,\Pi f(L)\Pi = \mathbb E_z\big[(\Pi z)^\top f(L)(\Pi z)\big]

for Rademacher :math:`z` (Hutchinson). Every quadratic form :math:`v^\top f(L) v` is a Gauss
quadrature of a Lanczos run on :math:`PL` from :math:`v` (:mod:`jaxrg.sparse._lanczos`), exact
for polynomials of degree :math:`< 2k` and good for :math:`e^{-\tau\lambda}` at every
:math:`\tau` at once. The identity holds for *any* orthonormal :math:`Q`, so the estimator is
unbiased however rough :math:`Q` is; a good :math:`Q` removes the probe noise where it is worst,
at large :math:`\tau`, where a few slow modes carry :math:`Z - c` and the relative variance of
Hutchinson's estimator of :math:`\sum_i e^{-\tau\lambda_i}` approaches :math:`2/\text{(number of
modes)}` per probe (Gambhir, Stathopoulos & Orginos 2017; Meyer et al. 2021, "Hutch++").
:math:`Q` is the ``r`` lowest Ritz vectors of a block Krylov space (block size 4, so that
degenerate low modes — two copies of :math:`\lambda_2` on a square lattice — are found) with full
re-orthogonalisation (``deflate_matvecs`` products, memory ``deflate_matvecs x N``).

References:
    S. Ubaru, J. Chen, Y. Saad, "Fast estimation of tr(f(A)) via stochastic Lanczos
    quadrature", SIAM J. Matrix Anal. Appl. 38 (2017).
    A. Gambhir, A. Stathopoulos, K. Orginos, "Deflation as a method of variance reduction for
    estimating the trace of a matrix inverse", SIAM J. Sci. Comput. 39 (2017).
    R. A. Meyer, C. Musco, C. Musco, D. P. Woodruff, "Hutch++: optimal stochastic trace
    estimation", SOSA 2021.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from jaxrg import _checks, _progress
from jaxrg._numerics import power_of_two_scale
from jaxrg.eigenvalues import eigh_subspaces, projected_spectrum
from jaxrg.sparse._graph import (
    NullSpace,
    SparseGraph,
    as_sparse_graph,
    deflate,
    laplacian_matvec,
    null_space,
)
from jaxrg.sparse._lanczos import (
    REORTHO,
    Quadrature,
    RitzPairs,
    Tridiagonal,
    block_krylov_ritz,
    gauss_quadrature,
    lanczos,
)


class SpectralQuadrature(NamedTuple):
    """A weighted spectral measure of :math:`L` estimated by SLQ (a pytree).

    Attributes:
        nodes: ``(m, k)`` Ritz values of the probe runs.
        log_weights: ``(m, k)`` their log quadrature weights :math:`\\log(\\|\\Pi z\\|^2 Y_{1i}^2)`
            (``-inf``: no weight); the pooled measure scales their sum to
            ``N - c - r`` (:func:`jaxrg.sparse._slq.pooled_measure`).
        residuals: ``(m, k)`` residual bounds of the probe Ritz values.
        deflated_nodes: ``(r, k)`` Ritz values of the runs from the deflation vectors.
        deflated_log_weights: ``(r, k)`` their log weights (deterministic, not rescaled).
        num_components: scalar int ``c`` (exact zero modes).
        num_nodes: scalar int ``N``.
    """

    nodes: Float[Array, "m k"]
    log_weights: Float[Array, "m k"]
    residuals: Float[Array, "m k"]
    deflated_nodes: Float[Array, "r k"]
    deflated_log_weights: Float[Array, "r k"]
    num_components: Int[Array, ""]
    num_nodes: Int[Array, ""]


def check_quadrature(quad, name: str = "quad") -> SpectralQuadrature:
    """``quad`` if it is a :class:`SpectralQuadrature`; else a ``TypeError`` that names the fix.

    A graph passed where a quadrature belongs failed with an ``AttributeError`` about a field
    (``'SparseGraph' object has no attribute 'nodes'``).
    """
    if not isinstance(quad, SpectralQuadrature):
        raise TypeError(
            f"{name} must be a SpectralQuadrature from jaxrg.sparse.lanczos_quadrature(graph, "
            f"key=...); got {type(quad).__name__}. For a graph, run lanczos_quadrature first "
            "(or jaxrg.sparse.entropy_curves(graph, taus, key=...) for the curves in one call)."
        )
    return quad


class OperatorSetup(NamedTuple):
    """The Lanczos operator of a graph: ``graph`` holds ``L / scale`` (see :func:`operator_setup`);
    every eigenvalue and residual it yields is multiplied by ``scale`` on the way out."""

    graph: SparseGraph
    null: NullSpace
    bound: jax.Array
    scale: jax.Array


def unit_scale(graph: SparseGraph) -> tuple[SparseGraph, jax.Array]:
    """``graph`` with its weights divided by ``s = 2^e`` (``max_i d_i / s`` in ``[1/2, 1)``); ``s``.

    Lanczos squares the entries of its vectors (``beta = ||w||``): with edge weights near 1e±160
    (float64) or 1e±19 (float32) these over- or underflowed and the quadrature came back finite
    and wrong. The division is exact (:func:`jaxrg._numerics.power_of_two_scale`), so the Ritz
    values of ``L / s`` times ``s`` are those of ``L`` bit for bit wherever nothing over- or
    underflowed, and now nothing can. A graph without edges, or with a NaN or inf degree
    (whose NaN must reach the output), keeps ``s = 1``.
    """
    scale = power_of_two_scale(graph.degree)
    return graph._replace(weights=graph.weights / scale, degree=graph.degree / scale), scale


def operator_setup(graph: SparseGraph) -> OperatorSetup:
    """The deflated Laplacian's setup, on the unit-scaled graph (:func:`unit_scale`)."""
    graph, scale = unit_scale(graph)
    dtype = graph.degree.dtype
    bound = 2 * jnp.maximum(jnp.max(graph.degree), jnp.finfo(dtype).tiny)  # Gershgorin
    return OperatorSetup(graph, null_space(graph), bound, scale)


def deflated_laplacian(setup: OperatorSetup):
    def operator(v):
        # P L and P on every Lanczos vector: rounding must not feed the zero modes back in
        return deflate(setup.null, laplacian_matvec(setup.graph, v))

    return operator


def lanczos_run(setup: OperatorSetup, vector, steps: int, reortho: str, keep_basis=False):
    return lanczos(
        deflated_laplacian(setup),
        vector,
        steps,
        reortho=reortho,
        bound=setup.bound,
        project=lambda v: deflate(setup.null, v),
        keep_basis=keep_basis,
    )


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def run_quadrature(setup: OperatorSetup, vector, steps: int, reortho: str) -> Quadrature:
    r"""Gauss quadrature of ``steps`` Lanczos steps on ``P L / scale`` from ``vector``, with a
    derivative that stays right when the run is carried past convergence.

    Differentiating through the Lanczos recurrence is exact while the Krylov space grows, but
    the derivative of the Lanczos basis is an ill-conditioned function of the operator: once
    the run is longer than the quadrature needs, forward-mode round-off is amplified until the
    tangent is noise, although the values are right (a 12 x 12 grid, 100 steps, default
    deflation: the curves' derivative 12-20 % off and 1000x on a small entry; with full
    re-orthogonalisation 7x; one probe on a 20 x 20 grid: exact up to 80 steps, 1e-3 at 95,
    15 % at 100). The Galerkin tangent does not differentiate the basis: with :math:`W` an
    orthonormal basis of the span of the Lanczos vectors (their SVD: ghost copies make them
    dependent), :math:`H = W M W^\top` and :math:`x = W v`, the measure of :math:`x` under
    :math:`H` moves with :math:`\mathrm dH = W\,\mathrm dM\,W^\top` and
    :math:`\mathrm dx = W\,\mathrm dv` (:func:`jaxrg.eigenvalues.projected_spectrum`, which
    keeps whole eigenspaces together). Where the values have settled (:func:`_settled`: the
    last step moves the quadrature of :math:`e^{-\tau\lambda}` by less than
    :math:`\sqrt\epsilon` at every ``τ``; a run whose span is an invariant subspace is the
    extreme case, its quadrature exact), it is mapped onto the run's atoms
    (:func:`_galerkin_tangent`):

    1. where every Ritz pair of :math:`H` that carries weight (above
       :math:`\sqrt\epsilon\,\|v\|^2`) sits within round-off of an atom of the run (and,
       without re-orthogonalisation, every atom that carries weight has nearly converged:
       residual under :math:`\epsilon^{1/4}` times the bound of :math:`\|M\|`), each pair's
       change goes to its nearest atom, and the atoms of a cluster (ghost copies of one
       eigenvalue, small ones too) share it in proportion to their weights, so that the run's
       measure moves exactly as the pairs';
    2. elsewhere the recurrence's own tangent, where it agrees (to :math:`\sqrt\epsilon`) with
       the Galerkin tangent of the heat functionals :math:`\sum_j w_j (\tau\theta_j)^p
       e^{-\tau\theta_j} / Z` (``p = 0, 1, 2``, ``τ`` up to ``1 / θ_min``) along a fixed
       direction of the weights (:func:`_probe_graph`): it usually is exact;
    3. elsewhere (ghost copies before the interior has converged, on a lattice: a 8 x 8 x 8
       grid's curves were 4-11x off through the recurrence) the pairs that pair keep their
       atoms, and the other atoms take the minimum-norm change that gives the heat functionals
       (``τ`` up to ``30 / θ_min``) their Galerkin tangent (:func:`_fit`): 8e-8 there.

    A run that has not settled keeps the recurrence's tangent (exact while the Krylov space
    grows). The derivative of ``vector`` (through the deflation basis) enters every route.

    Cost under differentiation: the ``k`` Lanczos vectors are kept (``O(kN)`` memory, as
    reverse mode through the recurrence keeps them anyway), an SVD of them (``O(k^2 N)``),
    ``2k`` more products, and for an unpaired run the recurrence's tangent along the check
    direction (``2k`` products more) and a least-squares solve of ``96 x 2k``; the value alone
    costs nothing more. BA(2000), 16 probes, 100 steps: a gradient 1.6x the old cost.
    """
    return gauss_quadrature(lanczos_run(setup, vector, steps, reortho))


@run_quadrature.defjvp
def _run_quadrature_jvp(steps, reortho, primals, tangents):
    setup, vector = primals
    setup_dot, vector_dot = tangents

    def run(s, v):
        tri = lanczos_run(s, v, steps, reortho, keep_basis=True)
        return gauss_quadrature(tri), tri

    (quad, tri), (quad_dot, _) = jax.jvp(run, (setup, vector), (setup_dot, vector_dot))
    recurrence = (quad_dot.nodes, quad_dot.log_weights)

    def galerkin(_):
        return _galerkin_tangent(setup, setup_dot.graph, vector, vector_dot, quad, tri, reortho,
                                 recurrence, steps)

    d_nodes, d_log_weights = jax.lax.cond(
        _settled(tri, quad), galerkin, lambda _: recurrence, None
    )
    return quad, Quadrature(d_nodes, d_log_weights, quad_dot.residuals)


def _heat_taus(quad, norm2, num_taus: int = 32, reach: float = 30.0):
    r"""``(ok, taus)``: ``num_taus`` log-spaced ``τ`` from ``0.1 / θ_max`` to ``reach / θ_min``
    over the atoms of weight above :math:`\sqrt\epsilon\,\|v\|^2` (modes of round-off weight,
    deflated modes re-entering, do not set the range); ``ok`` False where no such atom is
    positive."""
    dtype = quad.nodes.dtype
    live = quad.log_weights > jnp.log(jnp.sqrt(jnp.finfo(dtype).eps) * norm2)
    lowest = jnp.min(jnp.where(live & (quad.nodes > 0), quad.nodes, jnp.inf))
    top = jnp.max(jnp.where(live, jnp.abs(quad.nodes), 0))
    ok = jnp.isfinite(lowest) & (top > 0)
    fraction = jnp.linspace(0, 1, num_taus, dtype=dtype)
    low = jnp.log(0.1 / jnp.where(ok, top, 1))
    high = jnp.log(reach / jnp.where(ok, lowest, 1))
    return ok, jnp.exp(low + fraction * (jnp.maximum(high, low) - low))


def _settled(tri, quad, num_taus: int = 32):
    r"""Whether dropping the run's last step moves its quadrature of :math:`e^{-\tau\lambda}` by
    less than :math:`\sqrt\epsilon` (relative) at every ``τ`` of :func:`_heat_taus`: the values
    have converged, and the Galerkin tangent is their derivative."""
    k = tri.alpha.shape[0]
    if k < 2:
        return jnp.zeros((), bool)
    dtype = quad.nodes.dtype
    shorter = gauss_quadrature(
        Tridiagonal(tri.alpha[:-1], tri.beta[:-1], tri.norm, jnp.zeros((0, 1), dtype))
    )
    ok, taus = _heat_taus(quad, tri.norm**2, num_taus)

    def log_sum(q):
        return jax.scipy.special.logsumexp(
            q.log_weights[None, :] - taus[:, None] * q.nodes[None, :], axis=1
        )

    change = jnp.abs(jnp.expm1(log_sum(shorter) - log_sum(quad)))
    return ok & jnp.all(change <= jnp.sqrt(jnp.finfo(dtype).eps))


def _heat_rows(nodes, log_weights, live, taus):
    r"""``(3 t, 2 k)``: how the heat functionals :math:`F_{p\tau} = \sum_j w_j
    (\tau\theta_j)^p e^{-\tau\theta_j} / Z(\tau)` (``p = 0, 1, 2``: everything the curves read)
    move with the atoms' ``(d nodes, d log_weights)``; atoms outside ``live`` do not count (in
    :math:`Z` either)."""
    log_w = jnp.where(live, log_weights, -jnp.inf)
    exponent = log_w[None, :] - taus[:, None] * nodes[None, :]
    log_z = jax.scipy.special.logsumexp(exponent, axis=1, keepdims=True)
    # no atom at all (a run from a zero vector): zero rows, not NaN (a vmapped cond evaluates
    # this branch too, and a NaN there would reach reverse mode through the unselected side)
    some = jnp.isfinite(log_z)
    share = jnp.where(some, jnp.exp(exponent - jnp.where(some, log_z, 0)), 0)
    x = taus[:, None] * nodes[None, :]
    rows = []
    for p in range(3):
        power = x**p
        slope = taus[:, None] * (p * x ** max(p - 1, 0) - power)  # d/dθ of (τθ)^p e^{-τθ}, / e
        rows.append(jnp.concatenate([share * slope, share * power], axis=1))
    return jnp.where(jnp.concatenate([live, live])[None, :], jnp.concatenate(rows, axis=0), 0)


def _galerkin_tangent(
    setup, graph_dot, vector, vector_dot, quad, tri, reortho, recurrence, steps
):
    r"""``(d nodes, d log_weights)`` of a settled run (:func:`run_quadrature`).

    The span's measure (Ritz pairs of :math:`H = W M W^\top` on an orthonormal basis ``W`` of
    the Lanczos vectors, weights from :math:`x = W v`) has the exact Galerkin tangent. Mapped
    onto the run's atoms:

    1. *paired*: every Ritz pair that carries weight sits within round-off of an atom (the run
       has converged; ghost copies share their cluster's change in proportion to their
       weights): each atom moves exactly as its pairs — exact for every function of the measure;
    2. otherwise the recurrence's own tangent, where it agrees with the Galerkin one on the
       heat functionals along a fixed probe direction of the weights (:func:`_probe_graph`);
    3. otherwise (ghost copies of a degenerate spectrum, where the recurrence's derivative is
       amplified round-off) the atoms that pair keep their pairs' change, and the rest take the
       least-squares (minimum-norm) change that reproduces the Galerkin tangent of the heat
       functionals :func:`_heat_rows` on the range of :func:`_heat_taus`.
    """
    hi = jax.lax.Precision.HIGHEST
    dtype = quad.nodes.dtype
    root_eps = jnp.sqrt(jnp.finfo(dtype).eps)
    norm2 = tri.norm**2
    # an orthonormal basis of the span of the Lanczos vectors: they are one with full
    # re-orthogonalisation; without, ghosts make them dependent (the SVD's extra directions
    # are harmless: v has no weight on them)
    basis = tri.basis if reortho == "full" else jnp.linalg.svd(tri.basis, full_matrices=False)[2]
    h = jnp.matmul(basis, jax.vmap(deflated_laplacian(setup))(basis).T, precision=hi)
    x = jnp.matmul(basis, vector, precision=hi)[:, None]
    moving = jnp.ones(x.shape[0], bool)
    (values, weights), span_tangent = jax.linearize(
        lambda m, v: projected_spectrum(m, v, moving), (h + h.T) / 2, x
    )

    def galerkin(g_dot, v_dot):
        tangent_graph = setup.graph._replace(weights=g_dot.weights, degree=g_dot.degree)

        def d_operator(u):  # d(P L P) u: P is the fixed null-space projector
            return deflate(setup.null, laplacian_matvec(tangent_graph, deflate(setup.null, u)))

        d_h = jnp.matmul(basis, jax.vmap(d_operator)(basis).T, precision=hi)
        d_x = jnp.matmul(basis, v_dot, precision=hi)[:, None]
        return span_tangent((d_h + d_h.T) / 2, d_x)

    d_values, d_weights = galerkin(graph_dot, vector_dot)

    # 1. pairing: every Ritz pair goes to the nearest atom of the run (a pair without weight
    # still trades weight with a neighbour, within round-off of it or touched by 1e-6 only)
    close = root_eps * setup.bound
    live = jnp.isfinite(quad.log_weights)
    distance = jnp.abs(values[:, None] - quad.nodes[None, :])  # (pairs, atoms)
    nearest = jnp.argmin(jnp.where(live[None, :], distance, jnp.inf), axis=1)
    reached = jnp.take_along_axis(distance, nearest[:, None], axis=1)[:, 0] <= close
    heavy = weights > root_eps * norm2
    matched = jnp.all(~heavy | reached)
    # ... and the atoms of its cluster (ghost copies, small ones too) share its changes in
    # proportion to their weights, so that the run's measure moves exactly as the pairs'
    primal = jnp.where(live, jnp.exp(quad.log_weights), 0)
    same = jnp.abs(quad.nodes[:, None] - quad.nodes[None, :]) <= close  # (atoms, atoms)
    member = jnp.take(same, nearest, axis=1).astype(dtype)  # (atoms, pairs)
    cluster = jnp.matmul(same.astype(dtype), primal, precision=hi)
    received = jnp.matmul(member, weights, precision=hi)
    anchor = primal > root_eps * norm2
    matched = matched & jnp.all(~anchor | (received > 0))
    live = live & (cluster > 0)
    safe = jnp.where(live, cluster, 1)

    def paired(d_values, d_weights, member):
        d_nodes = jnp.matmul(member, weights * d_values, precision=hi) / safe
        d_log_weights = jnp.matmul(member, d_weights, precision=hi) / safe
        return jnp.where(live, d_nodes, 0), jnp.where(live, d_log_weights, 0)

    if reortho != "full":
        # without re-orthogonalisation the Ritz pairs of the span pair up with the atoms only
        # where every atom that carries weight has (nearly) converged
        matched = matched & jnp.all(~anchor | (quad.residuals <= jnp.sqrt(root_eps) * setup.bound))

    def unpaired(_):
        # the heat functionals (:func:`_heat_rows`) of the run's atoms and of the span's pairs, over
        # every atom with weight (a pair of weight W moves it by ~sqrt(W): small ones count too)
        ok, taus = _heat_taus(quad, norm2)
        atoms, pairs = jnp.isfinite(quad.log_weights), weights > 0
        log_pairs = jnp.log(jnp.where(pairs, weights, 1))
        # the span's rows act on (d values, d weights): d log W = dW / W
        per_weight = jnp.concatenate([jnp.ones_like(weights), 1 / jnp.where(pairs, weights, 1)])

        def heat(taus, d_nodes, d_log_weights, d_values, d_weights):
            """The heat functionals' change by the atoms' tangent, and by the pairs'."""
            run_rows = _heat_rows(quad.nodes, quad.log_weights, atoms, taus)
            span_rows = _heat_rows(values, log_pairs, pairs, taus) * per_weight[None, :]
            return (
                jnp.matmul(run_rows, jnp.concatenate([d_nodes, d_log_weights]), precision=hi),
                jnp.matmul(span_rows, jnp.concatenate([d_values, d_weights]), precision=hi),
                run_rows,
            )

        # 2. the recurrence, checked along a fixed direction of the weights, up to tau = 1 / θ_min
        # (beyond, single low atoms dominate, and their Galerkin tangent holds only to the
        # accuracy of their vectors)
        probe_graph = _probe_graph(setup.graph)
        probe_setup = jax.tree.map(_zero_tangent, setup)
        probe_setup = probe_setup._replace(
            graph=probe_setup.graph._replace(weights=probe_graph.weights, degree=probe_graph.degree)
        )
        _, probe_quad = jax.jvp(
            lambda s, v: gauss_quadrature(lanczos_run(s, v, steps, reortho)),
            (setup, vector),
            (probe_setup, jnp.zeros_like(vector)),
        )
        _, check_taus = _heat_taus(quad, norm2, reach=1.0)
        got, want, _ = heat(check_taus, probe_quad.nodes, probe_quad.log_weights,
                            *galerkin(probe_graph, jnp.zeros_like(vector)))
        trusted = ok & (jnp.max(jnp.abs(got - want)) <= root_eps * jnp.max(jnp.abs(want)))

        # 3. the heavy pairs that pair keep their atoms; the rest of the Galerkin tangent of the
        # heat functionals goes to the other atoms by least squares
        def fitted(_):
            member_heavy = member * (reached & heavy)[None, :].astype(dtype)
            known = live & anchor & (jnp.matmul(member_heavy, weights, precision=hi) > 0)
            k_nodes, k_log_weights = paired(d_values, d_weights, member_heavy)
            k_nodes = jnp.where(known, k_nodes, 0)
            k_log_weights = jnp.where(known, k_log_weights, 0)
            have, target, rows = heat(taus, k_nodes, k_log_weights, d_values, d_weights)
            fit_nodes, fit_log_weights = _fit(rows, target - have, atoms & ~known)
            return k_nodes + fit_nodes, k_log_weights + fit_log_weights

        return jax.lax.cond(trusted, lambda _: recurrence, fitted, None)

    d_nodes, d_log_weights = jax.lax.cond(
        matched, lambda _: paired(d_values, d_weights, member), unpaired, None
    )
    return d_nodes.astype(dtype), d_log_weights.astype(dtype)


def _fit(rows, target, free):
    """``(d nodes, d log_weights)`` of the ``free`` atoms: the minimum-norm least-squares
    solution of ``rows @ x = target``, rows and columns equilibrated, singular values below
    ``sqrt(eps)`` of the largest dropped (the level to which the run's and the span's
    measures agree)."""
    hi = jax.lax.Precision.HIGHEST
    dtype = rows.dtype
    tiny = jnp.finfo(dtype).tiny
    row_scale = 1 / jnp.maximum(jnp.linalg.norm(rows, axis=1), tiny)
    a = jnp.where(jnp.concatenate([free, free])[None, :], rows * row_scale[:, None], 0)
    norms = jnp.linalg.norm(a, axis=0)
    col_scale = jnp.where(norms > 0, 1 / jnp.where(norms > 0, norms, 1), 0)
    solve = jnp.linalg.pinv(a * col_scale[None, :], rtol=jnp.sqrt(jnp.finfo(dtype).eps))
    x = col_scale * jnp.matmul(solve, target * row_scale, precision=hi)
    k = free.shape[0]
    return x[:k], x[k:]


def _zero_tangent(leaf):
    leaf = jnp.asarray(leaf)
    if jnp.issubdtype(leaf.dtype, jnp.inexact):
        return jnp.zeros_like(leaf)
    return np.zeros(leaf.shape, jax.dtypes.float0)


def _probe_graph(graph: SparseGraph) -> SparseGraph:
    """A fixed tangent of the weights (symmetric, on the edges, deterministic): the direction
    along which :func:`_galerkin_tangent` checks the recurrence's derivative."""
    dtype = graph.weights.dtype
    low = jnp.minimum(graph.senders, graph.receivers).astype(dtype)
    high = jnp.maximum(graph.senders, graph.receivers).astype(dtype)
    phase = jnp.sin(low * 12.9898 + high * 78.233) * 43758.5453
    weights = graph.weights * (phase - jnp.floor(phase) - 0.5)
    degree = jax.ops.segment_sum(weights, graph.senders, num_segments=graph.num_nodes)
    return graph._replace(weights=weights, degree=degree)


def _remove(basis, vector):
    """``vector - Q Q^T vector``, twice (classical Gram-Schmidt loses orthogonality once)."""
    for _ in range(2):
        vector = vector - jnp.matmul(
            basis.T,
            jnp.matmul(basis, vector, precision=jax.lax.Precision.HIGHEST),
            precision=jax.lax.Precision.HIGHEST,
        )
    return vector


def drop_roundoff(vector, reference):
    r"""``vector``, or 0 where it is round-off of a projection of ``reference``.

    What a projection (the null space's, the deflated modes') leaves of a vector that lay in
    its range is round-off, :math:`\sim\epsilon\|r\|`; a Lanczos run normalises it to unit
    length and, with full re-orthogonalisation, finds Ritz values far outside the spectrum
    (-45.6 and 55.6 for the spectrum {0, 5}): their weights are tiny, but
    :math:`e^{-	au	heta}` overflowed (a small graph whose default 16 deflated modes hold its
    whole spectrum: S(10) = -80 for 0). Below :math:`10^3\epsilon\|r\|` the remainder weighs
    under :math:`10^{-24}` of the probe: it is dropped (a run from 0 has no atoms).

    Args:
        vector: ``(N,)`` the projected vector.
        reference: ``(N,)`` the vector before the projection.

    Returns:
        ``(N,)`` ``vector`` or zeros.
    """
    tiny = 1e3 * jnp.finfo(vector.dtype).eps * jnp.sqrt(jnp.sum(reference**2))
    return jnp.where(jnp.sqrt(jnp.sum(vector**2)) > tiny, vector, 0)


AUTO_DEFLATE = 16  # default number of deflated low modes ...
AUTO_DEFLATE_MAX_NODES = 20_000  # ... up to this size (cost 4 deflate_matvecs^2 N flops)
BLOCK = 4  # block size of the low-mode search: resolves eigenvalue multiplicities up to 4


def low_modes(setup: OperatorSetup, key, num_matvecs: int, num_vectors: int) -> RitzPairs:
    """The ``r`` smallest non-zero Ritz pairs of a block Krylov space (``num_matvecs`` products)
    of ``L / setup.scale``, never splitting an eigenspace.

    Two rules keep the deflation basis :math:`Q` a differentiable function of the weights, so
    that ``jax.grad`` through SLQ is the derivative of the estimator:

    * a Krylov space that would span the whole graph (``num_matvecs >= N - 1``, small graphs)
      is replaced by the exact eigendecomposition of the dense ``P L P`` (:func:`_dense_modes`):
      its last blocks are round-off, and the derivative through them was garbage (35 % off on
      a 20 x 20 grid with the default deflation);
    * a repeated eigenvalue that the ``r``-th mode would split (the ``(r+1)``-th Ritz value
      equal to the ``r``-th within ``sqrt(eps) * bound``, as ``eigh_subspaces`` clusters) is
      dropped whole: its rows become 0. A basis of part of an eigenspace is not a function of
      the matrix (any rotation of the eigenspace serves), so it had no derivative at all
      (a 5 x 5 grid's default 16 modes end inside its 3-fold eigenvalue 2: 100 % off).
      The deflation identity holds for any orthonormal rows, so the estimate stays unbiased;
      only its variance grows a little.

    Returns:
        :class:`RitzPairs`: ``(r,)`` values, ``(r, N)`` orthonormal vectors in the range of P
        (zero rows, ``live`` False, for dropped or dead slots).
    """
    n = setup.graph.num_nodes
    project = functools.partial(deflate, setup.null)
    if num_matvecs >= n - 1:
        ritz = _dense_modes(setup)
    else:
        block = min(BLOCK, num_vectors)
        steps = max(1, num_matvecs // block)
        start = jax.random.normal(key, (block, n), setup.graph.degree.dtype)
        ritz = block_krylov_ritz(
            deflated_laplacian(setup), start, steps, bound=setup.bound, project=project
        )
    keep = ritz.live[:num_vectors] & ~_splits(ritz.values, num_vectors, setup.bound)
    vectors = jnp.where(keep[:, None], ritz.vectors[:num_vectors], 0)
    vectors = _orthonormal(vectors, project)  # dead slots: zero rows
    return RitzPairs(ritz.values[:num_vectors], vectors, keep)


def _splits(values, count: int, bound):
    """``(count,)`` bool: the trailing modes of ``values[:count]`` in the eigenvalue cluster of
    ``values[count]`` (consecutive gaps under ``sqrt(eps) bound``); none if there is no
    ``values[count]``."""
    if values.shape[0] <= count:
        return jnp.zeros(count, bool)
    close = jnp.sqrt(jnp.finfo(values.dtype).eps) * bound
    tied = jnp.diff(values[: count + 1]) <= close  # inf - inf (dead slots) is NaN: not tied
    # a mode is dropped if every gap from it up to values[count] is tied
    return jnp.flip(jnp.cumprod(jnp.flip(tied))).astype(bool)


def _dense_modes(setup: OperatorSetup) -> RitzPairs:
    """Every eigenpair of ``P L P`` on the range of ``P`` (dense, ``N`` matrix-vector products).

    The null space is lifted above the spectrum (``+ 2 bound (I - P)``) so that the ascending
    order lists the non-zero modes first; the ``c`` slots past ``N - c`` are dead. The
    derivative drops rotations inside eigenspaces (:func:`jaxrg.eigenvalues.eigh_subspaces`).
    """
    n = setup.graph.num_nodes
    eye = jnp.eye(n, dtype=setup.graph.degree.dtype)
    project = jax.vmap(functools.partial(deflate, setup.null))
    operator = project(jax.vmap(deflated_laplacian(setup))(eye))  # (P L P)^T row by row
    lifted = operator + 2 * setup.bound * (eye - project(eye))
    values, vectors = eigh_subspaces((lifted + lifted.T) / 2)
    live = jnp.arange(n) < n - setup.null.count
    return RitzPairs(jnp.where(live, values, jnp.inf), jnp.where(live[:, None], vectors.T, 0), live)


def _orthonormal(vectors, project):
    """Gram-Schmidt (twice) of projected rows; a row dependent on the previous ones becomes 0.

    The deflation identity needs orthonormal rows inside the range of P: a dependent row (a
    small graph exhausting its Krylov space) is dropped rather than replaced by noise.
    """
    tol = 1e3 * jnp.finfo(vectors.dtype).eps

    def body(j, basis):
        v = project(vectors[j])
        size = jnp.sqrt(jnp.sum(v**2))
        v = _remove(basis, v)
        norm = jnp.sqrt(jnp.sum(v**2))
        keep = norm > tol * size
        return basis.at[j].set(jnp.where(keep, v / jnp.where(keep, norm, 1), 0))

    return jax.lax.fori_loop(0, vectors.shape[0], body, jnp.zeros_like(vectors))


def _ticked(quad: Quadrature, progress: bool) -> Quadrature:
    """``quad``, after telling the host's progress bar that one more run has finished."""
    if progress:
        jax.debug.callback(_progress.tick, quad.nodes[0])
    return quad


def probe_quadratures(
    setup: OperatorSetup, keys, steps: int, *, reortho: str, basis=None, batch_size=None,
    progress: bool = False,
) -> Quadrature:
    """Gauss quadrature from ``Pi z`` for one Rademacher ``z`` per key (sequential ``lax.map``)."""
    n = setup.graph.num_nodes
    dtype = setup.graph.degree.dtype

    def probe(probe_key):
        z = jax.random.rademacher(probe_key, (n,), dtype)
        start = deflate(setup.null, z)
        if basis is not None:
            start = _remove(basis, start)
        start = drop_roundoff(start, z)
        return _ticked(run_quadrature(setup, start, steps, reortho), progress)

    return jax.lax.map(probe, keys, batch_size=batch_size)


def lanczos_quadrature(
    adjacency,
    *,
    key,
    num_probes: int | np.integer = 32,
    num_matvecs: int | np.integer = 100,
    num_deflate: int | np.integer | None = None,
    deflate_matvecs: int | np.integer = 400,
    reortho: str = "none",
    probe_batch_size: int | np.integer | None = None,
    num_nodes: int | None = None,
    probes: tuple[int, int] | None = None,
    progress: bool = False,
) -> SpectralQuadrature:
    """One Lanczos run per probe (and per deflation vector); all ``τ`` are served later.

    Lanczos runs on ``L / s``, ``s`` the power of two nearest the largest degree
    (:func:`unit_scale`), and the Ritz values are multiplied back: edge weights of any
    magnitude the dtype holds (1e-300 to 1e300 in float64) give the same measure up to the
    factor, bit for bit when the factor is a power of two.

    Args:
        adjacency: a :class:`jaxrg.sparse.SparseGraph` (jit-able) or anything
            :func:`jaxrg.sparse.as_sparse_graph` takes (converted on the host).
        key: ``jax.random`` key (deflation start vector and probes).
        num_probes: Rademacher probes ``m`` (static), at least 2 (for an error estimate).
        num_matvecs: Lanczos steps ``k`` per run (static; clipped to ``N``).
        num_deflate: low modes ``r`` deflated (static; 0 turns deflation off). Costs
            ``deflate_matvecs + r k`` products, ``deflate_matvecs x N`` memory and
            ``4 deflate_matvecs^2 N`` flops. Default: 16 for ``N <= 20 000``, else 0 (larger graphs
            have many modes below any ``tau`` of interest, so the probe noise is small there).
        deflate_matvecs: matrix-vector products of the block Krylov run that finds them. From
            ``N - 1`` on (small graphs) the exact dense eigendecomposition replaces that run:
            ``N`` products, ``N x N`` memory, no more flops than the run it replaces.
        reortho: ``"none"`` (default; ``O(N)`` memory; the Gauss quadrature does not need
            orthogonality, ghost Ritz values share the weight of the value they copy) or
            ``"full"`` (``O(kN)`` memory per probe in flight; same curves to ~1e-4 in our tests,
            slower).
        probe_batch_size: probes vectorised together per step of a sequential ``lax.map``;
            ``None`` runs them one by one (fastest on CPU, least memory); on a GPU use
            ``num_probes``.
        num_nodes: ``N`` for edge lists with isolated trailing nodes.
        probes: ``(start, stop)`` (static): run only probes ``start..stop-1`` of the
            ``num_probes`` drawn from ``key`` — one process's share when the probes are split
            over processes (docs/accelerators.md); :func:`merge_quadratures` joins the shares
            into the quadrature of all probes. ``None``: all of them.
        progress: show a tqdm bar over the Lanczos runs (``num_deflate + num_probes``), advanced
            from inside the compiled program; the call then waits for the result.

    Returns:
        :class:`SpectralQuadrature`.

    Gradients: with a :class:`jaxrg.sparse.SparseGraph` (jit-able), ``jax.grad`` through the
    weights is the derivative of this estimator, right at Lanczos breakdowns and with whole
    eigenspaces deflated (``tests/test_sparse.py``). The deflation never splits a repeated
    eigenvalue (one that the ``r``-th mode would split is left out whole), and where its Krylov
    space would span the graph (``deflate_matvecs >= N - 1``) it is the exact dense
    eigendecomposition, so the deflation basis is always a differentiable function of the
    weights. A run carried past the point where its quadrature has converged takes the
    Galerkin tangent on the span of its vectors (:func:`run_quadrature`): the recurrence's own
    derivative is amplified round-off there (a 12 x 12 grid, 100 steps: 12-20 % off, now 1e-6
    against finite differences; with ``reortho="full"`` 7x, now 1e-6). Left: with
    ``reortho="none"``, a run whose ghost copies appear before its interior converges (a
    20 x 20 grid, 100 steps: 1.5 %, 4.6 % with deflation; 80 steps: 1e-9) keeps the
    recurrence's tangent; there ``reortho="full"`` is exact (5e-10), or take the
    ``num_matvecs`` the curves need, or the exact route for small graphs
    (``docs/bad_inputs.md``, rounds eight to ten).

    Raises:
        ValueError: ``num_probes < 2``, ``num_matvecs < 1``, bad ``num_deflate``/``reortho``
            or a bad graph.
        TypeError: ``key`` is not a PRNG key (e.g. ``key=0``: pass ``jax.random.key(0)``), or a
            count option (``num_probes``, ``num_matvecs``, ...) that is not an integer (a float
            is refused, not truncated; NumPy integers are fine).
    """
    num_probes = _checks.check_int(
        num_probes, "num_probes", minimum=2, meaning="Rademacher probes; 2 for an error estimate"
    )
    num_matvecs = _checks.check_int(num_matvecs, "num_matvecs", meaning="Lanczos steps per run")
    deflate_matvecs = _checks.check_int(
        deflate_matvecs, "deflate_matvecs", minimum=0, meaning="products of the deflation run"
    )
    if num_deflate is not None:
        num_deflate = _checks.check_int(
            num_deflate, "num_deflate", minimum=0, meaning="low modes deflated; 0 turns it off"
        )
    if probe_batch_size is not None:
        probe_batch_size = _checks.check_int(
            probe_batch_size, "probe_batch_size", meaning="probes per step; None: one by one"
        )
    if reortho not in REORTHO:
        raise ValueError(f"reortho must be one of {REORTHO}; got {reortho!r}.")
    key = _checks.check_key(key)
    if probes is not None:
        if not isinstance(probes, tuple | list) or len(probes) != 2:
            raise ValueError(f"probes must be a pair (start, stop) of ints; got {probes!r}.")
        probes = tuple(
            _checks.check_int(p, "probes", minimum=0, meaning="(start, stop) probe indices")
            for p in probes
        )
    probes = (0, num_probes) if probes is None else probes
    if not 0 <= probes[0] < probes[1] <= num_probes:
        raise ValueError(
            f"probes must be (start, stop) with 0 <= start < stop <= num_probes={num_probes}; "
            f"got {probes}."
        )
    graph = as_sparse_graph(adjacency, num_nodes=num_nodes)
    n = graph.num_nodes
    if num_deflate is None:
        num_deflate = AUTO_DEFLATE if n <= AUTO_DEFLATE_MAX_NODES else 0
    if not 0 <= num_deflate <= deflate_matvecs:
        raise ValueError(
            f"num_deflate must lie in [0, deflate_matvecs={deflate_matvecs}]; got {num_deflate}."
        )
    options = dict(
        num_probes=num_probes,
        steps=min(num_matvecs, n),
        num_deflate=min(num_deflate, n - 1),
        deflate_matvecs=deflate_matvecs,
        reortho=reortho,
        batch_size=probe_batch_size,
        probes=probes,
    )
    if not _checks.check_flag(progress, "progress"):
        return _quadrature(graph, key, progress=False, **options)
    runs = options["num_deflate"] + probes[1] - probes[0]
    with _progress.bar(runs, f"Lanczos ({n} nodes)", "run"):
        return jax.block_until_ready(_quadrature(graph, key, progress=True, **options))


# jitted here (the public contract): eager lax.scan/map would re-trace their closures per call
@functools.partial(
    jax.jit,
    static_argnames=(
        "num_probes",
        "steps",
        "num_deflate",
        "deflate_matvecs",
        "reortho",
        "batch_size",
        "probes",
        "progress",
    ),
)
def _quadrature(
    graph,
    key,
    *,
    num_probes,
    steps,
    num_deflate,
    deflate_matvecs,
    reortho,
    batch_size,
    probes,
    progress,
) -> SpectralQuadrature:
    setup = operator_setup(graph)
    key_low, key_probes = jax.random.split(key)
    dtype = graph.degree.dtype
    if num_deflate > 0:
        basis = low_modes(setup, key_low, deflate_matvecs, num_deflate).vectors
        exact = jax.lax.map(
            lambda q: _ticked(run_quadrature(setup, q, steps, reortho), progress),
            basis,
        )
        exact_nodes, exact_log_w = exact.nodes, exact.log_weights
    else:
        basis = None
        exact_nodes = exact_log_w = jnp.zeros((0, steps), dtype)
    quad = probe_quadratures(
        setup,
        jax.random.split(key_probes, num_probes)[probes[0] : probes[1]],
        steps,
        reortho=reortho,
        basis=basis,
        batch_size=batch_size,
        progress=progress,
    )
    return SpectralQuadrature(
        nodes=quad.nodes * setup.scale,
        log_weights=quad.log_weights,
        residuals=quad.residuals * setup.scale,
        deflated_nodes=exact_nodes * setup.scale,
        deflated_log_weights=exact_log_w,
        num_components=setup.null.count,
        num_nodes=jnp.asarray(graph.num_nodes),
    )


def merge_quadratures(parts) -> SpectralQuadrature:
    """Join the quadratures of disjoint probe shares (``probes=``) into that of all probes.

    The probe runs are stacked in the order given; the deflated runs (the same in every share:
    they depend on the key only) are taken from the first share.

    Args:
        parts: sequence of :class:`SpectralQuadrature` with ``(m_i, k)`` probe fields, from
            :func:`lanczos_quadrature` with the same graph, key and options and consecutive
            ``probes`` ranges.

    Returns:
        :class:`SpectralQuadrature` with ``(sum m_i, k)`` probe fields.

    Raises:
        ValueError: ``parts`` is empty.
        TypeError: a part is not a :class:`SpectralQuadrature`.

    Example:
        >>> import jax, jaxrg.sparse as sp
        >>> ring = ([0, 1, 2, 3], [1, 2, 3, 0])
        >>> key = jax.random.key(0)
        >>> whole = sp.lanczos_quadrature(ring, key=key, num_probes=4, num_matvecs=3)
        >>> halves = [sp.lanczos_quadrature(ring, key=key, num_probes=4, num_matvecs=3,
        ...                                 probes=p) for p in ((0, 2), (2, 4))]
        >>> bool((sp.merge_quadratures(halves).nodes == whole.nodes).all())
        True
    """
    parts = list(parts)
    if not parts:
        raise ValueError("parts is empty: pass the quadratures of every probe share.")
    for i, q in enumerate(parts):
        check_quadrature(q, f"parts[{i}]")
    sizes = sorted({int(q.num_nodes) for q in parts})
    if len(sizes) > 1:
        raise ValueError(
            f"parts come from graphs of different sizes ({sizes} nodes); merge only the probe "
            "shares of one graph (the same graph, key and num_matvecs, other probes=...)."
        )
    stacked = {
        field: jnp.concatenate([getattr(q, field) for q in parts])
        for field in ("nodes", "log_weights", "residuals")
    }
    return parts[0]._replace(**stacked)
