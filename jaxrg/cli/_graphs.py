"""Graph arguments of the CLI: a file, a packaged graph, or a dataset name (``cora``, ...)."""

from __future__ import annotations

import pathlib

GRAPH_HELP = ("or a dataset name (cora, citeseer, pubmed, photo, computers, europe; read from "
              "--data-dir)")


def add_dataset_options(parser) -> None:
    """``--data-dir`` and ``--download`` for commands whose graph may be a dataset name."""
    parser.add_argument("--data-dir", type=pathlib.Path, help="dataset folder for dataset names "
                        "(default $JAXRG_DATA, else ~/.cache/jaxrg)")
    parser.add_argument("--download", action="store_true",
                        help="fetch a missing dataset from its original source (sha256-checked)")


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
