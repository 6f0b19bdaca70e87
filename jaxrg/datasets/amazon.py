"""Amazon co-purchase graphs Photo and Computers (Shchur et al. 2018), from the original ``.npz``.

Each file holds the adjacency and the binary bag-of-words features as CSR triplets
(``adj_data/adj_indices/adj_indptr/adj_shape``, ``attr_*``) and one ``labels`` entry per node.
The stored adjacency is directed (and Photo has one self-loop): it is symmetrised and its
diagonal dropped, as PyTorch Geometric and DGL do.

References:
    O. Shchur, M. Mumme, A. Bojchevski, S. Günnemann, "Pitfalls of graph neural network
    evaluation", arXiv:1811.05868 (2018).
"""

from __future__ import annotations

import zipfile

import numpy as np

from jaxrg.datasets._files import require_files
from jaxrg.datasets._graph import Dataset, make_dataset, symmetric_adjacency

__all__ = ["load_amazon"]

_KEYS = ("adj_data", "adj_indices", "adj_indptr", "adj_shape", "attr_data", "attr_indices",
         "attr_indptr", "attr_shape", "labels")


def load_amazon(name: str, *, data_dir=None, features: bool = True, download: bool = False,
                mirror: str | None = None, verify: bool = True,
                progress: bool = True) -> Dataset:
    """Load ``"photo"`` or ``"computers"`` (all nodes, empty masks; see ``load`` for splits).

    Args:
        name: ``"photo"`` or ``"computers"``.
        data_dir, download, mirror, verify, progress: as in :func:`jaxrg.datasets.load`.
        features: build the dense (N, F) float32 feature matrix (False: ``features=None``).

    Returns:
        A :class:`~jaxrg.datasets.Dataset` whose masks are all False (no published split).

    Raises:
        FileNotFoundError: the ``.npz`` is missing (the message says where to put it).
        ValueError: the file is corrupt, truncated or lacks a key.
    """
    import scipy.sparse as sp

    path = require_files(name, ("npz",), data_dir=data_dir, download=download, mirror=mirror,
                         verify=verify, progress=progress)["npz"]
    try:
        # Open the file ourselves: np.load leaks its handle when the zip is unreadable.
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in _KEYS}
        raw = sp.csr_array((arrays["adj_data"], arrays["adj_indices"], arrays["adj_indptr"]),
                           shape=tuple(int(s) for s in arrays["adj_shape"]))
        attr = sp.csr_array((arrays["attr_data"], arrays["attr_indices"], arrays["attr_indptr"]),
                            shape=tuple(int(s) for s in arrays["attr_shape"]))
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: cannot be read as a gnn-benchmark .npz ({type(err).__name__}: "
                         f"{err}); the file is corrupt or truncated - delete it and download "
                         "it again") from err
    labels = np.asarray(arrays["labels"]).astype(np.int32)
    num_nodes = raw.shape[0]
    if raw.shape != (num_nodes, num_nodes) or attr.shape[0] != num_nodes or labels.shape != (
            num_nodes,):
        raise ValueError(f"{path}: inconsistent shapes (adjacency {raw.shape}, features "
                         f"{attr.shape}, labels {labels.shape}); the file is corrupt")
    coo = raw.tocoo()
    adjacency = symmetric_adjacency(coo.row, coo.col, num_nodes)
    feats = attr.toarray().astype(np.float32) if features else None
    empty = np.zeros(num_nodes, dtype=bool)
    return make_dataset(name, adjacency, feats, labels, empty, empty, empty,
                        int(labels.max()) + 1)
