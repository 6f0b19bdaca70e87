"""Host-side graph conversion, validation and padding in NumPy: no compilation per graph size.

:func:`jaxrg.as_adjacency` validates with JAX operations, and JAX compiles every operation once
per new shape (~0.5 s each on a CPU), so validating thousands of graphs of different sizes with
it costs minutes. Padding is data preparation on the host (STYLE.md habit 15: validate host
arrays in NumPy), so :func:`jaxrg.pad_adjacency` and :func:`jaxrg.batch.padded_chunks` convert
every graph here instead:

* :func:`host_adjacency` — one graph (dense array or nested list, ``(senders, receivers[,
  weights])`` edge list, ``networkx.Graph``, ``scipy.sparse`` matrix, single-graph
  ``jraph.GraphsTuple``, concrete JAX array) to a dense NumPy ``(N, N)`` array; shape and dtype
  are checked, values are not;
* :func:`pad_host` — a list of those arrays to one ``(B, N, N)`` padded NumPy batch with its
  ``(B, N)`` mask, values checked **once for the whole batch** (vectorised: finite, non-negative,
  symmetric to ``100 eps max|A|`` per graph, no one-way edge, the tolerance of
  :func:`jaxrg.validate_adjacency`), diagonals zeroed.

Example:
    >>> import numpy as np
    >>> from jaxrg._host import host_adjacency, pad_host
    >>> mats = [host_adjacency(g) for g in [([0], [1]), np.ones((3, 3))]]
    >>> adjacency, mask = pad_host(mats, num_nodes=3)
    >>> adjacency.shape, mask.tolist()
    ((2, 3, 3), [[True, True, False], [True, True, True]])
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

from jaxrg import _checks

__all__ = [
    "dense_form",
    "edge_list",
    "host_adjacency",
    "host_edges",
    "networkx_dense",
    "node_count",
    "pad_host",
]


def host_adjacency(graph, *, num_nodes: int | None = None, dtype=np.float64) -> np.ndarray:
    """One graph as a dense NumPy adjacency (shapes and dtypes checked; values not).

    Args:
        graph: anything :func:`jaxrg.as_adjacency` takes, as a concrete (host or device) value.
        num_nodes: ``N`` for edge lists (default: largest id + 1).
        dtype: floating NumPy dtype of the result.

    Returns:
        ``(N, N)`` array of ``dtype`` (self-loops kept; :func:`pad_host` zeroes diagonals).

    Raises:
        TypeError: unsupported graph type, directed networkx graph, non-numeric or complex data.
        ValueError: ragged, non-square or empty matrices; bad edge ids or weights.
    """
    if hasattr(graph, "senders") and hasattr(graph, "n_node"):
        return _from_edges(*edge_list(graph), dtype)
    if isinstance(graph, tuple):
        senders, receivers, weights, _ = edge_list(graph)
        return _from_edges(senders, receivers, weights, num_nodes, dtype)
    graph = dense_form(graph)
    adjacency = _as_float(graph, "adjacency", dtype)
    _checks.check_square(adjacency)
    return adjacency


def edge_list(graph) -> tuple:
    """``(senders, receivers, weights or None, num_nodes or None)`` of an edge-list form.

    Args:
        graph: a tuple ``(senders, receivers[, weights])`` or a single-graph
            ``jraph.GraphsTuple`` (``edges`` of shape ``(E,)`` or ``(E, 1)`` are weights).

    Returns:
        The four parts, arrays as given (host or JAX, possibly traced); ``num_nodes`` from
        ``n_node`` for a GraphsTuple, else ``None``.

    Raises:
        TypeError: a tuple of length other than 2 or 3.
        ValueError: a GraphsTuple holding several graphs.
    """
    if isinstance(graph, tuple) and not hasattr(graph, "n_node"):
        if len(graph) not in (2, 3):
            raise TypeError(
                "a tuple is read as an edge list (senders, receivers[, weights]); got a tuple of "
                f"length {len(graph)}. Pass a dense matrix as an array or a list of lists."
            )
        return graph[0], graph[1], graph[2] if len(graph) == 3 else None, None
    n_node = np.asarray(graph.n_node)
    if n_node.size != 1:
        raise ValueError(
            f"the GraphsTuple holds {n_node.size} graphs; convert one at a time "
            "(jraph.unbatch) or use jaxrg.pad_adjacency for a padded batch."
        )
    edges, weights = graph.edges, None
    if edges is not None and not isinstance(edges, dict):
        if edges.ndim == 1 or (edges.ndim == 2 and edges.shape[1] == 1):
            weights = edges.reshape(-1)
    return graph.senders, graph.receivers, weights, int(n_node.reshape(()))


def dense_form(graph):
    """A networkx, scipy.sparse or JAX sparse graph as a dense matrix; other types refused.

    Args:
        graph: a graph in a non-edge-list form of :func:`jaxrg.as_adjacency`.

    Returns:
        The dense ``(N, N)`` matrix (NumPy or JAX array, or the nested list as given).

    Raises:
        TypeError: an unsupported type or a directed networkx graph.
    """
    module = type(graph).__module__ or ""
    container = module.startswith(("networkx", "scipy.sparse", "jax.experimental.sparse"))
    if module.startswith("networkx"):
        graph = networkx_dense(graph)
    elif module.startswith("scipy.sparse"):
        graph = sparse_coo(graph).toarray()  # repeated entries refused, not summed
    elif module.startswith("jax.experimental.sparse"):
        graph = graph.todense()
    if not isinstance(graph, np.ndarray | jax.Array | list):
        raise TypeError(
            f"unsupported graph type {type(graph).__name__}; pass a dense (N, N) array, "
            "(senders, receivers[, weights]), a jraph.GraphsTuple, a networkx.Graph or a "
            "scipy.sparse matrix."
        )
    if not container:  # a sparse matrix or a networkx graph is never an edge array
        check_orientation(graph)
    return graph


def _as_float(x, name: str, dtype) -> np.ndarray:
    """``x`` as a NumPy array of ``dtype``; bool/int cast, complex and non-numeric refused."""
    x = _checks.host_array(x, name)
    try:
        x = np.asarray(x)
    except ValueError:  # ragged nested lists: the JAX converter raises the documented error
        _checks.as_float_array(x, name)
        raise
    if x.dtype.kind not in "biuf":  # complex or non-numeric: the same errors as the JAX route
        _checks.as_float_array(x, name)
    _checks.refuse_lossy_cast(x, name, dtype)  # 1e39 -> inf, 1e-50 -> 0 in float32
    x = x.astype(dtype, copy=False)
    _checks.refuse_subnormal(x, name)  # XLA would flush them to 0: an edge silently gone
    return x


def node_count(senders, receivers, num_nodes: int | None) -> int:
    """``num_nodes`` checked against concrete edge ids, or ``max id + 1`` when ``None``.

    Args:
        senders: ``(E,)`` concrete integer ids (NumPy or JAX).
        receivers: ``(E,)`` concrete integer ids.
        num_nodes: the requested ``N`` or ``None``.

    Returns:
        ``N``.

    Raises:
        ValueError: an empty edge list without ``num_nodes``, or ids outside ``[0, N)``.
        TypeError: a non-integer ``num_nodes``.
    """
    num_nodes = _checks.check_num_nodes(num_nodes)
    if num_nodes is None:
        if not senders.shape[0]:
            raise ValueError("the edge list is empty; pass num_nodes to build an edgeless graph.")
        # Python ints: no wrap-around for uint64 ids (np.max(..., initial=-1) would wrap)
        num_nodes = max(int(np.max(senders)), int(np.max(receivers))) + 1
    if senders.shape[0]:
        lo = min(int(np.min(senders)), int(np.min(receivers)))
        hi = max(int(np.max(senders)), int(np.max(receivers)))
        if lo < 0 or hi >= num_nodes:
            raise ValueError(
                f"node ids must lie in [0, num_nodes={num_nodes}); got ids in [{lo}, {hi}]. "
                "Relabel the nodes to 0..N-1, or pass num_nodes > the largest id."
            )
    return num_nodes


def host_edges(senders, receivers, weights, num_nodes, dtype) -> tuple:
    """A concrete edge list as NumPy ``(senders, receivers, weights, N)``, every part checked.

    The one host conversion of edge lists (undirected in :func:`host_adjacency` and
    :func:`jaxrg.from_edge_list`, directed in :func:`jaxrg._validation.directed_adjacency`):
    ids are integer (masked and foreign-byte-order arrays handled) and inside ``[0, N)``,
    ``N`` = ``num_nodes`` or largest id + 1, weights (default 1) have one entry per edge, are
    finite and non-negative and stay normal numbers in ``dtype``, and an ``(N, N)`` matrix of
    ``dtype`` fits the dense size limit (checked before anything that large is allocated).

    Args:
        senders: ``(E,)`` concrete integer ids.
        receivers: ``(E,)`` concrete integer ids.
        weights: ``(E,)`` weights or ``None``.
        num_nodes: the requested ``N`` or ``None``.
        dtype: floating NumPy dtype of the weights.

    Returns:
        ``(senders, receivers, weights, N)``: two ``(E,)`` integer arrays, ``(E,)`` weights of
        ``dtype``, an int.

    Raises:
        TypeError: non-integer ids or ``num_nodes``, non-numeric or complex weights.
        ValueError: ids out of range, an empty list without ``num_nodes``, a weight shape,
            sign, non-finite, subnormal or unrepresentable value, a graph too large to be dense.
    """
    s = np.asarray(_checks.host_array(_checks.edge_ids(senders), "senders"))
    r = np.asarray(_checks.host_array(_checks.edge_ids(receivers), "receivers"))
    _checks.check_edge_ids(s, r)
    num_nodes = node_count(s, r, num_nodes)
    _checks.check_dense_size(num_nodes, "the edge list")  # before allocating (no OOM abort)
    if weights is None:
        return s, r, np.ones(s.shape, dtype), num_nodes
    w = _as_float(weights, "weights", dtype)
    if w.shape != s.shape:
        raise ValueError(f"weights must have shape {s.shape} (one per edge); got {w.shape}.")
    if not (np.all(np.isfinite(w)) and np.all(w >= 0)):
        raise ValueError("weights must be finite and non-negative.")
    return s, r, w, num_nodes


def _from_edges(senders, receivers, weights, num_nodes, dtype) -> np.ndarray:
    """Dense symmetric matrix of an edge list (the rules of :func:`undirected_edges`)."""
    senders, receivers, weights, num_nodes = host_edges(
        senders, receivers, weights, num_nodes, dtype
    )
    adjacency = np.zeros((num_nodes, num_nodes), dtype)
    loops = senders == receivers  # cancel in L; a repeated self-loop is no error
    np.maximum.at(adjacency, (senders[loops], receivers[loops]), weights[loops])
    # the duplicate and direction rules of as_adjacency (a repeat is refused, not max-ed)
    lo, hi, w = undirected_edges(senders[~loops], receivers[~loops], weights[~loops])
    adjacency[lo, hi] = w
    adjacency[hi, lo] = w
    return adjacency


def pad_host(
    mats: Sequence[np.ndarray], *, num_nodes: int, name: str = "graphs", offset: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Pad dense host matrices to one batch and validate it (NumPy, vectorised over the batch).

    Args:
        mats: a non-empty sequence of ``(n_b, n_b)`` NumPy arrays of one floating dtype, each
            ``n_b <= num_nodes`` (from :func:`host_adjacency`).
        num_nodes: padded size ``N``.
        name: how error messages call the sequence.
        offset: position of ``mats[0]`` in the caller's sequence (for error messages).

    Returns:
        ``(adjacency, mask)``: ``(B, N, N)`` NumPy array with zero diagonals and zero padding,
        ``(B, N)`` boolean mask (True for the first ``n_b`` nodes of graph ``b``).

    Raises:
        ValueError: a graph that is not finite, non-negative and symmetric (the message names
            its position).
    """
    sizes = np.fromiter((m.shape[0] for m in mats), int, len(mats))
    adjacency = np.zeros((len(mats), num_nodes, num_nodes), mats[0].dtype)
    for b, m in enumerate(mats):
        adjacency[b, : m.shape[0], : m.shape[0]] = m
    _check_values(adjacency, name, offset)
    diagonal = np.arange(num_nodes)
    adjacency[:, diagonal, diagonal] = 0  # self-loops cancel in L
    return adjacency, diagonal[None, :] < sizes[:, None]


