"""Graph arguments of the CLI: a file, a packaged graph, or a dataset name (``cora``, ...).

One loader serves every graph command (``curve``, ``curve-sparse``, ``coarse-grain``,
``rewire``), so a file means the same graph everywhere: edge lists go through
:func:`jaxrg.graph_io.read_edge_file` (``.gz``, ``#``/``%`` comments, integer or string ids).
Node ids that do not start at 0 (ids from 1, 64-bit ids) and string ids are numbered ``0..N-1``
in increasing order with a printed note, and the mapping is written beside the results
(``--keep-ids`` keeps integer ids as row numbers instead). Ids from 0 are row numbers: ids
missing from the file are isolated nodes, with a note (``--relabel`` numbers only the listed ids).
Dense routes estimate their memory first (:func:`jaxrg.graph_io.check_dense_size`).
"""

from __future__ import annotations

import pathlib
from typing import NamedTuple

import numpy as np

GRAPH_HELP = ("or a dataset name (cora, citeseer, pubmed, photo, computers, europe; read from "
              "--data-dir)")


def add_dataset_options(parser) -> None:
    """``--data-dir`` and ``--download`` for commands whose graph may be a dataset name."""
    parser.add_argument("--data-dir", type=pathlib.Path, help="dataset folder for dataset names "
                        "(default $JAXRG_DATA, else ~/.cache/jaxrg)")
    parser.add_argument("--download", action="store_true",
                        help="fetch a missing dataset from its original source (sha256-checked; "
                        "default: off)")


