"""Reading graphs from files (host side): edge lists, .npz/.npy, GraphML/GML, packaged graphs.

Supported paths:

* ``*.edgelist``, ``*.txt``, ``*.csv``, ``*.tsv``, ``*.edges``, each optionally ``.gz``: one
  edge per line, ``u v`` or ``u v w`` (see *Edge lists* below);
* ``*.npz``: a ``scipy.sparse.save_npz`` file (any format: COO, CSR, CSC, ..., arrays or
  matrices; an entry stored twice is refused, as in :func:`jaxrg.as_adjacency`), or an archive
  with an ``adjacency`` array;
* ``*.npy``: a dense ``(N, N)`` adjacency (any real dtype; read as float64);
* ``*.graphml``, ``*.gml``: through networkx (``pip install 'jaxrg[graphs]'``);
* ``karate``: Zachary's karate club, shipped with jaxrg.

Edge lists (one reader, :func:`read_edge_file`, behind every function and CLI command):
UTF-8 text (a byte-order mark is accepted), gzip-compressed when the name ends in ``.gz``;
fields separated by whitespace or commas; ``#`` and ``%`` start a comment; every line is
``u v`` (weight 1) or ``u v w`` (a finite non-negative weight). A header line is refused with
a message suggesting ``#``. Node ids are integers, never parsed as floats (64-bit ids are
exact); with ``relabel=True`` any ids (also strings) are numbered ``0..N-1`` in increasing order
and the original ids are returned. Duplicates and direction follow the rules of
:mod:`jaxrg.graphs`: each edge once, or once per direction with the same weight (a violation
names the file and the line of the second occurrence). A line ``u u w`` is a self-loop, read
like any other edge (once; :func:`read_graph` keeps it, see there). Without
``relabel`` an id is a row number, so ids missing from the file are isolated nodes.

Example:
    >>> import pathlib, tempfile
    >>> from jaxrg.graph_io import read_edge_file
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "g.csv"
    >>> _ = path.write_text("% people\\nann,bob\\nbob,cy\\n")
    >>> edges = read_edge_file(path, relabel=True)
    >>> edges.senders.tolist(), edges.receivers.tolist(), edges.labels.tolist()
    ([0, 1], [1, 2], ['ann', 'bob', 'cy'])
"""

from __future__ import annotations

import gzip
import importlib.resources
import itertools
import os
import pathlib
import re
import warnings
import zipfile
import zlib
from typing import NamedTuple

import jax
import numpy as np

from jaxrg import _optional
from jaxrg._checks import check_dense_size
from jaxrg._host import sparse_coo, undirected_edges
from jaxrg.graphs import as_adjacency, from_edge_list

__all__ = [
    "PACKAGED",
    "EdgeFile",
    "check_dense_size",
    "is_edge_list_path",
    "read_edge_file",
    "read_graph",
    "read_sparse_npz",
]

PACKAGED = {"karate": "karate.edgelist"}
EDGE_SUFFIXES = (".edgelist", ".txt", ".csv", ".tsv", ".edges")
_HEADER_WORDS = {"source", "target", "from", "to", "src", "dst", "u", "v", "node",
                 "node1", "node2", "id1", "id2", "weight", "sender", "receiver", "head",
                 "tail", "edge", "weights"}
_INTEGER = re.compile(r"\d+")


