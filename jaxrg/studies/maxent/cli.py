"""``jaxrg study maxent run|merge|report|collect``: maximum-entropy subnetworks (Caso et al. 2025).

``jaxrg study maxent run --dataset mnist --model shallow --loss me qme xe --seeds 5`` trains
the table (resumable: re-run the same command to continue); ``jaxrg study maxent merge
--dataset mnist --loss me xe --groups 0-4 5-9`` runs IMP, merging and mode connectivity;
``jaxrg study maxent report`` writes ``table.md`` and the figures; ``jaxrg study maxent collect
DIR --out results/maxent`` adds the records of a run made elsewhere (a GPU). Data come from
``--data-dir``, else ``$JAXRG_DATA``. The previous release's spelling ``jaxrg maxent ...``
builds the same parser (:func:`register_aliases`) and goes in the next release.
"""

from __future__ import annotations

import argparse

__all__ = ["register", "register_aliases"]


def _classes(text: str) -> tuple[int, ...]:
    """``"0-4"`` → (0, 1, 2, 3, 4); ``"0,2,5"`` → (0, 2, 5)."""
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                lo, hi = (int(v) for v in part.split("-", 1))
                if hi < lo:
                    raise ValueError
                out.extend(range(lo, hi + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise ValueError(f"bad class list {text!r}: use e.g. 0-4 or 0,2,5") from None
    if not out:
        raise ValueError(f"empty class list {text!r}")
    return tuple(out)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="mnist",
                   help="mnist, fashion_mnist, yeast or har (default mnist)")
    p.add_argument("--model", default="shallow", help="shallow, deep or cnn (default shallow)")
    p.add_argument("--loss", nargs="+", default=None,
                   help="losses among me qme xe (default: me qme xe for run, me xe for merge)")
    p.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    p.add_argument("--epochs", type=int, default=None, help="default: the paper's per dataset")
    p.add_argument("--lr", type=float, default=None, help="Adam step (default: per dataset)")
    p.add_argument("--temperature", type=float, default=5.0, help="loss temperature (default 5)")
    p.add_argument("--init", choices=("flax", "torch"), default="flax",
                   help="initialisation of every layer: flax (LeCun normal, zero bias; default) "
                   "or torch (PyTorch's default, weights and biases from U(+-1/sqrt(fan_in)))")
    p.add_argument("--train-limit", type=int, default=None,
                   help="use only the first N training samples (quick runs)")
    p.add_argument("--data-dir", default=None, help="data folder (default $JAXRG_DATA)")
    p.add_argument("--out", default="results/maxent", help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(subparsers) -> None:
    """``jaxrg study maxent``: ``run`` (the loss table), ``merge`` (IMP, merging), ``report`` and
    ``collect`` (records made elsewhere).

    Args:
        subparsers: ``jaxrg study``'s sub-command collection.

    Returns:
        None; the actions' parsers set ``func``.
    """
    _register(subparsers, "composable subnetworks by the maximum-entropy principle")


def register_aliases(subparsers) -> None:
    """Add the previous release's spelling ``jaxrg maxent run|merge|report``.

    Args:
        subparsers: the ``add_subparsers()`` object of ``jaxrg``.

    Returns:
        None; the parser is that of :func:`register` under the old name.
    """
    _register(subparsers, "alias of 'jaxrg study maxent' (goes in the next release)")


def _register(subparsers, help: str) -> None:
    parser = subparsers.add_parser(
        "maxent",
        help=help,
        description="Caso, Fonio, Saccomanno, Monaco, Silvestri (2025): ME/QME/XE losses, IMP, "
        "merging and mode connectivity. Results are JSON lines, resumable.",
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    run = sub.add_parser("run", help="train the ME/QME/XE table on one rewarded subset")
    _common(run)
    run.add_argument("--rewarded", default="0-4", help="rewarded classes (default 0-4)")
    run.set_defaults(func=_run)
    merge = sub.add_parser("merge", help="IMP subnetworks on disjoint groups, merge, connect")
    _common(merge)
    merge.add_argument("--groups", nargs="+", default=["0-4", "5-9"],
                       help="disjoint class groups, one subnetwork each (default 0-4 5-9)")
    merge.add_argument("--sparsity", type=float, default=None,
                       help="final sparsity p (default 0.99; 0.6 for the CNN)")
    merge.add_argument("--rounds", type=int, default=2, help="IMP rounds (default 2)")
    merge.add_argument("--ties-density", type=float, default=0.2,
                       help="fraction of each task vector TIES keeps (default 0.2)")
    merge.add_argument("--merge-scales", type=float, nargs="+", default=None, metavar="LAMBDA",
                       help="lambda grid of task arithmetic and TIES, chosen on the validation "
                       "split (default 0.1 0.2 ... 2.0)")
    merge.set_defaults(func=_merge)
    rep = sub.add_parser("report", help="write table.md and the figures from results.jsonl")
    rep.add_argument("--out", default="results/maxent", help="results folder")
    rep.add_argument("--no-figures", action="store_true", help="table only")
    rep.set_defaults(func=_report)
    col = sub.add_parser("collect", help="add the records of other results folders (another "
                         "machine, a GPU) to --out; keys already there keep their record")
    col.add_argument("sources", nargs="+", metavar="SOURCE",
                     help="results folders or .jsonl files written by runs elsewhere")
    col.add_argument("--out", default="results/maxent", help="results folder to extend")
    col.set_defaults(func=_collect)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _config(args: argparse.Namespace, **extra):
    from jaxrg.studies.maxent.experiment import MaxEntConfig

    if args.seeds < 1:
        raise ValueError(f"--seeds must be ≥ 1; got {args.seeds}")
    if args.epochs is not None and args.epochs < 1:
        raise ValueError(f"--epochs must be ≥ 1; got {args.epochs}")
    if not 0 < args.temperature < float("inf"):
        raise ValueError(f"--temperature must be a finite number > 0; got {args.temperature}")
    if args.lr is not None and not 0 < args.lr < float("inf"):
        raise ValueError(f"--lr must be a finite number > 0; got {args.lr}")
    if args.train_limit is not None and args.train_limit < 1:
        raise ValueError(f"--train-limit must be >= 1; got {args.train_limit}")
    return MaxEntConfig(
        dataset=args.dataset.strip().lower().replace("-", "_"), model=args.model,
        seeds=tuple(range(args.seeds)), epochs=args.epochs, learning_rate=args.lr,
        temperature=args.temperature, train_limit=args.train_limit, data_dir=args.data_dir,
        init=args.init, **extra).resolved()


def _run(args: argparse.Namespace) -> int:
    from jaxrg.studies.maxent.experiment import run_table

    extra = {"rewarded": _classes(args.rewarded)}
    if args.loss:
        extra["losses"] = tuple(args.loss)
    config = _config(args, **extra)
    records = run_table(args.out, config, progress=not args.quiet)
    print(f"{len(records)} records for {config.dataset}/{config.model} in {args.out}"
          "/results.jsonl; `jaxrg study maxent report` makes the table")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from jaxrg.studies.maxent.experiment import run_merge

    extra = {"groups": tuple(_classes(g) for g in args.groups), "rounds": args.rounds,
             "sparsity": args.sparsity, "losses": tuple(args.loss or ("me", "xe")),
             "ties_density": args.ties_density}
    if args.merge_scales is not None:
        extra["merge_scales"] = tuple(args.merge_scales)
    if args.rounds < 1:
        raise ValueError(f"--rounds must be ≥ 1; got {args.rounds}")
    if args.sparsity is not None and not 0.0 <= args.sparsity < 1.0:
        raise ValueError(f"--sparsity must lie in [0, 1); got {args.sparsity}")
    config = _config(args, **extra)
    records = run_merge(args.out, config, progress=not args.quiet)
    print(f"{len(records)} IMP/merge/methods/path records in {args.out}/results.jsonl")
    return 0


def _collect(args: argparse.Namespace) -> int:
    import pathlib

    from jaxrg.studies.maxent.experiment import collect

    done = collect(args.sources, args.out)
    print(done.describe(pathlib.Path(args.out) / "results.jsonl", "R-Acc, accuracy or entropy"))
    return 0


def _report(args: argparse.Namespace) -> int:
    from jaxrg.studies.maxent.experiment import report

    print(report(args.out, figures=not args.no_figures))
    return 0
