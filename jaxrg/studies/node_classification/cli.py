"""``jaxrg study node-classification run|scales|kipf|report|collect``, and the old spellings.

Examples (shell)::

    jaxrg study node-classification run --dataset cora --encoder gcn --variant SB --seeds 10
    jaxrg study node-classification kipf --dataset cora --seeds 10
    jaxrg study node-classification scales --dataset cora citeseer
    jaxrg study node-classification report results/node_classification --out table.md
    jaxrg study node-classification collect gpu_run/ --out results/node_classification

The spellings of the previous release, ``jaxrg experiment node-classification | node-scales |
kipf-gcn`` and ``jaxrg report``, build the same parsers (:func:`register_aliases`); they go in
the next release.
"""

from __future__ import annotations

import argparse
import pathlib

from jaxrg._ranges import AT_LEAST_1, NON_NEGATIVE, POSITIVE_FINITE, require

__all__ = ["register", "register_aliases"]

DEFAULT_OUT = "results/node_classification"


def _positive_int_or(option: str, words: dict):
    """An argparse type: a positive integer, or one of ``words`` (text -> value)."""

    def parse(text: str):
        if text in words:
            return words[text]
        try:
            value = int(text)
        except ValueError:
            choices = ", ".join(repr(w) for w in words)
            raise argparse.ArgumentTypeError(f"{option} must be a positive integer or one of "
                                             f"{choices}, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{option} must be positive, got {value}")
        return value

    return parse


