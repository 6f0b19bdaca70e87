"""benchmarks/gpu.py --small runs every section end to end (so the GPU script cannot rot).

The script checks its own answers (jaxrg against numpy in P1, P2 and Rényi) before timing; this
test runs it in a subprocess (its own x64 setting and flags) and checks that every section
reported, with device and versions on every line.
"""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_gpu_script_small_runs_every_section_and_records_the_device(tmp_path):
    out = tmp_path / "gpu.jsonl"
    env = dict(os.environ, JAX_PLATFORMS="cpu", OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--small", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    sections = {r["section"] for r in records}
    assert sections == {"p1", "p2", "slq", "seeds", "rewire", "renyi", "operator"}
    for r in records:
        assert {"device", "platform", "jax", "jaxlib", "numpy", "small"} <= r.keys()
    timed = [r for r in records if "skipped" not in r]
    assert {r["section"] for r in timed} >= {"p1", "p2", "slq", "rewire", "renyi", "operator"}
    p1 = [r for r in timed if r["section"] == "p1"]
    assert all(r["max_abs_err_vs_numpy"] < 1e-8 for r in p1)
