r"""The LRG meta-graph :math:`\zeta(\tau)` on a dense graph, from one eigendecomposition.

Rule (Villegas et al. 2023; DESIGN.md §3): nodes ``i`` and ``j`` are linked when

.. math:: \rho_{ij}(\tau) \ge \min(\rho_{ii}(\tau), \rho_{jj}(\tau)).

It is invariant under a positive rescaling of :math:`\rho` and under adding a constant to every
entry of a connected block, so it is evaluated on the zero-mode-free kernel of each connected
component :math:`c`,

.. math:: \tilde K_{ij} = \sum_{k:\,\lambda_k > 0} e^{-\tau(\lambda_k - s_c)}\, u_{ik} u_{jk},
    \qquad s_c = \lambda_2 \text{ of component } c,

whose largest eigenvalue is 1 for every :math:`\tau`: at large :math:`\tau` the :math:`1/N` of
the zero mode would otherwise bury the decisive differences under round-off, and at small
:math:`\tau` nothing is subtracted that matters.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Bool, Int

from jaxrg import _checks
from jaxrg.graphs import connected_components
from jaxrg.spectral import _dense, laplacian


class _Basis(NamedTuple):
    """Everything :math:`\\tilde K(\\tau)` needs, for any ``tau``.

    vectors: (N, N) eigenvectors u_k (columns). eigenvalues: (N,). modes: (N,) bool, the non-zero
    modes of real nodes. shift: (N,) s_c of each node's component (+inf for isolated and padded
    nodes). labels: (N,) component label, -1 = padding.
    """

    vectors: jax.Array
    eigenvalues: jax.Array
    modes: jax.Array
    shift: jax.Array
    labels: jax.Array


def default_rtol(num_nodes: int, dtype) -> float:
    r"""Default decision tolerance: :math:`32\sqrt N\,\varepsilon` of the dtype.

    ``2e-13`` for Cora in float64 (round-off of :math:`\tilde K` measured there: ``1.5e-14``);
    ``9e-5`` at ``N = 2485`` in float32.

    Args:
        num_nodes: ``N``, the number of nodes (Python int).
        dtype: floating dtype whose machine epsilon :math:`\varepsilon` is used.

    Returns:
        The tolerance as a Python float (scalar).
    """
    return float(32 * num_nodes**0.5 * jnp.finfo(dtype).eps)


def _basis(adjacency: jax.Array, mask) -> _Basis:
    """One ``eigh`` of the (padded) Laplacian plus each component's Fiedler value."""
    n = adjacency.shape[0]
    real = jnp.ones(n, bool) if mask is None else mask
    if mask is not None:
        adjacency = adjacency * (mask[:, None] & mask[None, :]).astype(adjacency.dtype)
    lap = laplacian(adjacency)
    if mask is not None:  # padded nodes: decoupled, eigenvalue above every real one, sorted last
        fill = 1 + 2 * jnp.maximum(lax.stop_gradient(jnp.max(jnp.sum(adjacency, 1))), 1)
        lap = lap + jnp.diag(jnp.where(mask, 0, fill).astype(lap.dtype))
    eigenvalues, vectors = jnp.linalg.eigh(lap)
    components = connected_components(adjacency, mask)
    index = jnp.arange(n)
    n_real = jnp.sum(real)
    nonzero_mode = (index >= components.count) & (index < n_real)
    eigenvalues = jnp.where(index < components.count, 0, eigenvalues)
    # mass of mode k on component c; a mode "belongs" to c when its mass there exceeds 1/(2N):
    # the modes of one eigenvalue of c carry total mass >= 1 there, so one of them passes.
    segment = jnp.where(real, components.labels, n)
    mass = jax.ops.segment_sum(vectors**2, segment, num_segments=n + 1)[:n]
    belongs = (mass > 0.5 / n_real.astype(mass.dtype)) & nonzero_mode[None, :]
    fiedler = jnp.min(jnp.where(belongs, eigenvalues[None, :], jnp.inf), axis=1)
    shift = jnp.where(real, fiedler[jnp.clip(components.labels, 0, n - 1)], jnp.inf)
    return _Basis(vectors, eigenvalues, nonzero_mode, shift, components.labels)


def _scaled_vectors(basis: _Basis, tau) -> jax.Array:
    r"""Rows :math:`V_{ik} = u_{ik} e^{-\tau(\lambda_k - s_{c(i)})/2}`: :math:`\tilde K = VV^\top`.

    Zero modes, padding and modes below the component's Fiedler value (round-off leakage from
    other components) get weight 0; no weight exceeds 1, so nothing overflows at any ``tau``.
    """
    gap = basis.eigenvalues[None, :] - basis.shift[:, None]
    keep = (gap >= 0) & basis.modes[None, :] & jnp.isfinite(basis.shift)[:, None]
    # double where: exp(-tau * gap) of a dropped mode may be inf
    half = jnp.exp(-0.5 * tau * jnp.where(keep, gap, 0))
    return basis.vectors * jnp.where(keep, half, 0)


