"""Tests of the MNIST / Fashion-MNIST / Yeast / UCI HAR loaders (jaxrg.datasets.vision, .tabular).

Real files (skipped without ``JAXRG_DATA``) are checked against the counts published in the data
README; small files in the original layouts are written by the tests for the error paths and for
HAR, whose feature files are not on these machines.
"""

import gzip
import struct

import numpy as np
import pytest

from jaxrg.datasets import load_fashion_mnist, load_har, load_idx_dataset, load_mnist, load_yeast
from jaxrg.datasets.vision import FILE_NAMES, read_idx


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_idx_set(folder, n_train=5, n_test=3, *, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {("train", "images"): rng.integers(0, 256, (n_train, 28, 28)),
              ("train", "labels"): rng.integers(0, 10, n_train),
              ("test", "images"): rng.integers(0, 256, (n_test, 28, 28)),
              ("test", "labels"): rng.integers(0, 10, n_test)}
    for key, stem in FILE_NAMES.items():
        data = _idx_bytes(arrays[key])
        if gz:
            with gzip.open(folder / (stem + ".gz"), "wb") as handle:
                handle.write(data)
        else:
            (folder / stem).write_bytes(data)
    return arrays


# ------------------------------------------------------------------------------ real data
def test_mnist_counts_match_the_published_ones(data_dir):
    d = load_mnist(data_dir=data_dir)
    assert d.x_train.shape == (60000, 28, 28) and d.x_test.shape == (10000, 28, 28)
    assert d.x_train.dtype == np.uint8 and d.x_train.max() == 255
    assert np.bincount(d.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                               5851, 5949]
    assert np.bincount(d.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974,
                                              1009]


def test_fashion_mnist_is_balanced(data_dir):
    d = load_fashion_mnist(data_dir=data_dir)
    assert np.bincount(d.y_train).tolist() == [6000] * 10
    assert np.bincount(d.y_test).tolist() == [1000] * 10
    assert d.class_names[9] == "Ankle boot"


def test_yeast_counts_and_top_four_classes(data_dir):
    d = load_yeast(data_dir=data_dir)
    counts = np.bincount(np.concatenate([d.y_train, d.y_test]))
    assert dict(zip(d.class_names, counts.tolist(), strict=True)) == {
        "CYT": 463, "NUC": 429, "MIT": 244, "ME3": 163, "ME2": 51, "ME1": 44, "EXC": 35,
        "VAC": 30, "POX": 20, "ERL": 5}
    assert d.x_train.shape[1] == 8 and len(d.y_test) == round(0.2 * 1484)
    top = load_yeast(data_dir=data_dir, top_classes=4)
    assert top.class_names == ("CYT", "NUC", "MIT", "ME3")
    assert len(top.y_train) + len(top.y_test) == 463 + 429 + 244 + 163


# --------------------------------------------------------------------------- written files
@pytest.mark.parametrize("gz", [True, False])
def test_idx_loader_reads_written_files(tmp_path, gz):
    arrays = _write_idx_set(tmp_path / "mnist", gz=gz)
    d = load_idx_dataset("mnist", data_dir=tmp_path, check_counts=False)
    np.testing.assert_array_equal(d.x_train, arrays[("train", "images")])
    np.testing.assert_array_equal(d.y_test, arrays[("test", "labels")])
    with pytest.raises(ValueError, match="expected 60000 images"):
        load_idx_dataset("mnist", data_dir=tmp_path)


def test_idx_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
        load_mnist(data_dir=tmp_path)
    _write_idx_set(tmp_path / "fashion_mnist")
    target = tmp_path / "fashion_mnist" / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(target.read_bytes())
    target.write_bytes(gzip.compress(raw[:-100]))  # truncated data
    with pytest.raises(ValueError, match="truncated"):
        load_fashion_mnist(data_dir=tmp_path, check_counts=False)
    target.write_bytes(b"not a gzip file at all")
    with pytest.raises(ValueError, match="gzip"):
        read_idx(target)
    target.write_bytes(gzip.compress(bytes([1, 2, 8, 3]) + raw[4:]))
    with pytest.raises(ValueError, match="magic"):
        read_idx(target)
    with pytest.raises(ValueError, match="unknown image dataset"):
        load_idx_dataset("cifar", data_dir=tmp_path)


def _write_har(root, n_train=4, n_test=3, features=561, *, nested=True, seed=0):
    rng = np.random.default_rng(seed)
    base = root / "har" / ("UCI HAR Dataset" if nested else "")
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        (base / split).mkdir(parents=True, exist_ok=True)
        x = rng.normal(size=(n, features))
        y = rng.integers(1, 7, n)
        (base / split / f"X_{split}.txt").write_text(
            "\n".join(" " + " ".join(f"{v:.7e}" for v in row) for row in x) + "\n")
        (base / split / f"y_{split}.txt").write_text("\n".join(str(v) for v in y) + "\n")
        (base / split / f"subject_{split}.txt").write_text("\n".join("1" for _ in y) + "\n")
        out[split] = (x, y)
    return base, out


@pytest.mark.parametrize("nested", [True, False])
def test_har_loader_reads_the_published_layout(tmp_path, nested):
    _, arrays = _write_har(tmp_path, nested=nested)
    d = load_har(data_dir=tmp_path)
    assert d.x_train.shape == (4, 561) and d.x_test.shape == (3, 561)
    np.testing.assert_allclose(d.x_train, arrays["train"][0], rtol=1e-6)
    np.testing.assert_array_equal(d.y_test, arrays["test"][1] - 1)
    assert d.num_classes == 6 and d.class_names[5] == "LAYING"


def test_har_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="X_train.txt") as err:
        load_har(data_dir=tmp_path)
    assert "UCI HAR Dataset/train/X_train.txt" in str(err.value)
    base, _ = _write_har(tmp_path)
    (base / "test" / "y_test.txt").write_text("1\n2\n")  # one label short
    with pytest.raises(ValueError, match="truncated"):
        load_har(data_dir=tmp_path)
    (base / "test" / "y_test.txt").write_text("1\n2\n7\n")
    with pytest.raises(ValueError, match="1..6"):
        load_har(data_dir=tmp_path)
    (base / "test" / "y_test.txt").write_text("1\n2\n3\n")
    with open(base / "train" / "X_train.txt", "a") as handle:
        handle.write("1.0 2.0\n")  # ragged row
    with pytest.raises(ValueError, match="values, earlier lines have 561"):
        load_har(data_dir=tmp_path)


def test_yeast_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="yeast.data"):
        load_yeast(data_dir=tmp_path)
    (tmp_path / "yeast").mkdir()
    (tmp_path / "yeast" / "yeast.data").write_text("ADT1_YEAST  0.58  0.61  0.47  CYT\n")
    with pytest.raises(ValueError, match="expected 10 fields"):
        load_yeast(data_dir=tmp_path)
    line = "ADT1_YEAST  0.58  0.61  0.47  0.13  0.50  0.00  0.48  0.22  MIT\n"
    (tmp_path / "yeast" / "yeast.data").write_text(line * 10)
    with pytest.raises(ValueError, match="expected 1484 samples"):
        load_yeast(data_dir=tmp_path)
