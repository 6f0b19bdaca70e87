"""The README and the tour tell the truth: their Python runs and prints what it says, their
commands parse (README.md, then docs/getting_started.md and docs/tour.md).

The Python blocks run in order in one namespace, as a reader would paste them. A line
``expression  # [values]`` (or ``# (shape)``) promises an output: the expression is evaluated and
compared with the printed numbers to the printed precision. Every ``jaxrg ...`` command in a code
block or in inline code must be accepted by the CLI's parser (placeholders like ``GRAPH``
replaced by real values).
"""

import ast
import doctest
import pathlib
import re
import shlex

import numpy as np
import pytest

from jaxrg.cli import build_parser

ROOT = pathlib.Path(__file__).parents[1]
# the README's short tour, then the documentation's long one: read in this order, as a user would
PAGES = ("README.md", "docs/getting_started.md", "docs/tour.md")
README = "\n".join((ROOT / page).read_text(encoding="utf-8") for page in PAGES)
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
PLACEHOLDERS = {"GRAPH": "karate", "DIR": "out", "T": "1.0", "FILE": "rewired.edgelist",
                "EDGES.txt.gz": "edges.txt.gz", "COMMAND": "demo"}


def _promises(block: str):
    """(line number, expression source, printed literal) for every ``expr  # literal`` line."""
    for number, line in enumerate(block.splitlines()):
        code, _, comment = line.partition("  #")
        literal = re.match(r"\s*(\[[^\]]*\]|\([^)]*\))", comment)
        if not code.strip() or literal is None:
            continue
        try:
            tree = ast.parse(code.strip(), mode="eval")
        except SyntaxError:
            continue  # a statement (assignment, import), not a promised value
        yield number, ast.unparse(tree), literal.group(1)


def _numbers(text: str) -> np.ndarray:
    return np.array([float(x) for x in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", text)])


def _decimals(text: str) -> int:
    return max((len(x.split(".")[1]) for x in re.findall(r"\d+\.\d+", text)), default=0)


def test_python_blocks_run_and_print_what_the_readme_says():
    plain = [b for b in BLOCKS if not b.lstrip().startswith(">>>")]
    assert len(plain) >= 3, "the README lost its tour"
    namespace: dict = {}
    checked = 0
    for block in plain:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
        for number, expression, literal in _promises(block):
            value = np.asarray(eval(expression, namespace))  # noqa: S307
            expected = _numbers(literal)
            got = np.asarray(value, dtype=float).ravel()
            tolerance = 0.6 * 10.0 ** -_decimals(literal)
            assert got.shape == expected.shape and np.allclose(got, expected, rtol=0,
                                                               atol=tolerance), (
                f"README line {number} `{expression}` prints {got}, the README says {literal}")
            checked += 1
    assert checked >= 6, f"only {checked} promised outputs found in the README's Python"


def test_doctest_blocks_pass():
    blocks = [b for b in BLOCKS if b.lstrip().startswith(">>>")]
    assert blocks
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README block {i}", "README.md", 0))
    assert runner.summarize(verbose=False).failed == 0


def _commands() -> list[str]:
    code = "\n".join(re.findall(r"```(?:bash|text)\n(.*?)```", README, re.S))
    code = code.replace("\\\n", " ")
    lines = [re.sub(r"^\$ ", "", line).split("  #")[0].split(" | ")[0].strip()
             for line in code.splitlines()]
    inline = re.findall(r"`(jaxrg [^`]+)`", README)
    commands = []
    for line in lines + inline:
        for part in line.split("&&"):
            part = part.strip()
            if part.startswith("jaxrg ") and "COMMAND --help" not in part:
                commands.append(part)
    return commands


def test_every_readme_command_parses():
    commands = _commands()
    assert len(commands) >= 15, commands
    registered = set(build_parser()._subparsers._group_actions[0].choices)
    for command in commands:
        argv = [PLACEHOLDERS.get(word, word) for word in shlex.split(command)[1:]]
        assert argv[0] in registered or argv[0].startswith("--"), command
        if "--help" in argv:
            with pytest.raises(SystemExit) as exit_info:
                build_parser().parse_args(argv)
            assert exit_info.value.code == 0, command
            continue
        try:
            build_parser().parse_args(argv)
        except SystemExit as err:  # argparse rejects: the README is wrong
            pytest.fail(f"README command does not parse ({err.code}): {command}")
