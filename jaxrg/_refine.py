r"""Float32 refinement of a graph Laplacian's small eigenpairs (one home for every route).

``eigh`` gives every eigenvalue an absolute error of about :math:`N\varepsilon\max|L|`; in
float32 a small one (λ₂ of two communities joined by a weak edge) comes out half its value or
negative, and its vector mixed with the zero modes. When the first eigenvalue after the ``c``
zero modes lies below :math:`\sqrt\varepsilon\max|L|`, :func:`refine_small` corrects a window
of 16 or 64 eigenpairs after the zero modes, the smallest that holds every eigenvalue below
:math:`\sqrt\varepsilon\lambda_{\max}`: the window is projected off the exact null space,
improved by one Newton step from ``eigh``'s own decomposition (:func:`_inverse_step`) and
diagonalised by Rayleigh–Ritz through the edges (:func:`_edge_ritz`, no subtraction; Jacobi on
the projected matrix, relatively accurate). Used by :func:`jaxrg.laplacian_spectrum`, the heat
kernel and density matrix (``spectral._eigh_psd``) and the feature measure (:func:`refined_eigh`
inside :func:`jaxrg.eigenvalues.projected_spectrum`). Float64 is left as ``eigh`` gives it.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxrg._numerics import any_in_batch, max_in_batch, scaled_eigh

__all__ = ["EdgeForm", "edge_form", "graph_edge_form", "needs_ritz", "null_space", "refine_small",
           "refined_eigh", "refines", "with_exact_null_space"]


def edge_form(adjacency, normalized: bool):
    """``(weights, scaled)`` of :func:`_edge_ritz` for the (normalised) Laplacian of ``A``."""
    if not normalized:
        return adjacency, jnp.ones(adjacency.shape[0], adjacency.dtype)
    degree = jnp.sum(adjacency, axis=1)  # the loops count, as in _laplacian_of
    positive = degree > 0
    return adjacency, jnp.where(positive, 1 / jnp.sqrt(jnp.where(positive, degree, 1)), 0)


# window sizes of refine_small (float32): the smallest that holds every small eigenvalue; a
# cluster of them cut by the window's edge leaves even the ones inside it wrong (24 cliques in a
# chain of 1e-6 bridges: lambda_2 170 % off with 16). Each size is a branch compiled into every
# refined spectrum: a third size (256) made compiling laplacian_spectrum 2.6x slower
_RITZ_WINDOWS = (16, 64)
_RITZ_ROWS = 64  # rows of the edge sum per step at the smallest window (memory: rows x N x m)


def _edge_blocks(weights, scaled, basis, reduce):
    r"""``reduce`` over row blocks of the edge differences of ``v = scaled * basis``.

    The one home of the Laplacian applied through its edges, :math:`(Lu)_i = s_i\sum_j
    W_{ij}(v_i - v_j)` with :math:`v = s\odot u` (``W = A`` off the diagonal and ``s = 1`` for
    :math:`L = D - A`; :math:`s = D^{-1/2}` for the normalised Laplacian, whose degree holds the
    loops): differences of nearby values are exact, so no large term cancels another, where
    :math:`Du - Au` loses :math:`\varepsilon\max|L|` to cancellation. The weights are divided by
    ``unit`` :math:`= \sqrt{\max W \min W}` (their range centred on 1: a bridge of 1e38 in
    float32 would overflow the squared differences); callers scale back.

    Args:
        weights: ``(N, N)`` symmetric non-negative edge weights (the diagonal is ignored).
        scaled: ``(N,)`` the factor ``s``.
        basis: ``(N, m)`` columns ``u``.
        reduce: ``f(w (rows, N), v (rows, m), diff (rows, N, m)) -> array``, for ``rows``
            consecutive nodes ``i`` (the weights of rows seen by an earlier block are 0), their
            ``v_i`` and ``diff[r, j] = v_i - v_j``.

    Returns:
        ``(outputs stacked over blocks, block starts (B,), rows, unit)``.
    """
    n, m = basis.shape
    # the same memory, rows x N x m, for every window size
    rows = min(n, max(1, _RITZ_ROWS * _RITZ_WINDOWS[0] // m))
    window = basis * scaled[:, None]
    top = jnp.max(weights)
    low = jnp.min(jnp.where(weights > 0, weights, top))
    # a pure change of units (callers scale back): no derivative through it, whose two terms
    # cancel only in exact arithmetic (dλ₂/dw 1e7 for 2/3 at a bridge of 1e-40 in float64)
    unit = jax.lax.stop_gradient(jnp.where(top > 0, jnp.sqrt(top) * jnp.sqrt(low), 1))
    scaled_weights = weights / unit
    starts = jnp.minimum(jnp.arange(0, n, rows), n - rows)  # the last block overlaps

    def block(index):
        first = index * rows
        top = starts[index]
        fresh = (top + jnp.arange(rows)) >= first  # rows an earlier block saw count 0
        v = jax.lax.dynamic_slice_in_dim(window, top, rows, axis=0)
        w = jnp.where(fresh[:, None],
                      jax.lax.dynamic_slice_in_dim(scaled_weights, top, rows, axis=0), 0)
        return reduce(w, v, v[:, None, :] - window[None, :, :])

    return jax.lax.map(block, jnp.arange(starts.shape[0])), starts, rows, unit


def _edge_apply(weights, scaled, basis):
    """``L @ basis`` through the edges (:func:`_edge_blocks`): relatively accurate rows."""
    n, m = basis.shape
    hi = jax.lax.Precision.HIGHEST
    out, starts, rows, unit = _edge_blocks(
        weights, scaled, basis, lambda w, v, diff: jnp.einsum("rj,rjk->rk", w, diff, precision=hi))
    # an overlapping last block wrote 0 rows where it repeats; add, so each row counts once
    index = (starts[:, None] + jnp.arange(rows)[None, :]).reshape(-1)
    total = jnp.zeros((n, m), basis.dtype).at[index].add(out.reshape(-1, m))
    return total * scaled[:, None] * unit


def _edge_quotient_tangent(weights, scaled, basis):
    r"""``(m,)`` zeros whose derivative is :math:`q_k^\top \mathrm dL\, q_k` (Hellmann–Feynman).

    :math:`q^\top L q = \sum_{ij} W_{ij} v_i (v_i - v_j)` with :math:`v = s\odot q`, the
    Laplacian as :func:`_laplacian_of` builds it from ``W`` (its degree is ``W``'s row sum, so
    this is the same function of every entry and the derivative the same per entry as ``eigh``'s
    :math:`u^\top\mathrm dL\,u`), differentiated in ``weights`` and ``scaled`` with the
    vectors held (``stop_gradient``): the derivative of a simple eigenvalue whose refined vector
    is ``q``. The value is ``x - x = 0`` exactly; only the tangent is used.
    """
    hi = jax.lax.Precision.HIGHEST
    basis = jax.lax.stop_gradient(basis)
    out, _, _, unit = _edge_blocks(
        weights, scaled, basis,
        lambda w, v, diff: jnp.einsum("rj,rk,rjk->k", w, v, diff, precision=hi))
    quotient = jnp.sum(out, axis=0) * unit
    return quotient - jax.lax.stop_gradient(quotient)


def _edge_ritz(weights, scaled, basis, valid):
    r"""Rayleigh–Ritz on an orthonormal ``basis``, the Laplacian applied through its edges.

    :math:`u^\top L u = \tfrac12\sum_{ij} W_{ij}(v_i - v_j)^2` (:func:`_edge_blocks`). No term
    is subtracted from another, so a small eigenvalue comes out with a small *relative* error
    given an accurate subspace, where ``eigh`` gives every eigenvalue an absolute error of about
    :math:`N\varepsilon\max|L|`. The projected matrix :math:`M = Q^\top L Q` is summed over row
    blocks (memory ``rows × N × m``) and diagonalised by :func:`_jacobi_eigh` (relatively
    accurate; ``eigh`` would give its small eigenvalues ``max|M|``'s absolute error again).

    Args:
        weights: ``(N, N)`` symmetric non-negative edge weights (the diagonal is ignored).
        scaled: ``(N,)`` the factor from ``u`` to ``v``.
        basis: ``(N, m)`` orthonormal columns.
        valid: ``(m,)`` bool, the columns to use (the others come out last, unchanged).

    Returns:
        ``(theta (m,), vectors (N, m))``: ascending Ritz values (valid ones first) and vectors.
    """
    hi = jax.lax.Precision.HIGHEST

    def gram(w, v, diff):
        diff = diff * jnp.sqrt(w)[:, :, None]
        return jnp.einsum("rjk,rjl->kl", diff, diff, precision=hi)

    out, _, _, unit = _edge_blocks(weights, scaled, basis, gram)
    projected = jnp.sum(out, axis=0) / 2
    both = valid[:, None] & valid[None, :]
    last = 2 * jnp.max(jnp.abs(jnp.diagonal(projected))) + 1  # decoupled, sorts last
    projected = jnp.where(both, projected, 0) + jnp.diag(jnp.where(valid, 0, last))
    theta, rotation = _jacobi_eigh(projected)
    return theta * unit, jnp.matmul(basis, rotation, precision=hi)


def _inverse_step(basis, valid, eigenvalues, vectors, outside, weights, scaled, null):
    r"""One correction of a Ritz basis by ``eigh``'s own spectral decomposition (no gradient).

    ``eigh``'s vectors of small eigenvalues are off by about :math:`N\varepsilon\max|L|/\text{gap}`
    along the other modes, an error that enters the Rayleigh quotient squared but summed over
    every edge (λ₂ 2e-2 off at N = 2000 in float32). With the Ritz pairs
    :math:`(\theta_j, q_j)` and their residual :math:`r_j = Lq_j - \theta_j q_j` computed
    through the edges (:func:`_edge_apply`, relatively accurate), the correction is the
    Newton step :math:`q_j - \sum_k u_k\, u_k^\top r_j / (\lambda_k - \theta_j)` over
    ``eigh``'s pairs ``k`` outside the window, for the columns with
    :math:`\theta_j < \lambda_\text{out} / 2` (the first eigenvalue outside: the denominators
    stay above half of theirs, so the step contracts the error by about
    :math:`N\varepsilon\max|L|/\lambda_\text{out}`); the others are kept. The result is
    projected off the exact null space and orthonormalised (QR keeps each column's direction,
    so the next Ritz matrix stays nearly diagonal).

    Args:
        basis: ``(N, m)`` orthonormal, off the null space; ``valid`` ``(m,)`` its used columns.
        eigenvalues, vectors: ``eigh``'s ``(N,)`` values and ``(N, N)`` vectors.
        outside: ``(N,)`` bool, ``eigh``'s pairs beyond the window (neither zero modes nor in it).
        weights, scaled: the edge form (:func:`_edge_blocks`); ``null`` ``(N, c)`` the null space.

    Returns:
        ``(N, m)`` the corrected orthonormal basis; the columns not ``valid`` are 0.
    """
    hi = jax.lax.Precision.HIGHEST
    theta, ritz = _edge_ritz(weights, scaled, basis, valid)
    residual = _edge_apply(weights, scaled, ritz) - ritz * theta[None, :]
    coefficients = jnp.matmul(vectors.T, residual, precision=hi)  # (N, m)
    first_out = jnp.min(jnp.where(outside, eigenvalues, jnp.inf))
    used = valid & (theta < first_out / 2)
    pick = outside[:, None] & used[None, :]
    gap = eigenvalues[:, None] - theta[None, :]
    step = jnp.where(pick, coefficients / jnp.where(pick, gap, 1), 0)
    moved = ritz - jnp.matmul(vectors, step, precision=hi)
    moved = moved - jnp.matmul(null, jnp.matmul(null.T, moved, precision=hi), precision=hi)
    moved = jnp.where(valid[None, :], moved, 0)
    return jnp.where(valid[None, :], jnp.linalg.qr(moved)[0], 0)


def refine_small(eigenvalues, vectors, weights, scaled, null, count, n_real):
    r"""The eigenpairs after the ``count`` zero modes refined by :func:`_edge_ritz`.

    The window holds ``m`` consecutive eigenpairs, ``m`` the smallest of 16 and 64 (at
    most ``N``) whose window reaches past every eigenvalue below
    :math:`\sqrt\varepsilon\,\lambda_{\max}` (``eigh``'s relative error there is above
    :math:`\sqrt\varepsilon`): ``eigh`` mixes the vectors of such a cluster among themselves, so
    Rayleigh–Ritz on a part of it cannot resolve even the part (24 cliques chained by 1e-6
    bridges: with 16, λ₂ came out 170 % off). Chosen by ``lax.switch``; batched, one size for
    the whole batch (the largest any member needs). Beyond the 64-window's reach (about 63
    such eigenvalues) the rest are ``eigh``'s.

    See :func:`_refine_window` for one window.
    """
    n = vectors.shape[0]
    sizes = sorted({min(n, size) for size in _RITZ_WINDOWS})
    operands = (eigenvalues, vectors, weights, scaled, null, count, n_real)
    if len(sizes) == 1:
        return _refine_window(sizes[0], *operands)
    index = jnp.arange(n)
    threshold = jnp.sqrt(jnp.finfo(eigenvalues.dtype).eps) * jnp.max(jnp.abs(eigenvalues))
    small = (index >= count) & (index < n_real) & (eigenvalues < threshold)
    end = count + jnp.sum(small)  # one past the last small eigenvalue
    covers = jnp.stack([_window_start(m, n, count, n_real) + m >= end for m in sizes])
    choice = jnp.where(jnp.any(covers), jnp.argmax(covers), len(sizes) - 1)
    branches = [lambda ops, m=m: _refine_window(m, *ops) for m in sizes]
    return jax.lax.switch(max_in_batch(choice), branches, operands)


def _window_start(m: int, n: int, count, n_real):
    """The first position of a window of ``m``: up to ``m / 2`` zero modes below it."""
    return jnp.clip(jnp.minimum(count - m // 2, n_real - m), 0, n - m)


def _refine_window(m: int, eigenvalues, vectors, weights, scaled, null, count, n_real):
    r"""The ``m`` eigenpairs of a window after the ``count`` zero modes, refined.

    The window's basis is first corrected by one :func:`_inverse_step` (``eigh``'s vectors are
    the limit of Rayleigh–Ritz alone on large sparse graphs: λ₂ 1.7e-2 off at N = 2000, 3e-5
    after the step).

    ``eigh`` mixes the zero modes with any eigenvalue within its round-off, so the window of
    ``m`` columns reaches up to ``m / 2`` zero-mode columns below the first non-zero one; it is
    projected off the exact null space ``null`` (:func:`null_space`) and its SVD keeps the
    ``m - (zero-mode columns)`` directions left, on which Rayleigh–Ritz runs. Window positions
    past the real nodes (a padded graph with fewer than ``m`` real nodes) hold the padding's
    eigenpairs: they are left out of the basis and keep their values and vectors, as do the
    window's zero-mode positions (a padded 14-node graph was left unrefined: λ₂ 1.2 % off). A
    refined eigenvalue's derivative is :math:`q^\top\mathrm dL\,q` on its refined vector
    (:func:`_edge_quotient_tangent`), since ``eigh``'s vectors are the ones found wrong; the
    vectors' derivatives stay ``eigh``'s.
    """
    n = vectors.shape[0]
    hi = jax.lax.Precision.HIGHEST
    start = _window_start(m, n, count, n_real)
    zeros_in = jnp.clip(count - start, 0, m)  # window positions that are zero modes
    real_in = jnp.clip(n_real - start, 0, m)  # window positions of real eigenpairs (padding: last)
    window = jax.lax.dynamic_slice_in_dim(vectors, start, m, axis=1)
    off_null = jax.lax.stop_gradient(
        window - jnp.matmul(null, jnp.matmul(null.T, window, precision=hi), precision=hi))
    position = jnp.arange(m)
    off_null = jnp.where((position < real_in)[None, :], off_null, 0)  # the padding's columns
    basis = jnp.linalg.svd(off_null, full_matrices=False)[0]  # largest singular values first
    valid = position < real_in - zeros_in
    # the span is right, but the SVD rotates within it: turn the basis back onto eigh's own
    # columns (the non-zero-mode ones, first): Ritz then works on a nearly diagonal matrix,
    # which Jacobi resolves to relative accuracy (a rotated one mixes 1.5 with 8e5: 1e-3 off)
    overlap = jnp.matmul(basis.T, jnp.roll(off_null, -zeros_in, axis=1), precision=hi)
    block = valid[:, None] & valid[None, :]
    overlap = jnp.where(block, overlap, 0) + jnp.diag(jnp.where(valid, 0, 1).astype(basis.dtype))
    left, _, right_t = jnp.linalg.svd(overlap)
    basis = jnp.matmul(basis, jnp.matmul(left, right_t, precision=hi), precision=hi)
    frozen = jax.lax.stop_gradient(weights), jax.lax.stop_gradient(scaled)
    outside = jnp.arange(n) >= start + m
    basis = _inverse_step(basis, valid, jax.lax.stop_gradient(eigenvalues),
                          jax.lax.stop_gradient(vectors), outside, *frozen, null)
    theta, turned = _edge_ritz(*frozen, basis, valid)
    source = jnp.clip(position - zeros_in, 0, m - 1)  # window position j takes Ritz pair j - z
    keep = (position < zeros_in) | (position >= real_in)
    old = jax.lax.dynamic_slice_in_dim(eigenvalues, start, m)
    values = jnp.where(keep, old, jnp.maximum(theta[source], 0))  # M is PSD: -ulps are 0
    turned = jnp.where(keep[None, :], window, turned[:, source])
    # each refined eigenvalue's derivative from its refined vector (eigh's is off: a window
    # column that mixes λ₂ with a zero mode gave half of dλ₂ / d bridge)
    tangent = _edge_quotient_tangent(weights, scaled, turned)
    values = jnp.where(keep, old, jax.lax.stop_gradient(values) + tangent)
    new_values = jax.lax.dynamic_update_slice_in_dim(eigenvalues, values, start, 0)
    # the zero modes are exact zeros before the sort: eigh may put one (+1.2e-6) above the
    # refined λ₂ (6.7e-8), which the sort then swapped out (λ₂ read 1.2e-6 under jax.jvp, whose
    # eigh gave those values); a NaN stays NaN
    zero_mode = (jnp.arange(n) < count) & ~jnp.isnan(new_values)
    new_values = jnp.where(zero_mode, 0, new_values)
    new_vectors = jax.lax.dynamic_update_slice_in_dim(
        vectors, window + jax.lax.stop_gradient(turned - window), start, 1)
    order = jnp.argsort(new_values, stable=True)  # values may cross neighbours' by ulps
    return new_values[order], new_vectors[:, order]


def _round_robin(m: int) -> np.ndarray:
    """``(m - 1, m // 2, 2)`` index pairs: every pair of ``0..m-1`` once, disjoint per step."""
    players = list(range(m))
    steps = []
    for _ in range(m - 1):
        steps.append([(players[i], players[m - 1 - i]) for i in range(m // 2)])
        players = [players[0], players[-1], *players[1:-1]]
    return np.asarray(steps, dtype=np.int32)


def _jacobi_eigh(matrix, sweeps: int | None = None):
    r"""Eigenpairs of a small symmetric PSD matrix by cyclic Jacobi rotations, ascending.

    Jacobi computes each eigenvalue of a positive (semi)definite :math:`H = DAD` (``D`` its
    diagonal's square root) with a relative error of about :math:`\varepsilon\,\kappa(A)`
    (J. Demmel and K. Veselić, SIAM J. Matrix Anal. Appl. 13, 1992), where ``eigh``'s error is
    :math:`\varepsilon\max|H|` for all of them: a Rayleigh–Ritz matrix whose diagonal spans
    1e-6 to 1e6 keeps its small eigenvalue. Each step rotates ``m / 2`` disjoint pairs
    (round-robin order), updating only their rows and columns (``O(m^2)`` a step); the diagonal
    is updated by the stable formulas :math:`h_{pp} - t h_{pq}`, :math:`h_{qq} + t h_{pq}`.

    Args:
        matrix: ``(m, m)`` symmetric positive semi-definite.
        sweeps: cycles over all pairs (quadratic convergence; default 8 up to ``m = 16``, 12
            above: the Ritz matrices here start nearly diagonal).

    Returns:
        ``(eigenvalues (m,), eigenvectors (m, m))``, ascending.
    """
    m = matrix.shape[0]
    if m == 1:
        return jnp.diagonal(matrix), jnp.ones((1, 1), matrix.dtype)
    if sweeps is None:
        sweeps = 8 if m <= 16 else 12
    size = m + m % 2  # an odd size gets a decoupled dummy row, dropped at the end
    a = jnp.zeros((size, size), matrix.dtype).at[:m, :m].set(matrix)
    if size > m:
        a = a.at[m, m].set(jnp.max(jnp.abs(jnp.diagonal(matrix))) + 1)
    schedule = jnp.asarray(np.tile(_round_robin(size), (sweeps, 1, 1)))
    eye = jnp.eye(size, dtype=matrix.dtype)

    def turn(x, p, q, c, s):  # rows p, q of x by the rotation [[c, -s], [s, c]]
        xp, xq = x[p], x[q]
        return x.at[p].set(c[:, None] * xp - s[:, None] * xq).at[q].set(
            s[:, None] * xp + c[:, None] * xq)

    def rotate(carry, pairs):
        a, v = carry
        p, q = pairs[:, 0], pairs[:, 1]
        app, aqq, apq = a[p, p], a[q, q], a[p, q]
        coupled = apq != 0
        zeta = (aqq - app) / (2 * jnp.where(coupled, apq, 1))
        t = jnp.where(coupled, jnp.sign(zeta) / (jnp.abs(zeta) + jnp.sqrt(1 + zeta * zeta)), 0)
        t = jnp.where(coupled & (zeta == 0), 1, t)  # equal diagonal: a 45-degree rotation
        c = 1 / jnp.sqrt(1 + t * t)
        s = t * c
        a = turn(turn(a, p, q, c, s).T, p, q, c, s).T  # R^T A R, R = I + (c-1, s; -s, c-1)
        a = a.at[p, p].set(app - t * apq).at[q, q].set(aqq + t * apq)
        a = a.at[p, q].set(0).at[q, p].set(0)
        return (a, turn(v.T, p, q, c, s).T), None

    (a, v), _ = jax.lax.scan(rotate, (a, eye), schedule.reshape(-1, size // 2, 2))
    values = jnp.diagonal(a)[:m]
    order = jnp.argsort(values)
    return values[order], v[:m, :m][:, order]


def null_space(labels, roots, scale):
    """``(N, N)``: column ``j < c`` the unit vector ``scale * 1_{C_j}`` of the ``j``-th component.

    ``roots`` marks one (real) node per component, ``labels`` each node's root; columns from
    ``c`` on, and rows of nodes in no counted component (padding), are zero. ``scale = 1`` for
    :math:`L = D - A`, :math:`D^{1/2}` (1 on isolated nodes) for the normalised Laplacian.
    """
    n = labels.shape[0]
    rank = jnp.cumsum(roots.astype(jnp.int32)) - 1  # each root's component number, 0..c-1
    # padding (label -1) belongs to no component: -1 would index the last node
    member = ((rank[labels][:, None] == jnp.arange(n, dtype=jnp.int32)[None, :])
              & roots[labels][:, None] & (labels >= 0)[:, None])
    basis = member.astype(scale.dtype) * scale[:, None]
    size = jnp.sqrt(jnp.sum(basis * basis, axis=0))
    return basis / jnp.where(size > 0, size, 1)[None, :]


def needs_ritz(eigenvalues, lap, count, n_real):
    """True when the first eigenvalue after the zero modes is below ``sqrt(eps) max|L|``.

    ``eigh``'s absolute error is about ``eps max|L|`` (times a modest factor of ``N``), so such
    an eigenvalue carries a relative error above ``sqrt(eps)`` (3e-4 in float32).
    """
    n = eigenvalues.shape[0]
    first = eigenvalues[jnp.clip(count, 0, n - 1)]
    scale = jnp.max(jnp.abs(lap))
    # batched (vmap over graphs), the batch refines when any member needs it: a select would
    # refine every member (13x the time of 2000 small spectra)
    return any_in_batch((count < n_real) & (first < jnp.sqrt(jnp.finfo(lap.dtype).eps) * scale))


def refines(dtype) -> bool:
    """Whether eigenpairs of this dtype get :func:`refine_small`: float32 only.

    Float64 has the same defect at its own scale (two 50-cliques joined by a bridge of 1e-14:
    λ₂ = 1.6e-14 for 4.8e-16), but refining it too compiled the refinement into every float64
    spectrum (laplacian_spectrum's compile 1.7 s → 16 s on a loaded 2-core machine): a weight
    range beyond ~1e8 in float64 is a documented limit. Half precision (float16, bfloat16) is
    solved in float32 and not refined (``eigh`` has no half-precision kernel: the refinement's
    branch failed to trace).
    """
    return jnp.dtype(dtype) == jnp.dtype(jnp.float32)


def with_exact_null_space(vectors, zero, null):
    """``vectors`` with the ``zero`` columns replaced by ``null`` and the rest projected off it.

    The projected columns are renormalised (double where: no NaN gradient at 0).
    """
    hi = jax.lax.Precision.HIGHEST
    rest = jnp.where(zero[None, :], 0, vectors)
    rest = rest - jnp.matmul(null, jnp.matmul(null.T, rest, precision=hi), precision=hi)
    squared = jnp.sum(rest * rest, axis=0)
    rest = rest / jnp.sqrt(jnp.where(squared > 0, squared, 1))[None, :]
    return jnp.where(zero[None, :], null, rest)


class EdgeForm(NamedTuple):
    """What :func:`refine_small` needs of a graph besides ``eigh``'s pairs (:func:`edge_form`).

    Attributes:
        weights: ``(N, N)`` edge weights (the masked adjacency; the diagonal is ignored).
        scaled: ``(N,)`` 1 for :math:`L = D - A`, :math:`D^{-1/2}` for the normalised Laplacian.
        null: ``(N, N)`` the exact null space (:func:`null_space`), its first ``count`` columns.
        count: number of connected components (zero modes) among the real nodes.
        n_real: number of real (unpadded) nodes.
    """

    weights: jax.Array
    scaled: jax.Array
    null: jax.Array
    count: jax.Array
    n_real: jax.Array


def graph_edge_form(adjacency, normalized: bool, labels, mask, count) -> EdgeForm:
    """The :class:`EdgeForm` of the (normalised) Laplacian of a masked ``adjacency``.

    ``labels`` are :func:`jaxrg.connected_components`' (each node's root), ``count`` its count.
    """
    n = adjacency.shape[0]
    real = jnp.ones(n, bool) if mask is None else mask
    roots = real & (labels == jnp.arange(n, dtype=labels.dtype))
    weights, scaled = edge_form(adjacency, normalized)
    null = null_space(labels, roots, jnp.where(scaled > 0, 1 / jnp.where(scaled > 0, scaled, 1), 1))
    n_real = jnp.asarray(n) if mask is None else jnp.sum(mask)
    return EdgeForm(weights, scaled, null, count, n_real)


def refined_eigh(matrix, edges: EdgeForm | None):
    """``jnp.linalg.eigh(matrix)`` with :func:`refine_small` applied where it is needed.

    ``matrix`` is the (padded) Laplacian whose edge form ``edges`` is; ``None`` (or a dtype
    finer than float32) gives ``eigh``'s pairs unchanged. The refinement runs under
    ``lax.cond`` when :func:`needs_ritz` (batched: when any member needs it).

    Returns:
        ``(eigenvalues (N,), vectors (N, N))``, ascending.
    """
    values, vectors = scaled_eigh(matrix)
    if edges is None or not refines(matrix.dtype):
        return values, vectors

    def refine(pairs):
        # the zero modes exact: eigh's mix λ₂ into them (a derivative through such a column
        # coupled every mode to it: S_X's gradient in a bridge 40 % off)
        values, vectors = refine_small(*pairs, *edges)
        zero = jnp.arange(values.shape[0]) < edges.count
        return values, with_exact_null_space(vectors, zero, edges.null)

    return jax.lax.cond(needs_ritz(values, matrix, edges.count, edges.n_real), refine,
                        lambda pairs: pairs, (values, vectors))