def _check_values(adjacency: np.ndarray, name: str, offset: int) -> None:
    """Finite, non-negative, symmetric, each graph of a ``(B, N, N)`` batch; else ValueError."""
    bad = ~np.isfinite(adjacency).all(axis=(1, 2))
    if bad.any():
        raise ValueError(
            f"graph {offset + int(np.argmax(bad))} of {name} has NaN or inf entries; replace "
            "them (e.g. np.nan_to_num) or drop those edges."
        )
    lowest = adjacency.min(axis=(1, 2))
    if (lowest < 0).any():
        b = int(np.argmax(lowest < 0))
        raise ValueError(
            f"graph {offset + b} of {name} has negative weights (min {lowest[b]:.3g}); the "
            "Laplacian needs non-negative edge weights: drop those edges or take np.abs(A)."
        )
    transposed = adjacency.transpose(0, 2, 1)
    one_way = ((adjacency > 0) & ~(transposed > 0)).any(axis=(1, 2))
    if one_way.any():  # refused whatever its weight, as in the JAX check
        b = int(np.argmax(one_way))
        i, j = np.argwhere((adjacency[b] > 0) & ~(transposed[b] > 0))[0]
        raise ValueError(
            f"graph {offset + b} of {name} is not symmetric: it has a one-way edge (A[{i}, {j}] "
            f"= {adjacency[b, i, j]:.3g} but A[{j}, {i}] = 0); jaxrg works on undirected graphs: "
            "symmetrise with np.maximum(A, A.T) or (A + A.T) / 2."
        )
    asym = np.abs(adjacency - transposed).max(axis=(1, 2))
    # the tolerance scales with each graph's data (no floor at 1), as in the JAX check
    tol = 100 * np.finfo(adjacency.dtype).eps * adjacency.max(axis=(1, 2))
    if (asym > tol).any():
        b = int(np.argmax(asym > tol))
        raise ValueError(
            f"graph {offset + b} of {name} is not symmetric (max |A - A^T| = {asym[b]:.3g}); "
            "jaxrg works on undirected graphs: symmetrise with (A + A.T) / 2 or "
            "np.maximum(A, A.T)."
        )