def read_graph(source: str | os.PathLike, *, relabel: bool = False) -> jax.Array:
    """Dense symmetric adjacency from a graph file or a packaged graph name.

    Args:
        source: a path (format from the suffix, see the module docstring) or ``"karate"``.
        relabel: edge lists only: number the distinct node ids ``0..N-1`` in increasing order
            (needed for string ids); default: an id is its row number.

    Returns:
        ``(N, N)`` adjacency (validated). Self-loops are kept, as every other input form keeps
        them: they cancel in :math:`L = D - A` and count towards the degree in the normalised
        Laplacian (:func:`jaxrg.laplacian`).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file cannot be parsed (the message names the file and the line), breaks
            the duplicate/direction rules, or its dense matrix would exceed the memory limit
            (:func:`check_dense_size`).
    """
    path = pathlib.Path(source)
    if str(source) in PACKAGED or is_edge_list_path(path):
        edges = read_edge_file(source, relabel=relabel)
        check_dense_size(edges.num_nodes, str(source))
        return from_edge_list(edges.senders, edges.receivers, edges.weights,
                              num_nodes=edges.num_nodes, remove_self_loops=False)
    if not path.exists():
        raise FileNotFoundError(
            f"graph file not found: {path} (or use a packaged graph: {', '.join(PACKAGED)})"
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return _read_npy(path)
        if suffix == ".npz":
            return _read_npz(path)
        if suffix in (".graphml", ".gml"):
            return _read_networkx(path, suffix)
    except (OSError, KeyError, EOFError, UnicodeDecodeError, zlib.error, zipfile.BadZipFile,
            SyntaxError) as err:
        raise ValueError(f"cannot read graph file {path}: {err}") from err
    except (ValueError, TypeError) as err:
        if str(path) in str(err):
            raise
        raise type(err)(f"{path}: {err}") from err
    raise ValueError(
        f"unknown graph file type {suffix!r} for {path}; use .edgelist/.txt/.csv/.tsv/.edges "
        "(u v [w] per line, optionally .gz), .npz, .npy, .graphml or .gml."
    )


class EdgeFile(NamedTuple):
    """An edge-list file as integer arrays.

    Attributes:
        senders: ``(E,)`` int64 node ids in ``[0, num_nodes)``.
        receivers: ``(E,)`` int64.
        weights: ``(E,)`` float64, or None for a file of ``u v`` lines.
        labels: ``(N,)`` the original id of each node when the ids were renumbered, else None.
        num_nodes: ``N``.
    """

    senders: np.ndarray
    receivers: np.ndarray
    weights: np.ndarray | None
    labels: np.ndarray | None
    num_nodes: int


def read_edge_file(
    source: str | os.PathLike, *, relabel: bool | None = False, chunk_lines: int = 1_000_000
) -> EdgeFile:
    """Parse an edge-list file (rules in the module docstring); the one edge-list reader.

    Blocks of ``chunk_lines`` lines go through NumPy's C parser (integers for the ids, floats
    for the weights); a block it cannot parse is read again line by line for the exact message
    (or for string ids with ``relabel``).

    Args:
        source: a path (``.gz`` decompressed) or a packaged graph name.
        relabel: ``False``: ids are row numbers (``N`` = largest id + 1); ``True``: the distinct
            ids are numbered ``0..N-1`` in increasing order (strings sorted as text); ``None``
            (the CLI's default): renumber only when the smallest id is not 0 (ids from 1);
            gaps between ids starting at 0 stay isolated nodes.
        chunk_lines: lines parsed per block.

    Returns:
        :class:`EdgeFile`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: naming the file and the line (header, wrong number of fields, a non-integer
            id, a bad weight), a truncated or corrupt ``.gz``, text that is not UTF-8, no edges.
    """
    name = str(source)
    if name in PACKAGED:
        ref = importlib.resources.files("jaxrg") / "data" / PACKAGED[name]
        opener = lambda: ref.open("r", encoding="utf-8-sig")  # noqa: E731
    else:
        path = pathlib.Path(source)
        if not path.exists():
            raise FileNotFoundError(
                f"graph file not found: {path} (or use a packaged graph: {', '.join(PACKAGED)})"
            )
        if path.suffix.lower() == ".gz" or path.read_bytes()[:2] == b"\x1f\x8b":
            opener = lambda: gzip.open(path, "rt", encoding="utf-8-sig")  # noqa: E731
        else:
            opener = lambda: open(path, encoding="utf-8-sig")  # noqa: E731
    state = _ParseState(name, relabel)
    try:
        with opener() as handle:
            for block_index in itertools.count():
                lines = list(itertools.islice(handle, chunk_lines))
                if not lines:
                    break
                state.add_block(lines, block_index * chunk_lines)
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise ValueError(
            f"{name}: cannot decompress the gzip file ({err}); it is truncated or corrupt - "
            "download or compress it again."
        ) from err
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{name}: not UTF-8 text (byte {err.start} of a block: {err.reason}); save the file "
            "as UTF-8 (or gzip a UTF-8 file)."
        ) from err
    edges = state.finish()
    _check_simple(edges, name, opener)
    return edges


def _check_simple(edges: EdgeFile, name: str, opener) -> None:
    """Apply the duplicate and direction rules now, so a violation names the file and line."""
    # self-loops too: they count in the normalised Laplacian, so a repeated one is refused
    weights = np.ones(edges.senders.shape) if edges.weights is None else edges.weights
    try:
        undirected_edges(edges.senders, edges.receivers, weights)
    except ValueError as err:
        message = str(err)
        u, v = (int(x) for x in re.search(r"edge \((\d+), (\d+)\)", message).groups())
        pair = (np.minimum(edges.senders, edges.receivers) == min(u, v)) & (
            np.maximum(edges.senders, edges.receivers) == max(u, v))
        second = int(np.flatnonzero(pair)[1])  # the edge that broke the rule
        if edges.labels is not None:  # name the pair by the ids written in the file
            message = message.replace(f"edge ({u}, {v})",
                                      f"edge ({edges.labels[u]}, {edges.labels[v]})", 1)
        raise ValueError(f"{name}, line {_line_of_edge(opener, second)}: {message}") from None


