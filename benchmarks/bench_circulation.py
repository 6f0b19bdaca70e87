"""The circulation's stationary distribution: blocked GTH elimination against a dense solve.

:func:`jaxrg.circulation` takes the random walk's stationary distribution from
Grassmann–Taksar–Heyman elimination on the edge weights (subtraction-free, every entry to a few
ulp however weakly two parts of the graph are linked). Until the twentieth session it solved
:math:`\\pi^\\top(I - P + 11^\\top) = 1^\\top` with ``jnp.linalg.solve``, the baseline here
(``solve_stationary`` below, swapped in for the elimination while ``circulation`` is traced;
its input checks, strong-connectivity test and flow are shared). Two measurements in one run:

* **time**: jitted ``circulation`` against the jitted baseline on random strongly connected
  digraphs (a directed cycle plus ~10 random out-edges per node), ``N`` = 200 … 2000, float64;
  compilation excluded, medians;
* **accuracy**: two triangles joined by one edge of weight ``eps`` (undirected, so the exact
  answer is :math:`N A / \\mathrm{vol}(A)`): the largest relative error of any non-zero entry,
  both methods, float64 and float32.

Usage: ``python benchmarks/bench_circulation.py [--sizes 200 500 1000 2000]
[--out benchmarks/results/circulation.jsonl] [--small]``
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _harness import environment, median_time, write_jsonl  # noqa: E402

import jaxrg  # noqa: E402
from jaxrg import graphs  # noqa: E402


def solve_stationary(rates: jax.Array) -> jax.Array:
    """The baseline: x from one dense solve, (Q^T + 1 1^T) x = 1 with Q the rates' generator."""
    n = rates.shape[0]
    off = jnp.where(jnp.eye(n, dtype=bool), 0, rates)
    generator = off - jnp.diag(jnp.sum(off, axis=1))
    return jnp.linalg.solve(generator.T + 1, jnp.ones(n, rates.dtype))


def solve_circulation(adjacency) -> jax.Array:
    """:func:`jaxrg.circulation` with the solve in place of the elimination (all else equal)."""
    original = graphs._stationary
    graphs._stationary = solve_stationary
    try:
        return jaxrg.circulation(adjacency)
    finally:
        graphs._stationary = original


def _digraph(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = (rng.random((n, n)) < 10 / n) * rng.uniform(0.1, 1.0, (n, n))
    a = a + np.roll(np.eye(n), 1, axis=1)  # a directed cycle: strongly connected
    np.fill_diagonal(a, 0)
    return a


def _bridged(eps: float) -> np.ndarray:
    a = np.zeros((6, 6))
    for i, j, w in [(0, 1, 1), (0, 2, 1), (1, 2, 1), (3, 4, 1), (3, 5, 1), (4, 5, 1),
                    (2, 3, eps)]:
        a[i, j] = a[j, i] = w
    return a


def accuracy(eps: float, dtype) -> dict:
    a = _bridged(eps)
    want = 6 * a / a.sum()
    linked = want > 1e3 * np.finfo(dtype).tiny
    row = {"eps": eps, "dtype": np.dtype(dtype).name}
    for name, fn in (("gth", jaxrg.circulation), ("solve", solve_circulation)):
        got = np.asarray(jax.jit(fn)(jnp.asarray(a, dtype)), np.float64)
        err = np.abs(got[linked] - want[linked]) / want[linked]
        row[f"{name}_max_rel_err"] = float(np.max(err)) if np.all(np.isfinite(err)) else None
    return row


def timing(n: int) -> dict:
    a = jnp.asarray(_digraph(n))
    gth, solve = jax.jit(jaxrg.circulation), jax.jit(solve_circulation)
    gap = float(jnp.max(jnp.abs(gth(a) - solve(a))) / jnp.max(jnp.abs(solve(a))))
    if gap > 1e-10:
        raise AssertionError(f"the two methods disagree at N={n}: {gap:.1e}")
    for _ in range(3):  # warm both (first runs allocate; the solve's threads spin up)
        gth(a).block_until_ready()
        solve(a).block_until_ready()
    gth_s, solve_s = median_time(gth, a, repeats=15), median_time(solve, a, repeats=15)
    return {"nodes": n, "gth_s": gth_s, "solve_s": solve_s, "ratio": gth_s / solve_s,
            "max_rel_diff": gap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 500, 1000, 2000])
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).parent / "results" / "circulation.jsonl")
    parser.add_argument("--small", action="store_true", help="toy sizes (a smoke test)")
    args = parser.parse_args()
    if args.small:
        args.sizes = [40]
    jax.config.update("jax_enable_x64", True)
    env = environment()
    records = []
    print("| N | GTH (s) | solve (s) | GTH / solve |\n|---|---|---|---|")
    for n in args.sizes:
        r = timing(n) | env
        records.append(r)
        print(f"| {n} | {r['gth_s']:.4f} | {r['solve_s']:.4f} | {r['ratio']:.2f} |", flush=True)
    print("\n| bridge eps | dtype | GTH max rel. error | solve max rel. error |\n|---|---|---|---|")
    for dtype in (np.float64, np.float32):
        for eps in (1e-3, 1e-5, 1e-8, 1e-12, 1e-30):
            r = accuracy(eps, dtype) | env
            records.append(r)
            fmt = [("NaN" if v is None else f"{v:.1e}")
                   for v in (r["gth_max_rel_err"], r["solve_max_rel_err"])]
            print(f"| {eps:g} | {r['dtype']} | {fmt[0]} | {fmt[1]} |", flush=True)
    write_jsonl(args.out, records)


if __name__ == "__main__":
    main()
