"""Europe air-traffic network (struc2vec; Ribeiro, Saverese & Figueiredo 2017).

``europe-airports.edgelist``: one ``u v`` pair per line (each undirected edge once, two lines
are self-loops, dropped here); ``labels-europe-airports.txt``: a header ``node label`` then one
``node label`` line per airport (labels 0..3, quartiles of airport activity). No features are
published: the one-hot identity (N × N) is used, as in Caso et al. (2025).

References:
    L. Ribeiro, P. Saverese, D. Figueiredo, "struc2vec: learning node representations from
    structural identity", KDD 2017.
"""

from __future__ import annotations

import numpy as np

from jaxrg.datasets._files import require_files
from jaxrg.datasets._graph import Dataset, make_dataset, symmetric_adjacency

__all__ = ["load_europe", "stored_europe_edges"]


def _read_pairs(path, *, skip_header: bool) -> np.ndarray:
    try:
        lines = path.read_text(encoding="ascii").splitlines()
        if skip_header:
            lines = lines[1:]
        pairs = np.array([[int(tok) for tok in line.split()] for line in lines if line.strip()],
                         dtype=np.int64)
    except (UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"{path}: not lines of two integers ({err}); the file is corrupt - "
                         "delete it and download it again") from err
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"{path}: expected two integers per line; the file is corrupt or "
                         "truncated - delete it and download it again")
    return pairs


def load_europe(*, data_dir=None, features: bool = True, download: bool = False,
                mirror: str | None = None, verify: bool = True, progress: bool = True) -> Dataset:
    """Load the Europe airports graph (399 nodes, 5993 edges, 4 classes, empty masks).

    Args:
        data_dir, download, mirror, verify, progress: as in :func:`jaxrg.datasets.load`.
        features: build the (N, N) float32 identity features (False: ``features=None``).

    Returns:
        A :class:`~jaxrg.datasets.Dataset` whose masks are all False (no published split).

    Raises:
        FileNotFoundError: files are missing (the message lists which and where).
        ValueError: a file is corrupt or the two files disagree on the node ids.
    """
    paths = require_files("europe", ("edgelist", "labels"), data_dir=data_dir,
                          download=download, mirror=mirror, verify=verify, progress=progress)
    table = _read_pairs(paths["labels"], skip_header=True)
    num_nodes = table.shape[0]
    if not np.array_equal(np.sort(table[:, 0]), np.arange(num_nodes)):
        raise ValueError(f"{paths['labels']}: node ids are not exactly 0..{num_nodes - 1}; "
                         "the file is corrupt")
    labels = np.empty(num_nodes, dtype=np.int32)
    labels[table[:, 0]] = table[:, 1]
    edges = _read_pairs(paths["edgelist"], skip_header=False)
    if edges.min() < 0 or edges.max() >= num_nodes:
        raise ValueError(f"{paths['edgelist']}: node ids outside 0..{num_nodes - 1} (the labels "
                         "file lists that many nodes); a file is corrupt")
    adjacency = symmetric_adjacency(edges[:, 0], edges[:, 1], num_nodes)
    feats = np.eye(num_nodes, dtype=np.float32) if features else None
    empty = np.zeros(num_nodes, dtype=bool)
    return make_dataset("europe", adjacency, feats, labels, empty, empty, empty,
                        int(labels.max()) + 1)


def stored_europe_edges(*, data_dir=None, download: bool = False, mirror: str | None = None,
                        verify: bool = True, progress: bool = True) -> np.ndarray:
    """Europe's edges as ``europe-airports.edgelist`` stores them: each once, in the file's order.

    Every line ``u v`` of the file is one directed edge ``u → v`` (in this file u > v on every
    line); the two self-loops are dropped, as in :func:`load_europe`. PyTorch Geometric's
    ``Airports`` dataset keeps exactly these edges as its ``edge_index`` (it does not make
    them undirected), so a PyG model on Europe passes messages only from the first column to
    the second; Caso et al. (2025) trained on that graph. :func:`load_europe` builds the
    undirected graph (both directions of every line).

    Args:
        data_dir, download, mirror, verify, progress: as in :func:`jaxrg.datasets.load`.

    Returns:
        int64 ``(E, 2)`` array of (sender, receiver) node ids, E = 5993.

    Raises:
        FileNotFoundError: the file is missing (the message says where).
        ValueError: the file is corrupt.
    """
    paths = require_files("europe", ("edgelist",), data_dir=data_dir, download=download,
                          mirror=mirror, verify=verify, progress=progress)
    edges = _read_pairs(paths["edgelist"], skip_header=False)
    return edges[edges[:, 0] != edges[:, 1]]
