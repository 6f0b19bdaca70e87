"""Planetoid citation graphs (Cora, Citeseer, PubMed) from the original ``ind.<name>.*`` files.

Files (Yang, Cohen & Salakhutdinov 2016; identical in ``tkipf/gcn``): Python-2 pickles ``x, y,
tx, ty, allx, ally, graph`` and the text file ``test.index``. Node ``i < len(allx)`` gets row
``i`` of ``allx``/``ally``; node ``test.index[k]`` gets row ``k`` of ``tx``/``ty``; this is what
``tkipf/gcn`` ``utils.load_data`` assembles (Citeseer's 15 ids inside the test range that are in
no file get an all-zero feature row and label -1). Public split (Kipf & Welling 2017): train =
the ``len(y)`` first ids (20 per class), validation = the next 500, test = the 1000 ids of
``test.index``.

References:
    Z. Yang, W. Cohen, R. Salakhutdinov, "Revisiting semi-supervised learning with graph
    embeddings", ICML 2016. T. Kipf, M. Welling, "Semi-supervised classification with graph
    convolutional networks", ICLR 2017.
"""

from __future__ import annotations

import pathlib
import pickle
import warnings

import numpy as np

from jaxrg.datasets._files import require_files
from jaxrg.datasets._graph import Dataset, make_dataset, symmetric_adjacency

__all__ = ["NUM_VAL", "load_planetoid"]

NUM_VAL = 500


def _corrupt(path: pathlib.Path, what: str) -> ValueError:
    return ValueError(f"{path}: {what}; the file is corrupt, truncated or not the published "
                      "Planetoid file - delete it and download it again")


def _read_pickle(path: pathlib.Path):
    try:
        with open(path, "rb") as handle, warnings.catch_warnings():
            # The pickles name scipy.sparse.csr, which recent scipy deprecates: harmless.
            warnings.simplefilter("ignore", DeprecationWarning)
            return pickle.load(handle, encoding="latin1")
    except Exception as err:  # any unpickling failure means a bad file
        raise _corrupt(path, f"cannot be unpickled ({type(err).__name__}: {err})") from err


def _read_matrix(path: pathlib.Path, *, sparse: bool) -> np.ndarray:
    obj = _read_pickle(path)
    if sparse:
        if not hasattr(obj, "toarray") or getattr(obj, "ndim", 2) != 2:
            raise _corrupt(path, f"holds a {type(obj).__name__}, expected a scipy sparse matrix")
        return np.asarray(obj.toarray(), dtype=np.float32)
    if not isinstance(obj, np.ndarray) or obj.ndim != 2:
        raise _corrupt(path, f"holds a {type(obj).__name__}, expected a 2-d numpy array")
    return obj


def _read_test_index(path: pathlib.Path) -> np.ndarray:
    try:
        lines = path.read_text(encoding="ascii").split()
        return np.array([int(line) for line in lines], dtype=np.int64)
    except (UnicodeDecodeError, ValueError) as err:
        raise _corrupt(path, f"is not a list of integers ({err})") from err


def _read_graph(path: pathlib.Path):
    """The adjacency lists → symmetric 0/1 CSR without self-loops (node order 0..N-1)."""
    graph = _read_pickle(path)
    if not isinstance(graph, dict):
        raise _corrupt(path, f"holds a {type(graph).__name__}, expected a dict of lists")
    num_nodes = len(graph)
    keys = np.fromiter(graph.keys(), dtype=np.int64, count=num_nodes)
    if not np.array_equal(np.sort(keys), np.arange(num_nodes)):
        raise _corrupt(path, f"its keys are not exactly the node ids 0..{num_nodes - 1}")
    lengths = np.array([len(graph[k]) for k in keys], dtype=np.int64)
    rows = np.repeat(keys, lengths)
    cols = np.fromiter((j for k in keys for j in graph[k]), dtype=np.int64,
                       count=int(lengths.sum()))
    if cols.size and (cols.min() < 0 or cols.max() >= num_nodes):
        raise _corrupt(path, f"a neighbour id lies outside 0..{num_nodes - 1}")
    return symmetric_adjacency(rows, cols, num_nodes)