def _seeds(text: str):
    """``--seeds``: a count ``N`` (seeds 0..N-1, an int), a range ``A-B`` (seeds A..B) or a list
    ``a,b,c`` (a list of ints): a range or a list lets two processes (or machines) share one
    configuration's seeds, each in its own ``--out`` folder, merged later with ``collect``."""
    try:
        return int(text)  # a count; its range (>= 1) is checked with the other options
    except ValueError:
        pass
    form = ("--seeds must be a count N (seeds 0..N-1), a range A-B (seeds A..B) or a list "
            f"a,b,c of distinct seeds >= 0; got {text!r}")
    try:
        if "," in text:
            seeds = [int(part) for part in text.split(",")]
        else:
            first, last = (int(part) for part in text.split("-"))
            seeds = list(range(first, last + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(form) from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(form)
    return seeds


_hidden = _positive_int_or("--hidden", {"auto": "auto", "reduced": "reduced", "none": None})
_seed_batch = _positive_int_or("--seed-batch", {"auto": "auto"})


def _common(parser, default_epochs: int) -> None:
    parser.add_argument("--dataset", default="cora",
                        help="cora, citeseer, pubmed, photo, computers or europe (default cora)")
    parser.add_argument("--seeds", type=_seeds, default=10,
                        help="a count N (seeds 0..N-1), a range A-B (seeds A..B) or a list a,b,c; "
                        "trained at once with vmap (default 10)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path(DEFAULT_OUT),
                        help=f"results folder (default {DEFAULT_OUT}); reruns resume there")
    parser.add_argument("--data-dir", type=pathlib.Path, default=None,
                        help="raw data folder (default $JAXRG_DATA, else ~/.cache/jaxrg)")
    parser.add_argument("--epochs", type=int, default=default_epochs,
                        help=f"training epochs (default {default_epochs})")
    parser.add_argument("--download", action="store_true",
                        help="download missing data files from their original public sources")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


_RUN = dict(
    help="multiscale GNNs on renormalised graphs (Caso et al., IJCNN 2025)",
    description="Train SB/MB/SR/MR GCN or GAT models on a dataset's largest component "
    "(training-subgraph propagation, best-validation checkpoint per epoch budget); all "
    "seeds at once with jax.vmap.")
_SCALES = dict(
    help="tau* by every definition and the rewired-graph size, per dataset",
    description="Graph-only (no features needed, so PubMed works): tau* of the authors' "
    "pipeline, of their quantity maximised analytically and of the exact C, and the number "
    "of directed edges of the rewired graph at the authors' tau*; one JSON line per dataset "
    "in OUT/scales.jsonl (resumable).")
_KIPF = dict(
    help="the 2-layer GCN of Kipf & Welling (2017) on the public split",
    description="Sanity baseline: hidden 16, dropout 0.5, weight decay 5e-4, lr 0.01, "
    "full-graph propagation, final-model test accuracy (published: Cora 81.5 percent).")
_REPORT = dict(
    help="tabulate node-classification results (mean ± std, Wilcoxon vs SB)",
    description="Markdown table of a results folder: mean ± std over seeds, + / − where a "
    "one-sided exact Wilcoxon signed-rank test against SB gives p < 0.05.")


def register(subparsers) -> None:
    """``jaxrg study node-classification``: ``run``, ``scales``, ``kipf``, ``report`` and
    ``collect``.

    Args:
        subparsers: ``jaxrg study``'s ``add_subparsers()`` object, one parser per study.

    Returns:
        None; the five actions carry their ``func``.
    """
    study = subparsers.add_parser(
        "node-classification", help=_RUN["help"],
        description="Reproduction of Caso et al. (IJCNN 2025); runs write one JSON line per "
        "finished seed and resume where they stopped.")
    actions = study.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_run(actions.add_parser("run", **_RUN))
    _add_scales(actions.add_parser("scales", **_SCALES))
    _add_kipf(actions.add_parser("kipf", **_KIPF))
    _add_report(actions.add_parser("report", **_REPORT))
    _add_collect(actions.add_parser(
        "collect", help="add the runs of other results folders (another machine, a GPU) to "
        "--out",
        description="Append to --out every record of the given folders or .jsonl files whose "
        "key (dataset, encoder, variant, tau, width, lr, seed, epochs, ...) it lacks; a key "
        "already there keeps its record, so collecting twice adds nothing. The file is "
        "replaced atomically under the folder's lock."))


def register_aliases(subparsers) -> None:
    """Add the previous release's spellings: ``jaxrg experiment ...`` and ``jaxrg report``.

    Args:
        subparsers: the ``add_subparsers()`` object of ``jaxrg``.

    Returns:
        None; the parsers are those of :func:`register` under their old names.
    """
    experiment = subparsers.add_parser(
        "experiment", help="alias of 'jaxrg study node-classification' (goes in the next "
        "release)",
        description="Old spelling of 'jaxrg study node-classification run|scales|kipf' "
        "(goes in the next release); each writes one JSON line per finished run and resumes "
        "where it stopped.")
    studies = experiment.add_subparsers(dest="study", metavar="STUDY", required=True)
    _add_run(studies.add_parser("node-classification", **_RUN))
    _add_scales(studies.add_parser("node-scales", **_SCALES))
    _add_kipf(studies.add_parser("kipf-gcn", **_KIPF))
    _add_report(subparsers.add_parser(
        "report", help="alias of 'jaxrg study node-classification report' (goes in the next "
        "release)", description=_REPORT["description"]))


def _add_run(node) -> None:
    _common(node, 1000)
    node.add_argument("--encoder", choices=("gcn", "gat"), default="gcn",
                      help="graph convolution (default gcn)")
    node.add_argument("--variant", nargs="+", default=["SB"], type=str.upper,
                      choices=("SB", "MB", "SR", "MR", "SD", "MD", "SL", "ML"),
                      help="one or more of SB, MB, SR, MR (the paper's) and SD, MD, SL, ML (heat "
                      "diffusion at tau*, alone or beside an encoder on the original graph; D: tau "
                      "fixed, L: tau learned from tau*) (default SB)")
    node.add_argument("--hidden", type=_hidden, default="auto",
                      help="encoder width: an integer, 'none' (no input projection), 'auto' "
                      "(the authors': none for GCN, 1024 for GAT on Cora/Citeseer; default) or "
                      "'reduced' (their --dim_reduction width: GCN 1024 on Cora/Citeseer, 64 "
                      "on Photo, 24 on Computers; GAT as 'auto')")
    node.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default 1e-4)")
    node.add_argument("--tau", type=float, default=None,
                      help="scale of the renormalised graph for SR/MR, or the (initial) "
                      "diffusion time for SD/MD/SL/ML (default: tau*, the first peak of the "
                      "specific heat; of the normalised Laplacian for SD/MD/SL/ML)")
    node.add_argument("--propagation", choices=("subgraph", "full"), default="subgraph",
                      help="while training, the encoders see the subgraph induced by the "
                      "training nodes (the authors' protocol; default) or the full graphs "
                      "(transductive, as Kipf & Welling)")
    node.add_argument("--operator", choices=("auto", "edges", "dense"), default="auto",
                      help="how GCN encoders (SB/MB/SR/MR) propagate over each graph: auto "
                      "(default: a dense matrix where the graph is dense enough for that to be "
                      "faster, as LRG-rewired graphs; the edge list elsewhere), edges or dense; "
                      "the same numbers up to float rounding")
    node.add_argument("--tau-rate", type=float, default=1.0,
                      help="SL/ML: Adam's step on tau's logit relative to the weights' (default 1; "
                      "larger lets the learned tau travel farther in the same epochs)")
    node.add_argument("--scale-variant", choices=("exact", "authors", "authors-analytic"),
                      default="exact",
                      help="how tau* is found: exact (first peak of the exact C; default), "
                      "authors (the authors' pipeline: np.gradient of the heat trace on "
                      "logspace(-2, 4, 100), Gaussian smoothing, first grid maximum) or "
                      "authors-analytic (their quantity maximised between grid points)")
    node.add_argument("--scale-from", choices=("structure", "features"), default="structure",
                      help="SR/MR at tau* of the structure-only C (default) or at tau*_X, the "
                      "first peak of the feature-aware C_X (jaxrg.features)")
    node.add_argument("--edges", choices=("undirected", "as-stored"), default="undirected",
                      help="the encoders' edges: undirected (both directions of every edge; "
                      "default) or as-stored (Europe: each edge once, directed as "
                      "europe-airports.edgelist stores it - the graph PyG's Airports gives "
                      "the authors' code)")
    node.add_argument("--init", choices=("flax", "torch"), default="flax",
                      help="initialisation of the linear layers: flax (LeCun normal, zero bias; "
                      "default) or torch (PyTorch's nn.Linear default, as in the authors' code)")
    node.add_argument("--split", choices=("public", "random", "ordered"), default=None,
                      help="public (Planetoid; their default), random (seeded 70/15/15; default "
                      "for Amazon/Europe) or ordered (the authors' Amazon/Europe split: first "
                      "70%% of node ids train, next 15%% validate)")
    node.add_argument("--seed-batch", type=_seed_batch, default="auto",
                      help="seeds vmapped together (default auto: 1 on a CPU, where looping "
                      "over the seeds inside the compiled program is faster; all seeds in one "
                      "jax.vmap on an accelerator)")
    node.add_argument("--save-every", type=_positive_int_or("--save-every", {"all": None}),
                      default=None, metavar="N",
                      help="train the seeds in blocks of N and save each block as it finishes, "
                      "so a kill loses at most N seeds (default all: one block)")
    node.set_defaults(func=_run_node_classification)


def _add_scales(scales) -> None:
    scales.add_argument("--dataset", nargs="+", default=["cora", "citeseer"],
                        help="one or more dataset names (default cora citeseer)")
    scales.add_argument("--out", type=pathlib.Path, default=pathlib.Path(DEFAULT_OUT),
                        help=f"results folder (default {DEFAULT_OUT})")
    scales.add_argument("--data-dir", type=pathlib.Path, default=None,
                        help="raw data folder (default $JAXRG_DATA, else ~/.cache/jaxrg)")
    scales.add_argument("--download", action="store_true",
                        help="download missing data files from their original public sources")
    scales.add_argument("--no-progress", action="store_true", help="hide progress bars")
    scales.set_defaults(func=_run_node_scales)


def _add_kipf(kipf) -> None:
    _common(kipf, 200)
    kipf.add_argument("--early-stopping", type=int, default=10,
                      help="Kipf's early-stopping window on the validation loss (0: off; "
                      "default 10)")
    kipf.set_defaults(func=_run_kipf)


def _add_report(rep) -> None:
    rep.add_argument("path", nargs="?", type=pathlib.Path, default=pathlib.Path(DEFAULT_OUT),
                     help=f"results folder or results.jsonl (default {DEFAULT_OUT})")
    rep.add_argument("--epochs", type=int, default=None,
                     help="epoch budget to tabulate (default: the largest of each setting)")
    rep.add_argument("--out", type=pathlib.Path, default=None, help="also write the markdown here")
    rep.add_argument("--plot", type=pathlib.Path, default=None,
                     help="also write accuracy against epoch budget (PNG) here")
    rep.add_argument("--table-plot", type=pathlib.Path, default=None,
                     help="also write the table as a figure (PNG) here: mean ± std per variant")
    rep.set_defaults(func=_run_report)


def _add_collect(col) -> None:
    col.add_argument("sources", nargs="+", type=pathlib.Path, metavar="SOURCE",
                     help="results folders or .jsonl files written by runs elsewhere")
    col.add_argument("--out", type=pathlib.Path, default=pathlib.Path(DEFAULT_OUT),
                     help=f"results folder to extend (default {DEFAULT_OUT})")
    col.set_defaults(func=_run_collect)


def _run_collect(args) -> int:
    from jaxrg.studies.node_classification.report import collect

    for name, done in collect(args.sources, args.out).items():
        print(done.describe(args.out / name, "test_acc"))
    return 0


def _run_node_classification(args) -> int:
    from jaxrg.studies.node_classification import experiment as nc
    from jaxrg.studies.node_classification.report import report

    _check_common(args)
    require(args, "--lr", POSITIVE_FINITE)
    require(args, "--tau", POSITIVE_FINITE)
    require(args, "--tau-rate", POSITIVE_FINITE)
    for variant in args.variant:
        records = nc.run(args.dataset, encoder=args.encoder, variant=variant, seeds=args.seeds,
                         out=args.out, data_dir=args.data_dir, epochs=args.epochs,
                         hidden=args.hidden, learning_rate=args.lr, tau=args.tau,
                         scale_variant=args.scale_variant, init=args.init, split=args.split,
                         seed_batch=args.seed_batch, save_every=args.save_every,
                         scale_from=args.scale_from, edges=args.edges,
                         tau_rate=args.tau_rate, propagation=args.propagation,
                         operator=args.operator,
                         download=args.download,
                         progress=not args.no_progress)
        if records:
            print(f"{args.dataset} {args.encoder.upper()}_{variant}: "
                  f"{len({r['seed'] for r in records})} new seed(s) -> "
                  f"{args.out / 'results.jsonl'}")
        else:
            print(_nothing_to_do(f"{args.dataset} {args.encoder.upper()}_{variant}", args,
                                 "results.jsonl"))
    print(report(args.out), end="")
    return 0


def _run_node_scales(args) -> int:
    from jaxrg.studies.node_classification import experiment as nc

    print("| dataset | nodes | edges | tau* authors' pipeline | authors' C analytic | exact C | "
          "rewired edges (directed) | supplement |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.dataset:
        r = nc.scales_and_rewiring(name, out=args.out, data_dir=args.data_dir,
                                   download=args.download, progress=not args.no_progress)

        def fmt(value):
            return "—" if value is None else f"{value:.4g}"

        print(f"| {r['dataset']} | {r['nodes']} | {r['edges']} | {fmt(r['tau_authors'])} | "
              f"{fmt(r['tau_authors_analytic'])} | {fmt(r['tau_exact'])} | "
              f"{r['rewired_edges']} | {r['supplement_rewired_edges'] or '—'} |", flush=True)
    return 0


def _run_kipf(args) -> int:
    from jaxrg.studies.node_classification import experiment as nc
    from jaxrg.studies.node_classification.report import report

    _check_common(args)
    require(args, "--early-stopping", NON_NEGATIVE, " (0: off)")
    records = nc.run_kipf(args.dataset, seeds=args.seeds, out=args.out, data_dir=args.data_dir,
                          epochs=args.epochs, early_stopping=args.early_stopping,
                          download=args.download, progress=not args.no_progress)
    if records:
        print(f"{args.dataset} Kipf GCN: {len(records)} new seed(s) -> "
              f"{args.out / 'kipf_gcn.jsonl'}")
    else:
        print(_nothing_to_do(f"{args.dataset} Kipf GCN", args, "kipf_gcn.jsonl"))
    print(report(args.out), end="")
    return 0


def _check_common(args) -> None:
    """The numeric options every training study shares (:func:`_common`)."""
    if isinstance(args.seeds, int):  # a range or a list was checked when it was parsed
        require(args, "--seeds", AT_LEAST_1)
    require(args, "--epochs", AT_LEAST_1)


def _nothing_to_do(what: str, args, file: str) -> str:
    """The message of a rerun that finds every seed finished (resuming is not a silent no-op)."""
    seeds = (f"all {args.seeds} seeds" if isinstance(args.seeds, int)
             else f"seeds {','.join(map(str, args.seeds))} all")
    return (f"{what}: {seeds} already in {args.out / file}; nothing to train. "
            "Pass --out NEWDIR to recompute.")


def _run_report(args) -> int:
    from jaxrg.studies.node_classification.report import report

    require(args, "--epochs", AT_LEAST_1)
    print(report(args.path, epochs=args.epochs, out=args.out, plot=args.plot,
                 table_plot=args.table_plot), end="")
    return 0
