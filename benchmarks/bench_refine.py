"""Float32 spectra: the cost and the gain of the small-eigenvalue refinement.

:func:`jaxrg.laplacian_spectrum` refines a window of 16 or 64 eigenvalues after the zero
modes (a Newton step, Rayleigh–Ritz through the edges, Jacobi on the projected matrix) when the
first non-zero one lies below ``sqrt(eps) max|L|``, where ``eigh``'s absolute error makes it
unreliable; the window is the smallest that holds every eigenvalue below ``sqrt(eps)
lambda_max``. Float32 only. Measured
in one run, jitted, compilation excluded, medians, with the refinement on and switched off
(``spectral.refines`` patched while tracing):

* a vmapped padded batch of 2000 random graphs of 24 nodes (none needs it: the batch's one
  unbatched test must cost nothing);
* two copies of a random graph (N/2 nodes, mean degree 10) joined by one edge of weight 1e-6
  (the refinement runs), with λ₂'s relative error against numpy's float64 ``eigvalsh`` of the
  same float32 weights;
* chains of cliques joined by bridges of 1e-6 (the window of 64: every bridge mode is
  below ``eigh``'s resolution), the largest relative error of those modes;
* float64: the same batch (float64 is not refined: the two routes must be the same).

Usage: ``python benchmarks/bench_refine.py [--sizes 400 1000 2000]
[--out benchmarks/results/refine.jsonl] [--small]``
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import sys

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _harness import environment, median_time, write_jsonl  # noqa: E402

import jaxrg  # noqa: E402
from jaxrg import spectral  # noqa: E402


@contextlib.contextmanager
def refinement(on: bool):
    original = spectral.refines
    if not on:
        spectral.refines = lambda dtype: False
    try:
        yield
    finally:
        spectral.refines = original


def timed(on: bool, batched: bool, *args) -> tuple[float, np.ndarray]:
    spectrum = jax.vmap(jaxrg.laplacian_spectrum) if batched else jaxrg.laplacian_spectrum

    def fn(*xs):  # a new function per call: jit's trace cache is keyed on the function
        return spectrum(*xs)

    with refinement(on):
        compiled = jax.jit(fn).lower(*args).compile()  # traced (and so patched) here
    values = np.asarray(compiled(*args))
    return median_time(compiled, *args, repeats=7), values


def batch_case(count: int, nodes: int) -> dict:
    mats = [nx.to_numpy_array(nx.gnp_random_graph(nodes, 0.3, seed=i)) for i in range(count)]
    adjacency, mask = jaxrg.pad_adjacency(mats)
    args = (adjacency.astype(jnp.float32), mask)
    on_s, on_v = timed(True, True, *args)
    off_s, off_v = timed(False, True, *args)
    same = bool(np.array_equal(on_v, off_v))
    return {"case": f"batch {count} x {nodes}", "refined_s": on_s, "plain_s": off_s,
            "ratio": on_s / off_s, "identical": same}


def bridged_case(n: int) -> dict:
    half = nx.to_numpy_array(nx.gnp_random_graph(n // 2, 10 / (n // 2), seed=1))
    a = np.zeros((n, n), np.float32)
    a[: n // 2, : n // 2] = a[n // 2 :, n // 2 :] = half
    a[0, n // 2] = a[n // 2, 0] = 1e-6
    a64 = a.astype(np.float64)
    want = np.linalg.eigvalsh(np.diag(a64.sum(1)) - a64)
    count = int(jaxrg.connected_components(a).count)
    on_s, on_v = timed(True, False, jnp.asarray(a))
    off_s, off_v = timed(False, False, jnp.asarray(a))
    k = count  # the first non-zero eigenvalue: the bridge's
    return {"case": f"bridged {n}", "refined_s": on_s, "plain_s": off_s, "ratio": on_s / off_s,
            "lambda": float(want[k]), "refined_rel_err": abs(on_v[k] / want[k] - 1),
            "plain_rel_err": abs(off_v[k] / want[k] - 1)}


def chain_case(cliques: int, size: int) -> dict:
    n = cliques * size
    a = np.zeros((n, n), np.float32)
    for c in range(cliques):
        a[c * size : (c + 1) * size, c * size : (c + 1) * size] = 1 - np.eye(size)
    for c in range(cliques - 1):
        i, j = c * size + size - 1, (c + 1) * size
        a[i, j] = a[j, i] = 1e-6
    a64 = a.astype(np.float64)
    want = np.linalg.eigvalsh(np.diag(a64.sum(1)) - a64)[1:cliques]
    on_s, on_v = timed(True, False, jnp.asarray(a))
    off_s, off_v = timed(False, False, jnp.asarray(a))
    return {"case": f"chain {cliques} x {size} (N = {n})", "refined_s": on_s, "plain_s": off_s,
            "ratio": on_s / off_s, "lambda": float(want[0]),
            "refined_rel_err": float(np.max(np.abs(on_v[1:cliques] / want - 1))),
            "plain_rel_err": float(np.max(np.abs(off_v[1:cliques] / want - 1)))}


def float64_cases(batch: tuple[int, int], n: int) -> list[dict]:
    jax.config.update("jax_enable_x64", True)  # globally: the CPU eigvalsh is a host callback
    try:
        return _float64_cases(batch, n)
    finally:
        jax.config.update("jax_enable_x64", False)


def _float64_cases(batch: tuple[int, int], n: int) -> list[dict]:
    mats = [nx.to_numpy_array(nx.gnp_random_graph(batch[1], 0.3, seed=i))
            for i in range(batch[0])]
    adjacency, mask = jaxrg.pad_adjacency(mats)
    args = (adjacency.astype(jnp.float64), mask)
    on_s, on_v = timed(True, True, *args)
    off_s, off_v = timed(False, True, *args)
    out = [{"case": f"float64 batch {batch[0]} x {batch[1]}", "refined_s": on_s,
            "plain_s": off_s, "ratio": on_s / off_s,
            "identical": bool(np.array_equal(on_v, off_v)), "dtype": "float64"}]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 1000, 2000])
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).parent / "results" / "refine.jsonl")
    parser.add_argument("--small", action="store_true", help="toy sizes (a smoke test)")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", False)
    batch = (50, 24) if args.small else (2000, 24)
    sizes = [60] if args.small else args.sizes
    env = environment() | {"dtype": "float32"}
    chains = [(4, 3), (20, 3)] if args.small else [(24, 6), (40, 3)]
    records = ([batch_case(*batch) | env] + [bridged_case(n) | env for n in sizes]
               + [chain_case(*c) | env for c in chains]
               + [env | r for r in float64_cases(batch, sizes[0])])
    print("| case | refined (s) | plain (s) | ratio | λ₂ rel. error refined / plain |")
    print("|---|---|---|---|---|")
    for r in records:
        err = (f"{r['refined_rel_err']:.1e} / {r['plain_rel_err']:.1e}" if "lambda" in r
               else f"identical: {r['identical']}")
        print(f"| {r['case']} | {r['refined_s']:.4f} | {r['plain_s']:.4f} | {r['ratio']:.2f} | "
              f"{err} |")
    write_jsonl(args.out, records)


if __name__ == "__main__":
    main()
