"""``jaxrg study entropy-lens run|families|report``: Entropy-Lens on transformers trained here.

``jaxrg study entropy-lens run`` trains three families of small transformers on synthetic tasks
and runs the k-NN protocols of Ali et al. (2025) (:mod:`jaxrg.studies.entropy_lens.experiment`);
``families`` is the paper's design, four families at three sizes and a component ablation
(:mod:`jaxrg.studies.entropy_lens.families`); ``report`` prints the tables of a results folder
again. Both runs resume where they stopped. The previous release's spelling ``jaxrg entropy-lens
[options]`` (= ``run``) and ``jaxrg entropy-lens families`` are built by ``jaxrg.cli._entropy``
from :func:`add_run_options` and :func:`add_families_options`; they go in the next release.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib

__all__ = ["FAMILIES", "RUN", "add_families_options", "add_run_options", "register"]

#: help and description of the first reproduction's parser
RUN = dict(
    help="reproduce Entropy-Lens on small transformers trained here",
    description="Train three families of small transformers on synthetic tasks, extract "
    "logit-lens entropy profiles and run the k-NN protocols of Ali et al. (2025).")
#: help and description of the families design's parser
FAMILIES = dict(
    help="the paper's design: 4 families x 3 sizes trained here, and a component ablation",
    description="Train GPT-2-, LLaMA-, Gemma- and Qwen-like transformers at three sizes on "
    "tiny-shakespeare + synthetic tasks, classify family and size from entropy profiles "
    "(k-NN, 10-fold), task and correctness AUCs, and swap one component at a time "
    "(jaxrg.studies.entropy_lens.families). Resumable.")


def register(subparsers) -> None:
    """``jaxrg study entropy-lens``: the ``run`` and ``families`` reproductions and ``report``.

    Args:
        subparsers: where ``jaxrg study`` collects the study parsers.

    Returns:
        None; every action's parser sets ``func``.
    """
    study = subparsers.add_parser("entropy-lens", help=RUN["help"],
                                  description=RUN["description"])
    actions = study.add_subparsers(dest="action", metavar="ACTION", required=True)
    add_run_options(actions.add_parser("run", **RUN))
    add_families_options(actions.add_parser("families", **FAMILIES))
    rep = actions.add_parser(
        "report", help="print the tables of a results folder (from its summary.json)",
        description="The markdown tables of 'run' or 'families' (whichever wrote OUT), "
        "rebuilt from OUT/summary.json; trains nothing.")
    rep.add_argument("--out", type=pathlib.Path, default=pathlib.Path("results/entropy_lens"),
                     help="results folder of 'run' or 'families'")
    rep.set_defaults(func=_report)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options of the first reproduction (``run``), and its ``func``.

    Args:
        parser: the parser to extend (``study entropy-lens run``, or the old ``entropy-lens``).

    Returns:
        None.
    """
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path("results/entropy_lens"),
        help="output folder (default results/entropy_lens); resumes if present",
    )
    parser.add_argument("--quick", action="store_true", help="tiny settings (a smoke test)")
    parser.add_argument("--steps", type=int, help="training steps per model (default 2000)")
    parser.set_defaults(func=_run)


def add_families_options(parser: argparse.ArgumentParser) -> None:
    """The options of the families design (``families``), and its ``func``.

    Args:
        parser: the parser to extend.

    Returns:
        None.
    """
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path("results/entropy_lens_v2"),
                        help="output folder (default results/entropy_lens_v2); resumes if present")
    parser.add_argument("--quick", action="store_true", help="tiny settings (a smoke test)")
    parser.add_argument("--steps", type=int, help="training steps per model (default 600)")
    parser.add_argument("--data-dir", type=pathlib.Path, default=None,
                        help="folder holding text/input.txt (default $JAXRG_DATA)")
    parser.set_defaults(func=_families)


def _study_config(cls, args):
    """``cls()`` (or ``cls.quick()`` with --quick), with --steps applied."""
    config = cls.quick() if args.quick else cls()
    if args.steps is not None:
        if args.steps < 1:
            raise ValueError(f"--steps must be >= 1; got {args.steps}.")
        config = dataclasses.replace(config, steps=args.steps)
    return config


def _run(args) -> int:
    from jaxrg.studies.entropy_lens.experiment import LensConfig
    from jaxrg.studies.entropy_lens.experiment import run as run_study

    summary = run_study(args.out, _study_config(LensConfig, args))
    for r in summary["results"]:
        if r["features"] == "all" and r["alpha"] == 1.0:
            print(
                f"{r['analysis']:>8} {r['model']:>9}: accuracy {r['accuracy']:.3f}  "
                f"ROC-AUC {r['roc_auc']:.3f} (dummy {r['dummy_roc_auc']:.3f})"
            )
    print(f"tables: {args.out / 'results.md'}; figures and JSON in {args.out}")
    print(json.dumps({"models": len(summary["training"])}))
    return 0


def _families(args) -> int:
    from jaxrg.studies.entropy_lens.families import FamiliesConfig
    from jaxrg.studies.entropy_lens.families import run as run_study

    summary = run_study(args.out, _study_config(FamiliesConfig, args), data_dir=args.data_dir)
    for r in summary["results"]:
        if r["analysis"] in ("family", "size", "model") and r["features"] == "all":
            print(f"{r['analysis']:>7} alpha {r['alpha']:g}: macro-F1 {r['f1']:.4f} "
                  f"(dummy {r['dummy_f1']:.4f})")
    print(f"tables: {args.out / 'results.md'}; figures and JSON in {args.out}")
    return 0


def _report(args) -> int:
    from jaxrg.studies.entropy_lens import experiment, families
    from jaxrg.studies.entropy_lens.report import report

    path = args.out / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"no Entropy-Lens results in {args.out}: run "
                                "`jaxrg study entropy-lens run` (or `families`) first")
    summary = json.loads(path.read_text(encoding="utf-8"))
    # the published numbers in the order of the code (summary.json stores its keys sorted)
    if "ablation" in summary:
        text = families.families_report(summary | {"published": families.PUBLISHED})
    else:
        text = report(summary | {"published": experiment.PUBLISHED})
    print(text, end="")
    return 0
