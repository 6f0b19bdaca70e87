"""UCI Yeast and UCI HAR (Human Activity Recognition Using Smartphones), from their original files.

Layout under the data folder (``data_dir``, else ``$JAXRG_DATA``, else ``~/.cache/jaxrg``)::

    yeast/yeast.data
    har/UCI HAR Dataset/train/X_train.txt   har/UCI HAR Dataset/train/y_train.txt
    har/UCI HAR Dataset/test/X_test.txt     har/UCI HAR Dataset/test/y_test.txt

(the ``UCI HAR Dataset`` level may be left out: ``har/train/X_train.txt`` also works).

- ``yeast.data``: one protein per line, whitespace-separated ``name mcg gvh alm mit erl pox vac
  nuc class`` (8 features in [0, 1]); 1484 samples, 10 classes. No published split: a seeded
  random ``test_fraction`` split is drawn here.
- HAR: ``X_*.txt`` one window per line, 561 whitespace-separated floats; ``y_*.txt`` one activity
  1..6 per line (1 WALKING, 2 WALKING_UPSTAIRS, 3 WALKING_DOWNSTAIRS, 4 SITTING, 5 STANDING,
  6 LAYING), relabelled 0..5; published sizes 7352 train / 2947 test.

References:
    P. Horton, K. Nakai, "A probabilistic classification system for predicting the cellular
    localization sites of proteins", ISMB 1996. D. Anguita et al., "A public domain dataset for
    human activity recognition using smartphones", ESANN 2013.
"""

from __future__ import annotations

import pathlib

import numpy as np

from jaxrg.datasets._paths import resolve_data_dir
from jaxrg.datasets.vision import ArrayDataset

__all__ = ["HAR_ACTIVITIES", "HAR_FEATURES", "YEAST_COUNT", "load_har", "load_yeast"]

YEAST_COUNT = 1484
HAR_ACTIVITIES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING",
                  "LAYING")
HAR_FEATURES = 561


