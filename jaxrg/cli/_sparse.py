"""``jaxrg curve-sparse``: S(τ), C(τ), Z(τ) of a large graph by stochastic Lanczos quadrature.

The graph is read without a dense matrix (streaming edge-list reader, or a ``scipy.sparse``
``.npz``), so edge lists of millions of nodes work; every value comes with its standard error.
"""

from __future__ import annotations

import csv
import io
import json
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxrg import _io
from jaxrg.cli._curve import (
    add_formula_options,
    add_grid_options,
    check_grid_options,
    formula_of,
    node_map_path,
    tau_range_of,
)
from jaxrg.cli._graphs import (
    GRAPH_HELP,
    add_dataset_options,
    add_id_options,
    load_graph,
    write_node_map,
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "curve-sparse",
        help="entropy/specific-heat curves of a large sparse graph (stochastic Lanczos)",
        description="S, C, d_S and Z on a log-spaced grid of diffusion times by stochastic "
        "Lanczos quadrature, with standard errors; the graph is never made dense.",
    )
    parser.add_argument(
        "graph",
        help="edge list (.edgelist/.txt/.csv/.tsv/.edges, optionally .gz; 'u v [w]' per "
        f"line), a scipy.sparse .npz, a packaged graph name (karate) {GRAPH_HELP}",
    )
    add_dataset_options(parser)
    parser.add_argument("--probes", type=int, default=32, help="Rademacher probes (default 32)")
    parser.add_argument("--matvecs", type=int, default=100,
                        help="Lanczos steps per probe (default 100)")
    parser.add_argument(
        "--deflate",
        type=int,
        default=None,
        help="low modes deflated exactly (default: 16 up to 20 000 nodes, else 0)",
    )
    parser.add_argument("--reortho", choices=("none", "full"), default="none",
                        help="re-orthogonalise the Lanczos vectors (default none)")
    add_grid_options(parser, "1e-2/λ_max to 1e2/λ_min from the Ritz values")
    parser.add_argument("--seed", type=int, default=0, help="probe seed (default 0)")
    add_id_options(parser)
    parser.add_argument("--max-peaks", type=int, default=8,
                        help="most characteristic scales reported (default 8)")
    add_formula_options(parser, when=" whose peaks are the characteristic scales")
    parser.add_argument("--csv", type=pathlib.Path,
                        help="write the curves and errors as CSV (default: none)")
    parser.add_argument("--json", type=pathlib.Path,
                        help="write everything as JSON (default: none)")
    parser.add_argument("--png", type=pathlib.Path,
                        help="write a plot of S and C with error bands (default: none)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (default: shown)")
    parser.set_defaults(func=run)


def load_sparse(source: str, args):
    """``(SparseGraph, LoadedGraph)`` from a file or dataset, never forming a dense matrix."""
    import jax.numpy as jnp

    import jaxrg.sparse as sp
    from jaxrg.cli._graphs import check_weight_scale

    loaded = load_graph(source, args)
    check_weight_scale(loaded, jnp.result_type(float))
    return sp.as_sparse_graph(loaded.graph, num_nodes=loaded.num_nodes), loaded


def compute(graph, args, formula: str = "heat-capacity"):
    """Quadrature, curves on the grid, characteristic scales of ``formula``; validated options."""
    import jaxrg.sparse as sp

    check_grid_options(args)
    quad = sp.lanczos_quadrature(
        graph,
        key=jax.random.key(args.seed),
        num_probes=args.probes,
        num_matvecs=args.matvecs,
        num_deflate=args.deflate,
        reortho=args.reortho,
        progress=not args.no_progress,
    )
    tau_range = tau_range_of(args)
    if tau_range is None:
        taus = sp.default_taus(quad, num_taus=args.num_taus)
    else:
        lo, hi = tau_range
        taus = jnp.logspace(np.log10(lo), np.log10(hi), args.num_taus)
    curves = sp.curves_from_quadrature(quad, taus)
    bad = [name for name, values in curves._asdict().items() if not np.all(np.isfinite(values))]
    if bad:  # never print or write NaN error bars with exit status 0
        raise ValueError(
            f"the curves have non-finite values in {', '.join(bad)}; narrow --tau-range or "
            "raise --matvecs / --probes."
        )
    scales = sp.characteristic_scales(quad, taus, max_peaks=args.max_peaks, formula=formula)
    return quad, taus, curves, scales


