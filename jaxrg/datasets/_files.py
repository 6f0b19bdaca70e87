"""The raw files of every dataset: where they go, where they come from, and their checksums.

Every file is checked against the sha256 published in the data README (or, for the one file whose
bytes were never seen, ``planetoid/ind.pubmed.allx``, against its git blob id) before it is
parsed, so a truncated or corrupt file is reported by name instead of failing deep inside a
parser (and a pickle is only ever unpickled when its bytes are the published ones).
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import urllib.error
import urllib.request
from typing import NamedTuple

from jaxrg import _progress
from jaxrg.datasets._paths import resolve_data_dir


class FileSpec(NamedTuple):
    """One raw file: ``path`` relative to the data folder, its checksum and its public source.

    Attributes:
        path: str, relative to the data folder (e.g. ``"planetoid/ind.cora.x"``).
        url: str, the public URL of the original file.
        sha256: hex digest of the file (str), or None when not pinned.
        size: size in bytes (int), or None.
        git_blob: git blob hash (str) of the file, or None.
    """

    path: str
    url: str
    sha256: str | None
    size: int | None
    git_blob: str | None = None


_PLANETOID_URL = "https://github.com/kimiyoung/planetoid/raw/master/data/"
_AMAZON_URL = "https://github.com/shchur/gnn-benchmark/raw/master/data/npz/"
_EUROPE_URL = "https://github.com/leoribeiro/struc2vec/raw/master/graph/"

# (file name, size in bytes, sha256), from the data README.
_PLANETOID = {
    "citeseer": {
        "allx": (595021, "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668"),
        "ally": (55623, "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95"),
        "graph": (61987, "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7"),
        "test.index": (5000, "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4"),
        "tx": (260321, "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21"),
        "ty": (24135, "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce"),
        "x": (31087, "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6"),
        "y": (3014, "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924"),
    },
    "cora": {
        "allx": (257305, "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543"),
        "ally": (47959, "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71"),
        "graph": (59847, "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d"),
        "test.index": (5000, "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875"),
        "tx": (148025, "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a"),
        "ty": (28135, "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad"),
        "x": (22119, "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab"),
        "y": (4054, "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1"),
    },
    "pubmed": {
        "ally": (224739, "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e"),
        "graph": (471808, "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9"),
        "test.index": (6000, "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5"),
        "tx": (405505, "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d"),
        "ty": (12135, "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd"),
        "x": (23172, "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33"),
        "y": (854, "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3"),
    },
}
# ind.pubmed.allx: its bytes are not in the shared data folder; only its git blob id is known
# (kimiyoung/planetoid data/ind.pubmed.allx, identical in tkipf/gcn and shchur/gnn-benchmark).
PUBMED_ALLX_GIT_BLOB = "3b86bccf08111c37c632a9dd8ab63db25ea76361"

PLANETOID_SUFFIXES = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")


def _planetoid_spec(name: str, suffix: str) -> FileSpec:
    fname = f"ind.{name}.{suffix}"
    if name == "pubmed" and suffix == "allx":
        return FileSpec(f"planetoid/{fname}", _PLANETOID_URL + fname, None, None,
                        PUBMED_ALLX_GIT_BLOB)
    size, sha = _PLANETOID[name][suffix]
    return FileSpec(f"planetoid/{fname}", _PLANETOID_URL + fname, sha, size)


FILES: dict[str, dict[str, FileSpec]] = {
    name: {suffix: _planetoid_spec(name, suffix) for suffix in PLANETOID_SUFFIXES}
    for name in ("cora", "citeseer", "pubmed")
}
FILES["photo"] = {"npz": FileSpec(
    "amazon/amazon_electronics_photo.npz", _AMAZON_URL + "amazon_electronics_photo.npz",
    "bdb1feb8e6ff42ee44024b04479145029c563fd42fc31bff80af20887ba0439a", 17113960)}
FILES["computers"] = {"npz": FileSpec(
    "amazon/amazon_electronics_computers.npz", _AMAZON_URL + "amazon_electronics_computers.npz",
    "736ba1d9fd85eac2da83a5ad25c463f04b0031a6ca01563f90a7099d9e8ffb2c", 31921488)}
FILES["europe"] = {
    "edgelist": FileSpec(
        "europe/europe-airports.edgelist", _EUROPE_URL + "europe-airports.edgelist",
        "bd202178d0d1253c15bd3c9a22cc2a25f630244bbef9060bc30adbf0a5e130f6", 40007),
    "labels": FileSpec(
        "europe/labels-europe-airports.txt", _EUROPE_URL + "labels-europe-airports.txt",
        "92bace031cc02937ac9629d6c69387458e5d5016a7dab98490fbf33e392cec4e", 2295),
}


def file_digest(path: pathlib.Path) -> tuple[str, str]:
    """``(sha256, git blob sha1)`` of a file, read in 1 MiB blocks.

    The git blob id is the sha1 of ``b"blob <size>\\0" + content`` (``git hash-object``).
    """
    sha256 = hashlib.sha256()
    blob = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha256.update(block)
            blob.update(block)
    return sha256.hexdigest(), blob.hexdigest()


_VERIFIED: set[tuple[str, int, int]] = set()


def _mismatch(spec: FileSpec, path: pathlib.Path) -> str | None:
    """Why ``path`` is not the published ``spec`` (None when it is)."""
    size = path.stat().st_size
    if spec.size is not None and size != spec.size:
        return f"{size} bytes instead of {spec.size} (truncated or replaced)"
    sha256, blob = file_digest(path)
    if spec.sha256 is not None and sha256 != spec.sha256:
        return f"sha256 {sha256} instead of {spec.sha256}"
    if spec.git_blob is not None and blob != spec.git_blob:
        return f"git blob id {blob} instead of {spec.git_blob}"
    return None


def verify_file(spec: FileSpec, path: pathlib.Path) -> None:
    """Raise ``ValueError`` naming ``path`` unless its bytes are the published ones.

    Results are cached per process by (path, size, mtime), so repeated loads hash once.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _VERIFIED:
        return
    reason = _mismatch(spec, path)
    if reason is not None:
        raise ValueError(
            f"{path}: corrupt or not the published file ({reason}). Delete it and download it "
            f"again (load(..., download=True) or --download), or fetch it from {spec.url}; "
            "pass verify=False to read a modified copy anyway.")
    _VERIFIED.add(key)


