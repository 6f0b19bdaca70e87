"""``jaxrg coarse-grain`` and ``jaxrg rewire``: the Laplacian renormalisation group of a graph."""

from __future__ import annotations

import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxrg import _io
from jaxrg.cli._curve import add_formula_options, formula_of
from jaxrg.cli._graphs import (
    add_dataset_options,
    add_id_options,
    csr_adjacency,
    write_node_map,
)
from jaxrg.cli._graphs import (
    load_graph as load_graph_argument,
)

DENSE_LIMIT = 6000  # coarse-grain sweeps tau with one dense eigendecomposition


def register(subparsers) -> None:
    graph_help = ("graph: edge-list file (.edgelist/.txt/.csv/.tsv/.edges, optionally .gz), "
                  ".npz/.npy adjacency, "
                  ".graphml/.gml, a packaged graph (karate) or a dataset name (cora, citeseer, "
                  "pubmed, photo, computers, europe; read from --data-dir or $JAXRG_DATA)")
    coarse = subparsers.add_parser(
        "coarse-grain",
        help="LRG flow (macro-nodes vs tau) and the coarse graph at tau*, as PNG",
        description="Laplacian renormalisation group (Villegas et al. 2023): the number of "
        "macro-nodes of the meta-graph on a grid of diffusion times, and the coarse graph at "
        "tau* (a given --tau, or the first peak of the specific heat with --auto). When --auto's "
        "peak merges the whole graph into 1 macro-node, the last tau of the flow before it first "
        "collapses to 1 macro-node is drawn instead, and the output says so.",
    )
    coarse.add_argument("graph", help=graph_help)
    _scale_options(coarse)
    coarse.add_argument("--num-taus", type=int, default=48,
                        help="grid size of the flow (one N^3 product per point; default 48)")
    coarse.add_argument("--out", type=pathlib.Path, default=pathlib.Path("lrg-out"),
                        help="output folder (flow.png, coarse.png, summary.json; default lrg-out)")
    coarse.set_defaults(func=run_coarse_grain)

    rewire = subparsers.add_parser(
        "rewire",
        help="renormalised graph 1[zeta A zeta > 0] minus intra-macro-node pairs",
        description="Rewire a graph on its own node set at scale tau (Caso et al., IJCNN 2025), "
        "with the exact large-graph routes of jaxrg.lrg.rewire_edges; writes an edge list.",
    )
    rewire.add_argument("graph", help=graph_help)
    _scale_options(rewire)
    rewire.add_argument("--out", type=pathlib.Path, required=True,
                        help="output file: .npz (scipy.sparse) or a text edge list 'u v'")
    rewire.add_argument("--method", choices=("auto", "chebyshev", "eigh"), default="auto",
                        help="heat-kernel route: chebyshev (sparse), eigh (dense) or auto, by "
                        "size (default auto)")
    rewire.add_argument("--block-size", type=int, default=None,
                        help="columns per block (default: about 1e6 / N, at most 128)")
    rewire.set_defaults(func=run_rewire)