def _decide(kernel_cols, diag_rows, diag_cols, same, tol) -> jax.Array:
    """``K_ij - min(K_ii, K_jj) > tol`` on a block of columns, only inside one component."""
    margin = kernel_cols - jnp.minimum(diag_rows[:, None], diag_cols[None, :])
    return same & (margin > tol)


def meta_graph(
    adjacency, tau, mask: Bool[Array, " n"] | None = None, *, rtol: float | None = None
) -> Bool[Array, "*t n n"]:
    r"""Meta-graph :math:`\zeta(\tau)`: ``i ~ j`` iff :math:`\rho_{ij}\ge\min(\rho_{ii},\rho_{jj})`.

    Computed on the zero-mode-free kernel :math:`\tilde K` of each connected component (see the
    module docstring), from one ``eigh`` that serves every ``tau``; stable from ``tau = 1e-4`` to
    ``1e4`` and beyond. Pairs whose margin :math:`\tilde K_{ij} - \min(\tilde K_{ii},
    \tilde K_{jj})` lies within ``rtol`` of zero are near-ties that round-off cannot decide; they
    are left unlinked (at large ``tau`` such pairs are mirror images, e.g. twin leaves, whose exact
    margin is negative but exponentially small).

    The kernel is computed in the dtype of ``adjacency``. Prefer float64: in float32 the
    tolerance is about ``1e-4`` and near decisions are lost (on Cora at :math:`\tau = 0.53`,
    float32 finds 1131 of the 1167 links that float64 and the large-graph routes agree on).

    Disconnected graphs are treated per component: nodes of different components are never
    linked, and each component's kernel is normalised by its own Fiedler value. Padded nodes
    (``mask`` False) have all-False rows and columns.

    Args:
        adjacency: ``(N, N)`` symmetric non-negative (weighted) adjacency, or any graph form
            :func:`jaxrg.as_adjacency` takes.
        tau: scalar or ``(T,)`` diffusion times ``> 0``.
        mask: optional ``(N,)`` boolean node mask (see :func:`jaxrg.pad_adjacency`).
        rtol: decision tolerance relative to the largest eigenvalue of :math:`\tilde K` (1);
            default :func:`default_rtol` (``32 sqrt(N) eps``).

    Returns:
        Boolean ``(N, N)`` (or ``(T, N, N)``), symmetric, True on the diagonal of real nodes.

    Raises:
        ValueError: ``rtol`` NaN, infinite or negative; asymmetric, negative or non-finite
            adjacency; ``tau <= 0`` (concrete input;
            under ``jit`` wrap with :func:`jaxrg.checked`).

    References:
        P. Villegas, T. Gili, G. Caldarelli, A. Gabrielli, "Laplacian renormalization group for
        heterogeneous networks", Nature Physics 19 (2023).

    Example:
        >>> import jax.numpy as jnp, jaxrg.lrg
        >>> path = jaxrg.as_adjacency((jnp.arange(5), jnp.arange(1, 6)))   # path of 6 nodes
        >>> zeta = jaxrg.lrg.meta_graph(path, 2.0)
        >>> jnp.argwhere(jnp.triu(zeta, 1)).tolist()                     # the end pairs merge
        [[0, 1], [4, 5]]
    """
    adjacency, mask, taus, tol = _prepare(adjacency, tau, mask, rtol)
    return over_taus(adjacency, taus, mask, tol, per_tau=_zeta_only)


def _prepare(adjacency, tau, mask, rtol):
    """Validated ``(adjacency, mask, taus, tol)``: values checked here, on concrete input."""
    adjacency = _dense(adjacency)
    n = _checks.check_square(adjacency)
    if mask is not None:
        mask = _checks.check_mask(mask, n)
    taus = _checks.check_taus(tau, "tau").astype(adjacency.dtype)
    if taus.ndim > 1:
        raise ValueError(f"tau must be a scalar or 1-D (T,); got shape {taus.shape}.")
    tol = default_rtol(n, adjacency.dtype) if rtol is None else _rtol(rtol)
    return adjacency, mask, taus, jnp.asarray(tol, adjacency.dtype)


def _rtol(rtol) -> float:
    """A user tolerance: a finite number >= 0 (NaN or a negative value would link every pair)."""
    value = float(rtol)
    if not 0 <= value < float("inf"):
        raise ValueError(
            f"rtol must be a finite number >= 0 (a decision tolerance relative to 1); got "
            f"{rtol!r}. Leave it None for default_rtol (32 sqrt(N) eps)."
        )
    return value


