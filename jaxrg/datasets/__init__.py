"""Real node-classification graphs, read from their original published files.

``load(name)`` returns a :class:`Dataset` (a ``jraph.GraphsTuple`` plus a scipy CSR adjacency,
dense float32 features, labels and split masks) for Cora, Citeseer, PubMed (Planetoid files),
Amazon Photo and Computers (gnn-benchmark ``.npz``) and the Europe air-traffic network
(struc2vec edge list). Files are read from ``data_dir``, else ``$JAXRG_DATA``, else
``~/.cache/jaxrg``; each is checked against its published sha256 before parsing; missing files
give a ``FileNotFoundError`` that lists what to put where, and ``download=True`` fetches them from
the original public URLs with a progress bar and a checksum check.

This subpackage needs scipy and jraph (``pip install 'jaxrg[studies]'``).

Examples:
    >>> import jaxrg.datasets as ds
    >>> sorted(ds.DATASETS)
    ['citeseer', 'computers', 'cora', 'europe', 'photo', 'pubmed']
"""

from __future__ import annotations

from jaxrg import _optional
from jaxrg._checks import check_flag, check_int

for _package in ("scipy", "jraph"):  # one line naming the extra, not a traceback, when missing
    _optional.require(_package, extra="studies", purpose="jaxrg.datasets")

from jaxrg.datasets._files import FILES, PUBMED_ALLX_GIT_BLOB, FileSpec, fetch_file  # noqa: E402
from jaxrg.datasets._graph import Dataset, graphs_tuple, symmetric_adjacency  # noqa: E402
from jaxrg.datasets._paths import default_cache_dir, resolve_data_dir  # noqa: E402
from jaxrg.datasets.amazon import load_amazon  # noqa: E402
from jaxrg.datasets.europe import load_europe, stored_europe_edges  # noqa: E402
from jaxrg.datasets.planetoid import load_planetoid  # noqa: E402
from jaxrg.datasets.splits import (  # noqa: E402
    largest_connected_component,
    ordered_split,
    random_split,
)
from jaxrg.datasets.tabular import load_har, load_yeast  # noqa: E402
from jaxrg.datasets.text import load_text  # noqa: E402
from jaxrg.datasets.vision import (  # noqa: E402
    ArrayDataset,
    load_fashion_mnist,
    load_idx_dataset,
    load_mnist,
)

PLANETOID = ("cora", "citeseer", "pubmed")
DATASETS = PLANETOID + ("photo", "computers", "europe")
_ALIASES = {"amazon-photo": "photo", "amazon_photo": "photo", "amazonphoto": "photo",
            "amazon-computers": "computers", "amazon_computers": "computers",
            "amazoncomputers": "computers", "europe-airports": "europe",
            "airports-europe": "europe"}

__all__ = [
    "ArrayDataset", "DATASETS", "Dataset", "FILES", "FileSpec", "PUBMED_ALLX_GIT_BLOB",
    "canonical_name", "default_cache_dir", "download", "fetch_file", "graphs_tuple",
    "largest_connected_component", "load", "load_amazon", "load_europe", "load_fashion_mnist",
    "load_har", "load_idx_dataset", "load_mnist", "load_planetoid", "load_text", "load_yeast",
    "ordered_split",
    "random_split", "resolve_data_dir", "stored_europe_edges", "symmetric_adjacency",
]


