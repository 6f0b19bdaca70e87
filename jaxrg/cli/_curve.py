"""``jaxrg curve``: S(τ), C(τ), d_S(τ) and the characteristic scales of a graph file."""

from __future__ import annotations

import csv
import functools
import io
import json
import pathlib
import sys
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxrg import _io
from jaxrg._numerics import exact_ends
from jaxrg.cli._graphs import (
    GRAPH_HELP,
    add_dataset_options,
    add_id_options,
    dense_adjacency,
    load_graph,
    write_node_map,
)
from jaxrg.eigenvalues import eigvalsh
from jaxrg.graphs import connected_components, largest_connected_component
from jaxrg.scales import characteristic_scales, default_taus
from jaxrg.spectral import padded_laplacian
from jaxrg.thermo import FORMULAS, VARIANTS, entropy_curves, resolve_formula


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "curve",
        help="entropy/specific-heat curves and characteristic scales of a graph",
        description="Spectral entropy S, specific heat C and spectral dimension d_S on a "
        "log-spaced grid of diffusion times, plus the characteristic scales (peaks of C).",
    )
    parser.add_argument(
        "graph",
        help="graph file (.edgelist/.txt/.csv/.tsv/.edges, optionally .gz, 'u v [w]' per line; "
        f".npz, .npy, .graphml, .gml), a packaged graph name (karate) {GRAPH_HELP}",
    )
    add_dataset_options(parser)
    add_id_options(parser)
    add_curve_options(parser)
    parser.add_argument("--csv", type=pathlib.Path,
                        help="write tau,S,C,d_S,Z as CSV here (default: none)")
    parser.add_argument("--json", type=pathlib.Path,
                        help="write everything as JSON here (default: none)")
    parser.add_argument("--png", type=pathlib.Path,
                        help="write a plot of S and C here (default: none)")
    parser.set_defaults(func=run)


def add_grid_options(parser, default_range: str = "1e-2/λ_max to 1e2/λ_2") -> None:
    """``--num-taus`` and ``--tau-range``: the log-spaced grid of diffusion times."""
    parser.add_argument("--num-taus", type=int, default=256, help="grid size (default 256)")
    parser.add_argument(
        "--tau-range",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        help=f"grid limits (default: {default_range})",
    )


def add_curve_options(parser) -> None:
    add_grid_options(parser)
    parser.add_argument(
        "--normalized", action="store_true",
        help="use the normalised Laplacian I - D^-1/2 A D^-1/2 (a self-loop counts towards D, "
        "as in networkx)"
    )
    add_formula_options(parser)
    parser.add_argument(
        "--largest-component",
        action="store_true",
        help="restrict to the largest connected component first",
    )
    parser.add_argument("--max-peaks", type=int, default=8,
                        help="most characteristic scales reported (default 8)")


def add_formula_options(parser, *, when: str = "") -> None:
    """``--formula`` (one of :data:`jaxrg.thermo.FORMULAS`) and its deprecated ``--variant``."""
    parser.add_argument(
        "--formula",
        choices=FORMULAS,
        default=None,  # None: heat-capacity, unless the deprecated --variant names one
        help=f"specific heat{when}: heat-capacity C = τ²Var(λ)/log N (default) or "
        "heat-trace-curvature τ²Z''(τ) = τ²Σλ²e^(-τλ), Caso et al.'s quantity",
    )
    parser.add_argument(
        "--variant",
        choices=tuple(VARIANTS),
        default=None,
        help="deprecated alias of --formula (exact: heat-capacity, authors: heat-trace-curvature)",
    )