def _line_of_edge(opener, index: int) -> int:
    """The 1-based line number of edge ``index`` (every line with fields is one edge)."""
    seen = -1
    with opener() as handle:
        for number, raw in enumerate(handle, start=1):
            seen += bool(_fields(raw))
            if seen == index:
                return number
    raise AssertionError("unreachable: the file was read once already")  # pragma: no cover


class _ParseState:
    """Blocks of ids and weights, the column count, and whether any id is a string."""

    def __init__(self, name: str, relabel: bool | None):
        self.name, self.relabel = name, relabel
        self.ids, self.weights, self.first_line = [], [], None
        self.strings = self.integers = False

    def add_block(self, lines: list[str], first: int) -> None:
        block = None if self.strings else _fast_block(lines)
        ids, weights = self._slow_block(lines, first) if block is None else block
        if ids.shape[0] == 0:
            return
        self.integers = self.integers or ids.dtype != object
        if self.first_line is None:
            self.first_line = first + 1
        self.ids.append(ids)
        self.weights.append(weights)

    def _slow_block(self, lines: list[str], first: int):
        ids, weights = [], []
        for number, raw in enumerate(lines, start=first + 1):
            fields = _fields(raw)
            if not fields:
                continue
            where = f"{self.name}, line {number}"
            if len(fields) not in (2, 3):
                raise ValueError(f"{where}: expected 'u v' or 'u v weight', got {raw.strip()!r} "
                                 f"({len(fields)} fields).")
            if self.first_line is None:
                self.first_line = number
                if _looks_like_header(fields):
                    raise ValueError(f"{where}: {raw.strip()!r} looks like a header; start it "
                                     "with '#' to make it a comment.")
            pair = []
            for token in fields[:2]:
                integer = bool(_INTEGER.fullmatch(token))
                seen_int = any(isinstance(p, int) for p in pair)
                seen_name = any(isinstance(p, str) for p in pair)
                mixed = self.relabel is None and (
                    (integer and (self.strings or seen_name))
                    or (not integer and (self.integers or seen_int)))
                if integer and not mixed:
                    self.integers = True
                    pair.append(int(token))
                elif self.relabel is not True and re.fullmatch(r"-\d+", token):
                    raise ValueError(
                        f"{where}: node id {token!r} is negative; node ids are integers >= 0 "
                        "(numbered 0..N-1): renumber the nodes, or read them as names with "
                        "relabel=True (CLI: --relabel)."
                    )
                elif self.relabel is False or mixed or (
                        self.relabel is None and _is_number(token)):
                    raise ValueError(
                        f"{where}: expected 'u v' or 'u v weight' with integer node ids; node id "
                        f"{token!r} is {'mixed with names' if integer else 'not an integer'}: "
                        "ids are integers (never floats) throughout, or names with relabel=True "
                        "(CLI: --relabel), numbered 0..N-1."
                    )
                else:
                    self.strings = True
                    pair.append(token)
            if len(fields) == 3:
                try:
                    weight = float(fields[2])
                except ValueError:
                    weight = float("nan")
                if not (np.isfinite(weight) and weight >= 0):
                    raise ValueError(f"{where}: weight {fields[2]!r} is not a finite "
                                     "non-negative number.")
                weights.append(weight)
            else:
                weights.append(1.0)  # 'u v': weight 1
            ids.append(pair)
        if self.strings:
            array = np.array([[str(u), str(v)] for u, v in ids], dtype=object).reshape(-1, 2)
        else:
            try:
                array = np.array(ids, dtype=np.int64).reshape(-1, 2)
            except OverflowError:
                if self.relabel is False:
                    raise ValueError(
                        f"{self.name}: node ids beyond 2^63 - 1; pass relabel=True (CLI: "
                        "--relabel) to number them 0..N-1."
                    ) from None
                array = np.array(ids, dtype=object).reshape(-1, 2)
        return array, np.array(weights, np.float64)

    def finish(self) -> EdgeFile:
        if not self.ids:
            raise ValueError(f"{self.name} holds no edges (only comments or blank lines).")
        if self.strings or any(block.dtype == object for block in self.ids):
            pairs = np.concatenate([block.astype(object) for block in self.ids])
            if self.strings:
                pairs = pairs.astype(str)
        else:
            pairs = np.concatenate(self.ids)
        weights = None
        if any(w is not None for w in self.weights):
            weights = np.concatenate([np.ones(i.shape[0]) if w is None else w
                                      for i, w in zip(self.ids, self.weights, strict=True)])
        labels = None
        if pairs.dtype == np.int64:
            top = int(pairs.max())
            renumber = self.relabel is True or (self.relabel is None and int(pairs.min()) > 0)
            num_nodes = top + 1
        else:
            renumber = True
        if renumber:
            labels, inverse = np.unique(pairs, return_inverse=True)
            pairs = inverse.reshape(-1, 2).astype(np.int64)
            num_nodes = labels.shape[0]
        return EdgeFile(pairs[:, 0], pairs[:, 1], weights, labels, int(num_nodes))


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _fields(raw: str) -> list[str]:
    line = raw.split("#", 1)[0].split("%", 1)[0]
    return line.replace(",", " ").split()