def canonical_name(name: str) -> str:
    """The canonical dataset name (case-insensitive; ``"Amazon-Photo"`` → ``"photo"``).

    Args:
        name: a dataset name or alias (str).

    Returns:
        The canonical name (str), a key of :data:`DATASETS`.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return key


def load(name: str, *, data_dir=None, largest_component: bool = False, split: str | None = None,
         seed: int = 0, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
         features: bool = True, download: bool = False, mirror: str | None = None,
         verify: bool = True, progress: bool = True) -> Dataset:
    """Load a node-classification dataset from its original files.

    Args:
        name: ``"cora"``, ``"citeseer"``, ``"pubmed"``, ``"photo"``, ``"computers"`` or
            ``"europe"`` (case-insensitive; ``"amazon-photo"`` etc. accepted).
        data_dir: folder with the raw files (layout of the data README: ``planetoid/``,
            ``amazon/``, ``europe/``); default ``$JAXRG_DATA``, else ``~/.cache/jaxrg``.
        largest_component: restrict to the largest connected component (nodes relabelled in
            their original order, masks carried over; Caso et al. 2025 use it for every graph).
        split: ``"public"`` (Planetoid only: 20 per class / 500 / 1000 from the files),
            ``"random"`` (seeded, ``fractions`` of the labelled nodes, drawn after the
            largest-component reduction), ``"ordered"`` (the authors' Amazon/Europe split: the
            first ``fractions`` of the node ids, unshuffled); default ``"public"`` for Planetoid
            and ``"random"`` for the others.
        seed: seed of the random split.
        fractions: (train, validation, test) fractions of the random/ordered split.
        features: read the features; False returns ``features=None`` and needs fewer files
            (PubMed's ``ind.pubmed.allx`` may be absent).
        download: fetch missing files from the original public URLs (progress bar, checksum).
        mirror: base URL of a copy of the data-folder layout to download from instead.
        verify: check each file's sha256 before parsing (cached per process).
        progress: show download progress bars.

    Returns:
        A :class:`Dataset`: ``graph`` (``jraph.GraphsTuple``, both edge directions, no
        self-loops), ``adjacency`` (scipy CSR, symmetric 0/1), ``features`` (dense float32
        numpy (N, F) or None), ``labels`` (int32, -1 = unlabelled), ``train_mask``,
        ``val_mask``, ``test_mask``, ``num_classes``, ``name``, ``node_ids``.

    Raises:
        ValueError: unknown name or split, or a corrupt/truncated file (named in the message).
        FileNotFoundError: files are missing; the message lists exactly which to put where.

    Examples:
        >>> import os
        >>> cora = load("cora", largest_component=True)  # doctest: +SKIP
        >>> cora.num_nodes, cora.num_edges, cora.features.shape  # doctest: +SKIP
        (2485, 5069, (2485, 1433))
    """
    for flag, value in (("largest_component", largest_component), ("features", features),
                        ("download", download), ("verify", verify), ("progress", progress)):
        check_flag(value, flag)  # download="no" must not download
    seed = check_int(seed, "seed", minimum=0, meaning="random seed")  # before any download
    key = canonical_name(name)
    kwargs = dict(data_dir=data_dir, features=features, download=download, mirror=mirror,
                  verify=verify, progress=progress)
    if split is None:
        split = "public" if key in PLANETOID else "random"
    if split not in ("public", "random", "ordered"):
        raise ValueError(f"split must be 'public', 'random' or 'ordered', got {split!r}")
    if split == "public" and key not in PLANETOID:
        raise ValueError(f"dataset {key!r} has no public split; use split='random' (seeded "
                         "70/15/15) or split='ordered'")
    if key in PLANETOID:
        dataset = load_planetoid(key, **kwargs)
    elif key == "europe":
        dataset = load_europe(**kwargs)
    else:
        dataset = load_amazon(key, **kwargs)
    if largest_component:
        dataset = largest_connected_component(dataset)
    if split != "public":
        if split == "random":
            masks = random_split(dataset.labels, seed=seed, fractions=fractions)
        else:
            masks = ordered_split(dataset.labels, fractions=fractions)
        dataset = dataset._replace(train_mask=masks[0], val_mask=masks[1], test_mask=masks[2])
    return dataset


def download(name: str, *, data_dir=None, features: bool = True, mirror: str | None = None,
             progress: bool = True) -> list:
    """Download ``name``'s missing files into the data folder; return the paths now present.

    Args:
        name: a dataset name (see :func:`load`).
        data_dir: target folder (default ``$JAXRG_DATA``, else ``~/.cache/jaxrg``).
        features: include the feature files (PubMed's ``allx`` among them).
        mirror: base URL of a copy of the data-folder layout to download from instead of the
            original public URLs.
        progress: show progress bars.

    Returns:
        list of ``pathlib.Path``, one per file of the dataset (files already present are not
        downloaded again).

    Raises:
        OSError: a server could not be reached; ValueError: a checksum did not match.
    """
    key = canonical_name(name)
    root = resolve_data_dir(data_dir)
    specs = list(FILES[key].values())
    if not features and key in PLANETOID:
        specs = [s for s in specs if not s.path.endswith((".x", ".tx", ".allx"))]
    for spec in specs:
        if not (root / spec.path).is_file():
            fetch_file(spec, root, mirror=mirror, progress=progress)
    return [root / spec.path for spec in specs]
