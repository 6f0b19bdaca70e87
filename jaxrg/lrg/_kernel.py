r"""The LRG meta-graph :math:`\zeta(\tau)` on a dense graph, from one eigendecomposition.

Rule (Villegas et al. 2023; docs/design.md §3): nodes ``i`` and ``j`` are linked when

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
from jaxrg._components import edge_components
from jaxrg.graphs import as_adjacency, connected_components
from jaxrg.lrg._eigen import Basis, eigen_basis, scaled_vectors


def default_rtol(num_nodes: int, dtype) -> float:
    r"""Default decision tolerance: :math:`32\sqrt N\,\varepsilon` of the dtype.

    ``2e-13`` for Cora in float64 (round-off of :math:`\tilde K` measured there: ``1.5e-14``);
    ``9e-5`` at ``N = 2485`` in float32. ``N`` counts the real nodes: a padded graph (``mask``)
    gets the tolerance of the same graph unpadded.

    Args:
        num_nodes: ``N``, the number of (real) nodes (Python int).
        dtype: floating dtype whose machine epsilon :math:`\varepsilon` is used.

    Returns:
        The tolerance as a Python float (scalar).
    """
    num_nodes = _checks.check_int(num_nodes, "num_nodes", meaning="the number of nodes")
    return float(32 * num_nodes**0.5 * jnp.finfo(_checks.check_float_dtype(dtype)).eps)


def _decide(kernel_cols, diag_rows, diag_cols, same, tol) -> jax.Array:
    """``K_ij - min(K_ii, K_jj) > tol`` on a block of columns, only inside one component."""
    margin = kernel_cols - jnp.minimum(diag_rows[:, None], diag_cols[None, :])
    return same & (margin > tol)


def meta_graph(
    adjacency,
    taus=None,
    mask: Bool[Array, " n"] | None = None,
    *,
    rtol: float | None = None,
    tau=None,
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
        taus: scalar or ``(T,)`` diffusion times ``> 0``.
        mask: optional ``(N,)`` boolean node mask (see :func:`jaxrg.pad_adjacency`).
        rtol: decision tolerance relative to the largest eigenvalue of :math:`\tilde K` (1);
            default :func:`default_rtol` (``32 sqrt(N) eps``, ``N`` the real nodes).
        tau: deprecated alias of ``taus`` (``DeprecationWarning``; removed in the next release).

    Returns:
        Boolean ``(N, N)`` (or ``(T, N, N)``), symmetric, True on the diagonal of real nodes.
        All False (even the diagonal) when ``taus`` or ``adjacency`` holds NaN under ``jit``,
        the boolean counterpart of NaN out (eager calls raise instead).

    Raises:
        ValueError: ``rtol`` NaN, infinite or negative; asymmetric, negative or non-finite
            adjacency; ``taus <= 0`` (concrete input;
            under ``jit`` wrap with :func:`jaxrg.checked`).
        TypeError: both ``taus`` and ``tau`` given, or neither.

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
    taus = _checks.renamed_taus(taus, tau, "meta_graph")
    adjacency, mask, taus, tol = prepare(adjacency, taus, mask, rtol)
    return over_taus(adjacency, taus, mask, tol, per_tau=_zeta_only)


def prepare(adjacency, taus, mask, rtol):
    """Validated ``(adjacency, mask, taus, tol)``: values checked here, on concrete input."""
    adjacency = as_adjacency(adjacency, remove_self_loops=False)
    n = _checks.check_square(adjacency)
    if mask is not None:
        mask = _checks.check_mask(mask, n)
    taus = _checks.check_taus(taus).astype(adjacency.dtype)
    if taus.ndim > 1:
        raise ValueError(f"taus must be a scalar or 1-D (T,); got shape {taus.shape}.")
    if rtol is not None:
        return adjacency, mask, taus, jnp.asarray(checked_rtol(rtol), adjacency.dtype)
    # default_rtol with N = the real nodes (traced under vmap), computed the same way with and
    # without a mask: padding must not change the answer
    real = jnp.asarray(n if mask is None else jnp.sum(mask), adjacency.dtype)
    tol = jnp.sqrt(real) * jnp.asarray(default_rtol(1, adjacency.dtype), adjacency.dtype)
    return adjacency, mask, taus, tol


def checked_rtol(rtol) -> float:
    """A user tolerance: a finite number >= 0 (NaN or a negative value would link every pair)."""
    value = float(rtol)
    if not 0 <= value < float("inf"):
        raise ValueError(
            f"rtol must be a finite number >= 0 (a decision tolerance relative to 1); got "
            f"{rtol!r}. Leave it None for default_rtol (32 sqrt(N) eps)."
        )
    return value


def nan_in(zeta, mask: Bool[Array, " n"] | None = None) -> jax.Array:
    """True when ``zeta`` carries :func:`meta_graph`'s NaN-in marker (a real node not linked to
    itself, which no valid input gives): the caller then returns NaN (or -1 for counts).

    Args:
        zeta: ``(N, N)`` boolean meta-graph.
        mask: optional ``(N,)`` node mask (padding is not linked to itself and does not count).

    Returns:
        Scalar bool.
    """
    real = jnp.ones(zeta.shape[-1], bool) if mask is None else mask
    return jnp.any(real & ~jnp.diagonal(zeta))


@functools.partial(jax.jit, static_argnames=("per_tau", "options", "sequential"))
def over_taus(adjacency, taus, mask, tol, *, per_tau, options=(), sequential=False):
    """``per_tau(adjacency, mask, zeta(tau), *options)`` for a scalar or each of ``(T,)`` taus.

    One ``eigh`` serves every ``tau``; ``sequential`` maps with ``lax.map`` (memory of one
    ``tau`` at a time) instead of ``vmap``. Compiled once per shape, so eager calls are fast.
    """
    basis = eigen_basis(adjacency, mask)

    def one(tau):
        return per_tau(adjacency, mask, _zeta_dense(basis, tau, tol), *options)

    if taus.ndim == 0:
        return one(taus)
    return lax.map(one, taus) if sequential else jax.vmap(one)(taus)


def _zeta_only(adjacency, mask, zeta):
    return zeta


def _zeta_dense(basis: Basis, tau, tol) -> jax.Array:
    vectors = scaled_vectors(basis, tau)
    kernel = jnp.matmul(vectors, vectors.T, precision=jax.lax.Precision.HIGHEST)  # no TF32
    kernel = (kernel + kernel.T) / 2  # exactly symmetric decisions
    diag = jnp.diagonal(kernel)
    real = basis.labels >= 0
    same = (basis.labels[:, None] == basis.labels[None, :]) & real[:, None]
    zeta = _decide(kernel, diag, diag, same, tol)
    zeta = zeta | (jnp.eye(zeta.shape[0], dtype=bool) & real[:, None])
    # NaN in (tau or adjacency, under jit): an all-False relation, which no valid input gives
    # (every real node is linked to itself) -- the boolean counterpart of NaN out
    valid = ~jnp.isnan(tau) & ~jnp.any(jnp.isnan(kernel))
    return zeta & valid


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