def _looks_like_header(fields: list[str]) -> bool:
    if all(_INTEGER.fullmatch(t) for t in fields[:2]):
        return False
    if len(fields) == 3:
        try:
            float(fields[2])
        except ValueError:
            return True
    return all(t.lower().strip("\"'") in _HEADER_WORDS for t in fields)


def _fast_block(lines: list[str]):
    """``(ids (E, 2) int64, weights (E,) | None)`` by NumPy's parser, or None to go slowly."""
    text = [line.replace(",", " ") for line in lines]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            values = np.loadtxt(text, comments=("#", "%"), dtype=np.float64, ndmin=2)
            if values.size == 0:
                return np.zeros((0, 2), np.int64), None
            if values.shape[1] not in (2, 3):
                return None
            ids = np.loadtxt(text, comments=("#", "%"), dtype=np.int64, ndmin=2, usecols=(0, 1))
    except (ValueError, OverflowError):
        return None
    if np.any(ids < 0):
        return None
    weights = values[:, 2] if values.shape[1] == 3 else None
    if weights is not None and not (np.all(np.isfinite(weights)) and np.all(weights >= 0)):
        return None
    return ids, weights


def is_edge_list_path(path: pathlib.Path) -> bool:
    """Whether a file name reads as an edge list (``.edgelist``, ``.txt``, ``.csv``, ... or gz).

    Args:
        path: the file's path.

    Returns:
        True for an edge-list suffix, optionally followed by ``.gz``.
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in EDGE_SUFFIXES


def _read_npy(path: pathlib.Path) -> jax.Array:
    header = np.load(path, mmap_mode="r", allow_pickle=False)
    if header.ndim == 2:
        check_dense_size(header.shape[0], str(path))
    array = np.load(path, allow_pickle=False)
    if array.dtype.kind == "f":
        array = array.astype(np.float64)  # float16/float32 files: compute at full precision
    return as_adjacency(array, remove_self_loops=False)


def _read_networkx(path: pathlib.Path, suffix: str) -> jax.Array:
    nx = _optional.require("networkx", extra="graphs", purpose=f"reading {suffix} files")
    try:
        graph = nx.read_graphml(path) if suffix == ".graphml" else nx.read_gml(path, label=None)
    except (nx.NetworkXError, SyntaxError) as err:  # read_graphml raises ParseError for bad XML
        fix = ("jaxrg reads a simple graph: merge the repeated edges first" if "duplicat"
               in str(err) else f"check that it is a valid {suffix[1:]} file")
        raise ValueError(f"{path}: {err}; {fix}.") from err
    if graph.is_directed():
        raise ValueError(
            f"{path} declares a directed graph; jaxrg needs an undirected one: declare it "
            "undirected (GraphML edgedefault=\"undirected\", GML directed 0) after making "
            "every edge symmetric."
        )
    check_dense_size(graph.number_of_nodes(), str(path))
    return as_adjacency(graph, remove_self_loops=False)


def read_sparse_npz(path: str | os.PathLike):
    """A ``scipy.sparse.save_npz`` file, any format, with repeated entries refused.

    Args:
        path: the ``.npz`` file (COO, CSR, CSC, BSR or DIA; sparse arrays or matrices).

    Returns:
        ``scipy.sparse.coo_array`` of shape ``(N, N)`` as stored (no entry summed).

    Raises:
        ValueError: not a ``save_npz`` file, or an entry ``(i, j)`` stored more than once
            (``save_npz`` keeps COO/CSR duplicates that ``load_npz`` would add): the message
            names the file, the entry and the fix.
    """
    scipy_sparse = _optional.require("scipy.sparse", extra="sparse",
                                     purpose="reading scipy.sparse .npz files")
    try:
        matrix = scipy_sparse.load_npz(path)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: not a readable scipy.sparse.save_npz file ({err}); save it "
                         "again with scipy.sparse.save_npz.") from err
    try:
        return sparse_coo(matrix)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def _read_npz(path: pathlib.Path) -> jax.Array:
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
        if "adjacency" in keys:
            return as_adjacency(archive["adjacency"], remove_self_loops=False)
        if {"data", "shape", "format"} <= keys:  # every format of scipy.sparse.save_npz
            matrix = read_sparse_npz(path)
            if matrix.ndim == 2:
                check_dense_size(matrix.shape[0], str(path))
            return as_adjacency(matrix, remove_self_loops=False)
    raise ValueError(
        f"{path}: an .npz graph must hold an 'adjacency' array or be a scipy.sparse.save_npz "
        f"file; found keys {sorted(keys)}."
    )
