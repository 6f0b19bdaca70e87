"""Edge-list files to :class:`SparseGraph`, never a dense matrix.

The file format and its rules (``.gz``, ``#``/``%`` comments, integer ids, headers, BOM) are those
of :func:`jaxrg.graph_io.read_edge_file`, the one edge-list reader of jaxrg; lines are parsed in
blocks with NumPy's C parser, so memory is ``O(E)`` for the integer arrays plus one block of text.

Example:
    >>> import pathlib, tempfile, jaxrg.sparse as sp
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "g.edgelist"
    >>> _ = path.write_text("# a path\\n0 1\\n1 2\\n")
    >>> g = sp.read_edge_list(path)
    >>> g.num_nodes, g.degree.tolist()
    (3, [1.0, 2.0, 1.0])
"""

from __future__ import annotations

import os

import numpy as np

from jaxrg import _checks
from jaxrg.graph_io import read_edge_file
from jaxrg.sparse._graph import SparseGraph, as_sparse_graph


def read_edge_list(
    path: str | os.PathLike,
    *,
    num_nodes: int | None = None,
    relabel: bool = False,
    chunk_lines: int | np.integer = 1_000_000,
    dtype=None,
) -> SparseGraph:
    """Read a (possibly huge, possibly gzipped) edge list into a :class:`SparseGraph`.

    Args:
        path: text file with ``u v [w]`` per line (rules: :func:`jaxrg.graph_io.read_edge_file`).
        num_nodes: ``N`` (default: largest id + 1, or the number of distinct ids with
            ``relabel``).
        relabel: number the distinct node ids (any integers, e.g. 64-bit SNAP ids, or strings)
            ``0..N-1`` in increasing order.
        chunk_lines: lines parsed per block.
        dtype: floating dtype of the weights.

    Returns:
        :class:`SparseGraph`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a bad line (the message names the file and the line), a repeated edge, a
            truncated ``.gz``, or no edges at all; ``chunk_lines < 1``.
        TypeError: ``chunk_lines`` not an integer.
    """
    chunk_lines = _checks.check_int(chunk_lines, "chunk_lines", meaning="lines per block")
    edges = read_edge_file(path, relabel=relabel, chunk_lines=chunk_lines)
    return as_sparse_graph(
        (edges.senders, edges.receivers, edges.weights),
        num_nodes=edges.num_nodes if num_nodes is None else num_nodes,
        dtype=dtype,
    )
