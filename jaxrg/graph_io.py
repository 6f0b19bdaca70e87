"""Reading graphs from files (host side): edge lists, .npz/.npy, GraphML/GML, packaged graphs.

Supported paths:

* ``*.edgelist``, ``*.txt``, ``*.csv``, ``*.tsv``: one edge per line, ``u v`` or ``u v w``
  (whitespace or comma separated; ``#`` starts a comment; node ids are non-negative integers);
* ``*.npz``: a ``scipy.sparse.save_npz`` file, or an archive with an ``adjacency`` array;
* ``*.npy``: a dense ``(N, N)`` adjacency;
* ``*.graphml``, ``*.gml``: through networkx (``pip install 'jaxrg[graphs]'``);
* ``karate``: Zachary's karate club, shipped with jaxrg.
"""

from __future__ import annotations

import importlib.resources
import os
import pathlib

import jax
import numpy as np

from jaxrg import _optional
from jaxrg.graphs import as_adjacency, from_edge_list

__all__ = ["PACKAGED", "read_graph"]

PACKAGED = {"karate": "karate.edgelist"}


def read_graph(source: str | os.PathLike) -> jax.Array:
    """Dense symmetric adjacency from a graph file or a packaged graph name.

    Args:
        source: a path (format from the suffix, see the module docstring) or ``"karate"``.

    Returns:
        ``(N, N)`` adjacency (validated, no self-loops).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file cannot be parsed (the message names the file and the line).
    """
    if str(source) in PACKAGED:
        ref = importlib.resources.files("jaxrg") / "data" / PACKAGED[str(source)]
        return _read_edge_list(ref.read_text(encoding="utf-8"), str(source))
    path = pathlib.Path(source)
    if not path.exists():
        raise FileNotFoundError(
            f"graph file not found: {path} (or use a packaged graph: {', '.join(PACKAGED)})"
        )
    suffix = path.suffix.lower()
    try:
        if suffix in (".edgelist", ".txt", ".csv", ".tsv", ".edges"):
            return _read_edge_list(path.read_text(encoding="utf-8"), str(path))
        if suffix == ".npy":
            return as_adjacency(np.load(path, allow_pickle=False))
        if suffix == ".npz":
            return _read_npz(path)
        if suffix in (".graphml", ".gml"):
            nx = _optional.require("networkx", extra="graphs", purpose=f"reading {suffix} files")
            reader = nx.read_graphml if suffix == ".graphml" else nx.read_gml
            return as_adjacency(nx.Graph(reader(path)))
    except (OSError, KeyError, EOFError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read graph file {path}: {err}") from err
    raise ValueError(
        f"unknown graph file type {suffix!r} for {path}; use .edgelist/.txt/.csv (u v [w] per "
        "line), .npz, .npy, .graphml or .gml."
    )


def _read_edge_list(text: str, name: str) -> jax.Array:
    senders, receivers, weights = [], [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].replace(",", " ").strip()
        if not line:
            continue
        fields = line.split()
        try:
            if len(fields) not in (2, 3):
                raise ValueError
            u, v = int(fields[0]), int(fields[1])
            w = float(fields[2]) if len(fields) == 3 else 1.0
        except ValueError:
            raise ValueError(
                f"{name}, line {number}: expected 'u v' or 'u v weight' with integer node ids, "
                f"got {raw.strip()!r}"
            ) from None
        senders.append(u)
        receivers.append(v)
        weights.append(w)
    if not senders:
        raise ValueError(f"{name} holds no edges.")
    return from_edge_list(np.array(senders), np.array(receivers), np.array(weights))


def _read_npz(path: pathlib.Path) -> jax.Array:
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
        if "adjacency" in keys:
            return as_adjacency(archive["adjacency"])
        if {"data", "indices", "indptr", "shape", "format"} <= keys:
            import scipy.sparse

            return as_adjacency(scipy.sparse.load_npz(path))
    raise ValueError(
        f"{path}: an .npz graph must hold an 'adjacency' array or be a scipy.sparse.save_npz "
        f"file; found keys {sorted(keys)}."
    )