def add_id_options(parser) -> None:
    """``--relabel`` / ``--keep-ids``: how edge-list node ids become row numbers."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--relabel", action="store_true",
                       help="always number the distinct node ids 0..N-1 in increasing order "
                       "(default: only string ids and ids not starting at 0, with a note)")
    group.add_argument("--keep-ids", action="store_true",
                       help="use integer node ids as row numbers: ids missing from the file are "
                       "isolated nodes (default: off)")


class LoadedGraph(NamedTuple):
    """A graph argument, read once.

    Attributes:
        graph: ``(senders, receivers, weights)`` edge list, a ``scipy.sparse`` CSR matrix or a
            dense adjacency.
        name: the label used in messages and outputs.
        num_nodes: ``N``.
        labels: ``(N,)`` original node ids when an edge list was renumbered, else None.
    """

    graph: object
    name: str
    num_nodes: int
    labels: np.ndarray | None


def load_graph(source: str, args, *, largest_component: bool = False, out=print) -> LoadedGraph:
    """Read the graph argument of a command (file, packaged graph or dataset name).

    Args:
        source: the command's graph argument.
        args: the parsed options (``data_dir``, ``download``, ``relabel``, ``keep_ids``).
        largest_component: datasets only: restrict to the largest connected component.
        out: where notes go (a print function).

    Returns:
        :class:`LoadedGraph`.

    Raises:
        FileNotFoundError, ValueError: with the file, the line and the fix.
    """
    from jaxrg.graph_io import (
        PACKAGED,
        is_edge_list_path,
        read_edge_file,
        read_graph,
        read_sparse_npz,
    )

    matrix = dataset_adjacency(source, data_dir=getattr(args, "data_dir", None),
                               largest_component=largest_component,
                               download=getattr(args, "download", False))
    if matrix is not None:
        return LoadedGraph(matrix, source.lower(), matrix.shape[0], None)
    path = pathlib.Path(source)
    if source in PACKAGED or is_edge_list_path(path):
        relabel = True if getattr(args, "relabel", False) else (
            False if getattr(args, "keep_ids", False) else None)
        edges = read_edge_file(source, relabel=relabel)
        _id_notes(edges, source, relabel, out)
        return LoadedGraph((edges.senders, edges.receivers, edges.weights), str(source),
                           edges.num_nodes, edges.labels)
    if path.suffix.lower() == ".npz" and path.exists() and _is_sparse_npz(path):
        matrix = read_sparse_npz(path)  # repeated entries refused, naming the file
        return LoadedGraph(matrix.tocsr(), str(source), matrix.shape[0], None)
    if not path.exists():
        raise FileNotFoundError(
            f"graph file not found: {path} (or use a packaged graph: {', '.join(PACKAGED)}, "
            "or a dataset name)")
    adjacency = read_graph(path)
    return LoadedGraph(adjacency, str(source), adjacency.shape[0], None)


def _is_sparse_npz(path: pathlib.Path) -> bool:
    """Whether an ``.npz`` holds a ``scipy.sparse.save_npz`` matrix (else: read_graph's rules)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {"data", "shape", "format"} <= set(archive.files)
    except (OSError, ValueError, EOFError):  # not a zip archive: read_graph says why
        return False


def _id_notes(edges, source, relabel, out) -> None:
    if edges.labels is not None and relabel is None:
        why = ("string node ids" if edges.labels.dtype.kind == "U"
               else f"node ids {_id_span(edges.labels)}")
        out(f"note: {source} has {why}, not 0..N-1; numbered 0..{edges.num_nodes - 1} in "
            "increasing order of id (--keep-ids uses integer ids as row numbers)")
    elif edges.labels is None:
        used = np.unique(np.concatenate([edges.senders, edges.receivers])).shape[0]
        missing = edges.num_nodes - used
        if missing:
            out(f"note: {source}: {missing} of the ids 0..{edges.num_nodes - 1} appear in no "
                "edge and are isolated nodes (they change S and C); pass --relabel to number "
                "only the listed ids")


def _id_span(labels) -> str:
    return f"{labels[0]}..{labels[-1]} ({labels.shape[0]} distinct)"


def write_node_map(loaded: LoadedGraph, path: pathlib.Path | None, out=print) -> None:
    """Write ``index<TAB>original id`` lines beside the results when ids were renumbered.

    Args:
        loaded: the graph.
        path: the file to write (None: the note says how to get one).
        out: where the note goes.

    Returns:
        None.
    """
    if loaded.labels is None:
        return
    if path is None:
        out("  node ids: pass an output file (--json/--csv/--png) to write the mapping")
        return
    from jaxrg import _io

    lines = "".join(f"{i}\t{label}\n" for i, label in enumerate(loaded.labels.tolist()))
    _io.atomic_write_text(path, "# index\toriginal node id\n" + lines)
    out(f"  node ids: {path}")


def check_weight_scale(loaded: LoadedGraph, dtype) -> None:
    """Refuse weights whose degrees would overflow the spectrum's arithmetic.

    The Laplacian eigenvalues lie in ``[0, 2 max degree]`` and the specific heat squares them,
    so degrees must stay below ``sqrt(finfo(dtype).max)`` (~1e154 in float64, ~1.8e19 in
    float32).

    Args:
        loaded: the graph.
        dtype: the floating dtype of the computation.

    Returns:
        None.

    Raises:
        ValueError: naming the largest degree and the fix (rescale the weights).
    """
    graph = loaded.graph
    if isinstance(graph, tuple):
        weights = graph[2]
        if weights is None:
            return
        degree = np.bincount(graph[0], weights, minlength=loaded.num_nodes) + np.bincount(
            graph[1], weights, minlength=loaded.num_nodes)
    elif hasattr(graph, "toarray"):
        degree = np.asarray(abs(graph).sum(axis=1)).ravel()  # np.matrix for csr_matrix
    else:
        degree = np.abs(np.asarray(graph, np.float64)).sum(axis=1)
    top = float(np.max(degree, initial=0.0))
    bound = float(np.sqrt(np.finfo(dtype).max))
    if not top < bound:
        raise ValueError(
            f"{loaded.name}: weighted degrees up to {top:.3g} exceed {bound:.2g}, where the "
            f"spectrum overflows in {np.dtype(dtype).name}; rescale the weights (e.g. divide by "
            "their maximum): the spectrum scales by the same factor and tau inversely."
        )


def dense_adjacency(loaded: LoadedGraph):
    """The dense adjacency, after the memory estimate (:func:`jaxrg.graph_io.check_dense_size`).

    Args:
        loaded: the graph.

    Returns:
        ``(N, N)`` JAX array in the command's floating dtype (float64, or float32 under
        ``--float32``), whatever the file stores (a float32 ``.npz`` is computed in float64).
        Self-loops are kept, as in :func:`jaxrg.read_graph` and every library input form: they
        cancel in ``L = D - A`` and count towards the degree of ``--normalized``.
    """
    import jax.numpy as jnp

    from jaxrg.graph_io import check_dense_size
    from jaxrg.graphs import as_adjacency

    dtype = jnp.result_type(float)
    check_dense_size(loaded.num_nodes, loaded.name)
    check_weight_scale(loaded, dtype)
    if isinstance(loaded.graph, tuple):
        return as_adjacency(loaded.graph, num_nodes=loaded.num_nodes, dtype=dtype,
                            remove_self_loops=False)
    if hasattr(loaded.graph, "toarray"):
        return as_adjacency(loaded.graph, dtype=dtype, remove_self_loops=False)
    return jnp.asarray(loaded.graph, dtype=dtype)


def csr_adjacency(loaded: LoadedGraph):
    """The graph as a symmetric ``scipy.sparse`` CSR matrix (float64), never dense for files.

    Args:
        loaded: the graph.

    Returns:
        ``scipy.sparse.csr_matrix`` of shape ``(N, N)``.
    """
    import scipy.sparse

    import jaxrg.sparse as sp

    check_weight_scale(loaded, np.float64)
    if isinstance(loaded.graph, tuple) or hasattr(loaded.graph, "toarray"):
        g = sp.as_sparse_graph(loaded.graph, num_nodes=loaded.num_nodes, dtype=np.float64)
        return scipy.sparse.csr_matrix(
            (np.asarray(g.weights), (np.asarray(g.senders), np.asarray(g.receivers))),
            shape=(loaded.num_nodes, loaded.num_nodes))
    return scipy.sparse.csr_matrix(np.asarray(loaded.graph, np.float64))


def dataset_adjacency(name: str, *, data_dir=None, largest_component: bool = False,
                      download: bool = False):
    """The scipy CSR adjacency of dataset ``name``, or None if ``name`` is a path or no dataset.

    An existing file always wins over a dataset of the same name.

    Args:
        name: the command's graph argument.
        data_dir: folder with the raw dataset files (see :func:`jaxrg.datasets.load`).
        largest_component: restrict to the largest connected component.
        download: fetch missing files from the original source.

    Returns:
        ``scipy.sparse.csr_matrix`` (float64, symmetric 0/1) or None.

    Raises:
        FileNotFoundError: a dataset name whose files are missing (the message says which).
    """
    if pathlib.Path(name).exists():
        return None
    import jaxrg.datasets as datasets

    if name.lower() not in datasets.DATASETS:
        return None
    import scipy.sparse

    data = datasets.load(name, data_dir=data_dir, largest_component=largest_component,
                         features=False, download=download, progress=download)
    return scipy.sparse.csr_matrix(data.adjacency, dtype="float64")
