"""``jaxrg study clt-rg run|report``: the CLT as an RG flow, learned by small networks.

``jaxrg study clt-rg run --out results/clt_rg`` runs (or resumes)
:func:`jaxrg.studies.clt_rg.experiment.run_clt_rg`; ``jaxrg study clt-rg report`` summarises the
records again and redraws the figures. The previous release's spelling ``jaxrg clt-rg [options]``
(= ``run``) builds the same parser (:func:`register_aliases`) and goes in the next release.
"""

from __future__ import annotations

import argparse

__all__ = ["register", "register_aliases"]

_DESCRIPTION = (
    "Ashworth, Liò, Caso (arXiv:2510.16591): the CLT as an RG flow, networks trained to "
    "approximate one step, their solution manifold, cumulant flows and generalisation. "
    "Resumable: re-run the same command to continue.")


def register(subparsers) -> None:
    """``jaxrg study clt-rg``: ``run`` trains the networks (resumable), ``report`` summarises.

    Args:
        subparsers: the study parsers of ``jaxrg study`` (an ``add_subparsers()`` object).

    Returns:
        None; ``run`` and ``report`` carry their ``func``.
    """
    study = subparsers.add_parser(
        "clt-rg", help="neural approximations of the CLT renormalisation step",
        description=_DESCRIPTION)
    actions = study.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_run(actions.add_parser("run", help="train the networks and write the results",
                                description=_DESCRIPTION))
    rep = actions.add_parser(
        "report", help="summarise the records again (summary.json) and redraw the figures",
        description="Reads OUT/config.json, clt_flow.json, runs.jsonl and drift.jsonl; trains "
        "nothing.")
    rep.add_argument("--out", default="results/clt_rg", help="results folder")
    rep.add_argument("--no-figures", action="store_true", help="skip the matplotlib figures")
    rep.set_defaults(func=_report)


def register_aliases(subparsers) -> None:
    """Add the previous release's spelling ``jaxrg clt-rg [options]`` (= ``run``).

    Args:
        subparsers: the ``add_subparsers()`` object of ``jaxrg``.

    Returns:
        None; the parser is that of ``jaxrg study clt-rg run`` under the old name.
    """
    _add_run(subparsers.add_parser(
        "clt-rg", help="alias of 'jaxrg study clt-rg run' (goes in the next release)",
        description=_DESCRIPTION))


def _add_run(clt: argparse.ArgumentParser) -> None:
    clt.add_argument("--out", default="results/clt_rg", help="output folder")
    clt.add_argument("--seeds", type=int, default=6, help="seeds per configuration")
    clt.add_argument("--steps", type=int, default=3000, help="training steps per network")
    clt.add_argument("--alpha", type=float, default=0.5, help="φ(x) = x + αx² (default 0.5)")
    clt.add_argument("--no-figures", action="store_true", help="skip the matplotlib figures")
    clt.add_argument("--quiet", action="store_true", help="no progress bar")
    clt.set_defaults(func=_clt_rg)


def _clt_rg(args: argparse.Namespace) -> int:
    from jaxrg._ranges import AT_LEAST_1, FINITE, require
    from jaxrg.studies.clt_rg.experiment import CLTRGConfig, run_clt_rg

    require(args, "--seeds", AT_LEAST_1)
    require(args, "--steps", AT_LEAST_1)
    require(args, "--alpha", FINITE)
    config = CLTRGConfig(
        seeds=args.seeds, steps=args.steps, alpha=args.alpha, figures=not args.no_figures
    )
    summary = run_clt_rg(args.out, config, progress=not args.quiet)
    _print_summary(summary, args.out)
    return 0


def _print_summary(summary: dict, out) -> None:
    for key, entry in summary["runs"].items():
        worst = max(entry["median_test_mse"].values())
        print(
            f"{key:32s} median test MSE (worst family) {worst:.2e}  "
            f"exact on all families: {entry['seeds_exact_everywhere']}/{entry['seeds']}"
        )
    print(f"results in {out}")


def _report(args: argparse.Namespace) -> int:
    from jaxrg.studies.clt_rg.experiment import report

    _print_summary(report(args.out, figures=not args.no_figures), args.out)
    return 0
