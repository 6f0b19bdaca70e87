r"""Sparse graphs as symmetric edge lists; the Laplacian as a matrix-free product.

A :class:`SparseGraph` stores every undirected edge in both directions, sorted by sender, so

.. math:: (Lv)_i = d_i v_i - \sum_{(i, j)} w_{ij} v_j

is one gather and one sorted ``segment_sum`` — ``O(E)`` time and memory, static shapes, jit-able.
It also stores the connected-component labels, from which the null space of :math:`L` (one
indicator vector per component) is projected out exactly.

Building a :class:`SparseGraph` is host-side data preparation (de-duplication gives
data-dependent shapes); everything that takes one runs under ``jit``.

Example:
    >>> import jaxrg.sparse as sp
    >>> g = sp.as_sparse_graph(([0, 1, 2], [1, 2, 0]))        # a triangle
    >>> sp.laplacian_matvec(g, __import__("jax").numpy.array([1.0, 0.0, 0.0])).tolist()
    [2.0, -1.0, -1.0]
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from jaxrg import _checks
from jaxrg._components import propagate_min_labels
from jaxrg._host import check_networkx, check_orientation, sparse_coo, undirected_edges


class SparseGraph(NamedTuple):
    """An undirected weighted graph as a symmetric, sender-sorted edge list (a pytree).

    ``N = degree.shape[0]`` and ``E`` (directed edges, twice the undirected ones) are static.

    Attributes:
        senders: ``(E,)`` int32, sorted.
        receivers: ``(E,)`` int32; ``(senders[e], receivers[e])`` and its reverse both present.
        weights: ``(E,)`` positive edge weights.
        degree: ``(N,)`` weighted degrees :math:`d_i = \\sum_j w_{ij}`.
        labels: ``(N,)`` int32 connected-component label (the smallest node id of the component).
    """

    senders: Int[Array, " e"]
    receivers: Int[Array, " e"]
    weights: Float[Array, " e"]
    degree: Float[Array, " n"]
    labels: Int[Array, " n"]

    @property
    def num_nodes(self) -> int:
        return self.degree.shape[0]


def as_sparse_graph(adjacency, *, num_nodes: int | None = None, dtype=None) -> SparseGraph:
    """A :class:`SparseGraph` from any graph form, without ever forming a dense matrix.

    Accepted: a ``scipy.sparse`` matrix/array (symmetric), an edge list
    ``(senders, receivers[, weights])`` (each undirected edge once, or once in each direction
    with the same weight; other repeats are refused, as in :func:`jaxrg.from_edge_list`), a
    ``networkx.Graph``, a single-graph ``jraph.GraphsTuple``, a dense ``(N, N)`` array, or a
    :class:`SparseGraph` (returned unchanged). Self-loops and zero weights are dropped (the
    combinatorial Laplacian ignores them).

    Args:
        adjacency: the graph.
        num_nodes: ``N`` for edge lists (default: largest id + 1; isolated trailing nodes need it).
        dtype: floating dtype of the weights (default: JAX's default float).

    Returns:
        :class:`SparseGraph` (host-side: the number of edges depends on the data).

    Raises:
        TypeError: unsupported type, non-integer node ids.
        ValueError: ids out of range, negative/non-finite weights, asymmetric matrix.

    Example:
        >>> import scipy.sparse, jaxrg.sparse as sp
        >>> g = sp.as_sparse_graph(scipy.sparse.csr_array([[0, 2.0], [2.0, 0]]))
        >>> g.num_nodes, g.senders.tolist(), g.degree.tolist()
        (2, [0, 1], [2.0, 2.0])
    """
    if isinstance(adjacency, SparseGraph):
        return adjacency
    dtype = np.dtype(dtype or jnp.result_type(float))
    lo, hi, weights, n = upper_edges(adjacency, num_nodes, dtype)
    keep = (lo != hi) & (weights != 0)
    lo, hi, weights = lo[keep], hi[keep], weights[keep]
    senders = np.concatenate([lo, hi])
    receivers = np.concatenate([hi, lo])
    both = np.concatenate([weights, weights])
    order = np.lexsort((receivers, senders))
    senders, receivers, both = senders[order], receivers[order], both[order]
    degree = np.bincount(senders, weights=both, minlength=n).astype(dtype)
    senders_j = jnp.asarray(senders.astype(np.int32))
    receivers_j = jnp.asarray(receivers.astype(np.int32))
    return SparseGraph(
        senders=senders_j,
        receivers=receivers_j,
        weights=jnp.asarray(both.astype(dtype)),
        degree=jnp.asarray(degree),
        labels=component_labels(senders_j, receivers_j, n),
    )


def upper_edges(adjacency, num_nodes, dtype):
    """``(lo, hi, weights, N)`` numpy arrays, one row per stored (possibly repeated) edge: the
    one reader of every sparse form (scipy, edge list, networkx, jraph) and its input rules, also
    the LRG edge routes' (:func:`jaxrg.lrg.sparse_adjacency`)."""
    module = type(adjacency).__module__ or ""
    if hasattr(adjacency, "senders") and hasattr(adjacency, "n_node"):
        n_node = np.asarray(adjacency.n_node)
        if n_node.size != 1:
            raise ValueError(f"the GraphsTuple holds {n_node.size} graphs; pass one at a time.")
        edges = adjacency.edges
        weights = None
        if (
            edges is not None
            and np.ndim(edges) in (1, 2)
            and np.size(edges) == np.size(adjacency.senders)
        ):
            weights = np.asarray(edges).reshape(-1)
        adjacency = (adjacency.senders, adjacency.receivers, weights)
        _checks.check_matching_nodes(num_nodes, int(n_node.reshape(())))
        num_nodes = int(n_node.reshape(()))
    if module.startswith("networkx"):
        import networkx as nx

        check_networkx(adjacency)
        # the weight rules of the dense route (as_adjacency): None or a non-real weight is
        # refused naming the edge; a numeric string converts as float() does there
        _checks.check_networkx_weights(adjacency)
        # CSR, not COO: networkx writes a self-loop's diagonal entry three times in COO (w, w
        # and -w, its own symmetrisation), which the duplicate check below would refuse
        adjacency = nx.to_scipy_sparse_array(adjacency, weight="weight", dtype=float,
                                             format="csr")
        module = "scipy.sparse"
    if isinstance(adjacency, tuple):
        return _edge_list(adjacency, num_nodes, dtype)
    if module.startswith("scipy.sparse"):
        edges = _scipy_edges(adjacency, dtype)
        _checks.check_matching_nodes(num_nodes, edges[3])
        return edges
    if isinstance(adjacency, np.ndarray | jax.Array | list):
        check_orientation(adjacency)
        dense = _checks.as_float_array(adjacency, "adjacency", dtype=dtype, normal=True)
        n = _checks.check_square(dense)
        _checks.check_adjacency_values(dense)
        dense = np.asarray(dense)
        lo, hi = np.nonzero(np.triu(dense, 1))
        _checks.check_matching_nodes(num_nodes, n)
        return lo, hi, dense[lo, hi], n
    hint = ""
    if module.startswith("jax.experimental.sparse"):
        hint = (
            " For a JAX sparse matrix m, pass scipy.sparse.coo_array((m.data, m.indices.T), "
            "shape=m.shape) (BCOO) or m.todense()."
        )
    raise TypeError(
        f"unsupported graph type {type(adjacency).__name__}; pass a scipy.sparse matrix, "
        "(senders, receivers[, weights]), a networkx.Graph, a jraph.GraphsTuple or an array." + hint
    )


def _edge_list(edges: tuple, num_nodes, dtype):
    if len(edges) not in (2, 3):
        raise TypeError(
            f"an edge list is (senders, receivers[, weights]); got a tuple of length {len(edges)}."
        )
    senders, receivers = np.asarray(edges[0]), np.asarray(edges[1])
    _checks.check_edge_ids(senders, receivers)
    num_nodes = _checks.check_num_nodes(num_nodes)
    nonempty = senders.size > 0  # Python ints: no wrap-around for uint64 ids
    top = max(int(senders.max()), int(receivers.max())) if nonempty else -1
    low = min(int(senders.min()), int(receivers.min())) if nonempty else 0
    n = top + 1 if num_nodes is None else num_nodes
    if n <= 0:
        raise ValueError("the edge list is empty; pass num_nodes to build an edgeless graph.")
    if low < 0 or top >= n:
        raise ValueError(f"node ids must lie in [0, num_nodes={n}); got ids in [{low}, {top}].")
    if n > np.iinfo(np.int32).max:
        raise ValueError(
            f"node ids up to {top} would make a graph of {n} nodes, beyond 2^31 - 1; ids are row "
            "numbers: renumber the listed ids to 0..N-1 (np.unique(ids, return_inverse=True), "
            "or read_edge_list(..., relabel=True))."
        )
    if len(edges) == 3 and edges[2] is not None:
        weights = _checks.host_float_array(edges[2], "weights", dtype=dtype, normal=True)
        weights = np.asarray(weights).reshape(-1)
        if weights.shape != senders.shape:
            raise ValueError(
                f"weights must have shape {senders.shape} (one per edge); got {weights.shape}."
            )
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("weights must be finite and non-negative.")
        _checks.refuse_subnormal(weights, "weights")
    else:
        weights = np.ones(senders.shape, dtype)
    loops = senders == receivers  # dropped anyway; a repeated self-loop is no error
    lo, hi, weights = undirected_edges(senders[~loops], receivers[~loops], weights[~loops])
    return lo, hi, weights, n


def _scipy_edges(matrix, dtype):
    import scipy.sparse

    coo = sparse_coo(matrix)
    if coo.ndim != 2 or coo.shape[0] != coo.shape[1]:
        raise ValueError(f"adjacency must be a square (N, N) matrix; got shape {coo.shape}.")
    if coo.shape[0] == 0:
        raise ValueError("adjacency is empty (0 nodes): a graph needs at least one node.")
    coo.sum_duplicates()
    _checks.refuse_lossy_cast(coo.data, "adjacency", dtype)
    data = coo.data.astype(dtype)
    if not np.all(np.isfinite(data)):
        raise ValueError("adjacency has NaN or inf entries; drop those edges.")
    if np.any(data < 0):
        raise ValueError(
            f"adjacency has negative weights (min {data.min():.3g}); the Laplacian needs "
            "non-negative edge weights."
        )
    _checks.refuse_subnormal(data, "adjacency")
    csr = scipy.sparse.csr_array((data, (coo.row, coo.col)), shape=coo.shape)
    linked = (csr > 0).astype(np.int8)
    one_way = scipy.sparse.coo_array(linked - linked.T)  # +1 at (i, j) when only A[i, j] > 0
    forward = one_way.data > 0
    if forward.any():  # refused whatever its weight (a tolerance would hide a tiny one)
        i, j = int(one_way.row[forward][0]), int(one_way.col[forward][0])
        raise ValueError(
            f"adjacency is not symmetric: it has {int(forward.sum())} one-way edge(s), e.g. "
            f"A[{i}, {j}] = {csr[i, j]:.3g} but A[{j}, {i}] = 0; jaxrg works on undirected "
            "graphs: symmetrise it with A.maximum(A.T) or (A + A.T) / 2."
        )
    asym = abs(csr - csr.T)
    gap = float(asym.max()) if asym.nnz else 0.0
    # the tolerance scales with the data (no floor at 1), as in the dense check
    if gap > 100 * np.finfo(dtype).eps * float(data.max(initial=0)):
        raise ValueError(
            f"adjacency is not symmetric (max |A - A^T| = {gap:.3g}); symmetrise it with "
            "(A + A.T) / 2 or A.maximum(A.T)."
        )
    upper = coo.row < coo.col
    return coo.row[upper], coo.col[upper], data[upper], coo.shape[0]


@functools.partial(jax.jit, static_argnums=2)  # host-side builders call it eagerly: cache it
def component_labels(senders, receivers, num_nodes: int) -> Int[Array, " n"]:
    """Connected-component labels from an edge list, ``O(E)`` per round; jit-able.

    Min-label propagation with pointer jumping (:func:`jaxrg.connected_components`), with the
    neighbour minimum taken by ``segment_min`` over edges instead of a dense matrix.

    Args:
        senders: ``(E,)`` int, both directions of every edge present.
        receivers: ``(E,)`` int.
        num_nodes: ``N`` (static).

    Returns:
        ``(N,)`` int32, the smallest node id of each node's component.
    """
    senders = jnp.asarray(senders, jnp.int32)
    receivers = jnp.asarray(receivers, jnp.int32)

    return propagate_min_labels(_segment_neighbour_min, num_nodes, senders, receivers)


def _segment_neighbour_min(labels, senders, receivers):
    """Smallest label among each node's neighbours (the dtype's maximum where there is none)."""
    return jax.ops.segment_min(labels[receivers], senders, labels.shape[0])


def laplacian_matvec(graph: SparseGraph, vector: Float[Array, " n"]) -> Float[Array, " n"]:
    """:math:`Lv = Dv - Av` by one gather and one sorted ``segment_sum``.

    Args:
        graph: :class:`SparseGraph`.
        vector: ``(N,)``.

    Returns:
        ``(N,)``.

    Raises:
        ValueError: ``vector`` not of shape ``(N,)``.
    """
    if jnp.shape(vector) != (graph.num_nodes,):
        raise ValueError(
            f"vector must have shape ({graph.num_nodes},), one entry per node of the graph; got "
            f"{jnp.shape(vector)}. For several vectors, jax.vmap over them."
        )
    neighbours = jax.ops.segment_sum(
        graph.weights * vector[graph.receivers],
        graph.senders,
        graph.num_nodes,
        indices_are_sorted=True,
    )
    return graph.degree * vector - neighbours


class NullSpace(NamedTuple):
    """The null space of :math:`L`: one constant vector per connected component."""

    labels: Int[Array, " n"]
    sizes: Float[Array, " n"]  # size of the component labelled i, at index i (0 elsewhere)
    count: Int[Array, ""]  # number of components = multiplicity of the eigenvalue 0


def null_space(graph: SparseGraph) -> NullSpace:
    """Component labels, sizes and count of a :class:`SparseGraph`."""
    n = graph.num_nodes
    ones = jnp.ones(n, graph.degree.dtype)
    sizes = jax.ops.segment_sum(ones, graph.labels, n)
    count = jnp.sum(graph.labels == jnp.arange(n, dtype=graph.labels.dtype))
    return NullSpace(graph.labels, sizes, count)


def deflate(null: NullSpace, vector: jax.Array) -> jax.Array:
    """Project out the null space exactly: subtract each component's mean."""
    n = vector.shape[0]
    sums = jax.ops.segment_sum(vector, null.labels, n)
    # double where: empty label slots have size 0
    means = jnp.where(null.sizes > 0, sums / jnp.where(null.sizes > 0, null.sizes, 1), 0)
    return vector - means[null.labels]
