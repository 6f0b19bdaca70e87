"""The ``jaxrg`` command line.

Every capability has a sub-command; each lives in its own module ``jaxrg/cli/_<name>.py`` with a
``register(subparsers)`` function that adds its parser and sets ``func`` (a callable taking the
parsed ``argparse.Namespace`` and returning an exit code or ``None``).

Errors a user can fix (missing file, bad format, bad argument, a missing optional package) are
raised as ``ValueError``, ``TypeError``, ``FileNotFoundError``,
:class:`jaxrg._optional.MissingDependency` or :class:`CLIError` and printed as one line with exit
code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from jaxrg._optional import MissingDependency

__all__ = ["CLIError", "EXAMPLES", "build_parser", "main"]

# Sub-command modules, in the order ``jaxrg --help`` lists them: those on the numerical core
# first, then the two whose parsers come from the studies (flax, optax, jraph).
_COMMANDS = ("_demo", "_curve", "_sparse", "_lrg", "_cumulants", "_bench", "_entropy", "_study")
#: modules a core command does not need: registering them imports the studies' CLI modules and
#: their dependencies, 0.17 s of a 2 s ``jaxrg demo`` (measured 2026-12-05, 2 cores)
_STUDY_BACKED = ("_entropy", "_study")


EXAMPLES = """examples:
  jaxrg demo                                   the spectral core on Zachary's karate club
  jaxrg curve graph.edgelist --png c.png       S, C, d_S and tau* of your graph
  jaxrg curve-sparse big.txt.gz --csv c.csv    the same for 10^4-10^7 nodes, with error bars
  jaxrg coarse-grain karate --auto --out lrg   the RG flow and the coarse graph at tau*
  jaxrg entropy logits.npy --alpha 0.5 1 inf   Renyi entropies of a logits file
  jaxrg study node-classification run          reproduce a study (also maxent, clt-rg, entropy-lens)
  jaxrg COMMAND --help                         the options of one command

User errors print one line and exit with code 2; long runs resume where they stopped."""


class CLIError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error contract: one line on stderr, exit code 2."""

    def error(self, message):  # noqa: D102 (argparse's hook)
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} "
                     f"(see '{self.prog} --help')\n")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``jaxrg`` parser with every sub-command.

    Args:
        argv: the arguments it will parse, if known. When their command (the first word not
            starting with ``-``; the global options take no value) is one of the core
            commands, the study-backed modules (:data:`_STUDY_BACKED`) are not registered, so a
            short command such as ``jaxrg demo`` does not import flax, optax and jraph.
            Default None: every sub-command (``jaxrg --help`` lists them all).

    Returns:
        The ``argparse.ArgumentParser``.
    """
    parser = _Parser(
        prog="jaxrg",
        description="Scale and entropy in representation learning, in JAX.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from jaxrg import __version__

    parser.add_argument("--version", action="version", version=f"jaxrg {__version__}")
    parser.add_argument(
        "--float32",
        action="store_true",
        help="compute in float32 (default: float64, for full accuracy of curves and scales)",
    )
    parser.add_argument(
        "--no-compile-cache",
        action="store_true",
        help="do not use the compilation cache ($JAXRG_CACHE_DIR, else ~/.cache/jaxrg/compile; "
        "also JAXRG_NO_COMPILE_CACHE=1), which makes repeated runs start fast",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    command = next((word for word in argv or () if not word.startswith("-")), None)
    for name in _COMMANDS:
        if name in _STUDY_BACKED and command is not None and command in subparsers.choices:
            continue  # a core command: the study-backed parsers would only cost imports
        importlib.import_module(f"jaxrg.cli.{name}").register(subparsers)
    for sub in _subparsers(parser):
        # global options work after the command name too; SUPPRESS keeps the top-level value
        sub.add_argument("--float32", action="store_true", default=argparse.SUPPRESS,
                         help="compute in float32 (default: float64); same as before the command")
        sub.add_argument("--no-compile-cache", action="store_true", default=argparse.SUPPRESS,
                         help="do not use the compilation cache (default: use it); same as "
                         "before the command")
    for sub in [parser, *_subparsers(parser)]:
        _show_defaults(sub)
    return parser


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Every option's help states its default; every sub-command has a description."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                if not sub.description and helps.get(name):
                    sub.description = helps[name][:1].upper() + helps[name][1:] + "."
            continue
        if not action.option_strings or action.help in (None, argparse.SUPPRESS):
            continue
        if isinstance(action, argparse._HelpAction | argparse._VersionAction):
            continue
        if "default" in action.help or action.required:
            continue
        if isinstance(action, argparse._StoreTrueAction):
            shown = "off"
        elif action.default is None:
            shown = "none"
        elif isinstance(action.default, list | tuple):
            shown = " ".join(str(v) for v in action.default)
        else:
            shown = str(action.default)
        action.help = f"{action.help} (default: {shown})".replace("%", "%%")


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every (nested) sub-command parser of ``parser``."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found.append(sub)
                found.extend(_subparsers(sub))
    return found


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``jaxrg`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    import jax

    # The CLI is an edge of the program (STYLE.md): precision is chosen here, never in the library.
    # An in-process caller (a notebook, a test) gets its own setting back afterwards.
    caller_x64 = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", not args.float32)
    try:
        return _run(args)
    finally:
        jax.config.update("jax_enable_x64", caller_x64)


def _run(args) -> int:
    """Run the chosen command; errors become one line on stderr and exit code 2."""
    from jaxrg._compile_cache import disabled, enable_compile_cache

    if not disabled(args.no_compile_cache):
        enable_compile_cache()
    try:
        code = args.func(args)
    except (CLIError, MissingDependency, ValueError, TypeError, FileNotFoundError,
            OSError) as err:
        message = " ".join(str(err).split())  # one line, whatever the exception carried
        print(f"jaxrg {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"jaxrg {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