def _labels_from_one_hot(one_hot: np.ndarray) -> np.ndarray:
    labels = np.argmax(one_hot, axis=1).astype(np.int32)
    return np.where(one_hot.sum(axis=1) > 0, labels, -1).astype(np.int32)


def load_planetoid(name: str, *, data_dir=None, features: bool = True, download: bool = False,
                   mirror: str | None = None, verify: bool = True,
                   progress: bool = True) -> Dataset:
    """Load Cora, Citeseer or PubMed with the public split, assembled as ``tkipf/gcn`` does.

    Args:
        name: ``"cora"``, ``"citeseer"`` or ``"pubmed"``.
        data_dir: folder holding ``planetoid/ind.<name>.*`` (default: ``$JAXRG_DATA``, else
            ``~/.cache/jaxrg``).
        features: read the feature matrices; False skips ``x``, ``tx`` and ``allx`` (PubMed's
            ``allx`` may be absent) and returns ``features=None``.
        download: fetch missing files from the original public URLs.
        mirror: base URL of a copy of the data-folder layout to download from instead.
        verify: check every file's sha256 (or git blob id) before parsing it.
        progress: show download progress bars.

    Returns:
        A :class:`~jaxrg.datasets.Dataset` with the public split (all N nodes; see
        :func:`jaxrg.datasets.load` for the largest-component reduction).

    Raises:
        FileNotFoundError: files are missing (the message lists which and where).
        ValueError: a file is corrupt, truncated or inconsistent with the others.
    """
    keys = ("y", "ally", "ty", "graph", "test.index")
    if features:
        keys = keys + ("x", "tx", "allx")
    paths = require_files(name, keys, data_dir=data_dir, download=download, mirror=mirror,
                          verify=verify, progress=progress)
    adjacency = _read_graph(paths["graph"])
    num_nodes = adjacency.shape[0]
    y = _read_matrix(paths["y"], sparse=False)
    ally = _read_matrix(paths["ally"], sparse=False)
    ty = _read_matrix(paths["ty"], sparse=False)
    test_index = _read_test_index(paths["test.index"])

    if ty.shape[0] != test_index.shape[0]:
        raise _corrupt(paths["test.index"], f"lists {test_index.shape[0]} ids but ty has "
                       f"{ty.shape[0]} rows")
    if not (ally.shape[1] == ty.shape[1] == y.shape[1]):
        raise _corrupt(paths["ty"], "its number of classes differs from y/ally")
    if (len(ally) > num_nodes or test_index.min() < len(ally) or test_index.max() >= num_nodes
            or np.unique(test_index).size != test_index.size):
        raise _corrupt(paths["test.index"], f"its ids do not fit a graph of {num_nodes} nodes "
                       f"after {len(ally)} ally rows")
    one_hot = np.zeros((num_nodes, ally.shape[1]), dtype=np.float64)
    one_hot[: len(ally)] = ally
    one_hot[test_index] = ty
    labels = _labels_from_one_hot(one_hot)

    feats = None
    if features:
        x = _read_matrix(paths["x"], sparse=True)
        tx = _read_matrix(paths["tx"], sparse=True)
        allx = _read_matrix(paths["allx"], sparse=True)
        if allx.shape[0] != ally.shape[0] or x.shape[0] != y.shape[0]:
            raise _corrupt(paths["allx"], "its rows do not match ally (or x does not match y)")
        if tx.shape != (ty.shape[0], allx.shape[1]) or x.shape[1] != allx.shape[1]:
            raise _corrupt(paths["tx"], "its shape does not match ty/allx")
        feats = np.zeros((num_nodes, allx.shape[1]), dtype=np.float32)
        feats[: len(allx)] = allx
        feats[test_index] = tx

    train = np.zeros(num_nodes, dtype=bool)
    val = np.zeros(num_nodes, dtype=bool)
    test = np.zeros(num_nodes, dtype=bool)
    train[: len(y)] = True
    val[len(y): len(y) + NUM_VAL] = True
    test[test_index] = True
    return make_dataset(name, adjacency, feats, labels, train, val, test, ally.shape[1])