@functools.partial(jax.jit, static_argnames=("per_tau", "options", "sequential"))
def over_taus(adjacency, taus, mask, tol, *, per_tau, options=(), sequential=False):
    """``per_tau(adjacency, mask, zeta(tau), *options)`` for a scalar or each of ``(T,)`` taus.

    One ``eigh`` serves every ``tau``; ``sequential`` maps with ``lax.map`` (memory of one
    ``tau`` at a time) instead of ``vmap``. Compiled once per shape, so eager calls are fast.
    """
    basis = _basis(adjacency, mask)

    def one(tau):
        return per_tau(adjacency, mask, _zeta_dense(basis, tau, tol), *options)

    if taus.ndim == 0:
        return one(taus)
    return lax.map(one, taus) if sequential else jax.vmap(one)(taus)


def _zeta_only(adjacency, mask, zeta):
    return zeta


def _zeta_dense(basis: _Basis, tau, tol) -> jax.Array:
    vectors = _scaled_vectors(basis, tau)
    kernel = vectors @ vectors.T
    kernel = (kernel + kernel.T) / 2  # exactly symmetric decisions
    diag = jnp.diagonal(kernel)
    real = basis.labels >= 0
    same = (basis.labels[:, None] == basis.labels[None, :]) & real[:, None]
    zeta = _decide(kernel, diag, diag, same, tol)
    return zeta | (jnp.eye(zeta.shape[0], dtype=bool) & real[:, None])


class MacroNodes(NamedTuple):
    """Blocks of the meta-graph (its connected components).

    Attributes:
        labels: ``(N,)`` int; the smallest node id of each node's macro-node (-1 for padding).
        index: ``(N,)`` int; the macro-node's rank ``0..count-1`` in order of smallest member
            (-1 for padding): the row of the node's macro-node in the coarse graph.
        count: scalar int, the number of macro-nodes.
    """

    labels: Int[Array, " n"]
    index: Int[Array, " n"]
    count: Int[Array, ""]


def macro_nodes(zeta, mask: Bool[Array, " n"] | None = None) -> MacroNodes:
    r"""Macro-nodes: connected components of the meta-graph; jit-able with static ``N``.

    Min-label propagation with pointer jumping in a ``lax.while_loop`` (the algorithm of
    :func:`jaxrg.connected_components`), on a dense ``(N, N)`` relation or, for large graphs, on
    the edges of a :class:`jaxrg.lrg.MetaGraphEdges` (``O(E)`` per round).

    Args:
        zeta: boolean ``(N, N)`` meta-graph (:func:`meta_graph`) or a
            :class:`jaxrg.lrg.MetaGraphEdges`.
        mask: optional ``(N,)`` node mask (dense input only).

    Returns:
        :class:`MacroNodes`.

    Raises:
        TypeError: a floating ``zeta`` (threshold it to a boolean relation first).

    Example:
        >>> import jax.numpy as jnp, jaxrg.lrg
        >>> zeta = jnp.eye(4, dtype=bool).at[2, 3].set(True).at[3, 2].set(True)
        >>> blocks = jaxrg.lrg.macro_nodes(zeta)
        >>> blocks.labels.tolist(), blocks.index.tolist(), int(blocks.count)
        ([0, 1, 2, 2], [0, 1, 2, 2], 3)
    """
    if hasattr(zeta, "senders") and hasattr(zeta, "num_nodes"):
        from jaxrg.lrg._large import edge_components

        labels, count = edge_components(zeta.senders, zeta.receivers, zeta.num_nodes)
        real = jnp.ones(labels.shape[0], bool)
    else:
        zeta = jnp.asarray(zeta)
        _checks.check_square(zeta, "zeta")
        if not (zeta.dtype == jnp.bool_ or jnp.issubdtype(zeta.dtype, jnp.integer)):
            # a float relation would be truncated by the cast below (0.5 -> no link)
            raise TypeError(
                f"zeta must be a boolean (N, N) relation, as returned by meta_graph; got dtype "
                f"{zeta.dtype}. Threshold it first, e.g. zeta > 0.5."
            )
        # int8: connected_components compares with 0, which strict promotion refuses for bool
        linked = zeta if zeta.dtype == jnp.bool_ else zeta != 0
        components = connected_components(linked.astype(jnp.int8), mask)
        labels, count = components.labels, components.count
        real = labels >= 0
    n = labels.shape[0]
    is_root = real & (labels == jnp.arange(n, dtype=labels.dtype))
    rank = jnp.cumsum(is_root.astype(jnp.int32)) - 1
    index = jnp.where(real, rank[jnp.clip(labels, 0, n - 1)], -1)
    return MacroNodes(labels, index.astype(labels.dtype), count)