def missing_message(name: str, root: pathlib.Path, missing: list[FileSpec]) -> str:
    """The error text listing exactly which files to put where."""
    lines = [f"dataset {name!r}: {len(missing)} file(s) missing from the data folder {root}:"]
    for spec in missing:
        check = f"sha256 {spec.sha256}" if spec.sha256 else f"git blob id {spec.git_blob}"
        lines.append(f"  {root / spec.path}   (from {spec.url}; {check})")
    if any(spec.git_blob == PUBMED_ALLX_GIT_BLOB for spec in missing):
        lines.append(
            "  ind.pubmed.allx holds the features of PubMed's 18717 non-test nodes; check a copy "
            "with `git hash-object ind.pubmed.allx`. Pass features=False to load PubMed's "
            "graph, labels and split without it.")
    lines.append(
        "Put the files at these paths (the data folder is data_dir=..., --data-dir, or "
        "$JAXRG_DATA, else ~/.cache/jaxrg), or pass download=True (CLI: --download) to fetch "
        "them from the original public sources.")
    return "\n".join(lines)


def require_files(name: str, keys: tuple[str, ...], *, data_dir=None, download: bool = False,
                  mirror: str | None = None, verify: bool = True,
                  progress: bool = True) -> dict[str, pathlib.Path]:
    """Paths of ``name``'s files ``keys``, downloading missing ones when asked, verified.

    Raises:
        FileNotFoundError: files are missing and ``download`` is False (the message lists them).
        ValueError: a file is corrupt or truncated (the message names it).
    """
    root = resolve_data_dir(data_dir)
    specs = [FILES[name][key] for key in keys]
    missing = [spec for spec in specs if not (root / spec.path).is_file()]
    if missing and not download:
        raise FileNotFoundError(missing_message(name, root, missing))
    for spec in missing:
        fetch_file(spec, root, mirror=mirror, progress=progress)
    paths = {key: root / spec.path for key, spec in zip(keys, specs, strict=True)}
    if verify:
        for key, spec in zip(keys, specs, strict=True):
            verify_file(spec, paths[key])
    return paths


def fetch_file(spec: FileSpec, root: pathlib.Path, *, mirror: str | None = None,
               progress: bool = True, timeout: float = 60.0) -> pathlib.Path:
    """Download one file into ``root / spec.path`` with a progress bar and a checksum check.

    Args:
        spec: the file.
        root: the data folder.
        mirror: a base URL holding the data-folder layout (``<mirror>/planetoid/ind.cora.x``)
            instead of the original public URL.
        progress: show a tqdm progress bar.
        timeout: seconds to wait for the server.

    Returns:
        The path of the verified file. It is written to a temporary name first and renamed only
        after its checksum matches, so an interrupted or corrupt download leaves nothing behind.

    Raises:
        OSError: the server could not be reached or answered with an error.
        ValueError: the downloaded bytes do not match the published checksum.
    """
    url = spec.url if mirror is None else f"{mirror.rstrip('/')}/{spec.path}"
    target = root / spec.path
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            total = response.headers.get("Content-Length")
            with _progress.progress_bar(total=int(total) if total else None, unit="B",
                                        unit_scale=True, desc=spec.path, disable=not progress,
                                        leave=False) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        reason = _mismatch(spec, part)
        if reason is not None:
            raise ValueError(f"download of {spec.path} from {url} is corrupt ({reason}); "
                             "nothing was written")
        os.replace(part, target)
    except urllib.error.URLError as err:
        raise OSError(f"could not download {spec.path} from {url}: {err}") from err
    finally:
        part.unlink(missing_ok=True)
    return target
