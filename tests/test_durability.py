"""Experiments survive ``kill -9`` and are deterministic for a fixed PRNG key.

A real run of the CLT/RG reproduction (:func:`jaxrg.studies.clt_rg.experiment.run_clt_rg`, tiny
settings) is killed with SIGKILL in a subprocess after its first finished unit, a kill in the
middle of a
write is simulated on top (a half-written last line), and the run is resumed: every unit is then
in ``runs.jsonl`` exactly once, the lines finished before the kill are kept byte for byte, and a
unit recomputed in this process with the same key gives the identical record (determinism across
processes; records hold no wall time).
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from jaxrg import _io

SEEDS = 4
CONFIG = dict(
    seeds=SEEDS,
    steps=30,
    models=("sym2",),
    activations=("linear",),
    train_families=("uniform",),
    drift_steps=(4000,),
    flow_samples=2**8,
    mc_samples=2**15,
    grid_points=128,
    density_steps=1,
    figures=False,
)
RUNNER = textwrap.dedent(
    f"""
    import sys
    from jaxrg.studies.clt_rg.experiment import CLTRGConfig, run_clt_rg

    run_clt_rg(sys.argv[1], CLTRGConfig(**{CONFIG!r}), progress=False)
    """
)
KEY = ("model", "activation", "train_family", "seed")
KEY_OF_LAST = ("sym2", "linear", "uniform", SEEDS - 1)


def _start(out: pathlib.Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, JAX_PLATFORMS="cpu"),
    )


def _finish(process: subprocess.Popen, timeout: float = 300) -> None:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output.decode(errors="replace")[-3000:]


def _complete_lines(path: pathlib.Path) -> list[bytes]:
    data = path.read_bytes() if path.exists() else b""
    return data.splitlines(keepends=True)[: data.count(b"\n")]


def _records(path: pathlib.Path) -> list[dict]:
    """Every line must be a complete JSON record (no glued or partial lines)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_kill_9_then_resume_loses_and_duplicates_nothing_and_is_deterministic(tmp_path):
    from jaxrg.studies.clt_rg.experiment import CLTRGConfig, _train_run

    run = tmp_path / "killed"
    victim = _start(run)
    runs = run / "runs.jsonl"
    deadline = time.monotonic() + 240
    while not _complete_lines(runs):  # wait for the first finished unit, then kill at once
        assert victim.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no unit finished in time"
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    assert not (run / "summary.json").exists(), "the kill landed after the run had finished"
    kept = _complete_lines(runs)
    assert kept and len(kept) <= SEEDS
    # a kill in the middle of a write leaves half a record behind
    with open(runs, "ab") as handle:
        handle.write(b'{"activation": "linear", "coefficients": [[0.1')

    resumed = _start(run)
    # meanwhile, the last seed again in this process: the same key must give the same record
    again = json.loads(json.dumps(_train_run(CLTRGConfig(**CONFIG), *KEY_OF_LAST)))
    _finish(resumed)

    lines = runs.read_bytes().splitlines(keepends=True)
    assert lines[: len(kept)] == kept  # finished work is never rewritten
    records = _records(runs)
    keys = [tuple(r[k] for k in KEY) for r in records]
    assert sorted(keys) == [("sym2", "linear", "uniform", s) for s in range(SEEDS)]
    assert len(_records(run / "drift.jsonl")) == 1
    assert (
        json.loads((run / "summary.json").read_text())["runs"]["sym2/linear/uniform"]["seeds"]
        == SEEDS
    )
    assert records[keys.index(KEY_OF_LAST)] == again  # bit for bit, across processes


def test_partial_last_line_is_dropped_before_the_next_append(tmp_path):
    path = tmp_path / "results.jsonl"
    _io.append_jsonl(path, {"seed": 0, "acc": 0.5})
    with open(path, "ab") as handle:  # killed while writing seed 1
        handle.write(b'{"acc": 0.7, "se')
    assert _io.read_jsonl(path) == [{"acc": 0.5, "seed": 0}]
    _io.append_jsonl(path, {"seed": 1, "acc": 0.7})
    assert _records(path) == [{"acc": 0.5, "seed": 0}, {"acc": 0.7, "seed": 1}]
    path.write_bytes(b'{"no newline at all')  # the only line was cut short
    _io.append_jsonl(path, {"seed": 2})
    assert _records(path) == [{"seed": 2}]


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "summary.json"
    _io.atomic_write_json(path, {"version": 1})

    def crash(*args):
        raise KeyboardInterrupt  # e.g. Ctrl-C between the write and the rename

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        _io.atomic_write_json(path, {"version": 2})
    assert json.loads(path.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temp file left


def test_atomic_write_gives_the_permissions_of_a_plain_write(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = _io.atomic_write_text(tmp_path / "atomic.txt", "x")
    assert atomic.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path):
    """Issue 17 item 10: two processes, one results folder."""
    import fcntl

    lock = tmp_path / _io.LOCK_NAME
    with open(lock, "w") as other:  # another open file description = another writer
        other.write("pid 4242\n")
        other.flush()
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ValueError, match=r"in use by pid 4242 \(lock file .*\.jaxrg\.lock\)"):
            with _io.folder_lock(tmp_path):
                pass
    with _io.folder_lock(tmp_path):  # released: free again, and re-entrant in one process
        with _io.folder_lock(tmp_path):
            pass
        assert f"pid {os.getpid()}" in lock.read_text()