def _scale_options(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--tau", type=float, help="diffusion time tau > 0 (default: --auto)")
    group.add_argument("--auto", action="store_true",
                       help="tau* = first peak of the specific heat (default without --tau)")
    add_formula_options(parser, when=" for --auto (heat-trace-curvature on Caso et al.'s grid "
                        "logspace(-2, 4, 100))")
    parser.add_argument("--largest-component", action="store_true",
                        help="restrict to the largest connected component first (default: "
                        "off)")
    add_dataset_options(parser)
    add_id_options(parser)


def load_graph(name: str, args, *, largest_component: bool = False):
    """``(scipy.sparse CSR adjacency, label, node ids or None)`` from a file or a dataset name.

    Edge-list files never become dense here (``rewire`` works on large files).
    """
    loaded = load_graph_argument(name, args, largest_component=largest_component)
    sparse = csr_adjacency(loaded)
    labels = loaded.labels
    if largest_component:  # datasets come reduced already; a second pass changes nothing
        import scipy.sparse.csgraph

        _, comp = scipy.sparse.csgraph.connected_components(sparse, directed=False)
        counts = np.bincount(comp)
        nodes = np.flatnonzero(comp == np.argmax(counts))
        sparse = sparse[nodes][:, nodes].tocsr()
        labels = (loaded.labels if loaded.labels is not None else np.arange(loaded.num_nodes))[
            nodes]
    return sparse, loaded._replace(labels=labels), labels


def choose_tau(adjacency, args) -> tuple[float, str]:
    """``--tau`` or the first characteristic scale (needs the dense spectrum)."""
    if args.tau is not None:
        if not args.tau > 0:
            raise ValueError(f"--tau must be > 0; got {args.tau}.")
        return float(args.tau), "given"
    from jaxrg.scales import characteristic_scales
    from jaxrg.spectral import laplacian_spectrum

    formula = formula_of(args)
    grid = jnp.logspace(-2, 4, 100) if formula == "heat-trace-curvature" else None
    peaks = jax.jit(lambda a, g: characteristic_scales(
        laplacian_spectrum(a), g, sort_by="tau", formula=formula))(
        jnp.asarray(adjacency.toarray()), grid)
    if not bool(peaks.valid[0]):
        raise ValueError("the specific heat has no peak on this graph; pass --tau.")
    return float(peaks.taus[0]), f"first peak of C ({formula})"


def run_coarse_grain(args) -> int:
    import jaxrg.lrg as lrg
    from jaxrg.plots import save
    from jaxrg.plots.lrg import plot_coarse_graph, plot_flow
    from jaxrg.scales import default_taus
    from jaxrg.spectral import laplacian_spectrum
    from jaxrg.thermo import specific_heat

    if args.num_taus < 2:
        raise ValueError(f"--num-taus must be at least 2; got {args.num_taus}.")
    sparse, loaded, _ = load_graph(args.graph, args, largest_component=args.largest_component)
    name = loaded.name
    n = sparse.shape[0]
    if n > DENSE_LIMIT:
        raise ValueError(
            f"{name} has {n} nodes; coarse-grain sweeps tau with a dense eigendecomposition "
            f"(limit {DENSE_LIMIT}). Use `jaxrg rewire`, or jaxrg.lrg.meta_graph_edges and "
            "jaxrg.lrg.macro_nodes for one tau."
        )
    tau, how = choose_tau(sparse, args)
    adjacency = jnp.asarray(sparse.toarray())
    eigenvalues = jax.jit(laplacian_spectrum)(adjacency)
    taus = default_taus(eigenvalues, num_taus=args.num_taus)
    counts = np.asarray(lrg.macro_node_counts(adjacency, taus))
    formula = formula_of(args)
    heat = specific_heat(eigenvalues, taus, formula=formula)
    coarse = lrg.coarse_grain(adjacency, tau)
    notes = []
    if int(coarse.count) == 1 and n > 1:
        fallback = _before_collapse(np.asarray(taus), counts, tau)
        notes = _one_macro_node_notes(tau, how, args, fallback)
        if args.tau is None and fallback is not None:
            first_peak = {"tau": tau, "macro_nodes": 1}
            tau, how = fallback[0], f"below the first peak of C ({formula})"
            coarse = lrg.coarse_grain(adjacency, tau)
    count = int(coarse.count)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    marks = [tau] if not notes or args.tau is not None else [first_peak["tau"], tau]
    save(plot_flow(taus, counts, specific_heat=heat, scales=marks, title=f"LRG flow: {name}"),
         out / "flow.png")
    save(plot_coarse_graph(np.asarray(adjacency), coarse.index, coarse.adjacency, count, tau=tau,
                           title=name), out / "coarse.png")
    coarse_edges = int(np.count_nonzero(np.triu(np.asarray(coarse.adjacency), 1)))
    summary = {
        "graph": name, "nodes": n, "edges": int(sparse.nnz // 2), "tau": tau, "tau_from": how,
        "macro_nodes": count, "coarse_edges": coarse_edges,
        "largest_macro_node": int(np.bincount(np.asarray(coarse.index)).max()),
        "flow": {"tau": np.asarray(taus).tolist(), "macro_nodes": counts.tolist()},
    }
    if notes and args.tau is None and len(marks) == 2:
        summary["first_peak"] = first_peak
    if notes:
        summary["notes"] = notes
    _io.atomic_write_json(out / "summary.json", summary)
    print(f"{name}: {n} nodes, {summary['edges']} edges")
    for note in notes:
        print(f"  {note}")
    print(f"  tau = {tau:.6g} ({how}): {_plural(count, 'macro-node')} (largest "
          f"{summary['largest_macro_node']} nodes), coarse graph with "
          f"{_plural(coarse_edges, 'edge')}")
    print(f"  flow: {counts[0]} -> {counts[-1]} macro-nodes for tau in "
          f"[{float(taus[0]):.3g}, {float(taus[-1]):.3g}]")
    collapsed = np.flatnonzero(counts == 1)
    if collapsed.size and counts[-1] > 1 and collapsed[-1] < counts.size - 1:
        print(f"  after the collapse to 1 macro-node (tau {float(taus[collapsed[0]]):.3g}-"
              f"{float(taus[collapsed[-1]]):.3g}) the count rises to {counts[-1]}: at large tau "
              "the rule links only nodes on the same side of the Fiedler vector "
              "(docs/design.md, section 3)")
    print(f"  wrote {out / 'flow.png'}, {out / 'coarse.png'}, {out / 'summary.json'}")
    write_node_map(loaded, out / "nodes.tsv")
    return 0


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _before_collapse(taus, counts, tau):
    """``(tau, count)``: the last grid point below ``tau`` before the flow first reaches 1 node.

    The last stage of the flow before the graph merges into one macro-node (None if the grid
    starts collapsed). Later blips above 1 inside the collapsed band are not used.
    """
    ones = np.flatnonzero(counts == 1)
    first = ones[0] if ones.size else counts.size
    below = np.flatnonzero((taus < tau) & (np.arange(counts.size) < first) & (counts >= 2))
    return None if below.size == 0 else (float(taus[below[-1]]), int(counts[below[-1]]))


def _one_macro_node_notes(tau, how, args, fallback) -> list[str]:
    """Why ``tau`` gives one macro-node, and what to try instead."""
    why = (f"tau = {tau:.6g} ({how}) gives 1 macro-node: the meta-graph is connected there "
           "(heat from every node has spread over the whole graph")
    why += ("; with the exact C the first peak often lies past this collapse)"
            if args.tau is None else ")")
    if fallback is None:
        return [why, "try a smaller --tau (flow.png shows the macro-nodes against tau)"]
    if args.tau is not None:
        return [why, f"try a smaller --tau: the flow has {fallback[1]} macro-nodes at tau = "
                f"{fallback[0]:.3g} (flow.png shows them against tau)"]
    return [why, f"showing tau = {fallback[0]:.6g} instead, the last tau of the flow before it "
            "first reaches 1 macro-node; to choose: --tau T (flow.png shows the macro-nodes "
            "against tau) or --formula heat-trace-curvature"]


def run_rewire(args) -> int:
    import scipy.sparse

    import jaxrg.lrg as lrg

    sparse, loaded, _ = load_graph(args.graph, args, largest_component=args.largest_component)
    name = loaded.name
    n = sparse.shape[0]
    if args.tau is None and n > DENSE_LIMIT:
        raise ValueError(f"{name} has {n} nodes: --auto needs its dense spectrum; pass --tau.")
    tau, how = choose_tau(sparse, args)
    start = time.perf_counter()
    senders, receivers = lrg.rewire_edges(sparse, tau, method=args.method,
                                          block_size=args.block_size, progress=n > 5000)
    seconds = time.perf_counter() - start
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        matrix = scipy.sparse.csr_matrix(
            (np.ones(senders.shape[0], np.float32), (senders, receivers)), shape=(n, n))
        scipy.sparse.save_npz(out, matrix)
    else:
        keep = senders < receivers
        lines = "".join(f"{u} {v}\n" for u, v in zip(senders[keep], receivers[keep], strict=True))
        _io.atomic_write_text(out, f"# jaxrg rewire {name} tau={tau:.6g} nodes={n}\n" + lines,
                              label="--out")
    before, after = sparse.nnz // 2, senders.shape[0] // 2
    print(f"{name}: {n} nodes, {before} edges; tau = {tau:.6g} ({how})")
    print(f"  rewired: {after} edges ({after / max(before, 1):.2f}x) in {seconds:.2f} s; "
          f"wrote {out}")
    write_node_map(loaded, out.with_suffix(".nodes.tsv"))
    return 0
