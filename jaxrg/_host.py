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
  symmetric to ``100 eps max(1, max|A|)`` per graph, the tolerance of
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

__all__ = ["dense_form", "edge_list", "host_adjacency", "node_count", "pad_host"]


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
    if module.startswith("networkx"):
        import networkx as nx

        if graph.is_directed():
            raise TypeError(
                "graph is a directed networkx graph; jaxrg needs an undirected one: pass "
                "G.to_undirected() (or symmetrise its adjacency yourself)."
            )
        graph = nx.to_numpy_array(graph, weight="weight", dtype=float)
    elif module.startswith("scipy.sparse"):
        graph = graph.toarray()
    elif module.startswith("jax.experimental.sparse"):
        graph = graph.todense()
    if not isinstance(graph, np.ndarray | jax.Array | list):
        raise TypeError(
            f"unsupported graph type {type(graph).__name__}; pass a dense (N, N) array, "
            "(senders, receivers[, weights]), a jraph.GraphsTuple, a networkx.Graph or a "
            "scipy.sparse matrix."
        )
    return graph


def _as_float(x, name: str, dtype) -> np.ndarray:
    """``x`` as a NumPy array of ``dtype``; bool/int cast, complex and non-numeric refused."""
    try:
        x = np.asarray(x)
    except ValueError:  # ragged nested lists: the JAX converter raises the documented error
        _checks.as_float_array(x, name)
        raise
    if x.dtype.kind not in "biuf":  # complex or non-numeric: the same errors as the JAX route
        _checks.as_float_array(x, name)
    return x.astype(dtype, copy=False)


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
    """
    if num_nodes is None:
        num_nodes = int(max(np.max(senders, initial=-1), np.max(receivers, initial=-1))) + 1
        if num_nodes == 0:
            raise ValueError("the edge list is empty; pass num_nodes to build an edgeless graph.")
    if senders.shape[0]:
        lo = int(min(np.min(senders), np.min(receivers)))
        hi = int(max(np.max(senders), np.max(receivers)))
        if lo < 0 or hi >= num_nodes:
            raise ValueError(
                f"node ids must lie in [0, num_nodes={num_nodes}); got ids in [{lo}, {hi}]. "
                "Relabel the nodes to 0..N-1, or pass num_nodes > the largest id."
            )
    return num_nodes


def _from_edges(senders, receivers, weights, num_nodes, dtype) -> np.ndarray:
    """Dense symmetric matrix of an edge list (repeated pairs keep their largest weight)."""
    senders, receivers = np.asarray(senders), np.asarray(receivers)
    _checks.check_edge_ids(senders, receivers)
    num_nodes = node_count(senders, receivers, num_nodes)
    if weights is None:
        weights = np.ones(senders.shape, dtype)
    else:
        weights = _as_float(weights, "weights", dtype)
        if weights.shape != senders.shape:
            raise ValueError(
                f"weights must have shape {senders.shape} (one per edge); got {weights.shape}."
            )
        if not (np.all(np.isfinite(weights)) and np.all(weights >= 0)):
            raise ValueError("weights must be finite and non-negative.")
    adjacency = np.zeros((num_nodes, num_nodes), dtype)
    np.maximum.at(adjacency, (senders, receivers), weights)
    np.maximum.at(adjacency, (receivers, senders), weights)
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
    asym = np.abs(adjacency - adjacency.transpose(0, 2, 1)).max(axis=(1, 2))
    tol = 100 * np.finfo(adjacency.dtype).eps * np.maximum(adjacency.max(axis=(1, 2)), 1.0)
    if (asym > tol).any():
        b = int(np.argmax(asym > tol))
        raise ValueError(
            f"graph {offset + b} of {name} is not symmetric (max |A - A^T| = {asym[b]:.3g}); "
            "jaxrg works on undirected graphs: symmetrise with (A + A.T) / 2 or "
            "np.maximum(A, A.T)."
        )
