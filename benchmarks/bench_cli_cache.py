"""``jaxrg demo`` with and without the persistent compilation cache (``jaxrg/cli/_cache.py``).

Each run is a fresh Python process (as a user's shell would start it), timed from inside: the
imports apart from the command itself, wall and CPU seconds. Routes, measured in the same run:

* ``off``: ``JAXRG_NO_COMPILE_CACHE=1``, every program compiled (the behaviour before the cache);
* ``cold``: an empty cache folder (compiles and writes the cache);
* ``warm``: the same folder again (loads every program from disk).

Correctness first: the three routes must print the same report (the numbers of the demo).
Times are medians of ``--repeats`` processes per route; the ratio is off / warm on the command
time (imports excluded: the cache cannot change them).

Usage: ``python benchmarks/bench_cli_cache.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _harness import environment, write_jsonl  # noqa: E402

CHILD = """
import json, resource, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import jax, matplotlib.pyplot, jaxrg.cli
t1, c1 = time.perf_counter(), time.process_time()
code = jaxrg.cli.main(["demo", "--out", sys.argv[1]])
t2, c2 = time.perf_counter(), time.process_time()
print("TIMES " + json.dumps({"import_s": t1 - t0, "command_s": t2 - t1,
                             "import_cpu_s": c1 - c0, "command_cpu_s": c2 - c1, "code": code}))
"""


def run_demo(env: dict, out: pathlib.Path) -> tuple[dict, str]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(out)], env=env, check=True,
                          capture_output=True, text=True)
    lines = done.stdout.splitlines()
    times = json.loads(next(line for line in lines if line.startswith("TIMES "))[6:])
    report = "\n".join(line for line in lines if not line.startswith(("TIMES ", "  plot:")))
    if times["code"] != 0:
        raise RuntimeError(f"jaxrg demo failed:\n{done.stderr}")
    return times, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).parent / "results" / "cli_cache.jsonl")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items()
            if k not in ("JAXRG_NO_COMPILE_CACHE", "JAXRG_CACHE_DIR")}
    records, reports = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        png = tmp / "demo.png"
        samples = {"off": [], "cold": [], "warm": []}
        for repeat in range(args.repeats):
            folder = tmp / f"cache{repeat}"
            cached = dict(base, JAXRG_CACHE_DIR=str(folder))
            for route, env in (("off", dict(base, JAXRG_NO_COMPILE_CACHE="1")),
                               ("cold", cached), ("warm", cached)):
                times, reports[route] = run_demo(env, png)
                samples[route].append(times)
            assert any(folder.iterdir()), "the cold run wrote no cache entries"
        assert reports["off"] == reports["cold"] == reports["warm"], reports
    env = environment()
    for route, runs in samples.items():
        record = {"benchmark": "cli_cache", "route": route, "command": "jaxrg demo",
                  "dtype": "float64", "repeats": len(runs), **env}
        for key in ("import_s", "command_s", "import_cpu_s", "command_cpu_s"):
            record[key] = statistics.median(run[key] for run in runs)
        records.append(record)
    by = {r["route"]: r for r in records}
    for record in records:
        record["off_over_route_command"] = by["off"]["command_s"] / record["command_s"]
    write_jsonl(args.out, records)
    for r in records:
        print(f"{r['route']:>5}: imports {r['import_s']:.2f} s, command {r['command_s']:.2f} s "
              f"(cpu {r['command_cpu_s']:.2f} s); off/route {r['off_over_route_command']:.1f}x")


if __name__ == "__main__":
    main()