def _split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def load_yeast(*, data_dir=None, top_classes: int | None = None, test_fraction: float = 0.2,
               seed: int = 0) -> ArrayDataset:
    """Load UCI Yeast (1484 proteins, 8 features, 10 localisation classes).

    Args:
        data_dir: the data folder holding ``yeast/yeast.data``.
        top_classes: keep only the samples of the ``top_classes`` most frequent classes (the
            paper uses 4: CYT, NUC, MIT, ME3); labels are numbered by decreasing frequency.
        test_fraction, seed: the seeded random train/test split.

    Returns:
        An :class:`ArrayDataset` of float32 features ``(n, 8)`` / ``(m, 8)`` (unstandardised)
        and int32 labels ``(n,)`` / ``(m,)``; ``class_names`` in label order (most frequent
        first).

    Raises:
        FileNotFoundError: ``yeast/yeast.data`` missing (the message says where to put it).
        ValueError: a malformed line (line number given) or a wrong sample count.
    """
    path = resolve_data_dir(data_dir) / "yeast" / "yeast.data"
    if not path.is_file():
        raise FileNotFoundError(
            f"yeast: missing {path} (put the UCI file yeast.data there, or set JAXRG_DATA to "
            "the folder holding yeast/)")
    features, names = [], []
    for lineno, line in enumerate(path.read_text(encoding="ascii", errors="replace")
                                  .splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 10:
            raise ValueError(f"{path}:{lineno}: expected 10 fields (name, 8 features, class), "
                             f"got {len(fields)}; the file is corrupt")
        try:
            features.append([float(v) for v in fields[1:9]])
        except ValueError as err:
            raise ValueError(f"{path}:{lineno}: {err}") from None
        names.append(fields[9])
    if len(names) != YEAST_COUNT:
        raise ValueError(f"{path}: expected {YEAST_COUNT} samples, found {len(names)}; the file "
                         "is truncated or not the UCI original")
    x = np.asarray(features, dtype=np.float32)
    classes, counts = np.unique(np.asarray(names), return_counts=True)
    order = np.lexsort((classes, -counts))  # by decreasing count, ties by name
    classes = tuple(str(c) for c in classes[order])
    if top_classes is not None:
        if not 1 <= top_classes <= len(classes):
            raise ValueError(f"top_classes must lie in [1, {len(classes)}], got {top_classes}")
        classes = classes[:top_classes]
    index = {c: i for i, c in enumerate(classes)}
    keep = np.array([n in index for n in names])
    x = x[keep]
    y = np.array([index[n] for n, k in zip(names, keep, strict=True) if k], dtype=np.int32)
    train, test = _split(len(y), test_fraction, seed)
    return ArrayDataset(x[train], y[train], x[test], y[test], len(classes), classes, "yeast")


def _har_root(data_dir) -> pathlib.Path:
    base = resolve_data_dir(data_dir) / "har"
    nested = base / "UCI HAR Dataset"
    return nested if nested.is_dir() else base


def _read_matrix(path: pathlib.Path, *, integers: bool) -> np.ndarray:
    rows = []
    width = None
    for lineno, line in enumerate(path.read_text(encoding="ascii", errors="replace")
                                  .splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if width is None:
            width = len(fields)
        elif len(fields) != width:
            raise ValueError(f"{path}:{lineno}: {len(fields)} values, earlier lines have "
                             f"{width}; the file is truncated or corrupt")
        try:
            rows.append([int(v) if integers else float(v) for v in fields])
        except ValueError as err:
            raise ValueError(f"{path}:{lineno}: {err}") from None
    if not rows:
        raise ValueError(f"{path}: the file is empty")
    return np.asarray(rows, dtype=np.int64 if integers else np.float32)


def load_har(*, data_dir=None) -> ArrayDataset:
    """Load UCI HAR's 561-feature windows (published: 7352 train / 2947 test, 6 activities).

    Args:
        data_dir: the data folder holding ``har/UCI HAR Dataset/{train,test}/`` (the original
            zip's layout) or ``har/{train,test}/``.

    Returns:
        An :class:`ArrayDataset` of float32 features (n, 561) and int32 labels 0..5.

    Raises:
        FileNotFoundError: a file is missing; the message lists every file and where it goes.
        ValueError: ragged rows, non-numbers, labels outside 1..6, or X/y row counts that differ.
    """
    root = _har_root(data_dir)
    wanted = [root / s / f"{v}_{s}.txt" for s in ("train", "test") for v in ("X", "y")]
    missing = [p for p in wanted if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            "har: missing " + ", ".join(str(p) for p in missing) + ". Put the UCI HAR files "
            "there: <data>/har/UCI HAR Dataset/train/X_train.txt, .../train/y_train.txt, "
            ".../test/X_test.txt, .../test/y_test.txt (unzip 'UCI HAR Dataset.zip' into "
            "<data>/har/), with <data> = JAXRG_DATA")
    out = []
    for split in ("train", "test"):
        x = _read_matrix(root / split / f"X_{split}.txt", integers=False)
        y_path = root / split / f"y_{split}.txt"
        y = _read_matrix(y_path, integers=True)
        if y.shape[1] != 1:
            raise ValueError(f"{y_path}: expected one label per line, got {y.shape[1]}")
        y = y[:, 0]
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"har {split}: X_{split}.txt has {x.shape[0]} rows but "
                             f"y_{split}.txt has {y.shape[0]}; a file is truncated")
        if y.min() < 1 or y.max() > 6:
            raise ValueError(f"{y_path}: labels must be 1..6, found {y.min()}..{y.max()}")
        out += [x, (y - 1).astype(np.int32)]
    if out[0].shape[1] != out[2].shape[1]:
        raise ValueError(f"har: train has {out[0].shape[1]} features, test {out[2].shape[1]}")
    return ArrayDataset(out[0], out[1], out[2], out[3], 6, HAR_ACTIVITIES, "har")
