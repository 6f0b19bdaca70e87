"""First versus second call: ``jaxrg demo`` and the README's Python tour, with and without the
persistent compilation cache (``jaxrg/_compile_cache.py``).

Each run is a fresh Python process, as a user's shell would start it. Routes, measured in the
same run:

* ``floor``: ``python -c "import jax"`` — no command can start faster than this;
* ``off``: ``jaxrg demo`` with ``JAXRG_NO_COMPILE_CACHE=1``, every program compiled;
* ``cold``: ``jaxrg demo`` with an empty cache folder (the first call: compiles, writes the cache);
* ``warm``: ``jaxrg demo`` again on the same folder (the second call: loads the programs);
* ``api-cold`` / ``api-warm``: the README's Python tour after ``jaxrg.enable_compile_cache(folder)``
  in a new process, first with an empty folder, then again.

For each: the whole process's wall time seen from outside (``process_s``, what ``time jaxrg demo``
prints), and from inside the imports apart from the command (wall and CPU seconds). Correctness
first: the three demo routes must print the same report, the two tour routes the same numbers.
Times are medians of ``--repeats`` processes per route. The load average (1 min) is recorded
before and after: on a shared machine wall times scale with it, so compare ``process_s`` with the
``floor`` of the same run, and CPU seconds across runs.

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
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _harness import environment, write_jsonl  # noqa: E402

TIMED = """
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
{imports}
t1, c1 = time.perf_counter(), time.process_time()
{command}
t2, c2 = time.perf_counter(), time.process_time()
print("TIMES " + json.dumps({{"import_s": t1 - t0, "command_s": t2 - t1,
                             "import_cpu_s": c1 - c0, "command_cpu_s": c2 - c1}}))
"""
FLOOR = TIMED.format(imports="import jax", command="")
DEMO = TIMED.format(imports="import jax, matplotlib.pyplot, jaxrg.cli",
                    command='assert jaxrg.cli.main(["demo", "--out", sys.argv[1]]) == 0')
TOUR = TIMED.format(imports="import jax, jax.numpy as jnp, jaxrg", command="""
jaxrg.enable_compile_cache(sys.argv[1])
jax.config.update("jax_enable_x64", True)
A = jaxrg.read_graph("karate")
ev = jaxrg.laplacian_spectrum(A)
curves = jaxrg.entropy_curves(ev, jnp.logspace(-2, 2, 5))
scales = jaxrg.characteristic_scales(ev)
rho = jaxrg.density_matrix(jaxrg.laplacian(A), scales.taus[0])
batch = jaxrg.pad_adjacency([A, A[:10, :10]])
S = jax.vmap(lambda a, m: jaxrg.spectral_entropy(jaxrg.laplacian_spectrum(a, m), 1.0))(*batch)
g = jax.grad(lambda a: jaxrg.spectral_entropy(jaxrg.laplacian_spectrum(a), 1.0))(A)
print("RESULT", curves.entropy.round(10).tolist(), scales.taus[0].round(10), S.round(10).tolist(),
      float(jax.numpy.trace(rho)), g.shape)""")


def run(code: str, arg: str, env: dict) -> tuple[dict, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, arg], env=env, capture_output=True,
                          text=True)
    process_s = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"a timed process failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.splitlines()
    times = json.loads(next(line for line in lines if line.startswith("TIMES "))[6:])
    output = "\n".join(line for line in lines if not line.startswith(("TIMES ", "  plot:")))
    return {"process_s": process_s, **times}, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).parent / "results" / "cli_cache.jsonl")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items()
            if k not in ("JAXRG_NO_COMPILE_CACHE", "JAXRG_CACHE_DIR")}
    load_before = os.getloadavg()[0]
    samples: dict[str, list] = {r: [] for r in
                                ("floor", "off", "cold", "warm", "api-cold", "api-warm")}
    outputs: dict[str, set] = {r: set() for r in samples}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        png = str(tmp / "demo.png")
        for repeat in range(args.repeats):
            demo_dir, api_dir = tmp / f"demo{repeat}", tmp / f"api{repeat}"
            demo_env = dict(base, JAXRG_CACHE_DIR=str(demo_dir))
            plan = (("floor", FLOOR, "", base),
                    ("off", DEMO, png, dict(base, JAXRG_NO_COMPILE_CACHE="1")),
                    ("cold", DEMO, png, demo_env), ("warm", DEMO, png, demo_env),
                    ("api-cold", TOUR, str(api_dir), base), ("api-warm", TOUR, str(api_dir), base))
            for route, code, arg, env in plan:
                times, output = run(code, arg, env)
                samples[route].append(times)
                outputs[route].add(output)
            assert any(demo_dir.iterdir()) and any(api_dir.iterdir()), "no cache entries written"
    assert len(outputs["off"] | outputs["cold"] | outputs["warm"]) == 1, outputs
    assert len(outputs["api-cold"] | outputs["api-warm"]) == 1, outputs
    load_after = os.getloadavg()[0]
    env, records = environment(), []
    for route, runs in samples.items():
        record = {"benchmark": "cli_cache", "route": route,
                  "command": {"floor": "import jax", "api-cold": "README tour",
                              "api-warm": "README tour"}.get(route, "jaxrg demo"),
                  "dtype": "float64", "repeats": len(runs), "loadavg_before": load_before,
                  "loadavg_after": load_after, **env}
        for key in ("process_s", "import_s", "command_s", "import_cpu_s", "command_cpu_s"):
            record[key] = statistics.median(run[key] for run in runs)
        records.append(record)
    by = {r["route"]: r for r in records}
    for record in records:
        record["process_over_floor"] = record["process_s"] / by["floor"]["process_s"]
    write_jsonl(args.out, records)
    print(f"load average {load_before:.1f} -> {load_after:.1f}")
    for r in records:
        print(f"{r['route']:>8}: process {r['process_s']:6.2f} s ({r['process_over_floor']:.1f}x "
              f"floor); imports {r['import_s']:.2f} s; command {r['command_s']:.2f} s "
              f"(cpu {r['command_cpu_s']:.2f} s)")


if __name__ == "__main__":
    main()
