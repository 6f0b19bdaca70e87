"""Durable result files: atomic writes and append-only JSON lines that survive ``kill -9``.

Experiments write every finished unit of work (one seed, one configuration) as one JSON line;
a restarted run reads the finished keys and skips them, so nothing is lost or duplicated.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any


def atomic_write_text(path: str | os.PathLike, text: str) -> pathlib.Path:
    """Write ``text`` to ``path`` atomically: a temp file in the same folder, fsync, rename.

    A reader (or a run killed half-way) sees either the old file or the new one, never a
    half-written one.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        publish(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


def publish(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Rename a finished temp file onto ``path`` with the permissions of a plain ``open``.

    ``tempfile.mkstemp`` creates files readable by their owner only (0600); results and figures
    should get the usual ``0666 & ~umask``.
    """
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_json(path: str | os.PathLike, obj: Any) -> pathlib.Path:
    """Write ``obj`` as indented JSON, atomically (see :func:`atomic_write_text`)."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def append_jsonl(path: str | os.PathLike, record: Mapping[str, Any]) -> None:
    """Append one record as a JSON line and fsync it.

    The whole line is written with one ``write`` call; :func:`read_jsonl` ignores a last line
    that a kill cut short, and the next append first cuts that partial line off (else the new
    record would be glued to it and the file could no longer be parsed), so a record is either
    fully there or absent.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(dict(record), sort_keys=True) + "\n").encode("utf-8")
    with open(path, "a+b") as handle:
        _drop_partial_tail(handle)
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _drop_partial_tail(handle, chunk: int = 1 << 16) -> None:
    """Truncate a binary file after its last newline (a last line a kill left unfinished)."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return
    handle.seek(end - 1)
    if handle.read(1) == b"\n":
        return
    pos = end
    while pos > 0:
        start = max(0, pos - chunk)
        handle.seek(start)
        cut = handle.read(pos - start).rfind(b"\n")
        if cut >= 0:
            handle.truncate(start + cut + 1)
            return
        pos = start
    handle.truncate(0)


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read the complete records of a JSON-lines file (a truncated last line is dropped)."""
    path = pathlib.Path(path)
    if not path.exists():
        return []
    records = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break  # cut short by a kill: the record was never completed
            line = line.strip()
            if line:
                records.append(json.loads(line))
    return records


def finished_keys(records: Iterable[Mapping[str, Any]], fields: tuple[str, ...]) -> set[tuple]:
    """The set of ``tuple(record[f] for f in fields)`` over finished records (for resuming)."""
    return {tuple(r[f] for f in fields) for r in records}