def formula_of(args) -> str:
    """The ``--formula`` name, ``--variant`` mapped onto it (a deprecated alias: one line on stderr,
    since Python hides a ``DeprecationWarning`` raised outside ``__main__``)."""
    if args.variant is None:
        return resolve_formula(args.formula or "heat-capacity")
    if args.formula is not None and args.formula != VARIANTS.get(args.variant):
        raise ValueError(
            f"--formula {args.formula} and --variant {args.variant} disagree; pass --formula only."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        formula = resolve_formula(variant=args.variant)
    print(f"jaxrg: note: --variant {args.variant} is deprecated; use --formula {formula}.",
          file=sys.stderr)
    return formula


def analyse(
    adjacency, tau_range=None, *, num_taus=256, normalized=False, formula="heat-capacity",
    max_peaks=8
):
    """Spectrum, curves on a grid, characteristic scales and S at each peak: cached programs.

    What :func:`jaxrg.laplacian_spectrum` does, cut where the compilation cache needs it: the
    Laplacian in one compiled program, its eigenvalues by NumPy on the host (a program holding
    the CPU ``eigvalsh`` callback is never stored by JAX's persistent compilation cache, so it
    would be recompiled on every run), everything after in one more program. A second run with
    the same shapes therefore compiles nothing.

    Returns:
        ``(eigenvalues, taus, curves, scales, peak_entropies, components)``.
    """
    lap = _laplacian(adjacency, normalized=normalized)
    return _analysis(eigvalsh(lap), adjacency, tau_range, num_taus=num_taus, formula=formula,
                     max_peaks=max_peaks)


@functools.partial(jax.jit, static_argnames=("normalized",))
def _laplacian(adjacency, *, normalized):
    return padded_laplacian(adjacency, None, normalized)[0]


@functools.partial(jax.jit, static_argnames=("num_taus", "formula", "max_peaks"))
def _analysis(raw_eigenvalues, adjacency, tau_range, *, num_taus, formula, max_peaks):
    components = connected_components(adjacency).count
    eigenvalues = exact_ends(raw_eigenvalues, components, None)  # as laplacian_spectrum does
    if tau_range is None:
        taus = default_taus(eigenvalues, num_taus=num_taus)
    else:
        taus = jnp.logspace(jnp.log10(tau_range[0]), jnp.log10(tau_range[1]), num_taus)
    curves = entropy_curves(eigenvalues, taus)
    scales = characteristic_scales(
        eigenvalues, max_peaks=max_peaks, formula=formula, num_taus=max(num_taus, 512)
    )
    usable = jnp.isfinite(scales.taus) & (scales.taus > 0)  # unused slots of the peak output
    peak_entropies = entropy_curves(eigenvalues, jnp.where(usable, scales.taus, 1.0)).entropy
    return eigenvalues, taus, curves, scales, peak_entropies, components


def check_grid_options(args) -> None:
    """``--num-taus`` in [3, a memory bound] and ``--max-peaks`` >= 1, or a one-line error.

    The peak search compares every pair of grid points (``O(T^2)`` memory, about 64 bytes per
    pair), so the bound follows the dense memory limit of :mod:`jaxrg.graph_io`.
    """
    from jaxrg._checks import DENSE_LIMIT_ENV, max_num_taus

    if args.num_taus < 3:
        raise ValueError(f"--num-taus must be at least 3; got {args.num_taus}.")
    largest = max_num_taus()
    if max(args.num_taus, 512) > largest:
        raise ValueError(
            f"--num-taus {args.num_taus} needs ~{64 * args.num_taus**2 / 2**30:.3g} GiB for the "
            f"peak search (O(T^2)); use at most {largest} (or raise ${DENSE_LIMIT_ENV})."
        )
    if getattr(args, "max_peaks", 1) < 1:
        raise ValueError(f"--max-peaks must be at least 1; got {args.max_peaks}.")


def tau_range_of(args) -> tuple[float, float] | None:
    """``--tau-range MIN MAX`` checked: ``0 < MIN < MAX``, both finite in the command's dtype.

    Under ``--float32`` a bound above ~3.4e38 would become inf (and the grid NaN), so it is
    refused here with the option named.
    """
    if args.tau_range is None:
        return None
    lo, hi = args.tau_range
    dtype = np.dtype(jnp.result_type(float))
    largest = float(np.finfo(dtype).max)
    if not (0 < lo < hi and np.isfinite(hi)):
        raise ValueError(f"--tau-range needs 0 < MIN < MAX < inf; got {lo} {hi}.")
    if hi > largest or lo < float(np.finfo(dtype).smallest_normal):
        raise ValueError(
            f"--tau-range {lo} {hi} leaves {dtype.name} (normal numbers "
            f"{np.finfo(dtype).smallest_normal:.3g} to {largest:.3g}); narrow it"
            + (" or drop --float32." if dtype == np.float32 else ".")
        )
    return lo, hi


def compute(adjacency, args):
    """Validate options and run :func:`analyse` (reduce first with :func:`largest_component`)."""
    check_grid_options(args)
    tau_range = tau_range_of(args)
    if tau_range is not None:
        tau_range = jnp.asarray(tau_range)
    return analyse(
        adjacency,
        tau_range,
        num_taus=args.num_taus,
        normalized=args.normalized,
        formula=formula_of(args),
        max_peaks=args.max_peaks,
    )


def largest_component(adjacency, labels, args, out=print):
    """With ``--largest-component``: the component's adjacency and each kept row's original id.

    The header, the JSON and the node map then describe the graph actually analysed.

    Args:
        adjacency: ``(N, N)`` dense adjacency.
        labels: ``(N,)`` original node ids, or None when ids are row numbers.
        args: the parsed options (``largest_component``).
        out: where the note goes.

    Returns:
        ``(adjacency (M, M), labels (M,) or None)``; ``labels`` is None when nothing was dropped
        and no renumbering happened.
    """
    if not args.largest_component:
        return adjacency, labels
    sub, nodes = largest_connected_component(adjacency)
    if sub.shape[0] == adjacency.shape[0]:
        return adjacency, labels
    nodes = np.asarray(nodes)
    out(f"note: --largest-component: kept {sub.shape[0]} of {adjacency.shape[0]} nodes; "
        "rows are numbered 0..M-1 in increasing order of the original node")
    return sub, nodes if labels is None else np.asarray(labels)[nodes]


def report(name, adjacency, result, args, out=print) -> dict:
    """Print a summary and write the requested files; returns the JSON-able summary."""
    eigenvalues, taus, curves, scales, entropies, components = result
    n = adjacency.shape[0]
    edges = int(np.count_nonzero(np.triu(np.asarray(adjacency), 1)))
    components = int(components)
    ev = np.sort(np.asarray(eigenvalues))
    valid = np.asarray(scales.valid)
    entropies = np.asarray(entropies)[valid]
    peaks = [
        {"tau": float(t), "specific_heat": float(h), "entropy": float(s)}
        for t, h, s in zip(
            np.asarray(scales.taus)[valid], np.asarray(scales.heights)[valid], entropies,
            strict=True,
        )
    ]
    out(f"{name}: {n} nodes, {edges} edges, {components} connected component(s)")
    if components < n:
        # one zero eigenvalue per component: lambda_2 is the gap only for a connected graph
        gap = ("lambda_2" if components == 1 else
               f"lambda_2 = 0 ({components} components); smallest non-zero eigenvalue")
        out(f"  Laplacian spectrum: {gap} = {ev[components]:.6g}, lambda_max = {ev[-1]:.6g}")
    formula = VARIANTS[args.variant] if args.variant else args.formula or "heat-capacity"
    label, symbol = (("specific heat", "C") if formula == "heat-capacity"
                     else ("heat-trace curvature", "τ²Z''"))
    out(f"  characteristic scales (peaks of the {label}, highest first):")
    for p in peaks:
        out(f"    tau* = {p['tau']:<10.5g} {symbol} = {p['specific_heat']:<9.4f} "
            f"S = {p['entropy']:.4f}")
    if not peaks:
        out("    none (no peak of C on this graph)")
    summary = {
        "graph": name,
        "nodes": n,
        "edges": edges,
        "components": components,
        "formula": formula,
        "normalized_laplacian": bool(args.normalized),
        "characteristic_scales": peaks,
        "curves": {
            "tau": np.asarray(taus).tolist(),
            "entropy": np.asarray(curves.entropy).tolist(),
            "specific_heat": np.asarray(curves.specific_heat).tolist(),
            "spectral_dimension": np.asarray(curves.spectral_dimension).tolist(),
            "heat_trace": np.asarray(curves.heat_trace).tolist(),
        },
    }
    if getattr(args, "csv", None):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["tau", "entropy", "specific_heat", "spectral_dimension", "heat_trace"])
        writer.writerows(
            zip(
                *(
                    summary["curves"][k]
                    for k in ("tau", "entropy", "specific_heat", "spectral_dimension", "heat_trace")
                ),
                strict=True,
            )
        )
        _io.atomic_write_text(args.csv, buffer.getvalue(), label="--csv")
        out(f"  curves: {args.csv}")
    if getattr(args, "json", None):
        _io.atomic_write_text(args.json, json.dumps(summary, indent=1) + "\n", label="--json")
        out(f"  summary: {args.json}")
    if getattr(args, "png", None):
        from jaxrg.plots import plot_entropy_curves, save

        if formula != "heat-capacity":  # the plot draws C: mark each scale on the C curve
            at = jnp.where(scales.valid, scales.taus, 1.0)
            scales = scales._replace(heights=entropy_curves(eigenvalues, at).specific_heat)
        save(plot_entropy_curves(taus, curves, scales, title=name), args.png)
        out(f"  plot: {args.png}")
    return summary


LARGE = 10_000  # nodes above which `curve` points to `curve-sparse`


def node_map_path(args) -> pathlib.Path | None:
    """``<stem>.nodes.tsv`` beside the first output given (``--json``, ``--csv``, ``--png``)."""
    for option in ("json", "csv", "png"):
        target = getattr(args, option, None)
        if target:
            return pathlib.Path(target).with_suffix(".nodes.tsv")
    return None


def run(args) -> int:
    check_grid_options(args)
    loaded = load_graph(args.graph, args)
    adjacency, labels = largest_component(dense_adjacency(loaded), loaded.labels, args)
    loaded = loaded._replace(labels=labels, num_nodes=adjacency.shape[0])
    if loaded.num_nodes > LARGE:
        print(f"jaxrg curve: note: {args.graph} has {loaded.num_nodes} nodes; the exact route "
              "needs O(N^3) time - `jaxrg curve-sparse "
              f"{args.graph}` gives the curves with error bars in under a minute.", file=sys.stderr)
    report(loaded.name, adjacency, compute(adjacency, args), args)
    write_node_map(loaded, node_map_path(args))
    return 0
