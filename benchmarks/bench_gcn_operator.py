"""A GCN's propagation by edge list (gather + scatter) against one dense matrix product.

For random graphs of N nodes at several densities E/N², times the jitted value and gradient of
two GCN propagations (``gcn_propagate(gcn_propagate(x))``, x of width F, float32: the work of
one training step of a two-layer encoder) over the graph as a ``jraph.GraphsTuple`` and as a
:class:`~jaxrg.studies.node_classification.gnn.DenseOperator`, measured in the same run, and
compares the faster route with the choice of
:func:`~jaxrg.studies.node_classification.gnn.prefers_dense` (dense iff N² ≤ 50 E). Correctness
first: both routes' values and gradients must agree to float32 round-off. Compilation is
excluded; times are medians.

Usage: ``python benchmarks/bench_gcn_operator.py [--nodes 2000 5000] [--density 0.002 0.01
0.02 0.05 0.1] [--width 64] [--out benchmarks/results/gcn_operator.jsonl] [--small]``
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

from jaxrg.studies.node_classification import gnn  # noqa: E402


def _graph(num_nodes: int, density: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    num_edges = max(1, int(density * num_nodes**2))
    senders = rng.integers(0, num_nodes, num_edges).astype(np.int32)
    receivers = rng.integers(0, num_nodes, num_edges).astype(np.int32)
    graph = jraph.GraphsTuple(nodes=None, edges=None, senders=jnp.asarray(senders),
                              receivers=jnp.asarray(receivers), globals=None,
                              n_node=jnp.array([num_nodes]), n_edge=jnp.array([num_edges]))
    dense = gnn.DenseOperator(jnp.asarray(gnn.gcn_operator(senders, receivers, None,
                                                           num_nodes)))
    return graph, dense, num_edges


def measure(num_nodes: int, density: float, width: int) -> dict:
    graph, dense, num_edges = _graph(num_nodes, density)
    x = jnp.asarray(np.random.default_rng(1).normal(size=(num_nodes, width)), jnp.float32)

    def loss(x, operator):  # the graph is an argument, never a folded constant
        return jnp.sum(gnn.gcn_propagate(gnn.gcn_propagate(x, operator), operator) ** 2)

    step = jax.jit(jax.value_and_grad(loss))
    (v_e, g_e), (v_d, g_d) = step(x, graph), step(x, dense)  # compiles both; then check
    value_err = abs(float(v_e) - float(v_d)) / abs(float(v_e))
    grad_err = float(jnp.max(jnp.abs(g_e - g_d)) / jnp.max(jnp.abs(g_e)))
    if value_err > 1e-4 or grad_err > 1e-4:
        raise AssertionError(f"routes disagree at N={num_nodes}, density={density}: "
                             f"{value_err:.1e}, {grad_err:.1e}")
    edges_s, dense_s = median_time(step, x, graph), median_time(step, x, dense)
    return {"nodes": num_nodes, "edges": num_edges, "density": density, "width": width,
            "edges_s": edges_s, "dense_s": dense_s, "speedup_dense": edges_s / dense_s,
            "prefers_dense": gnn.prefers_dense(num_nodes, num_edges),
            "value_rel_err": value_err, "grad_rel_err": grad_err}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[2000, 5000])
    parser.add_argument("--density", type=float, nargs="+",
                        default=[0.002, 0.01, 0.02, 0.05, 0.1])
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).parent / "results" / "gcn_operator.jsonl")
    parser.add_argument("--small", action="store_true", help="toy sizes (a smoke test)")
    args = parser.parse_args()
    if args.small:
        args.nodes, args.density, args.width = [200], [0.01, 0.1], 8
    env = environment()
    records = []
    print("| N | E | E/N² | edges (s) | dense (s) | dense speed-up | prefers_dense |")
    print("|---|---|---|---|---|---|---|")
    for n in args.nodes:
        for density in args.density:
            r = measure(n, density, args.width) | env
            records.append(r)
            print(f"| {n} | {r['edges']} | {density:g} | {r['edges_s']:.4f} | "
                  f"{r['dense_s']:.4f} | {r['speedup_dense']:.1f}× | {r['prefers_dense']} |",
                  flush=True)
    write_jsonl(args.out, records)


if __name__ == "__main__":
    main()
