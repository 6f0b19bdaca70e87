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
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

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
        key = _hashable(tuple(record.get(f) for f in fields))
        if key not in seen:
            seen.add(key)
            unique.append(record)
    return unique, len(records) - len(unique)


def finished_keys(records: Iterable[Mapping[str, Any]], fields: tuple[str, ...]) -> set[tuple]:
    """The set of ``tuple(record[f] for f in fields)`` over finished records (for resuming)."""
    return {tuple(r[f] for f in fields) for r in records}


class Collected(NamedTuple):
    """What :func:`collect_jsonl` did: records ``added`` to the file, records whose key it
    already held (``present``), and how many of those match none of the held records of their
    key in the compared fields (``differing``: the file keeps its own; a rerun elsewhere, on
    another device say, gave another number)."""

    added: int
    present: int
    differing: int

    def describe(self, path: str | os.PathLike, compared: str) -> str:
        """One line for the user: what went into ``path``; ``compared`` names the compared
        result field(s) in the message."""
        line = f"{path}: {self.added} new record(s)"
        if self.present:
            line += f", {self.present} already there"
            if self.differing:
                line += (f" ({self.differing} with another {compared}: the file keeps its own; "
                         "a run elsewhere gave another number)")
        return line + "."


def collect_jsonl(sources: Iterable[str | os.PathLike], dest: str | os.PathLike,
                  key: Callable[[Mapping[str, Any]], tuple], *,
                  compare: tuple[str, ...] = (), required: tuple[str, ...] = (),
                  finite: tuple[str, ...] = ()) -> Collected:
    """Append to ``dest`` every record of ``sources`` whose key ``dest`` does not hold yet.

    For results made elsewhere: another machine (a GPU), another checkout, another ``--out``
    folder. Records are compared by ``key(record)``. A key belongs to the first file that has
    it (``dest``, then the sources in order): all of that file's records of the key are kept
    (a study that reads the last of repeated records still reads the same one) and the later
    files' records of it are skipped, so collecting twice adds nothing. The records are written
    as the runners write them (one ``json.dumps(record, sort_keys=True)`` line each) after
    ``dest``'s complete lines (a last line a kill cut short is dropped), in one atomic
    replacement under :func:`folder_lock`: a failure leaves ``dest`` as it was.

    Args:
        sources: JSON-lines files to read (each must exist; none may be ``dest``).
        dest: the results file to extend (created if missing).
        key: ``record -> tuple`` of JSON values, the study's identity of one unit of work.
        compare: result fields (e.g. ``("test_acc",)``) compared between a source record and
            the held record of its key, for :attr:`Collected.differing`.
        required, finite: checks of :func:`read_jsonl`, applied to every source record.

    Returns:
        :class:`Collected` counts.

    Raises:
        FileNotFoundError: a source is missing.
        ValueError: a source is ``dest``, a source line is not a record (see
            :func:`read_jsonl`), or ``key`` cannot be taken of a source record (the message
            names the file and the record number: it is not a results line of this study).
    """
    dest = pathlib.Path(dest)
    sources = [pathlib.Path(s) for s in sources]
    for source in sources:
        if not source.is_file():
            raise FileNotFoundError(f"no results file {source}; pass the folder or the .jsonl "
                                    "file a run wrote.")
        if dest.exists() and source.resolve() == dest.resolve():
            raise ValueError(f"{source} is the file to collect into; pass the other run's "
                             "results as the source.")
    with folder_lock(dest.parent):
        held = {}  # key -> (the file that holds it, its records of the key)
        for record in read_jsonl(dest):
            held.setdefault(_hashable(key(record)), (dest, []))[1].append(record)
        lines, present, differing = [], 0, 0
        for source in sources:
            for number, record in enumerate(read_jsonl(source, required=required,
                                                       finite=finite), start=1):
                try:
                    k = _hashable(key(record))
                except (KeyError, TypeError) as err:
                    raise ValueError(f"{source}, record {number}: not a results line of this "
                                     f"study (no {err}); pass that study's results file.") from None
                owner, kept = held.setdefault(k, (source, []))
                if owner != source:
                    present += 1
                    mine = _hashable(tuple(record.get(f) for f in compare))  # NaN == NaN
                    differing += all(_hashable(tuple(r.get(f) for f in compare)) != mine
                                     for r in kept)
                    continue
                kept.append(record)
                lines.append(json.dumps(dict(record), sort_keys=True) + "\n")
        if lines:
            old = dest.read_bytes() if dest.exists() else b""
            old = old[:old.rfind(b"\n") + 1]
            atomic_write_text(dest, old.decode("utf-8") + "".join(lines))
    return Collected(len(lines), present, differing)


def _hashable(key: tuple) -> tuple:
    """A key whose parts may be lists or dicts (JSON values), made hashable."""
    return tuple(json.dumps(part, sort_keys=True) for part in key)


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
