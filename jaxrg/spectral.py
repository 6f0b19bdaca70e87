r"""Graph Laplacians, their spectra and the heat kernel.

Combinatorial Laplacian :math:`L = D - A`, :math:`D = \mathrm{diag}(A\mathbf 1)`; symmetric
normalised Laplacian :math:`\mathcal L = D^{-1/2} (D - A) D^{-1/2}` (isolated nodes give a zero
row, as in networkx). Heat kernel
:math:`K(\tau) = e^{-\tau L} = U\,\mathrm{diag}(e^{-\tau\lambda})\,U^\top` from one
eigendecomposition, which serves every :math:`\tau`; density matrix
:math:`\rho(\tau) = K(\tau)/Z(\tau)`,
:math:`Z(\tau) = \mathrm{Tr}\,K(\tau) = \sum_i e^{-\tau\lambda_i}`.

Padding convention: :func:`laplacian_spectrum` gives every masked-out node the eigenvalue
``+inf``, whose weight :math:`e^{-\tau\cdot\infty} = 0` drops out of every spectral function, so
padded graphs need no mask downstream.

Example:
    >>> import jax.numpy as jnp, jaxrg
    >>> a = jaxrg.as_adjacency(([0, 1, 2], [1, 2, 0]))          # triangle: spectrum 0, 3, 3
    >>> jaxrg.laplacian_spectrum(a).round(6).tolist()
    [0.0, 3.0, 3.0]
    >>> round(float(jaxrg.heat_trace(jaxrg.laplacian_spectrum(a), 1.0)), 6)  # 1 + 2 e^{-3}
    1.099574
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from jaxrg import _checks
from jaxrg._components import dense_neighbour_min, propagate_min_labels
from jaxrg._numerics import any_in_batch, exact_ends, lead, log_weights, logsumexp_1p
from jaxrg.eigenvalues import eigvalsh
from jaxrg.graphs import as_adjacency, connected_components

__all__ = [
    "density_matrix",
    "heat_kernel",
    "heat_trace",
    "laplacian",
    "laplacian_spectrum",
    "log_heat_trace",
    "padded_laplacian",
]


def _dense(adjacency) -> jax.Array:
    """Accept any graph form; dense arrays are validated (values only when concrete)."""
    if isinstance(adjacency, jax.Array) and not _checks.is_concrete(adjacency):
        adjacency = _checks.as_float_array(adjacency, "adjacency")
        _checks.check_square(adjacency)
        _checks.check_adjacency_values(adjacency)
        return adjacency
    return as_adjacency(adjacency, remove_self_loops=False)


def laplacian(adjacency, *, normalized: bool = False) -> Float[Array, "n n"]:
    r"""Graph Laplacian.

    .. math:: L = D - A, \qquad \mathcal L = D^{-1/2}(D - A)D^{-1/2}\ (\texttt{normalized=True}).

    Self-loops cancel in :math:`L`; in :math:`\mathcal L` they count towards the degree (as in
    networkx). Isolated nodes have :math:`D^{-1/2} := 0` (a zero row), never NaN.

    Args:
        adjacency: ``(N, N)`` symmetric non-negative adjacency, or any form
            :func:`jaxrg.as_adjacency` takes.
        normalized: the symmetric normalised Laplacian (spectrum in ``[0, 2]``).

    Returns:
        ``(N, N)`` Laplacian.

    Raises:
        ValueError: not square, asymmetric, negative or non-finite weights (concrete input).

    Example:
        >>> import jaxrg
        >>> jaxrg.laplacian([[0, 1], [1, 0]]).tolist()
        [[1.0, -1.0], [-1.0, 1.0]]
    """
    normalized = _checks.check_flag(normalized, "normalized")
    return _laplacian_of(_dense(adjacency), normalized)


def _laplacian_of(adjacency: jax.Array, normalized: bool) -> jax.Array:
    """:func:`laplacian` of an adjacency that was checked already (validated once per call)."""
    # self-loops cancel in D - A: drop them before the degree, not by subtracting A_ii from a
    # degree that holds it (a loop 1e16 times the node's edges rounded them away)
    loops = jnp.diagonal(adjacency)
    off = adjacency - jnp.diag(loops)
    lap = jnp.diag(jnp.sum(off, axis=1)) - off
    if not normalized:
        return lap
    degree = jnp.sum(off, axis=1) + loops  # the normalised degree counts the loop (networkx)
    positive = degree > 0
    # double where: 1/sqrt(0) would give inf (and NaN gradients) for isolated nodes
    inv_sqrt = jnp.where(positive, 1 / jnp.sqrt(jnp.where(positive, degree, 1)), 0)
    return inv_sqrt[:, None] * lap * inv_sqrt[None, :]


def laplacian_spectrum(
    adjacency, mask=None, *, normalized: bool = False  # mask checked below: a clear ValueError
) -> Float[Array, " n"]:
    r"""Sorted Laplacian eigenvalues, exact zero modes, ``+inf`` for padded nodes.

    One ``eigvalsh`` of the Laplacian of the real nodes (:func:`jaxrg.eigenvalues.eigvalsh`: on
    CPU LAPACK's values-only driver, 2–3 times less work than ``jnp.linalg.eigvalsh``, which
    computes eigenvectors and drops them; gradients go through the eigenvectors). The number of
    zero eigenvalues equals the number of connected components ``c``, counted exactly by
    :func:`jaxrg.connected_components`; the ``c`` smallest eigenvalues are set to exactly 0 (an
    ``eigh`` returns them as :math:`\pm\varepsilon\lambda_{\max}`, which would otherwise bias
    :math:`S(\tau)` and :math:`C(\tau)` at large :math:`\tau`, badly so in float32). Padded nodes
    get the diagonal value :math:`1 + 2 d_{\max}` (above the Gershgorin bound of every real
    eigenvalue), so their eigenvalues come last and are replaced by ``+inf``.

    ``eigh`` gives every eigenvalue an absolute error of about :math:`N\varepsilon\max|L|`. In
    float32 (JAX's default) a small one, such as λ₂ of two communities joined by a weak edge,
    can come out half its value or negative. When the first non-zero eigenvalue lies below
    :math:`\sqrt{\varepsilon}\max|L|`, the 16 eigenvalues after the zero modes are refined by
    Rayleigh–Ritz through the edges (no subtraction; Jacobi on the projected matrix), after one
    Newton step on ``eigh``'s eigenvectors (residuals through the edges): λ₂ of 8e-9 to 1e-5
    relative where ``eigh`` gave it negative, 2e-9 to 3e-5 on a sparse graph of 2000 nodes
    (``benchmarks/results/refine.md``). Under ``vmap`` the batch is
    refined when one member needs it. Float64 is left as ``eigh`` gives it (its resolution is
    1e-16 max|L|). Derivatives are those of the eigendecomposition.

    Args:
        adjacency: ``(N, N)`` adjacency (or any form :func:`jaxrg.as_adjacency` takes).
        mask: optional ``(N,)`` boolean, True for real nodes (see :func:`jaxrg.pad_adjacency`).
        normalized: spectrum of the normalised Laplacian instead.

    Returns:
        ``(N,)`` eigenvalues, ascending: ``n_real`` finite values, then ``+inf``.

    Raises:
        ValueError, TypeError: bad adjacency or mask (see :func:`laplacian`).

    Example:
        >>> import jax.numpy as jnp, jaxrg
        >>> batch = jaxrg.pad_adjacency([([0], [1]), ([0, 1], [1, 2])])
        >>> jax_spectra = __import__("jax").vmap(jaxrg.laplacian_spectrum)(*batch)
        >>> jax_spectra.round(6).tolist()
        [[0.0, 2.0, inf], [0.0, 1.0, 3.0]]
    """
    lap, adjacency, mask = padded_laplacian(adjacency, mask, normalized)
    eigenvalues = eigvalsh(lap)  # values-only LAPACK driver on CPU, jnp elsewhere
    components = connected_components(adjacency, mask)
    count = components.count
    if _refines(lap.dtype):
        n = lap.shape[0]
        n_real = n if mask is None else jnp.sum(mask)
        real = jnp.ones(n, bool) if mask is None else mask
        roots = real & (components.labels == jnp.arange(n, dtype=components.labels.dtype))
        weights, scaled = _edge_form(adjacency, normalized)
        null = _null_space(components.labels, roots,
                           jnp.where(scaled > 0, 1 / jnp.where(scaled > 0, scaled, 1), 1))

        def refine(values):
            vectors = jnp.linalg.eigh(lap)[1]
            return _refine_small(values, vectors, weights, scaled, null, count, n_real)[0]

        eigenvalues = jax.lax.cond(_needs_ritz(eigenvalues, lap, count, n_real), refine,
                                   lambda values: values, eigenvalues)
    return exact_ends(eigenvalues, count, mask)


def _edge_form(adjacency, normalized: bool):
    """``(weights, scaled)`` of :func:`_edge_ritz` for the (normalised) Laplacian of ``A``."""
    if not normalized:
        return adjacency, jnp.ones(adjacency.shape[0], adjacency.dtype)
    degree = jnp.sum(adjacency, axis=1)  # the loops count, as in _laplacian_of
    positive = degree > 0
    return adjacency, jnp.where(positive, 1 / jnp.sqrt(jnp.where(positive, degree, 1)), 0)


_RITZ_WINDOW = 16  # eigenpairs after the zero modes that Rayleigh-Ritz refines (float32)
_RITZ_ROWS = 64  # rows of the edge sum per step (memory: rows x N x window)


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
        reduce: ``f(w (rows, N), diff (rows, N, m)) -> array``, for ``rows`` consecutive nodes
            ``i`` (the weights of rows seen by an earlier block are 0) and
            ``diff[r, j] = v_i - v_j``.

    Returns:
        ``(outputs stacked over blocks, block starts (B,), rows, unit)``.
    """
    n = basis.shape[0]
    rows = min(n, _RITZ_ROWS)
    window = basis * scaled[:, None]
    top = jnp.max(weights)
    low = jnp.min(jnp.where(weights > 0, weights, top))
    unit = jnp.where(top > 0, jnp.sqrt(top) * jnp.sqrt(low), 1)
    scaled_weights = weights / unit
    starts = jnp.minimum(jnp.arange(0, n, rows), n - rows)  # the last block overlaps

    def block(index):
        first = index * rows
        top = starts[index]
        fresh = (top + jnp.arange(rows)) >= first  # rows an earlier block saw count 0
        v = jax.lax.dynamic_slice_in_dim(window, top, rows, axis=0)
        w = jnp.where(fresh[:, None],
                      jax.lax.dynamic_slice_in_dim(scaled_weights, top, rows, axis=0), 0)
        return reduce(w, v[:, None, :] - window[None, :, :])

    return jax.lax.map(block, jnp.arange(starts.shape[0])), starts, rows, unit


def _edge_apply(weights, scaled, basis):
    """``L @ basis`` through the edges (:func:`_edge_blocks`): relatively accurate rows."""
    n, m = basis.shape
    hi = jax.lax.Precision.HIGHEST
    out, starts, rows, unit = _edge_blocks(
        weights, scaled, basis, lambda w, diff: jnp.einsum("rj,rjk->rk", w, diff, precision=hi))
    # an overlapping last block wrote 0 rows where it repeats; add, so each row counts once
    index = (starts[:, None] + jnp.arange(rows)[None, :]).reshape(-1)
    total = jnp.zeros((n, m), basis.dtype).at[index].add(out.reshape(-1, m))
    return total * scaled[:, None] * unit


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

    def gram(w, diff):
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


def _refine_small(eigenvalues, vectors, weights, scaled, null, count, n_real):
    """The eigenpairs after the ``count`` zero modes refined by :func:`_edge_ritz` (no gradient).

    The window's basis is first corrected by one :func:`_inverse_step` (``eigh``'s vectors are
    the limit of Rayleigh–Ritz alone on large sparse graphs: λ₂ 1.7e-2 off at N = 2000, 3e-5
    after the step).

    ``eigh`` mixes the zero modes with any eigenvalue within its round-off, so the window of
    ``m`` columns reaches up to ``m / 2`` zero-mode columns below the first non-zero one; it is
    projected off the exact null space ``null`` (:func:`_null_space`) and its SVD keeps the
    ``m - (zero-mode columns)`` directions left, on which Rayleigh–Ritz runs. The window lies
    within the real nodes; a graph with fewer than ``m`` of them is left as it is. The
    correction carries no gradient (``stop_gradient``): derivatives stay those of the
    eigendecomposition. The window's zero-mode positions keep their values and vectors.
    """
    n = vectors.shape[0]
    m = min(n, _RITZ_WINDOW)
    hi = jax.lax.Precision.HIGHEST
    start = jnp.clip(jnp.minimum(count - m // 2, n_real - m), 0, n - m)
    zeros_in = jnp.clip(count - start, 0, m)  # window positions that are zero modes
    window = jax.lax.dynamic_slice_in_dim(vectors, start, m, axis=1)
    off_null = jax.lax.stop_gradient(
        window - jnp.matmul(null, jnp.matmul(null.T, window, precision=hi), precision=hi))
    basis = jnp.linalg.svd(off_null, full_matrices=False)[0]  # largest singular values first
    position = jnp.arange(m)
    valid = position < m - zeros_in
    # the span is right, but the SVD rotates within it: turn the basis back onto eigh's own
    # columns (the non-zero-mode ones, first): Ritz then works on a nearly diagonal matrix,
    # which Jacobi resolves to relative accuracy (a rotated one mixes 1.5 with 8e5: 1e-3 off)
    overlap = jnp.matmul(basis.T, jnp.roll(off_null, -zeros_in, axis=1), precision=hi)
    block = valid[:, None] & valid[None, :]
    overlap = jnp.where(block, overlap, 0) + jnp.diag(jnp.where(valid, 0, 1).astype(basis.dtype))
    left, _, right_t = jnp.linalg.svd(overlap)
    basis = jnp.matmul(basis, jnp.matmul(left, right_t, precision=hi), precision=hi)
    weights, scaled = jax.lax.stop_gradient(weights), jax.lax.stop_gradient(scaled)
    outside = jnp.arange(n) >= start + m
    basis = _inverse_step(basis, valid, jax.lax.stop_gradient(eigenvalues),
                          jax.lax.stop_gradient(vectors), outside, weights, scaled, null)
    theta, turned = _edge_ritz(weights, scaled, basis, valid)
    source = jnp.clip(position - zeros_in, 0, m - 1)  # window position j takes Ritz pair j - z
    keep = (position < zeros_in) | (jnp.asarray(n_real) < m)
    old = jax.lax.dynamic_slice_in_dim(eigenvalues, start, m)
    values = jnp.where(keep, old, jnp.maximum(theta[source], 0))  # M is PSD: -ulps are 0
    turned = jnp.where(keep[None, :], window, turned[:, source])
    new_values = jax.lax.dynamic_update_slice_in_dim(
        eigenvalues, old + jax.lax.stop_gradient(values - old), start, 0)
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


def _jacobi_eigh(matrix, sweeps: int = 8):
    r"""Eigenpairs of a small symmetric PSD matrix by cyclic Jacobi rotations, ascending.

    Jacobi computes each eigenvalue of a positive (semi)definite :math:`H = DAD` (``D`` its
    diagonal's square root) with a relative error of about :math:`\varepsilon\,\kappa(A)`
    (J. Demmel and K. Veselić, SIAM J. Matrix Anal. Appl. 13, 1992), where ``eigh``'s error is
    :math:`\varepsilon\max|H|` for all of them: a Rayleigh–Ritz matrix whose diagonal spans
    1e-6 to 1e6 keeps its small eigenvalue. Each step rotates ``m / 2`` disjoint pairs
    (round-robin order); the diagonal is updated by the stable formulas
    :math:`h_{pp} - t h_{pq}`, :math:`h_{qq} + t h_{pq}`.

    Args:
        matrix: ``(m, m)`` symmetric positive semi-definite.
        sweeps: cycles over all pairs (quadratic convergence: 8 is ample for ``m <= 16``).

    Returns:
        ``(eigenvalues (m,), eigenvectors (m, m))``, ascending.
    """
    m = matrix.shape[0]
    if m == 1:
        return jnp.diagonal(matrix), jnp.ones((1, 1), matrix.dtype)
    size = m + m % 2  # an odd size gets a decoupled dummy row, dropped at the end
    a = jnp.zeros((size, size), matrix.dtype).at[:m, :m].set(matrix)
    if size > m:
        a = a.at[m, m].set(jnp.max(jnp.abs(jnp.diagonal(matrix))) + 1)
    schedule = jnp.asarray(np.tile(_round_robin(size), (sweeps, 1, 1)))
    eye = jnp.eye(size, dtype=matrix.dtype)
    hi = jax.lax.Precision.HIGHEST

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
        rot = eye.at[p, p].set(c).at[q, q].set(c).at[p, q].set(s).at[q, p].set(-s)
        a = jnp.matmul(rot.T, jnp.matmul(a, rot, precision=hi), precision=hi)
        a = a.at[p, p].set(app - t * apq).at[q, q].set(aqq + t * apq)
        a = a.at[p, q].set(0).at[q, p].set(0)
        return (a, jnp.matmul(v, rot, precision=hi)), None

    (a, v), _ = jax.lax.scan(rotate, (a, eye), schedule.reshape(-1, size // 2, 2))
    values = jnp.diagonal(a)[:m]
    order = jnp.argsort(values)
    return values[order], v[:m, :m][:, order]


def _null_space(labels, roots, scale):
    """``(N, N)``: column ``j < c`` the unit vector ``scale * 1_{C_j}`` of the ``j``-th component.

    ``roots`` marks one (real) node per component, ``labels`` each node's root; columns from
    ``c`` on, and rows of nodes in no counted component (padding), are zero. ``scale = 1`` for
    :math:`L = D - A`, :math:`D^{1/2}` (1 on isolated nodes) for the normalised Laplacian.
    """
    n = labels.shape[0]
    rank = jnp.cumsum(roots.astype(jnp.int32)) - 1  # each root's component number, 0..c-1
    member = (rank[labels][:, None] == jnp.arange(n, dtype=jnp.int32)[None, :]) & roots[labels][
        :, None]
    basis = member.astype(scale.dtype) * scale[:, None]
    size = jnp.sqrt(jnp.sum(basis * basis, axis=0))
    return basis / jnp.where(size > 0, size, 1)[None, :]


def _with_exact_null_space(vectors, zero, null):
    """``vectors`` with the ``zero`` columns replaced by ``null`` and the rest projected off it.

    The projected columns are renormalised (double where: no NaN gradient at 0).
    """
    hi = jax.lax.Precision.HIGHEST
    rest = jnp.where(zero[None, :], 0, vectors)
    rest = rest - jnp.matmul(null, jnp.matmul(null.T, rest, precision=hi), precision=hi)
    squared = jnp.sum(rest * rest, axis=0)
    rest = rest / jnp.sqrt(jnp.where(squared > 0, squared, 1))[None, :]
    return jnp.where(zero[None, :], null, rest)


def _needs_ritz(eigenvalues, lap, count, n_real):
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


def _refines(dtype) -> bool:
    """Whether eigenpairs of this dtype get :func:`_refine_small` (float32 and narrower)."""
    return bool(jnp.finfo(dtype).eps > 1e-10)


def padded_laplacian(adjacency, mask=None, normalized: bool = False):
    """The Laplacian of the real nodes, padded nodes on the diagonal above every real eigenvalue.

    The matrix whose eigendecomposition :func:`laplacian_spectrum` (and the feature-aware
    measure) use: real nodes get the (normalised) Laplacian of the masked graph; every padded
    node a diagonal entry larger than any real eigenvalue, so it sorts last.

    Args:
        adjacency: ``(N, N)`` symmetric non-negative weights (any form ``as_adjacency`` takes).
        mask: optional bool ``(N,)``, True for real nodes.
        normalized: symmetric normalised Laplacian instead of ``D - A``.

    Returns:
        ``(laplacian (N, N), masked adjacency (N, N), checked mask or None)``.
    """
    normalized = _checks.check_flag(normalized, "normalized")
    adjacency = _dense(adjacency)
    n = adjacency.shape[0]
    if mask is not None:
        mask = _checks.check_mask(mask, n)
        adjacency = adjacency * (mask[:, None] & mask[None, :]).astype(adjacency.dtype)
    lap = _laplacian_of(adjacency, normalized)
    if mask is not None:
        degree_max = jax.lax.stop_gradient(jnp.max(jnp.sum(adjacency, axis=1)))
        fill = 1 + 2 * jnp.maximum(degree_max, 1) if not normalized else jnp.asarray(3.0)
        lap = lap + jnp.diag(jnp.where(mask, 0, fill).astype(lap.dtype))
    return lap, adjacency, mask


def _eigh_psd(lap) -> tuple[jax.Array, jax.Array]:
    r"""Eigen-decomposition of a symmetric PSD matrix; its zero modes exact.

    A graph Laplacian has one zero mode per connected component of its off-diagonal pattern,
    ``c`` of them, which ``eigh`` computes only to about ``N eps max|L|``, and whose vectors it
    mixes with any eigenvalue that small (a weak link: weights 1e-6 and 4e5). Both errors matter
    where the zero modes alone survive, at large :math:`\tau`: a zero mode computed as 1e-16
    makes :math:`e^{-\tau\lambda_0}` vanish at :math:`\tau \gtrsim 10^{18}`, and mixed vectors
    give a wrong equilibrium instead of the projector on the null space (``J / N`` for a
    connected graph). So the ``c`` smallest eigenvalues are set to exactly 0 where they lie within
    the round-off bound, the rest clipped at 0; and a combinatorial Laplacian (rows sum to 0),
    whose null space is known exactly (the normalised component indicators ``B``), gets ``B`` as
    its zero-mode vectors and the others projected off ``B`` and renormalised. In float32 a
    small *non-zero* eigenvalue of such a Laplacian (below ``sqrt(eps) max|L|``) is refined with
    its neighbours by :func:`_refine_small` (Rayleigh–Ritz through the edges); otherwise it is
    kept as ``eigh`` gives it.
    """
    lap = _checks.as_float_array(lap, "laplacian")
    n = _checks.check_square(lap, "laplacian")
    eigenvalues, vectors = jnp.linalg.eigh(lap)
    _checks.check_laplacian_values(lap, eigenvalues, "laplacian")
    # the same round-off bound that check_laplacian_values accepts for negatives
    roundoff = 10 * n * jnp.finfo(lap.dtype).eps * jnp.max(jnp.abs(lap))
    labels = propagate_min_labels(dense_neighbour_min, n, (lap != 0) & ~jnp.eye(n, dtype=bool))
    roots = labels == jnp.arange(n, dtype=labels.dtype)  # one root per component
    count = jnp.sum(roots)
    zero = (jnp.arange(n) < count) & (eigenvalues <= roundoff)
    null = _null_space(labels, roots, jnp.ones(n, lap.dtype))
    combinatorial = jnp.all(jnp.abs(jnp.sum(lap, axis=1)) <= roundoff) & (
        jnp.sum(zero) == count
    )
    raw = vectors
    vectors = jnp.where(combinatorial, _with_exact_null_space(raw, zero, null), raw)
    eigenvalues = jnp.where(zero, 0, jnp.maximum(eigenvalues, 0))
    if _refines(lap.dtype):  # L = D - A: its edges are -L off the diagonal
        weights = jnp.maximum(-jnp.where(jnp.eye(n, dtype=bool), 0, lap), 0)

        def refine(values):
            # from eigh's own vectors: a zero-mode column may hold most of a small mode
            values, turned = _refine_small(values, raw, weights, jnp.ones(n, lap.dtype), null,
                                           count, n)
            return values, _with_exact_null_space(turned, zero, null)

        eigenvalues, vectors = jax.lax.cond(
            combinatorial & _needs_ritz(eigenvalues, lap, count, n), refine,
            lambda values: (values, vectors), eigenvalues)
    return eigenvalues, vectors


def heat_kernel(laplacian, taus=None, *, tau=None) -> Float[Array, "*t n n"]:
    r"""Heat kernel :math:`e^{-\tau L} = U\,\mathrm{diag}(e^{-\tau\lambda})\,U^\top`.

    One ``eigh`` serves every :math:`\tau`. Its derivative is exact at repeated eigenvalues
    (rings, grids, complete graphs, several components), where differentiating through
    ``eigh``'s eigenvectors gives NaN or a wrong number: see :func:`_matrix_function`.

    Args:
        laplacian: ``(N, N)`` symmetric positive semi-definite matrix (a graph Laplacian).
        taus: scalar or ``(T,)`` diffusion times, ``> 0``.
        tau: deprecated alias of ``taus`` (``DeprecationWarning``; removed in the next release).

    Returns:
        ``(N, N)`` for a scalar ``taus``, ``(T, N, N)`` for ``(T,)``.

    Raises:
        ValueError: ``laplacian`` not square, non-finite, asymmetric or not positive
            semi-definite (e.g. an adjacency passed by mistake); ``taus`` not finite and > 0.
            Value checks run on concrete input, and under ``jit`` via :func:`jaxrg.checked`.
        TypeError: both ``taus`` and ``tau`` given, or neither.

    Example:
        >>> import jaxrg
        >>> k = jaxrg.heat_kernel(jaxrg.laplacian([[0, 1], [1, 0]]), 0.5)
        >>> k.sum(axis=1).round(6).tolist()   # rows of e^{-tau L} sum to 1
        [1.0, 1.0]
    """
    taus = _checks.check_taus(_checks.renamed_taus(taus, tau, "heat_kernel"))
    return _matrix_function(_checks.as_float_array(laplacian, "laplacian"), taus, False)


def density_matrix(laplacian, taus=None, *, tau=None) -> Float[Array, "*t n n"]:
    r"""Density matrix :math:`\rho(\tau) = e^{-\tau L} / \mathrm{Tr}\,e^{-\tau L}`.

    The weights :math:`\mu_i = e^{-\tau\lambda_i}/Z = \mathrm{softmax}(-\tau\lambda)_i` are formed
    in log domain, so no :math:`\tau` under- or overflows. Its derivative is exact at repeated
    eigenvalues, as :func:`heat_kernel`'s.

    Args:
        laplacian: ``(N, N)`` symmetric PSD matrix.
        taus: scalar or ``(T,)`` diffusion times, ``> 0``.
        tau: deprecated alias of ``taus`` (``DeprecationWarning``; removed in the next release).

    Returns:
        ``(N, N)`` or ``(T, N, N)``, each with unit trace.

    Raises:
        ValueError: as :func:`heat_kernel`.
        TypeError: both ``taus`` and ``tau`` given, or neither.

    Example:
        >>> import jaxrg
        >>> rho = jaxrg.density_matrix(jaxrg.laplacian([[0, 1], [1, 0]]), 1e8)
        >>> rho.round(6).tolist()   # tau -> inf: the projector on the zero mode
        [[0.5, 0.5], [0.5, 0.5]]
    """
    taus = _checks.check_taus(_checks.renamed_taus(taus, tau, "density_matrix"))
    return _matrix_function(_checks.as_float_array(laplacian, "laplacian"), taus, True)


def _divided_difference_factor(x):
    r""":math:`\varphi(x) = (1 - e^{-x})/x` for ``x >= 0``, :math:`\varphi(0) = 1`; NaN-free."""
    positive = x > 0
    safe = jnp.where(positive, x, 1)  # double where: no NaN gradient at 0
    return jnp.where(positive, -jnp.expm1(-safe) / safe, 1)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _matrix_function(lap, taus, normalise: bool):
    r""":math:`U f(\Lambda) U^\top` for :math:`f(\lambda) = e^{-\tau\lambda}` (the heat kernel)
    or :math:`\mathrm{softmax}(-\tau\lambda)` (the density matrix); ``(*t, N, N)``.

    The derivative is the Daleckii-Krein formula, not ``eigh``'s eigenvector derivative:
    :math:`\mathrm d f(L)[E] = U\,(G \circ U^\top E U)\,U^\top` with the divided differences
    :math:`G_{ij} = (f(\lambda_i) - f(\lambda_j))/(\lambda_i - \lambda_j)`, and
    :math:`G_{ii} = f'(\lambda_i)`. For :math:`f = e^{-\tau\lambda}` they are computed without
    cancellation as :math:`G_{ij} = -\tau\,\max(f_i, f_j)\,\varphi(\tau|\lambda_i - \lambda_j|)`,
    :math:`\varphi(x) = (1 - e^{-x})/x`, which tends to :math:`f'` as the gap closes. Through
    ``eigh`` the eigenvectors' derivative divides by :math:`\lambda_i - \lambda_j`: NaN at an
    exactly repeated eigenvalue (a ring, a grid, a complete graph, two equal components) and a
    finite, wrong number at one repeated up to round-off (21 % off on a star). The density matrix
    :math:`\rho = f(L)/Z` adds :math:`-\rho\,\mathrm{Tr}\,\mathrm d f(L)/Z`; the
    :math:`\tau` derivatives are :math:`-L e^{-\tau L}` and
    :math:`U \mathrm{diag}(\mu_i (\langle\lambda\rangle - \lambda_i)) U^\top`.
    """
    eigenvalues, vectors = _eigh_psd(lap)
    return _weighted_projectors(vectors, _spectral_weights(eigenvalues, taus, normalise))


def _spectral_weights(eigenvalues, taus, normalise: bool):
    r"""``(*t, N)``: :math:`e^{-\tau\lambda}`, or its softmax (formed in log domain)."""
    logits = -taus[..., None] * lead(eigenvalues.astype(taus.dtype), taus.ndim)
    return jax.nn.softmax(logits, axis=-1) if normalise else jnp.exp(logits)


def _weighted_projectors(vectors, weights):
    """``U diag(w) U^T`` for every leading index of ``weights`` (no TF32)."""
    w = weights.astype(vectors.dtype)
    return jnp.einsum(
        "ik,...k,jk->...ij", vectors, w, vectors, precision=jax.lax.Precision.HIGHEST
    )


@_matrix_function.defjvp
def _matrix_function_jvp(normalise, primals, tangents):
    lap, taus = primals
    d_lap, d_taus = tangents
    eigenvalues, vectors = _eigh_psd(lap)
    weights = _spectral_weights(eigenvalues, taus, normalise)  # (*t, N)
    out = _weighted_projectors(vectors, weights)
    hi = jax.lax.Precision.HIGHEST
    # eigh reads a symmetric matrix, so only the symmetric part of the tangent acts
    d_sym = (d_lap + jnp.swapaxes(d_lap, -1, -2)) / 2
    rotated = jnp.matmul(vectors.T, jnp.matmul(d_sym, vectors, precision=hi), precision=hi)
    lam = eigenvalues.astype(weights.dtype)
    tau = taus.astype(weights.dtype)[..., None, None]
    nd = taus.ndim
    gap = lead(jnp.abs(lam[:, None] - lam[None, :]), nd)
    larger = jnp.maximum(weights[..., :, None], weights[..., None, :])
    divided = -tau * larger * _divided_difference_factor(tau * gap)  # (*t, N, N)
    inner = divided * lead(rotated.astype(weights.dtype), nd)
    d_t = d_taus.astype(weights.dtype)[..., None]
    if normalise:
        # rho = f / Z: subtract rho Tr(df) / Z; d rho / d tau = mu (<lambda> - lambda)
        trace = jnp.sum(jnp.diagonal(inner, axis1=-2, axis2=-1), axis=-1)
        mean = jnp.sum(weights * lead(lam, nd), axis=-1, keepdims=True)
        diagonal = -weights * trace[..., None] + weights * (mean - lead(lam, nd)) * d_t
    else:
        diagonal = -lead(lam, nd) * weights * d_t  # d e^{-tau L} / d tau = -L e^{-tau L}
    eye = lead(jnp.eye(lam.shape[0], dtype=inner.dtype), nd)
    inner = inner + diagonal[..., :, None] * eye
    v = vectors.astype(inner.dtype)
    d_out = jnp.einsum("ik,...kl,jl->...ij", v, inner, v, precision=hi)
    return out, d_out.astype(out.dtype)


def heat_trace(eigenvalues, taus) -> Float[Array, " *t"]:
    r"""Heat trace :math:`Z(\tau) = \mathrm{Tr}\,e^{-\tau L} = \sum_i e^{-\tau\lambda_i}` (NetLSD).

    Padded eigenvalues (``+inf``) contribute 0.

    Args:
        eigenvalues: ``(N,)`` Laplacian eigenvalues (``+inf`` for padding).
        taus: scalar or any-shape diffusion times ``> 0``.

    Returns:
        ``Z`` with the shape of ``taus``.

    Example:
        >>> import jaxrg
        >>> round(float(jaxrg.heat_trace([0.0, 2.0, float("inf")], 0.5)), 6)  # 1 + e^{-1}
        1.367879
    """
    return jnp.exp(log_heat_trace(eigenvalues, taus))


def log_heat_trace(eigenvalues, taus) -> Float[Array, " *t"]:
    r""":math:`\log Z(\tau) = \mathrm{logsumexp}(-\tau\lambda)`, exact for any :math:`\tau`.

    Args:
        eigenvalues: ``(N,)`` eigenvalues (``+inf`` for padding).
        taus: scalar or any-shape diffusion times ``> 0``.

    Returns:
        ``log Z`` with the shape of ``taus``.
    """
    logits, _, _ = log_weights(eigenvalues, taus)
    return logsumexp_1p(logits)
