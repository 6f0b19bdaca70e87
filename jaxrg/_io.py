"""Durable result files: atomic writes and append-only JSON lines that survive ``kill -9``.

Experiments write every finished unit of work (one seed, one configuration) as one JSON line;
a restarted run reads the finished keys and skips them, so nothing is lost or duplicated.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import inspect
import json
import math
import os
import pathlib
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

LOCK_NAME = ".jaxrg.lock"
_HELD: set[pathlib.Path] = set()  # folders this process holds (the lock is re-entrant)


def atomic_write_text(path: str | os.PathLike, text: str, *, label: str | None = None
                      ) -> pathlib.Path:
    """Write ``text`` to ``path`` atomically: a temp file in the same folder, fsync, rename.

    A reader (or a run killed half-way) sees either the old file or the new one, never a
    half-written one. A path that cannot be written (a parent that is a file, a read-only
    folder, a folder in place of the file) is an ``OSError`` naming ``label`` (the option, e.g.
    ``"--json"``) and ``path``, never the temp file the user did not name.
    """
    path = pathlib.Path(path)
    make_parent(path, label)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise _unwritable(path, label, f"cannot create a file in {path.parent} "
                                        f"({err.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            publish(tmp, path)
        except IsADirectoryError:
            raise _unwritable(path, label, "it is a folder") from None
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


def make_parent(path: pathlib.Path, label: str | None = None) -> None:
    """Create ``path``'s folder (and its parents), or an ``OSError`` that says why not.

    Args:
        path: the file to be written.
        label: the option or argument that named it, for the message.

    Returns:
        None.

    Raises:
        OSError: a parent is a file, or the folder cannot be created.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in reversed(path.parents) if p.exists() and not p.is_dir()),
                       path.parent)
        raise _unwritable(path, label, f"{blocker} is a file, not a folder") from None
    except OSError as err:
        raise _unwritable(path, label, f"cannot create {path.parent} ({err.strerror})") from None


def _unwritable(path: pathlib.Path, label: str | None, why: str) -> OSError:
    what = f"{label} {path}" if label else str(path)
    return OSError(f"cannot write {what}: {why}; choose a path in a writable folder.")


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


def atomic_write_json(path: str | os.PathLike, obj: Any, *, label: str | None = None
                      ) -> pathlib.Path:
    """Write ``obj`` as indented JSON, atomically (see :func:`atomic_write_text`)."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n", label=label)


def append_jsonl(path: str | os.PathLike, record: Mapping[str, Any]) -> None:
    """Append one record as a JSON line and fsync it.

    The whole line is written with one ``write`` call; :func:`read_jsonl` ignores a last line
    that a kill cut short, and the next append first cuts that partial line off (else the new
    record would be glued to it and the file could no longer be parsed), so a record is either
    fully there or absent.
    """
    path = pathlib.Path(path)
    make_parent(path)
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


def read_jsonl(path: str | os.PathLike, *, required: tuple[str, ...] = (),
               finite: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Read the complete records of a JSON-lines file (a truncated last line is dropped).

    Args:
        path: the file (missing: no records).
        required: keys every record must hold.
        finite: keys whose values, where present and not null, must be finite numbers (a
            diverged run's NaN accuracy is refused, never averaged into a table).

    Returns:
        The records, in file order.

    Raises:
        ValueError: a complete line that is not a JSON object, or lacks a required key (the
            message names the file, the line and the fix).
    """
    path = pathlib.Path(path)
    if not path.exists():
        return []
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith("\n"):
                break  # cut short by a kill: the record was never completed
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}, line {number}: not a JSON record ({err.msg}); fix or "
                                 "delete that line.") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}, line {number}: not a JSON object; fix or delete that "
                                 "line.")
            missing = [key for key in required if key not in record]
            if missing:
                raise ValueError(f"{path}, line {number}: the record lacks {', '.join(missing)}; "
                                 "fix or delete that line (jaxrg writes every key).")
            bad = [key for key in finite if record.get(key) is not None
                   and not (isinstance(record[key], int | float) and math.isfinite(record[key]))]
            if bad:
                raise ValueError(f"{path}, line {number}: {bad[0]} is {record[bad[0]]!r}, not a "
                                 "finite number (a diverged or broken run); delete that line and "
                                 "rerun that seed.")
            records.append(record)
    return records


def unique_records(records: Iterable[Mapping[str, Any]],
                   fields: tuple[str, ...]) -> tuple[list[Mapping[str, Any]], int]:
    """Drop records whose key ``tuple(record[f] for f in fields)`` came earlier.

    Duplicates arise when two processes wrote one folder before it was locked
    (:func:`folder_lock`); the first record of each key is kept.

    Args:
        records: the records, in file order.
        fields: the key fields.

    Returns:
        ``(unique records, number of duplicates dropped)``.
    """
    records = list(records)
    seen, unique = set(), []
    for record in records:
        key = tuple(json.dumps(record.get(f), sort_keys=True) for f in fields)
        if key not in seen:
            seen.add(key)
            unique.append(record)
    return unique, len(records) - len(unique)


def finished_keys(records: Iterable[Mapping[str, Any]], fields: tuple[str, ...]) -> set[tuple]:
    """The set of ``tuple(record[f] for f in fields)`` over finished records (for resuming)."""
    return {tuple(r[f] for f in fields) for r in records}


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike):
    """Hold an exclusive lock on a results folder, or refuse at once.

    The lock is ``flock`` on ``<folder>/.jaxrg.lock`` (released by the kernel when the process
    ends, so a killed run leaves no stale lock); the file records the holder's pid.

    Args:
        folder: the results folder (created if missing).

    Yields:
        The lock file path.

    Raises:
        ValueError: another process holds the folder (the message names it and the lock file).
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    key = folder.resolve()
    if key in _HELD:  # a runner calling another runner on the same folder
        yield path
        return
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ValueError(
                f"results folder {folder} is in use by {holder} (lock file {path}); wait for "
                "that run to finish, or pass another --out folder."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        _HELD.add(key)
        try:
            yield path
        finally:
            _HELD.discard(key)
    finally:
        handle.close()  # closing releases the flock


def locks_folder(parameter: str = "out"):
    """Decorator: run the function under :func:`folder_lock` on its argument ``parameter``.

    Args:
        parameter: the name of the results-folder argument.

    Returns:
        A decorator.
    """
    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            with folder_lock(bound.arguments[parameter]):
                return fn(*args, **kwargs)

        return wrapper

    return decorate