def test_runners_take_the_folder_lock(tmp_path):
    @_io.locks_folder("out")
    def runner(dataset, *, out):
        with pytest.raises(ValueError, match="in use"):  # what a second process would see
            with open(pathlib.Path(out) / _io.LOCK_NAME) as handle:
                import fcntl

                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise ValueError("in use") from None
        return dataset

    assert runner("cora", out=tmp_path) == "cora"


def test_results_reader_names_a_line_missing_keys_and_reports_duplicates(tmp_path):
    from jaxrg.studies.node_classification.report import report

    base = {"dataset": "cora", "epochs": 200, "early_stopping": 10, "test_acc": 0.8,
            "best_val_test_acc": 0.79}
    lines = [{**base, "seed": 0}, {**base, "seed": 1}, {**base, "seed": 0}]  # seed 0 twice
    (tmp_path / "kipf_gcn.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    text = report(tmp_path)
    assert "| cora | 2 | 200 |" in text  # the duplicate is not counted as a third seed
    assert "Note: 1 duplicate record(s)" in text
    (tmp_path / "kipf_gcn.jsonl").write_text(json.dumps(base) + "\n" + '{"seed": 3}\n')
    with pytest.raises(ValueError, match=r"kipf_gcn.jsonl, line 1: the record lacks seed"):
        report(tmp_path)


def _lines(path):
    return pathlib.Path(path).read_bytes().splitlines(keepends=True)


def test_collect_jsonl_adds_only_new_keys_and_keeps_each_files_repeats(tmp_path):
    """Records of another folder are appended when their key is new, byte for byte as the
    runners write them; a key already held keeps its records (the sources' are skipped, and a
    different value is counted, not written); a source's own repeats of a new key are all kept,
    so a study that reads the last of them reads the same record; collecting twice adds
    nothing; list-valued keys work."""
    def key(r):
        return (r["k"], r["seed"])

    dest, a, b = tmp_path / "out" / "results.jsonl", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _io.append_jsonl(dest, {"k": [0, 1], "seed": 0, "acc": 0.5})
    for r in ({"k": [0, 1], "seed": 0, "acc": 0.9},  # held by dest, another value
              {"k": [0, 1], "seed": 1, "acc": 0.6},
              {"k": [0, 1], "seed": 1, "acc": 0.61},  # a repeat inside a: kept, in order
              {"k": [2], "seed": 0, "acc": float("nan")}):
        _io.append_jsonl(a, r)
    _io.append_jsonl(b, {"k": [0, 1], "seed": 1, "acc": 0.6})  # held by a, same value
    _io.append_jsonl(b, {"k": [2], "seed": 0, "acc": float("nan")})  # NaN equals NaN
    _io.append_jsonl(b, {"k": [3], "seed": 0, "acc": 0.7})
    before = _lines(dest)
    done = _io.collect_jsonl([a, b], dest, key, compare=("acc",))
    assert done == _io.Collected(added=4, present=3, differing=1)
    assert _lines(dest) == before + _lines(a)[1:] + _lines(b)[2:]
    assert "4 new record(s), 3 already there (1 with another acc" in done.describe(dest, "acc")
    assert _io.collect_jsonl([a, b], dest, key, compare=("acc",)) == (0, 7, 1)
    assert _lines(dest) == before + _lines(a)[1:] + _lines(b)[2:]
    fresh = tmp_path / "fresh" / "results.jsonl"  # into nothing: a byte-identical copy
    assert _io.collect_jsonl([a], fresh, key).added == 4 and _lines(fresh) == _lines(a)


def test_collect_jsonl_drops_a_cut_line_and_refuses_bad_sources_leaving_dest_alone(tmp_path):
    dest, src = tmp_path / "results.jsonl", tmp_path / "src.jsonl"
    _io.append_jsonl(dest, {"seed": 0})
    with open(dest, "ab") as handle:
        handle.write(b'{"seed": 1, "acc"')  # a kill in the middle of a write
    _io.append_jsonl(src, {"seed": 2})
    assert _io.collect_jsonl([src], dest, lambda r: (r["seed"],)).added == 1
    assert dest.read_bytes() == b'{"seed": 0}\n{"seed": 2}\n'
    before = dest.read_bytes()
    with pytest.raises(ValueError, match="is the file to collect into"):
        _io.collect_jsonl([dest], dest, lambda r: (r["seed"],))
    with pytest.raises(FileNotFoundError, match="no results file"):
        _io.collect_jsonl([tmp_path / "none.jsonl"], dest, lambda r: (r["seed"],))
    other = tmp_path / "other.jsonl"
    _io.append_jsonl(other, {"seed": 3})
    _io.append_jsonl(other, {"run": 4})  # not a record of this study: nothing is written
    with pytest.raises(ValueError, match=r"other.jsonl, record 2: not a results line"):
        _io.collect_jsonl([src, other], dest, lambda r: (r["seed"],))
    _io.append_jsonl(other, {"seed": 5, "acc": float("inf")})
    with pytest.raises(ValueError, match="not a finite number"):
        _io.collect_jsonl([other], dest, lambda r: (r["seed"],), finite=("acc",))
    assert dest.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".jaxrg.lock", "other.jsonl", "results.jsonl", "src.jsonl"]  # no temp file left
