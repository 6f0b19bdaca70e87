r"""Meta-graph and rewiring of large graphs: column blocks, no ``N × N`` kernel or :math:`\zeta`.

Two exact routes fill :math:`\zeta` one block of ``B`` columns at a time, keeping only its edges:

* ``"chebyshev"`` — columns of :math:`e^{-\tau L}` by a Chebyshev expansion applied to blocks of
  unit vectors with the sparse Laplacian (:mod:`jaxrg.lrg._chebyshev`): ``O(m · nnz(L) · N)``
  work with ``m ≈ 9\sqrt{\tau\lambda_{\max}/2}`` terms and ``O(N · B)`` memory, error below
  float64 round-off in every entry. The rule is evaluated on :math:`K = e^{-\tau L}` itself (the
  zero mode only shifts a connected block by a constant), fine while
  :math:`e^{-\tau\lambda_2}` is far above round-off; large ``tau`` is the other route's job
  (``method="auto"`` re-decides with it every component that had near ties);
* ``"eigh"`` — one dense eigendecomposition, then :math:`\tilde K` (the dense route's kernel,
  :func:`jaxrg.lrg.meta_graph`) column block by column block: ``O(N^3)``, any ``tau``.

Each pair ``i < j`` is decided when column ``j`` is computed: by then :math:`K_{ii}` is known
(its column came earlier or lies in the same block), so no entries are stored. Components come
from min-label propagation on the edges, so disconnected graphs are treated per component.
"""

from __future__ import annotations

import collections
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxrg import _checks, _optional, _progress
from jaxrg._components import edge_components
from jaxrg.graphs import as_adjacency
from jaxrg.lrg import _chebyshev
from jaxrg.lrg._eigen import eigen_basis, scaled_vectors
from jaxrg.lrg._kernel import checked_rtol, default_rtol
from jaxrg.sparse._graph import upper_edges

METHODS = ("auto", "chebyshev", "eigh")
_LOOKAHEAD = 3  # column blocks computed ahead of the decisions
_REDECIDE_ALWAYS = 2048  # auto: components up to this size with near ties are re-decided by eigh


class MetaGraphEdges(NamedTuple):
    """The meta-graph as an edge list (each linked pair once, ``senders < receivers``).

    Attributes:
        senders, receivers: ``(M,)`` int64 NumPy arrays.
        num_nodes: ``N``.
        near_ties: number of pairs whose margin lies within ``2 rtol`` of the decision threshold
            (decisions a perturbation of size ``rtol`` could flip; 0 means every decision is
            clear).
        method: the route used, ``"chebyshev"``, ``"eigh"`` or ``"chebyshev+eigh"`` (``auto``:
            Chebyshev, then the components that had near ties re-decided by eigh).
    """

    senders: np.ndarray
    receivers: np.ndarray
    num_nodes: int
    near_ties: int
    method: str


