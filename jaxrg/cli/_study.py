"""``jaxrg study <name> run|report [options]``: the four studies, one command shape.

Each study folder ``jaxrg/studies/<study>/cli.py`` registers its own parser (``register``) and
the previous release's spellings (``register_aliases``: ``jaxrg experiment ...``, ``jaxrg
report``, ``jaxrg maxent ...``, ``jaxrg clt-rg``; ``jaxrg entropy-lens`` is built in
:mod:`jaxrg.cli._entropy`), which go in the next release.

Examples (shell)::

    jaxrg study node-classification run --dataset cora --variant SB MB --seeds 10
    jaxrg study maxent report --out results/maxent
    jaxrg study clt-rg run --out results/clt_rg
    jaxrg study entropy-lens run --quick

Without the ``studies`` extra (flax, optax, jraph, tqdm) the commands are still listed, and
running one prints the one-line ``pip install`` that enables it (exit code 2).
"""

from __future__ import annotations

import importlib

from jaxrg._optional import MissingDependency

#: study folder -> its command name, in the order ``jaxrg study --help`` lists them
COMMANDS = {"node_classification": "node-classification", "maxent": "maxent",
            "clt_rg": "clt-rg", "entropy_lens": "entropy-lens"}
#: the old top-level commands each study's ``register_aliases`` adds
_ALIASES = {"node_classification": ("experiment", "report"), "maxent": ("maxent",),
            "clt_rg": ("clt-rg",)}


def register(subparsers) -> None:
    study = subparsers.add_parser(
        "study", help="reproduce a published study: jaxrg study NAME run|report [options]",
        description="The reproductions of published studies, one command shape: "
        "jaxrg study NAME ACTION [options]. Runs write JSON lines and resume where they stopped.")
    names = study.add_subparsers(dest="study", metavar="NAME", required=True)
    modules = {}
    for folder, command in COMMANDS.items():
        try:
            modules[folder] = importlib.import_module(f"jaxrg.studies.{folder}.cli")
        except MissingDependency as err:
            unavailable_parser(names, command, err)
            for alias in _ALIASES.get(folder, ()):
                unavailable_parser(subparsers, alias, err)
            continue
        modules[folder].register(names)
    for folder, module in modules.items():
        if folder in _ALIASES:
            module.register_aliases(subparsers)


def unavailable(error: MissingDependency):
    """A parser ``func`` that raises ``error`` (printed as one line with exit code 2)."""

    def func(args):
        raise error

    return func


def unavailable_parser(subparsers, name: str, error: MissingDependency) -> None:
    """A parser ``name`` that accepts any arguments and reports the missing extra."""
    parser = subparsers.add_parser(name, help=f"(needs the studies extra) {error}",
                                   add_help=False)
    parser.set_defaults(func=unavailable(error))
    parse = parser.parse_known_args
    # every argument is accepted (none is unrecognised), so running it reports the extra
    parser.parse_known_args = lambda args=None, namespace=None: (parse([], namespace)[0], [])
