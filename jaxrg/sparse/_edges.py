"""Streaming edge-list reader: text file to :class:`SparseGraph`, never a dense matrix.

One edge per line, ``u v`` or ``u v w`` (whitespace or comma separated, ``#`` starts a comment,
``.gz`` files are decompressed on the fly). Lines are parsed in blocks of ``chunk_lines`` with
NumPy's C parser, so memory is ``O(E)`` for the integer arrays plus one block of text.

Example:
    >>> import pathlib, tempfile, jaxrg.sparse as sp
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "g.edgelist"
    >>> _ = path.write_text("# a path\\n0 1\\n1 2\\n")
    >>> g = sp.read_edge_list(path)
    >>> g.num_nodes, g.degree.tolist()
    (3, [1.0, 2.0, 1.0])
"""

from __future__ import annotations

import gzip
import itertools
import os
import pathlib
import warnings

import numpy as np

from jaxrg.sparse._graph import SparseGraph, as_sparse_graph


def read_edge_list(
    path: str | os.PathLike,
    *,
    num_nodes: int | None = None,
    relabel: bool = False,
    chunk_lines: int = 1_000_000,
    dtype=None,
) -> SparseGraph:
    """Read a (possibly huge, possibly gzipped) edge list into a :class:`SparseGraph`.

    Args:
        path: text file with ``u v [w]`` per line.
        num_nodes: ``N`` (default: largest id + 1, or the number of distinct ids with
            ``relabel``).
        relabel: map the distinct node ids (any non-negative integers, e.g. SNAP files) to
            ``0..N-1`` in increasing order.
        chunk_lines: lines parsed per block.
        dtype: floating dtype of the weights.

    Returns:
        :class:`SparseGraph`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line that is not ``u v`` or ``u v w`` (the message names the block), or
            no edges at all.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"edge-list file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    ids, weights, columns = [], [], None
    with opener(path, "rt", encoding="utf-8") as handle:
        for block_index in itertools.count():
            lines = list(itertools.islice(handle, chunk_lines))
            if not lines:
                break
            block = _parse(lines, path, block_index * chunk_lines)
            if block is None:
                continue
            if columns is None:
                columns = block.shape[1]
            elif block.shape[1] != columns:
                raise ValueError(f"{path}: lines mix {columns} and {block.shape[1]} columns.")
            if np.any(block[:, :2] < 0) or np.any(block[:, :2] != np.round(block[:, :2])):
                raise ValueError(f"{path}: node ids must be non-negative integers.")
            ids.append(block[:, :2].astype(np.int64))
            if columns == 3:
                weights.append(block[:, 2])
    if not ids:
        raise ValueError(f"{path}: no edges found.")
    pairs = np.concatenate(ids)
    if relabel:
        unique, pairs = np.unique(pairs, return_inverse=True)
        pairs = pairs.reshape(-1, 2)
        num_nodes = len(unique) if num_nodes is None else num_nodes
    edge_weights = np.concatenate(weights) if weights else None
    return as_sparse_graph(
        (pairs[:, 0], pairs[:, 1], edge_weights), num_nodes=num_nodes, dtype=dtype
    )


def _parse(lines: list[str], path, first_line: int):
    """``(E, 2|3)`` float array of one block of lines, ``None`` if it holds only comments."""
    text = [line.replace(",", " ") for line in lines]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            block = np.loadtxt(text, comments="#", dtype=np.float64, ndmin=2)
    except ValueError as err:
        raise ValueError(
            f"{path}: cannot parse the lines from {first_line + 1} on as 'u v [w]': {err}"
        ) from err
    if block.size == 0:
        return None
    if block.shape[1] not in (2, 3):
        raise ValueError(
            f"{path}: expected 'u v' or 'u v w' per line; got {block.shape[1]} columns "
            f"(lines from {first_line + 1} on)."
        )
    return block
