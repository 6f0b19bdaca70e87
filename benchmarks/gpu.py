"""One command for an accelerator: every headline benchmark, JSON lines with device and versions.

Sections (each checks its answer before timing; a section that would overrun the time budget is
skipped with a message, so the whole run stays under ``--budget`` seconds, default 450):

* ``p1``: exact S(τ), C(τ) on 256 τ (``jit(laplacian_spectrum + entropy_curves)``, float64)
  at N = 1024 … 16 384 and 32 768 when it fits; numpy ``eigvalsh`` + formula as the baseline
  (and the check) up to N = 2048;
* ``p2``: 10 000 graphs of 16–64 nodes end to end from Python lists through
  :func:`jaxrg.batch.stream_curves` (plain chunks and size buckets) against the numpy loop;
* ``slq``: :func:`jaxrg.sparse.entropy_curves` on random graphs of 10^6 and 10^7 nodes (mean
  degree 10), host graph build timed apart;
* ``seeds``: 10 vmapped seeds of the Cora GCN against sequential runs at the platform's
  default matmul precision (``bench_vmap_seeds.py``; needs ``$JAXRG_DATA``);
* ``rewire``: LRG rewiring on PubMed, Photo and Computers with τ* computed (dense spectrum,
  included in the time) — ``bench_rewire.py``'s workers; needs ``$JAXRG_DATA``;
* ``operator``: a GCN's propagation by edge list against one dense matrix product
  (``bench_gcn_operator.py``), float32, N = 5000 and 16 384 at densities 0.2–5 %;
* ``renyi``: Rényi entropies (4 orders) of 24 × 1024 × 50 257 logit-lens logits, streamed
  (``bench_renyi.py``'s worker), checked against numpy on the first block.

``--small`` runs every section at toy sizes on any machine (the test suite does, so the script
cannot rot): about a minute of compilation on an idle 2-core CPU; datasets are then replaced by
the karate club graph and the seeds section (Cora training) is skipped.

Usage (one command on the GPU machine, from the repository root)::

    JAXRG_DATA=../shared/data sh benchmarks/gpu.sh            # = python benchmarks/gpu.py

Output: one JSON line per measurement on stdout and in ``--out`` (default
``benchmarks/results/gpu.jsonl``), each with ``device``, ``platform`` and versions.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))
from _harness import block, environment, median_time  # noqa: E402

SIZES = {
    "p1": ([1024, 2048, 4096, 8192, 16384, 32768], [32, 64]),
    "p2": (10_000, 40),
    "slq": ([1_000_000, 10_000_000], [1000]),
    "renyi": ((24 * 1024, 50_257), (64, 1000)),
}


def section_p1(small: bool, budget) -> list[dict]:
    from bench_scale import TAUS
    from bench_spectral import jaxrg_route as route  # the P1 routes (jitted)
    from bench_spectral import numpy_route

    taus = jnp.asarray(TAUS)
    records = []
    for n in SIZES["p1"][small]:
        if not budget.allows(f"p1 N={n}", 8 * (n / 8192) ** 3 + 2):
            break
        rng = np.random.default_rng(n)
        upper = np.triu(rng.random((n, n)) < 8 / n, 1)
        adjacency = jnp.asarray((upper | upper.T).astype(np.float64))
        start = time.perf_counter()
        ours = block(route(adjacency, taus))
        first = time.perf_counter() - start
        record = {"section": "p1", "nodes": n, "dtype": "float64", "first_call_s": first}
        record["jaxrg_s"] = median_time(route, adjacency, taus, repeats=3 if n <= 8192 else 1)
        if n <= 2048:
            a = np.asarray(adjacency)
            lap = np.diag(a.sum(1)) - a
            ref = numpy_route(lap, np.asarray(TAUS))
            pairs = zip(ours, ref, strict=True)
            err = max(float(np.max(np.abs(np.asarray(x) - y))) for x, y in pairs)
            assert err < 1e-8, f"P1 N={n}: jaxrg and numpy differ by {err}"
            record["numpy_s"] = median_time(numpy_route, lap, np.asarray(TAUS), repeats=3)
            record["speedup_vs_numpy"] = record["numpy_s"] / record["jaxrg_s"]
            record["max_abs_err_vs_numpy"] = err
        records.append(record)
    return records


def section_p2(small: bool, budget) -> list[dict]:
    import bench_scale as bs

    count = SIZES["p2"][small]
    if not budget.allows("p2", 30):
        return []
    graphs = [g for g in bs.small_graphs(count)]  # Python list of dense NumPy graphs
    taus = jnp.asarray(bs.TAUS)
    chunk = 2000 if not small else 16
    buckets = (500, 8, 10) if not small else (8, 32, 2)  # small: at most 2 shapes to compile
    ref = np.stack([s for s, _ in bs.numpy_loop(graphs[:32], bs.TAUS)])
    record = {"section": "p2", "graphs": count, "nodes": "16-64", "dtype": "float64"}
    for name, args in (("plain", (chunk,)), ("buckets", buckets)):
        ours = np.concatenate([c.entropy for c in bs.jaxrg_stream(graphs, taus, *args)])
        err = float(np.max(np.abs(ours[:32] - ref)))
        assert err < 1e-9, f"P2 {name}: max |dS| {err}"
        record[f"jaxrg_{name}_s"] = median_time(bs.jaxrg_stream, graphs, taus, *args, repeats=3)
    record["numpy_loop_s"] = median_time(bs.numpy_loop, graphs, bs.TAUS, repeats=1)
    for name in ("plain", "buckets"):
        record[f"speedup_{name}_vs_numpy_loop"] = record["numpy_loop_s"] / record[f"jaxrg_{name}_s"]
    return [record]


def section_slq(small: bool, budget) -> list[dict]:
    import bench_scale as bs

    records = []
    for n in SIZES["slq"][small]:
        if not budget.allows(f"slq N={n}", 25 * n / 1e6 + 2):
            break
        record = bs.p3_one(n, 10.0)
        record.pop("benchmark", None)
        records.append({"section": "slq", **record})
    return records


def section_seeds(small: bool, budget) -> list[dict]:
    if small or not os.environ.get("JAXRG_DATA"):
        return [_skip("seeds", "needs $JAXRG_DATA (Cora) and a full-size run; not in --small")]
    if not budget.allows("seeds", 60):
        return []
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "seeds.jsonl"
        done = subprocess.run(
            [sys.executable, str(HERE / "bench_vmap_seeds.py"), "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=max(budget.left(), 1),
        )
        if done.returncode != 0:  # e.g. the loss check failing at TF32 precision: report it
            return [_skip("seeds", "bench_vmap_seeds.py failed: " + done.stderr[-500:])]
        record = json.loads(out.read_text().splitlines()[-1])
    return [{"section": "seeds", "precision": "platform default", **record}]


def section_rewire(small: bool, budget) -> list[dict]:
    import bench_rewire as br

    names = ["pubmed", "photo", "computers"]
    if small:  # the workers' code path on the karate club graph
        import networkx as nx
        import scipy.sparse

        graph = scipy.sparse.csr_matrix(nx.to_numpy_array(nx.karate_club_graph(), weight=None))
        br.load = lambda name: graph
        br.PUBLISHED_TAU["karate"] = 1.0
        names = ["karate"]
    elif not os.environ.get("JAXRG_DATA"):
        return [_skip("rewire", "needs $JAXRG_DATA (PubMed, Photo, Computers)")]
    br.SPECTRUM_LIMIT = 20_000  # τ* from the dense spectrum on the accelerator, timed
    records = []
    for name in names:
        if not budget.allows(f"rewire {name}", 60):
            break
        try:
            scale = br.worker_scale(name)
        except FileNotFoundError as err:
            records.append(_skip(f"rewire {name}", f"dataset absent: {err}"))
            continue
        rewired = br.worker_jaxrg(name, scale["tau"])
        records.append(
            {
                "section": "rewire",
                "dataset": name,
                **scale,
                **rewired,
                "seconds_with_tau": scale.get("spectrum_seconds", 0.0) + rewired["seconds"],
            }
        )
    return records


def section_renyi(small: bool, budget) -> list[dict]:
    import bench_renyi as brn

    rows, vocab = SIZES["renyi"][small]
    if not budget.allows("renyi", 60):
        return []
    record = brn.worker("jax-streamed", rows, vocab, 1024 if not small else 32, 4096, 1)
    h, w = brn._inputs(rows, vocab)
    ref = brn.numpy_route(h[: record["block_rows"]], w)[:, :4]
    np.testing.assert_allclose(np.asarray(record.pop("first_block")), ref, rtol=2e-4, atol=2e-4)
    return [{"section": "renyi", **record}]


def section_operator(small: bool, budget) -> list[dict]:
    import bench_gcn_operator as bg

    records = []
    nodes, densities, width = ([200], [0.01, 0.1], 8) if small else (
        [5000, 16384], [0.002, 0.01, 0.05], 64)
    for n in nodes:
        for density in densities:
            if not budget.allows(f"operator N={n} density={density}", 10):
                return records
            with jax.enable_x64(False):  # float32, as the node classifiers train
                records.append({"section": "operator", **bg.measure(n, density, width)})
    return records


SECTIONS = {
    "p1": section_p1,
    "p2": section_p2,
    "slq": section_slq,
    "seeds": section_seeds,
    "rewire": section_rewire,
    "renyi": section_renyi,
    "operator": section_operator,
}


def _skip(section: str, why: str) -> dict:
    return {"section": section, "skipped": why}


class Budget:
    """Wall-clock budget: a step runs only if its estimate fits in what is left."""

    def __init__(self, seconds: float):
        self.end = time.perf_counter() + seconds
        self.skipped: list[str] = []

    def left(self) -> float:
        return self.end - time.perf_counter()

    def allows(self, step: str, estimate: float) -> bool:
        if estimate <= self.left():
            return True
        self.skipped.append(step)
        print(f"skipped {step}: estimated {estimate:.0f} s, {self.left():.0f} s left", flush=True)
        return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="toy sizes (CI, any machine)")
    parser.add_argument("--sections", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument(
        "--budget", type=float, help="seconds for the whole run (default 450; none with --small)"
    )
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "results" / "gpu.jsonl")
    args = parser.parse_args(argv)
    env = {**environment(), "small": args.small, "xla_flags": os.environ.get("XLA_FLAGS", "")}
    budget = Budget(args.budget or (float("inf") if args.small else 450.0))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        for name in args.sections:
            start = time.perf_counter()
            records = SECTIONS[name](args.small, budget)
            for record in records:
                line = json.dumps({**record, **env}, sort_keys=True, default=str)
                handle.write(line + "\n")
                handle.flush()
                print(line, flush=True)
            print(f"# {name}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    if budget.skipped:
        print(f"# over budget, skipped: {', '.join(budget.skipped)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
