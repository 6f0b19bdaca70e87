"""MNIST and Fashion-MNIST from their original IDX files (gzip'd or raw).

Layout under the data folder (``data_dir``, else ``$JAXRG_DATA``, else ``~/.cache/jaxrg``)::

    mnist/train-images-idx3-ubyte.gz   mnist/train-labels-idx1-ubyte.gz
    mnist/t10k-images-idx3-ubyte.gz    mnist/t10k-labels-idx1-ubyte.gz
    fashion_mnist/<the same four names>

Each file may also be stored uncompressed (the same name without ``.gz``). IDX: two zero bytes,
a type byte (``0x08`` = uint8), the number of dimensions ``nd``, ``nd`` big-endian uint32 sizes,
then the data in C order (magic 2051 for images, 2049 for labels). Counts are checked against the
published ones (60,000 train / 10,000 test, 28×28, labels 0..9); a missing, corrupt or truncated
file is reported by name.

References:
    Y. LeCun, C. Cortes, C. Burges, "The MNIST database of handwritten digits".
    H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST", arXiv:1708.07747 (2017).
"""

from __future__ import annotations

import gzip
import pathlib
import struct
import zlib
from typing import NamedTuple

import numpy as np

from jaxrg.datasets._paths import resolve_data_dir

__all__ = [
    "ArrayDataset",
    "COUNTS",
    "FASHION_CLASSES",
    "FILE_NAMES",
    "FOLDERS",
    "load_fashion_mnist",
    "load_idx_dataset",
    "load_mnist",
    "read_idx",
]

FILE_NAMES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
COUNTS = {"train": 60000, "test": 10000}
FOLDERS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist"}
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


class ArrayDataset(NamedTuple):
    """A supervised dataset held as numpy arrays.

    Attributes:
        x_train: ``(n, ...)`` training features (uint8 images, e.g. ``(n, 28, 28)``, or float32
            tables ``(n, F)``).
        y_train: ``(n,)`` int32 labels in ``[0, num_classes)``.
        x_test: ``(m, ...)`` test features, same trailing shape and dtype as ``x_train``.
        y_test: ``(m,)`` int32 labels.
        num_classes: the number of classes (int).
        class_names: tuple of ``num_classes`` str, in label order.
        name: the dataset's name (str).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_names: tuple
    name: str


def read_idx(path: str | pathlib.Path) -> np.ndarray:
    """Parse one IDX file (gzip'd when the name ends in ``.gz``) into a uint8 array.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not gzip, bad header, not uint8, or a data size that does not match the
            header (truncated or corrupt), naming the file.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: not a readable gzip file ({err}); it is corrupt or truncated "
                         "- replace it with the original download") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: IDX data type 0x{raw[2]:02x} is not unsigned byte (0x08)")
    nd = raw[3]
    header = 4 + 4 * nd
    if nd == 0 or len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    dims = struct.unpack(">" + "I" * nd, raw[4:header])
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise ValueError(f"{path}: header announces {dims} = {expected} bytes of data, the file "
                         f"holds {len(raw) - header}; it is truncated or corrupt")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _find(folder: pathlib.Path, stem: str) -> pathlib.Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_dataset(name: str = "mnist", *, data_dir=None, check_counts: bool = True
                     ) -> ArrayDataset:
    """Load MNIST (``name="mnist"``) or Fashion-MNIST (``"fashion_mnist"``) from IDX files.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"`` (``"fashion-mnist"`` accepted).
        data_dir: the data folder holding ``mnist/`` or ``fashion_mnist/``.
        check_counts: require the published counts (60,000 / 10,000 images of 28×28).

    Returns:
        An :class:`ArrayDataset` with uint8 images (n, 28, 28) and int32 labels.

    Raises:
        FileNotFoundError: files missing; the message names every one and where it goes.
        ValueError: unknown name, or a corrupt/truncated file or wrong counts (file named).
    """
    key = name.strip().lower().replace("-", "_")
    if key not in FOLDERS:
        raise ValueError(f"unknown image dataset {name!r}; choose 'mnist' or 'fashion_mnist'")
    folder = resolve_data_dir(data_dir) / FOLDERS[key]
    paths = {k: _find(folder, stem) for k, stem in FILE_NAMES.items()}
    missing = [stem for k, stem in FILE_NAMES.items() if paths[k] is None]
    if missing:
        raise FileNotFoundError(
            f"{key}: missing {', '.join(s + '.gz' for s in missing)} in {folder} (put the four "
            f"original IDX files {', '.join(s + '.gz' for s in FILE_NAMES.values())} there, "
            "gzip'd or not, or set JAXRG_DATA to the folder holding "
            f"{FOLDERS[key]}/)")
    arrays = {k: read_idx(p) for k, p in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[(split, "images")], arrays[(split, "labels")]
        if images.ndim != 3 or labels.ndim != 1:
            raise ValueError(f"{folder}: {split} images must be (n, h, w) and labels (n,); got "
                             f"{images.shape} and {labels.shape}")
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{folder}: {images.shape[0]} {split} images but {labels.shape[0]} "
                             "labels")
        if check_counts and images.shape != (COUNTS[split], 28, 28):
            raise ValueError(f"{paths[(split, 'images')]}: expected {COUNTS[split]} images of "
                             f"28x28, got {images.shape}")
        if labels.size and labels.max() > 9:
            raise ValueError(f"{paths[(split, 'labels')]}: labels must be 0..9, found "
                             f"{int(labels.max())}")
    names = FASHION_CLASSES if key == "fashion_mnist" else tuple(str(d) for d in range(10))
    return ArrayDataset(
        arrays[("train", "images")], arrays[("train", "labels")].astype(np.int32),
        arrays[("test", "images")], arrays[("test", "labels")].astype(np.int32), 10, names, key)


def load_mnist(*, data_dir=None, check_counts: bool = True) -> ArrayDataset:
    """MNIST (60,000 / 10,000 uint8 28×28 digits); see :func:`load_idx_dataset`.

    Args:
        data_dir: the data folder holding ``mnist/`` (default ``$JAXRG_DATA``, else the cache).
        check_counts: require the published counts.

    Returns:
        :class:`ArrayDataset` with ``x_train`` ``(60000, 28, 28)`` and ``x_test``
        ``(10000, 28, 28)`` uint8, int32 labels ``(60000,)`` / ``(10000,)``, 10 classes.

    Raises:
        FileNotFoundError: files missing.
        ValueError: a corrupt or truncated file, or wrong counts.
    """
    return load_idx_dataset("mnist", data_dir=data_dir, check_counts=check_counts)


def load_fashion_mnist(*, data_dir=None, check_counts: bool = True) -> ArrayDataset:
    """Fashion-MNIST (60,000 / 10,000 uint8 28×28); see :func:`load_idx_dataset`.

    Args:
        data_dir: the data folder holding ``fashion_mnist/``.
        check_counts: require the published counts.

    Returns:
        :class:`ArrayDataset` of the same shapes, dtypes and 10 classes as :func:`load_mnist`
        (Fashion-MNIST is a drop-in replacement of MNIST).

    Raises:
        FileNotFoundError, ValueError: as :func:`load_mnist`.
    """
    return load_idx_dataset("fashion_mnist", data_dir=data_dir, check_counts=check_counts)
