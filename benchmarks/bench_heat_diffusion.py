"""The heat encoder's Chebyshev recurrence: stopping at the negligible tail against all K terms.

:func:`~jaxrg.studies.node_classification.learned_scale.heat_diffusion` computes
:math:`e^{-\\tau\\hat L}x = \\sum_k c_k T_k(\\hat A)x` with up to ``K`` sparse products and
stops once the coefficients left sum to at most ``eps / 16`` (their contribution is below
round-off). On a random graph of Photo's size (N = 7650 nodes, 238 k directed edges, width 64,
sorted by sender as the datasets are), times the jitted value and gradient (in τ and x) of one
diffusion with ``K = 48`` (the encoders' default) for several τ, with ``truncate=True`` and
``truncate=False`` measured in the same run, after checking that both agree to round-off.
The products computed are counted from the coefficients (scipy-free: the same tail sum).
Compilation is excluded; times are medians.

Usage: ``python benchmarks/bench_heat_diffusion.py [--taus 0.5 2 5 15 19.9] [--dtype float64]
[--nodes 7650] [--edges 119000] [--width 64] [--out benchmarks/results/heat_diffusion.jsonl]
[--small]``
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import jax
import jax.numpy as jnp
import jraph
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _harness import environment, median_time, write_jsonl  # noqa: E402

from jaxrg.studies.node_classification.learned_scale import (  # noqa: E402
    heat_coefficients,
    heat_diffusion,
)

NUM_TERMS = 48


def _graph(num_nodes: int, num_edges: int, seed: int = 0) -> jraph.GraphsTuple:
    rng = np.random.default_rng(seed)
    s, r = rng.integers(0, num_nodes, num_edges), rng.integers(0, num_nodes, num_edges)
    s, r = np.concatenate([s, r]), np.concatenate([r, s])  # undirected: both directions
    order = np.lexsort((r, s))
    return jraph.GraphsTuple(nodes=None, edges=None, senders=jnp.asarray(s[order], jnp.int32),
                             receivers=jnp.asarray(r[order], jnp.int32), globals=None,
                             n_node=jnp.array([num_nodes]), n_edge=jnp.array([2 * num_edges]))


def measure(graph, tau: float, width: int, dtype) -> dict:
    num_nodes = int(graph.n_node[0])
    x = jnp.asarray(np.random.default_rng(1).normal(size=(num_nodes, width)), dtype)

    def loss(tau, x, graph, truncate):
        out = heat_diffusion(x, graph, heat_coefficients(tau, NUM_TERMS), truncate=truncate)
        return jnp.sum(out * jnp.cos(x))

    step = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)), static_argnums=3)
    t = jnp.asarray(tau, dtype)
    (v_cut, (dt_cut, dx_cut)), (v_all, (dt_all, dx_all)) = step(t, x, graph, True), step(
        t, x, graph, False)
    errors = [abs(float(v_cut - v_all)) / abs(float(v_all)),
              abs(float(dt_cut - dt_all)) / max(abs(float(dt_all)), abs(float(v_all)) * 1e-3),
              float(jnp.max(jnp.abs(dx_cut - dx_all)) / jnp.max(jnp.abs(dx_all)))]
    if max(errors) > 100 * float(jnp.finfo(dtype).eps):
        raise AssertionError(f"truncated and full recurrences disagree at tau={tau}: {errors}")
    coeffs = np.asarray(heat_coefficients(jnp.asarray(tau, jnp.float64), NUM_TERMS))
    tails = np.cumsum(np.abs(coeffs[2:])[::-1])[::-1]
    products = 1 + int(np.sum(~(tails <= np.finfo(dtype).eps / 16)))
    cut_s = median_time(step, t, x, graph, True)
    all_s = median_time(step, t, x, graph, False)
    return {"tau": tau, "dtype": np.dtype(dtype).name, "width": width, "num_terms": NUM_TERMS,
            "products": products, "truncated_s": cut_s, "all_terms_s": all_s,
            "speedup": all_s / cut_s, "max_rel_err": max(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taus", type=float, nargs="+", default=[0.5, 2.0, 5.0, 15.0, 19.9])
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--nodes", type=int, default=7650)
    parser.add_argument("--edges", type=int, default=119000, help="undirected edges")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).parent / "results" / "heat_diffusion.jsonl")
    parser.add_argument("--small", action="store_true", help="toy sizes (a smoke test)")
    args = parser.parse_args()
    if args.small:
        args.nodes, args.edges, args.width, args.taus = 200, 800, 8, [2.0]
    if args.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.dtype(args.dtype)
    graph = _graph(args.nodes, args.edges)
    env = environment() | {"nodes": args.nodes, "edges": 2 * args.edges}
    records = []
    print(f"| τ | products of {NUM_TERMS - 1} | truncated (s) | all terms (s) | speed-up | "
          "max rel. difference |")
    print("|---|---|---|---|---|---|")
    for tau in args.taus:
        r = measure(graph, tau, args.width, dtype) | env
        records.append(r)
        print(f"| {tau:g} | {r['products']} | {r['truncated_s']:.3f} | {r['all_terms_s']:.3f} | "
              f"{r['speedup']:.2f}× | {r['max_rel_err']:.1e} |", flush=True)
    write_jsonl(args.out, records)


if __name__ == "__main__":
    main()
