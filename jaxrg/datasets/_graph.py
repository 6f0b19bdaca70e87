"""The :class:`Dataset` record and the adjacency → ``jraph.GraphsTuple`` conversion."""

from __future__ import annotations

from typing import Any, NamedTuple

import jraph
import numpy as np

from jaxrg._checks import check_int


class Dataset(NamedTuple):
    """A node-classification dataset, as returned by :func:`jaxrg.datasets.load`.

    Attributes:
        name: the dataset's canonical name (``"cora"``, ``"citeseer"``, ``"pubmed"``, ``"photo"``,
            ``"computers"``, ``"europe"``).
        graph: ``jraph.GraphsTuple`` with one graph: ``nodes`` = ``features`` (or None),
            ``senders``/``receivers`` int32 (E,) listing every undirected edge in both directions
            (no self-loops, sorted by sender), ``edges``/``globals`` None, ``n_node`` = [N],
            ``n_edge`` = [E].
        adjacency: ``scipy.sparse.csr_array`` (N, N), float32, symmetric, entries 0/1, zero
            diagonal; E = ``adjacency.nnz`` = 2 × the number of undirected edges.
        features: dense ``numpy.ndarray`` (N, F) float32 (raw values from the files: binary
            bag-of-words, PubMed TF-IDF, Europe one-hot identity), or None when loaded with
            ``features=False``.
        labels: int32 (N,): class ids 0..C-1, and -1 for a node without a label (15 Citeseer
            nodes).
        train_mask, val_mask, test_mask: bool (N,), disjoint, only labelled nodes.
        num_classes: C.
        node_ids: int64 (N,): each node's id in the original files (differs from 0..N-1 after a
            largest-component reduction).
    """

    name: str
    graph: jraph.GraphsTuple
    adjacency: Any
    features: np.ndarray | None
    labels: np.ndarray
    train_mask: np.ndarray
    val_mask: np.ndarray
    test_mask: np.ndarray
    num_classes: int
    node_ids: np.ndarray

    @property
    def num_nodes(self) -> int:
        """N."""
        return int(self.labels.shape[0])

    @property
    def num_edges(self) -> int:
        """Number of undirected edges (half the directed ``adjacency.nnz``)."""
        return int(self.adjacency.nnz // 2)


def symmetric_adjacency(rows, cols, num_nodes: int):
    """0/1 CSR of the undirected graph with edges (rows[k], cols[k]): symmetrised, no diagonal.

    ``A <- 1[(A + Aᵀ) > 0]`` with self-loops and duplicate entries dropped; indices sorted.

    Args:
        rows, cols: ``(E,)`` integer node ids of the edge end points.
        num_nodes: ``N`` (int).

    Returns:
        ``(N, N)`` ``scipy.sparse.csr_array``, float32 entries 1, symmetric, zero diagonal.

    Raises:
        ValueError: ``rows`` and ``cols`` not 1-D of one length, or an id outside
            ``[0, num_nodes)``.
        TypeError: ``num_nodes`` not an integer.
    """
    import scipy.sparse as sp

    num_nodes = check_int(num_nodes, "num_nodes", minimum=0, meaning="number of nodes")
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    if rows.ndim != 1 or rows.shape != cols.shape:
        raise ValueError(
            f"rows and cols must be 1-D of one length (one entry per edge); got shapes "
            f"{rows.shape} and {cols.shape}."
        )
    for name, ids in (("rows", rows), ("cols", cols)):
        if ids.size and not (ids.min() >= 0 and ids.max() < num_nodes):
            raise ValueError(
                f"{name} holds node ids in [{int(ids.min())}, {int(ids.max())}] but num_nodes="
                f"{num_nodes} allows only 0..{num_nodes - 1}; pass num_nodes="
                f"{max(int(rows.max(initial=-1)), int(cols.max(initial=-1))) + 1} or remap the "
                "ids with np.unique(..., return_inverse=True)."
            )
    both_r = np.concatenate([rows, cols])
    both_c = np.concatenate([cols, rows])
    keep = both_r != both_c
    data = np.ones(int(keep.sum()), dtype=np.float32)
    adjacency = sp.csr_array((data, (both_r[keep], both_c[keep])), shape=(num_nodes, num_nodes))
    adjacency.sum_duplicates()
    adjacency.data[:] = 1.0
    adjacency.sort_indices()
    return adjacency


def graphs_tuple(adjacency, features: np.ndarray | None = None) -> jraph.GraphsTuple:
    """A one-graph ``jraph.GraphsTuple`` with one directed edge per stored entry of ``adjacency``.

    Args:
        adjacency: scipy sparse (N, N); entry (i, j) becomes the edge sender i → receiver j.
        features: optional (N, F) node features stored as ``nodes``.

    Returns:
        The GraphsTuple (numpy arrays; senders/receivers int32). ``edges`` holds the ``(E,)``
        weights when any stored entry differs from 1 (so ``jaxrg.as_adjacency`` of the tuple
        gives ``adjacency`` back), and is None for a 0/1 graph (every packaged dataset).

    Examples:
        >>> import scipy.sparse as sp
        >>> g = graphs_tuple(sp.csr_array(np.array([[0., 1.], [1., 0.]])))
        >>> g.senders.tolist(), g.receivers.tolist(), g.n_node.tolist()
        ([0, 1], [1, 0], [2])
    """
    if features is not None and np.shape(features)[:1] != adjacency.shape[:1]:
        raise ValueError(
            f"features must have one row per node, shape ({adjacency.shape[0]}, F); got shape "
            f"{np.shape(features)}."
        )
    coo = adjacency.tocoo()
    order = np.lexsort((coo.col, coo.row))
    senders = coo.row[order].astype(np.int32)
    receivers = coo.col[order].astype(np.int32)
    weights = np.asarray(coo.data)[order]
    edges = None if np.all(weights == 1) else weights.astype(np.result_type(weights, np.float32))
    num_nodes = adjacency.shape[0]
    return jraph.GraphsTuple(
        nodes=features, edges=edges, senders=senders, receivers=receivers, globals=None,
        n_node=np.array([num_nodes], dtype=np.int32),
        n_edge=np.array([senders.shape[0]], dtype=np.int32))


def make_dataset(name, adjacency, features, labels, train_mask, val_mask, test_mask,
                 num_classes, node_ids=None) -> Dataset:
    """Assemble a :class:`Dataset` (builds ``graph`` from ``adjacency``)."""
    labels = np.asarray(labels, dtype=np.int32)
    if node_ids is None:
        node_ids = np.arange(labels.shape[0], dtype=np.int64)
    return Dataset(
        name=name, graph=graphs_tuple(adjacency, features), adjacency=adjacency,
        features=features, labels=labels, train_mask=np.asarray(train_mask, dtype=bool),
        val_mask=np.asarray(val_mask, dtype=bool), test_mask=np.asarray(test_mask, dtype=bool),
        num_classes=int(num_classes), node_ids=np.asarray(node_ids, dtype=np.int64))
