"""``jaxrg demo``: the spectral core on Zachary's karate club, shipped with the package."""

from __future__ import annotations

import pathlib

from jaxrg.cli._curve import add_curve_options, compute, largest_component, report
from jaxrg.graph_io import read_graph


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the spectral core on an embedded graph (no data, network or GPU needed)",
        description="Entropy and specific-heat curves of Zachary's karate club (34 nodes, "
        "78 edges, packaged with jaxrg), its characteristic scales, and a PNG plot.",
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path("jaxrg-demo.png"),
        help="where to write the plot (default: jaxrg-demo.png)",
    )
    add_curve_options(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    adjacency, _ = largest_component(read_graph("karate"), None, args)
    args.png, args.csv, args.json = args.out, None, None
    report("Zachary's karate club (packaged)", adjacency, compute(adjacency, args), args)
    return 0