def meta_graph_edges(
    graph,
    tau,
    *,
    method: str = "auto",
    block_size: int | None = None,
    rtol: float | None = None,
    dtype=None,
    progress: bool = False,
) -> MetaGraphEdges:
    r"""Meta-graph :math:`\zeta(\tau)` of a large graph, as edges (see the module docstring).

    Agrees with the dense :func:`jaxrg.lrg.meta_graph` (same rule, same tolerance; the
    Chebyshev route compares :math:`K` where the dense route compares
    :math:`\tilde K = e^{\tau\lambda_2}(K - 1/N)`, so its threshold is ``rtol`` times
    :math:`e^{-\tau\lambda_2}` of the dense one — the same decision unless a margin lies in
    between). Host-side driver (the number of edges is data); each block runs compiled.

    Args:
        graph: ``scipy.sparse`` matrix, edge list ``(senders, receivers[, weights])``, dense
            array, ``jraph.GraphsTuple`` or ``networkx.Graph`` (symmetric, non-negative).
        tau: scalar diffusion time ``> 0``.
        method: ``"chebyshev"``, ``"eigh"`` or ``"auto"`` (Chebyshev when its
            ``m · nnz(L)`` per column is below ``N^2``, i.e. cheaper than the eigendecomposition;
            then every component with near ties is re-decided by eigh on that component alone,
            so ``auto`` is the dense result at any ``tau``: a component whose
            :math:`e^{-\tau\lambda_2}` is at round-off has nearly all its pairs near ties, and
            so costs one ``eigh`` of its size; a component of more than 2048 nodes is re-decided
            only when its near ties outnumber its nodes, so a few chance ties, as ambiguous on
            the dense route, cost no ``O(N^3)``). Explicit ``"chebyshev"`` keeps the limit of the
            module docstring (``near_ties`` flags it).
        block_size: columns per block ``B`` (memory ``O(N · B)``); default
            ``default_block_size(N)`` (``N × B`` blocks of at most 8 MB, which stay in
            cache).
        rtol: decision tolerance (default :func:`jaxrg.lrg.default_rtol`).
        dtype: floating dtype (default: JAX's default float).
        progress: show a tqdm progress bar over blocks.

    Returns:
        :class:`MetaGraphEdges`.

    Raises:
        ValueError: asymmetric, negative or non-finite weights; ``tau <= 0``; ``rtol`` not a
            finite number >= 0; unknown method; ``method="chebyshev"`` at a ``tau`` that would
            need more than ``MAX_TERMS`` terms.
        ImportError: scipy is missing (``pip install 'jaxrg[sparse]'``).

    Example:
        >>> import numpy as np, jaxrg.lrg
        >>> path = (np.arange(5), np.arange(1, 6))                  # path of 6 nodes
        >>> zeta = jaxrg.lrg.meta_graph_edges(path, 2.0)
        >>> list(zip(zeta.senders.tolist(), zeta.receivers.tolist())), zeta.near_ties
        ([(0, 1), (4, 5)], 0)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    progress = _checks.check_flag(progress, "progress")
    adjacency = sparse_adjacency(graph, dtype=dtype)
    n = adjacency.shape[0]
    block_size = default_block_size(n) if block_size is None else int(block_size)
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1; got {block_size}.")
    dtype = adjacency.dtype
    tau = _checks.check_taus(jnp.asarray(tau, dtype), "tau")
    if tau.ndim:
        raise ValueError(
            f"tau must be one diffusion time (a scalar); got shape {tau.shape}. For several "
            "scales, call once per tau (each gives its own edge list)."
        )
    tau = float(tau)
    tol = default_rtol(n, dtype) if rtol is None else checked_rtol(rtol)
    block_size = min(block_size, n)
    labels, _ = edge_components(*adjacency.nonzero(), n)

    bound = _chebyshev.laplacian_bound(adjacency.indptr, adjacency.indices, adjacency.data)
    # the route is chosen from a closed-form bound on the number of terms, before any
    # coefficient is computed: the cost of every route stays bounded in tau
    terms = _chebyshev.num_terms_bound(tau * bound / 2, tol=float(jnp.finfo(dtype).eps) / 2)
    chosen = method
    if method == "auto":
        cheap = terms * (adjacency.nnz + n) < n * n and terms <= _chebyshev.MAX_TERMS
        method = "chebyshev" if cheap else "eigh"
    if method == "chebyshev" and terms > _chebyshev.MAX_TERMS:
        raise ValueError(
            f"tau={tau:.3g} needs about {terms} Chebyshev terms on this graph (more than "
            f"{_chebyshev.MAX_TERMS}); use method='eigh' or 'auto' (one eigendecomposition, "
            "whose cost does not depend on tau)."
        )
    senders, receivers, ties = _decide_columns(adjacency, tau, method, np.asarray(labels), tol,
                                               block_size, progress, bound)
    redo = np.zeros(n, bool)
    if chosen == "auto" and method == "chebyshev" and ties.any():
        # K's margins scale with e^{-tau lambda_2(c)}: a component where they reach round-off
        # (a small, well-connected one beside a large sparse one) shows as near ties. Every pair
        # the rule on K decides otherwise than the dense rule on K~ is one (its margin on K lies
        # in (0, tol]), so re-deciding those components with eigh gives the dense meta-graph.
        # A near tie by chance (a genuine ambiguity, as ambiguous on the dense route) does not
        # make a large component pay a dense eigh: only a small component, or one with more near
        # ties than nodes (the round-off regime, where nearly every pair is one), is re-decided.
        sizes = np.bincount(np.asarray(labels), minlength=n)
        suspect = (ties > 0) & ((sizes <= _REDECIDE_ALWAYS) | (ties > sizes))
        redo = np.isin(np.asarray(labels), np.flatnonzero(suspect))
    if chosen == "auto" and method == "chebyshev" and redo.any():
        nodes = np.flatnonzero(redo)
        sub = adjacency[nodes][:, nodes]
        sub_labels = np.searchsorted(nodes, np.asarray(labels)[nodes])  # still the smallest id
        sub_senders, sub_receivers, sub_ties = _decide_columns(
            sub, tau, "eigh", sub_labels, tol, min(block_size, nodes.size), progress, bound)
        keep = ~redo[senders]
        senders = np.concatenate([senders[keep], nodes[sub_senders]])
        receivers = np.concatenate([receivers[keep], nodes[sub_receivers]])
        order = np.lexsort((senders, receivers))
        senders, receivers = senders[order], receivers[order]
        ties = np.concatenate([ties[~redo], sub_ties])  # per label: the kept ones, the redone
        method = "chebyshev+eigh"
    return MetaGraphEdges(senders, receivers, n, int(ties.sum()), method)


def _decide_columns(adjacency, tau, method, labels, tol, block_size, progress, bound):
    """One route over every column block: ``(senders, receivers, near ties per label (N,))``."""
    n, dtype = adjacency.shape[0], adjacency.dtype
    if method == "chebyshev":
        eps_tol = float(jnp.finfo(dtype).eps) / 2
        coeffs = _chebyshev.heat_coefficients(tau * bound / 2, tol=eps_tol)
        lap = _sparse_laplacian(adjacency)
        padded = jnp.asarray(_chebyshev.padded(coeffs), dtype)

        def columns(start):
            return _chebyshev.heat_block(lap, padded, coeffs.shape[0], 2 / bound, start,
                                         block_size=block_size)
    else:
        vectors = _eigh_vectors(jnp.asarray(adjacency.toarray()), jnp.asarray(tau, dtype))

        def columns(start):
            return _kernel_block(vectors, start, block_size=block_size)

    starts = list(range(0, n, block_size))
    bar = None
    if progress:
        bar = _progress.progress_bar(total=len(starts), desc=f"meta-graph ({method})",
                                     unit="block")
    # blocks of columns are independent: keep a few in flight (JAX dispatches asynchronously and
    # XLA runs them concurrently); decisions run in order, since each needs the earlier diagonal
    ahead = collections.deque((start, columns(start)) for start in starts[:_LOOKAHEAD])
    following = iter(starts[_LOOKAHEAD:])
    diag = jnp.zeros(n, dtype)
    senders, receivers, previous = [], [], None
    near = np.zeros(n, np.int64)
    labels_j = jnp.asarray(labels, jnp.int32)

    def collect(block):
        start, link, ties = block
        rows, cols = np.nonzero(np.asarray(link))
        senders.append(rows)
        receivers.append(cols + start)
        ties = np.asarray(ties)[: min(block_size, n - start)]
        np.add.at(near, labels[start:start + ties.shape[0]], ties)
        if bar is not None:
            bar.update()

    while ahead:
        start, block_columns = ahead.popleft()
        upcoming = next(following, None)
        if upcoming is not None:
            ahead.append((upcoming, columns(upcoming)))
        link, diag, ties = _decide_block(block_columns, diag, labels_j, start, tol)
        if previous is not None:
            collect(previous)
        previous = (start, link, ties)
    collect(previous)
    if bar is not None:
        bar.close()
    return (np.concatenate(senders).astype(np.int64),
            np.concatenate(receivers).astype(np.int64), near)


def default_block_size(num_nodes: int) -> int:
    """The largest power of two ``B <= 128`` with ``N × B`` float64 blocks of at most 8 MB.

    Blocks that stay in cache matter more than the per-block overhead. Measured on a 2-core
    EPYC (Chebyshev stage, whole graph): PubMed (N = 19,717) 407 s at 32 against 679 s at 128;
    Amazon Computers (13,381) 338 s at 64, 415 s at 128; Cora and Photo fastest at 128.
    """
    return int(2 ** np.clip(np.floor(np.log2(1e6 / max(num_nodes, 1))), 3, 7))


@jax.jit
def _eigh_vectors(adjacency, tau):
    return scaled_vectors(eigen_basis(adjacency, None), tau)


@functools.partial(jax.jit, static_argnames=("block_size",))
def _kernel_block(vectors, start, *, block_size: int):
    n = vectors.shape[0]
    cols = start + jnp.arange(block_size)
    rows = jnp.where((cols < n)[:, None], vectors[jnp.clip(cols, 0, n - 1)], 0)
    return vectors @ rows.T


@jax.jit
def _decide_block(columns, diag, labels, start, tol):
    """Links ``i < j`` for the block's columns ``j``, the near ties per column ``(B,)``; updates
    the known diagonal."""
    n, size = columns.shape
    cols = start + jnp.arange(size)
    valid = cols < n
    safe = jnp.clip(cols, 0, n - 1)
    own = columns[safe, jnp.arange(size)]
    diag = diag.at[safe].set(jnp.where(valid, own, diag[safe]))
    pairs = (jnp.arange(n)[:, None] < cols[None, :]) & valid[None, :]
    pairs = pairs & (labels[:, None] == labels[safe][None, :])
    margin = columns - jnp.minimum(diag[:, None], own[None, :])
    link = pairs & (margin > tol)
    ties = jnp.sum(pairs & (jnp.abs(margin - tol) <= 2 * tol), axis=0)  # per column
    return link, diag, ties


def rewire_edges(graph, tau, **options) -> tuple[np.ndarray, np.ndarray]:
    r"""Renormalised graph of a large graph, as edges (no ``N × N`` matrix).

    :math:`R = 1[\zeta A\zeta > 0] \wedge \neg 1[\zeta\zeta\zeta > 0]`, no self-loops.

    :func:`meta_graph_edges`, then sparse boolean products (scipy). Same result as the dense
    :func:`jaxrg.lrg.rewire`, as an edge list.

    Args:
        graph: any form :func:`meta_graph_edges` takes.
        tau: scalar diffusion time ``> 0``.
        **options: the keyword options of :func:`meta_graph_edges` (``method``,
            ``block_size``, ``rtol``, ``dtype``, ``progress``), with its defaults.

    Returns:
        ``(senders, receivers)`` int64 NumPy arrays listing every edge in both directions,
        sorted by sender then receiver, no self-loops (``jaxrg.as_adjacency((s, r),
        num_nodes=N)`` gives the dense graph).

    Example:
        >>> import numpy as np, jaxrg.lrg
        >>> s, r = jaxrg.lrg.rewire_edges((np.arange(5), np.arange(1, 6)), 2.0)
        >>> [(a, b) for a, b in zip(s.tolist(), r.tolist()) if a < b]
        [(0, 2), (1, 2), (2, 3), (3, 4), (3, 5)]
    """
    adjacency = sparse_adjacency(graph, dtype=options.pop("dtype", None))
    return _rewire_from_edges(adjacency, meta_graph_edges(adjacency, tau, **options))


def _rewire_from_edges(adjacency, zeta: MetaGraphEdges) -> tuple[np.ndarray, np.ndarray]:
    """The rewiring formula with scipy sparse products (float32 counts: exact for ``> 0``)."""
    sp = _scipy_sparse()
    n = adjacency.shape[0]
    ones = np.ones(zeta.senders.shape[0], np.float32)
    upper = sp.csr_matrix((ones, (zeta.senders, zeta.receivers)), shape=(n, n))
    z = (upper + upper.T + sp.identity(n, np.float32, format="csr")).tocsr()
    linked = (adjacency > 0).astype(np.float32)
    propagation = (z @ (linked @ z)) > 0
    inside = (z @ ((z @ z) > 0).astype(np.float32)) > 0
    result = (propagation.astype(np.int8) - propagation.multiply(inside).astype(np.int8)).tocsr()
    result.setdiag(0)
    result.eliminate_zeros()
    result.sort_indices()
    senders, receivers = result.nonzero()
    return senders.astype(np.int64), receivers.astype(np.int64)


def sparse_adjacency(graph, *, dtype=None):
    """A validated symmetric ``scipy.sparse.csr_matrix`` without self-loops, sorted indices.

    The input rules of :func:`jaxrg.sparse.as_sparse_graph` (whose reader this is) and of the
    dense :func:`jaxrg.as_adjacency`: an edge list may list an edge once, or once in each
    direction with the same weight; any other repeat, an entry stored twice in a sparse matrix,
    and a one-way edge (whatever its weight) are refused. Sparse matrices, edge lists,
    ``networkx`` graphs and ``jraph.GraphsTuple`` never become dense; the diagonal and zero
    weights are dropped.

    Args:
        graph: a ``scipy.sparse`` matrix ``(N, N)``, an edge list ``(senders, receivers[,
            weights])`` of ``(E,)`` arrays (``N`` = largest id + 1), or any form
            :func:`jaxrg.as_adjacency` takes.
        dtype: float dtype of the result; default the default float type.

    Returns:
        ``(N, N)`` ``scipy.sparse.csr_matrix``, symmetric, zero diagonal.

    Raises:
        TypeError: non-integer node ids in an edge list.
        ValueError: mismatched edge-list lengths, negative ids, non-square or empty adjacency,
            negative or non-finite weights, repeated entries or edges, or an asymmetric matrix
            (two directions with different weights, or a one-way edge).
    """
    sp = _scipy_sparse()
    dtype = np.dtype(dtype or jnp.result_type(float))
    module = type(graph).__module__ or ""
    if (sp.issparse(graph) or isinstance(graph, tuple) or module.startswith("networkx")
            or (hasattr(graph, "senders") and hasattr(graph, "n_node"))):
        if isinstance(graph, tuple) and len(graph) in (2, 3) and np.size(graph[0]) == 0:
            raise ValueError(
                "the edge list is empty, so the number of nodes is unknown: give an edgeless "
                "graph of N nodes as scipy.sparse.csr_matrix((N, N)) (it has no meta-graph "
                "links and rewires to itself)."
            )
        # one home for the rules: the reader of jaxrg.sparse.as_sparse_graph
        lo, hi, weights, n = upper_edges(graph, None, dtype)
        keep = (lo != hi) & (weights != 0)
        lo, hi, weights = lo[keep], hi[keep], np.asarray(weights[keep], dtype)
        adjacency = sp.csr_matrix(
            (np.concatenate([weights, weights]),
             (np.concatenate([lo, hi]), np.concatenate([hi, lo]))),
            shape=(n, n), dtype=dtype,
        )
    else:  # dense forms: the dense reader's rules (symmetry, values)
        adjacency = sp.csr_matrix(np.asarray(as_adjacency(graph, dtype=dtype)))
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    adjacency.sort_indices()
    return adjacency


def _sparse_laplacian(adjacency):
    from jax.experimental import sparse as jsparse

    sp = _scipy_sparse()
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    lap = (sp.diags(degree) - adjacency).tocsr()
    lap.sort_indices()
    return jsparse.BCSR(
        (jnp.asarray(lap.data), jnp.asarray(lap.indices, jnp.int32),
         jnp.asarray(lap.indptr, jnp.int32)),
        shape=lap.shape, indices_sorted=True, unique_indices=True,
    )


def _scipy_sparse():
    return _optional.require("scipy.sparse", extra="sparse",
                             purpose="jaxrg.lrg's large-graph routes")
