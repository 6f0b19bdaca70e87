"""``results/gpu_cells.sh``, the prepared command for a lent GPU, run here at toy sizes so that it
cannot rot between the sessions that get a GPU: its cells run in order within the budget, a
failing cell is reported and the next one runs, only the new records come back, and
``collect`` adds them to the results files once."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "results" / "gpu_cells.sh"


def _script(*args, env=None, cwd=ROOT):
    path = os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ["PATH"]])
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PATH": path, **(env or {})})


def test_gpu_cells_run_then_collect(tmp_path, data_dir):
    out, work = tmp_path / "out", tmp_path / "work"
    env = {"JAXRG_DATA": str(data_dir), "OUT": str(out), "WORK": str(work),
           "CARRY": str(tmp_path / "none"), "ME_SEEDS": "1", "ME_EPOCHS": "1",
           "CELLS": "me:yeast:shallow:1-3 me:yeast:cnn:0 nope:x"}
    done = _script("run", env=env)
    assert done.returncode == 0, done.stderr
    log = done.stdout
    assert "== me:yeast:shallow:1-3: exit 0" in log
    assert "== me:yeast:cnn:0: exit 2" in log and "cnn" in log.split("me:yeast:cnn:0: exit")[0]
    assert "== nope:x: unknown kind nope" in log
    assert (out / "log.txt").read_text() == log
    (record,) = [json.loads(line) for line in (out / "maxent.jsonl").read_text().splitlines()]
    assert (record["dataset"], record["rewarded"], record["seed"]) == ("yeast", "1-2-3", 0)
    assert (out / "node_classification.jsonl").read_text() == ""
    # the budget stops new cells (and the records so far stay where they are)
    late = _script("run", env={**env, "BUDGET": "0", "OUT": str(tmp_path / "late")})
    assert "me:yeast:shallow:1-3: not started, the budget (0 s) is spent" in late.stdout
    # collect into a copy of the committed results: once
    root = tmp_path / "results"
    (root / "maxent").mkdir(parents=True)
    shutil.copy(ROOT / "results" / "maxent" / "results.jsonl", root / "maxent")
    before = (root / "maxent" / "results.jsonl").read_bytes()
    first = _script("collect", str(out), str(root))
    assert first.returncode == 0 and "1 new record(s)." in first.stdout, first.stderr
    assert (root / "maxent" / "results.jsonl").read_bytes() == (
        before + (out / "maxent.jsonl").read_bytes())
    again = _script("collect", str(out), str(root))
    assert "0 new record(s), 1 already there." in again.stdout
    assert _script("collect", str(tmp_path / "missing")).returncode == 2


def test_gpu_cells_usage_errors(tmp_path):
    assert _script().returncode == 2
    assert "JAXRG_DATA" in _script("prepare", "amazon", env={"JAXRG_DATA": ""}).stderr
