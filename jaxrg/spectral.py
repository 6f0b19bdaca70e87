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
from jaxtyping import Array, Float

from jaxrg import _checks
from jaxrg._components import dense_neighbour_min, propagate_min_labels
from jaxrg._numerics import (
    any_in_batch,
    exact_ends,
    lead,
    log_weights,
    logsumexp_1p,
    scaled_eigh,
)
from jaxrg._refine import (
    graph_edge_form,
    needs_ritz,
    null_space,
    refine_small,
    refines,
    with_exact_null_space,
)
from jaxrg.eigenvalues import eigvalsh
from jaxrg.graphs import Components, as_adjacency, connected_components

__all__ = [
    "block_order",
    "density_matrix",
    "heat_kernel",
    "heat_trace",
    "in_block_order",
    "laplacian",
    "laplacian_spectrum",
    "log_heat_trace",
    "padded_laplacian",
    "permute_nodes",
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

    The nodes are grouped by component before ``eigvalsh`` (:func:`in_block_order`), so each
    component's eigenvalues carry its own scale's round-off whatever the labelling. Within a
    component ``eigh`` gives every eigenvalue an absolute error of about
    :math:`N\varepsilon\max|L|`. In float32 (JAX's default) a small one, such as λ₂ of two
    communities joined by a weak edge, can come out half its value or negative. When the first
    non-zero eigenvalue lies below :math:`\sqrt{\varepsilon}\max|L|`, the 16 eigenvalues after
    the zero modes are refined by Rayleigh–Ritz through the edges (no subtraction; Jacobi on the
    projected matrix), after one Newton step on ``eigh``'s eigenvectors (residuals through the
    edges): λ₂ of 8e-9 to 1e-5 relative where ``eigh`` gave it negative, 2e-9 to 3e-5 on a
    sparse graph of 2000 nodes (``benchmarks/results/refine.md``). Under ``vmap`` the batch is
    refined when one member needs it. Float64 is left as ``eigh`` gives it (its resolution is
    1e-16 max|L|). Derivatives are those of the eigendecomposition, :math:`u^\top\mathrm dL\,u`;
    for a refined eigenvalue on its refined vector.

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
    components = connected_components(adjacency, mask)
    # values-only LAPACK driver on CPU, jnp elsewhere; the nodes in block order (in_block_order)
    order = block_order(components.labels, mask)
    eigenvalues = eigvalsh(permute_nodes(order, (lap,))[0][0])
    count = components.count
    if refines(lap.dtype):
        n_real = jnp.asarray(lap.shape[0]) if mask is None else jnp.sum(mask)

        def refine(values):  # eigh with vectors only here: the plain route is values-only
            # the edge form too (a batch that needs no refinement builds no null space)
            edges = graph_edge_form(adjacency, normalized, components.labels, mask, count)
            # in block order too, the vectors' rows back in the graph's order
            vectors = scaled_eigh(lap[order[:, None], order[None, :]])[1]
            return refine_small(values, vectors[jnp.argsort(order)], *edges)[0]

        eigenvalues = jax.lax.cond(needs_ritz(eigenvalues, lap, count, n_real), refine,
                                   lambda values: values, eigenvalues)
    return exact_ends(eigenvalues, count, mask)


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


def block_order(labels, mask=None) -> jax.Array:
    """``(N,)`` the node permutation that groups each component's nodes (stable; padding last)."""
    n = labels.shape[0]
    key = labels if mask is None else jnp.where(mask, labels, n)
    return jnp.argsort(key, stable=True)


def in_block_order(lap, adjacency, mask, components: Components, rows=()):
    r"""The graph with its nodes grouped by component: a block-diagonal Laplacian.

    A spectrum does not depend on the order of the nodes, but ``eigh``'s error does: LAPACK's
    Householder tridiagonalisation keeps a block-diagonal matrix block-diagonal (exact zeros)
    and the tridiagonal solver splits there, so each component's eigenvalues come with its own
    scale's round-off; with the nodes interleaved, every eigenvalue gets the largest
    component's :math:`N\varepsilon\max|L|` (float32, karate plus a copy weighted 1e-5,
    shuffled: λ₃..λ₁₆ 14 % off, S 5e-3, where the blocked order gave 3e-7). A connected
    graph, or one already in block order, is left exactly as it is.

    Args:
        rows: per-node arrays (first axis ``N``: features, masks) permuted with the nodes.

    Returns:
        ``(lap, adjacency, mask, components, rows)`` permuted; ``components.labels`` renumbered
        (the smallest new id in each component, -1 for padding).
    """
    order = block_order(components.labels, mask)
    inverse = jnp.argsort(order)
    labels = components.labels[order]
    labels = jnp.where(labels >= 0, inverse[jnp.clip(labels, 0, None)].astype(labels.dtype), labels)
    masks = () if mask is None else (mask,)
    (lap, adjacency), permuted = permute_nodes(order, (lap, adjacency), masks + tuple(rows))
    mask, rows = (None, permuted) if mask is None else (permuted[0], permuted[1:])
    return lap, adjacency, mask, Components(labels, components.count), rows


def permute_nodes(order, matrices=(), rows=()):
    """``(N, N)`` ``matrices`` permuted on both axes and ``rows`` on their first, by ``order``.

    Skipped (``lax.cond``) when ``order`` is the identity, as for every connected graph: the
    gathers cost 20 % of a 500-node ``eigvalsh``. Batched, the batch is permuted when one
    member needs it (:func:`jaxrg._numerics.any_in_batch`).

    Returns:
        ``(matrices, rows)`` as tuples.
    """
    n = order.shape[0]
    moved = any_in_batch(jnp.any(order != jnp.arange(n, dtype=order.dtype)))
    both = (order[:, None], order[None, :])

    def permute(operands):
        ms, rs = operands
        return tuple(m[both] for m in ms), tuple(r[order] for r in rs)

    return jax.lax.cond(moved, permute, lambda operands: operands, (tuple(matrices), tuple(rows)))


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
    its neighbours by :func:`refine_small` (Rayleigh–Ritz through the edges); otherwise it is
    kept as ``eigh`` gives it.
    """
    lap = _checks.as_float_array(lap, "laplacian")
    n = _checks.check_square(lap, "laplacian")
    labels = propagate_min_labels(dense_neighbour_min, n, (lap != 0) & ~jnp.eye(n, dtype=bool))
    # eigh in block order (each component at its own scale's round-off: in_block_order); the
    # vectors' rows back in the caller's order
    order = block_order(labels)
    eigenvalues, vectors = scaled_eigh(permute_nodes(order, (lap,))[0][0])
    vectors = permute_nodes(jnp.argsort(order), rows=(vectors,))[1][0]
    _checks.check_laplacian_values(lap, eigenvalues, "laplacian")
    # the same round-off bound that check_laplacian_values accepts for negatives
    roundoff = 10 * n * jnp.finfo(lap.dtype).eps * jnp.max(jnp.abs(lap))
    roots = labels == jnp.arange(n, dtype=labels.dtype)  # one root per component
    count = jnp.sum(roots)
    zero = (jnp.arange(n) < count) & (eigenvalues <= roundoff)
    null = null_space(labels, roots, jnp.ones(n, lap.dtype))
    combinatorial = jnp.all(jnp.abs(jnp.sum(lap, axis=1)) <= roundoff) & (
        jnp.sum(zero) == count
    )
    raw = vectors
    vectors = jnp.where(combinatorial, with_exact_null_space(raw, zero, null), raw)
    eigenvalues = jnp.where(zero, 0, jnp.maximum(eigenvalues, 0))
    if refines(lap.dtype):  # L = D - A: its edges are -L off the diagonal
        weights = jnp.maximum(-jnp.where(jnp.eye(n, dtype=bool), 0, lap), 0)

        def refine(values):
            # from eigh's own vectors: a zero-mode column may hold most of a small mode
            values, turned = refine_small(values, raw, weights, jnp.ones(n, lap.dtype), null,
                                           count, n)
            return values, with_exact_null_space(turned, zero, null)

        eigenvalues, vectors = jax.lax.cond(
            combinatorial & needs_ritz(eigenvalues, lap, count, n), refine,
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