def undirected_edges(senders, receivers, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The simple undirected graph an edge list denotes: ``(lo, hi, w)`` with ``lo <= hi``.

    Host-side (NumPy) home of the duplicate and direction rules (module docstring): a pair may
    appear once, or once per direction with equal weights (within the symmetry tolerance of a
    dense matrix); every other repeat raises.

    Args:
        senders: ``(E,)`` integer ids.
        receivers: ``(E,)`` integer ids.
        weights: ``(E,)`` finite non-negative weights.

    Returns:
        ``(lo (U,), hi (U,), w (U,))``, one row per undirected edge, sorted by ``(lo, hi)``.

    Raises:
        ValueError: a repeated edge, or two directions with different weights.
    """
    senders, receivers = np.asarray(senders), np.asarray(receivers)
    weights = np.asarray(weights)
    lo, hi = np.minimum(senders, receivers), np.maximum(senders, receivers)
    forward = senders <= receivers
    order = np.lexsort((~forward, hi, lo))
    lo, hi, weights, forward = lo[order], hi[order], weights[order], forward[order]
    first = np.ones(lo.shape[0], bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    if first.all():
        return lo, hi, weights
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, lo.shape[0]))
    repeated = counts > 1
    # a pair seen exactly twice, once each way (the sort puts the forward one first)
    two = starts[repeated & (counts == 2)]
    one_each_way = forward[two] & ~forward[two + 1] & (lo[two] != hi[two])
    scale = float(np.max(np.abs(weights), initial=0.0))  # scales with the data, no floor
    eps = np.finfo(weights.dtype).eps if weights.dtype.kind == "f" else 0.0
    gap = np.abs(weights[two + 1] - weights[two])
    agree = gap <= 100 * eps * scale
    bad_two = two[~(one_each_way & agree)]
    bad_more = starts[counts > 2]
    bad = np.sort(np.concatenate([bad_two, bad_more]))
    if bad.size:
        at = bad[0]
        u, v, k = int(lo[at]), int(hi[at]), int(counts[np.searchsorted(starts, at)])
        if k == 2 and forward[at] and not forward[at + 1] and u != v:
            raise ValueError(
                f"edge ({u}, {v}) has weight {weights[at]:.6g} one way and "
                f"{weights[at + 1]:.6g} the other: that is a directed graph, and jaxrg needs "
                "an undirected one. Give both directions the same weight (e.g. their mean) or "
                "list the edge once."
            )
        raise ValueError(
            f"edge ({u}, {v}) is listed {k} times ({bad.size} repeated edge(s) in all); jaxrg "
            "reads a simple undirected graph: list each edge once, or once in each direction "
            "with the same weight. Merge the repeats first (sum or max their weights)."
        )
    return lo[first], hi[first], weights[first]



def networkx_dense(graph) -> np.ndarray:
    """A networkx graph as a dense float64 NumPy adjacency, after :func:`check_networkx`.

    Args:
        graph: an undirected networkx graph (node order: ``graph.nodes``).

    Returns:
        ``(N, N)`` float64 array of the ``weight`` attributes (1 where absent).

    Raises:
        TypeError: a directed graph, or an edge weight that is not a real number.
        ValueError: parallel edges in a multigraph.
    """
    import networkx as nx

    check_networkx(graph)  # the module's rules: undirected, no parallel edges
    _checks.check_networkx_weights(graph)  # None, complex and non-numeric weights: named
    return nx.to_numpy_array(graph, weight="weight", dtype=float)


def check_networkx(graph) -> None:
    """Refuse a directed networkx graph or a multigraph with parallel edges (module rules).

    Args:
        graph: a networkx graph.

    Returns:
        None.

    Raises:
        TypeError: a directed graph.
        ValueError: a multigraph with two or more edges between one pair of nodes.
    """
    if graph.is_directed():
        raise TypeError(
            "graph is a directed networkx graph; jaxrg needs an undirected one: pass "
            "G.to_undirected() (or symmetrise its adjacency yourself)."
        )
    refuse_parallel_edges(graph, "graph is a networkx MultiGraph", "networkx.Graph")


def refuse_parallel_edges(graph, what: str, simple: str) -> None:
    """Refuse a networkx multigraph with two or more edges between one pair of nodes.

    Args:
        graph: a networkx graph.
        what: how the message names the input (``"graph is a networkx MultiGraph"``).
        simple: the simple graph class to merge into (``"networkx.Graph"``).

    Raises:
        ValueError: naming the pair, the count and the fix.
    """
    if graph.is_multigraph():
        for u, v in graph.edges():
            k = graph.number_of_edges(u, v)
            if k > 1:
                raise ValueError(
                    f"{what} with {k} parallel edges between {u!r} and {v!r}; jaxrg reads a "
                    f"simple graph: merge them first (sum or max their weights into a {simple})."
                )



def sparse_coo(matrix):
    """``matrix`` as a ``scipy.sparse.coo_array``, refusing duplicate entries (module rules).

    Args:
        matrix: a ``scipy.sparse`` matrix or array.

    Returns:
        The same matrix as ``coo_array`` (entries unchanged).

    Raises:
        ValueError: an entry ``(i, j)`` stored more than once (scipy would add them).
    """
    import scipy.sparse

    coo = scipy.sparse.coo_array(matrix)
    if coo.ndim == 2 and coo.nnz:
        order = np.lexsort((coo.col, coo.row))
        row, col = coo.row[order], coo.col[order]
        same = (row[1:] == row[:-1]) & (col[1:] == col[:-1])
        if same.any():
            at = int(np.argmax(same))
            times = int(np.sum((row == row[at]) & (col == col[at])))
            raise ValueError(
                f"entry ({int(row[at])}, {int(col[at])}) is stored {times} times in the sparse "
                f"matrix ({int(same.sum())} repeat(s) in all; scipy would add them); jaxrg reads "
                "a simple graph: merge them first with m.sum_duplicates() (sum) or build the "
                "matrix without repeats."
            )
    return coo



def check_orientation(graph) -> None:
    """Refuse 2-D inputs that look like an edge array rather than an ``(N, N)`` matrix.

    A non-square ``(E, 2)``/``(E, 3)`` array is an edge list given the wrong way; an integer
    ``(2, 2)`` array is refused when reading it as two ``(u, v)`` pairs gives another graph.

    Args:
        graph: a dense array or nested list.

    Returns:
        None.

    Raises:
        ValueError: with the fix (``tuple(np.asarray(edges).T)``).
    """
    try:
        shape = np.shape(graph)
    except ValueError:
        return  # ragged: as_float_array gives the message
    fix = ("pass an edge list as a tuple, jaxrg.as_adjacency(tuple(np.asarray(edges).T)); a 2-D "
           "array is always read as a dense (N, N) adjacency")
    if len(shape) == 2 and shape[0] != shape[1] and shape[1] in (2, 3) and shape[0] > 0:
        raise ValueError(f"adjacency must be square (N, N); got shape {shape}, which looks like "
                         f"an edge list of {shape[0]} edges: jaxrg.as_adjacency builds it from a "
                         f"tuple; {fix}.")
    if shape == (2, 2) and _checks.is_concrete(graph):
        dense = np.asarray(graph)
        if dense.dtype.kind not in "iu":
            return
        edges = [(int(u), int(v)) for u, v in dense]
        if dense.min() < 0 or (edges[0] == edges[1] and edges[0][0] != edges[0][1]):
            return  # not a valid pair list (negative ids, a repeated edge): no ambiguity
        if int(dense.max()) + 1 == 2:  # ids 0 and 1: the graph the pairs describe is (2, 2)
            pairs = np.zeros((2, 2), dense.dtype)
            for u, v in edges:
                if u != v:
                    pairs[u, v] = pairs[v, u] = 1
            off = dense * (1 - np.eye(2, dtype=dense.dtype))
            ambiguous = not np.array_equal(pairs, off)
        else:  # the pairs name a node >= 2: another graph than the (2, 2) matrix
            ambiguous = True
        if ambiguous:
            raise ValueError(
                f"adjacency {dense.tolist()} is ambiguous: an integer (2, 2) array may be an "
                f"adjacency or two edges (u, v); {fix} (give it float entries, e.g. "
                "np.asarray(a, float), to mean the matrix)."
            )