FIELDS = (
    "heat_trace",
    "heat_trace_error",
    "entropy",
    "entropy_error",
    "specific_heat",
    "specific_heat_error",
    "spectral_dimension",
    "spectral_dimension_error",
)


def run(args) -> int:
    start = time.perf_counter()
    check_grid_options(args)
    formula = formula_of(args)
    graph, source = load_sparse(args.graph, args)
    loaded = time.perf_counter()
    quad, taus, curves, scales = jax.block_until_ready(compute(graph, args, formula))
    elapsed = time.perf_counter() - loaded
    n, edges = graph.num_nodes, graph.senders.shape[0] // 2
    valid = np.asarray(scales.valid)
    peaks = [
        {"tau": float(t), "specific_heat": float(h)}
        for t, h in zip(
            np.asarray(scales.taus)[valid], np.asarray(scales.heights)[valid], strict=True
        )
    ]
    print(
        f"{args.graph}: {n} nodes, {edges} edges, {int(quad.num_components)} connected "
        f"component(s); read in {loaded - start:.1f} s, SLQ ({args.probes} probes x "
        f"{args.matvecs} matvecs) in {elapsed:.1f} s"
    )
    err_s, err_c = float(np.max(curves.entropy_error)), float(np.max(curves.specific_heat_error))
    print(f"  max standard error over the grid: S {err_s:.2e}, C {err_c:.2e}")
    label, symbol = (("specific heat", "C") if formula == "heat-capacity"
                     else ("heat-trace curvature", "τ²Z''"))
    print(f"  characteristic scales (peaks of the {label}, highest first):")
    for p in peaks:
        print(f"    tau* = {p['tau']:<10.5g} {symbol} = {p['specific_heat']:.4f}")
    if not peaks:
        print("    none (no peak of C on this grid)")
    table = {"tau": np.asarray(taus).tolist()}
    table.update({f: np.asarray(getattr(curves, f)).tolist() for f in FIELDS})
    if args.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["tau", *FIELDS])
        writer.writerows(zip(*(table[k] for k in ("tau", *FIELDS)), strict=True))
        _io.atomic_write_text(args.csv, buffer.getvalue(), label="--csv")
        print(f"  curves: {args.csv}")
    if args.json:
        summary = {
            "graph": str(args.graph),
            "nodes": n,
            "edges": edges,
            "components": int(quad.num_components),
            "probes": args.probes,
            "matvecs": args.matvecs,
            "seed": args.seed,
            "seconds": elapsed,
            "formula": formula,
            "characteristic_scales": peaks,
            "curves": table,
        }
        _io.atomic_write_text(args.json, json.dumps(summary, indent=1) + "\n", label="--json")
        print(f"  summary: {args.json}")
    if args.png:
        import jaxrg.sparse as sp
        from jaxrg.plots import plot_entropy_curves, save

        if formula != "heat-capacity":  # the plot draws C: mark each scale on the C curve
            at = jnp.where(scales.valid, scales.taus, 1.0)
            scales = scales._replace(heights=sp.curves_from_quadrature(quad, at).specific_heat)
        fig = plot_entropy_curves(taus, curves, scales, title=f"{args.graph} (SLQ)")
        t = np.asarray(taus)
        for ax, field in zip(fig.axes[:2], ("entropy", "specific_heat"), strict=True):
            mid, err = (
                np.asarray(getattr(curves, field)),
                np.asarray(getattr(curves, field + "_error")),
            )
            ax.fill_between(t, mid - 2 * err, mid + 2 * err, alpha=0.3, label="±2 s.e.")
        fig.axes[1].legend(loc="upper left", fontsize=8)
        save(fig, args.png)
        print(f"  plot: {args.png}")
    write_node_map(source, node_map_path(args))
    return 0
