"""Range checks of numeric command-line options, before any data is read or any run starts.

A value out of range is a ``ValueError`` naming the option, the rule and the value, which the CLI
prints as one line with exit code 2 (never a silent replacement, a run that trains on nonsense, or
a hang).

Example:
    >>> import argparse
    >>> from jaxrg._ranges import AT_LEAST_1, require
    >>> require(argparse.Namespace(seeds=0), "--seeds", AT_LEAST_1)
    Traceback (most recent call last):
    ...
    ValueError: --seeds must be >= 1; got 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["AT_LEAST_1", "AT_LEAST_2", "FINITE", "NON_NEGATIVE", "POSITIVE_FINITE", "Rule",
           "require"]


class Rule(NamedTuple):
    """A predicate on an option's value and the words that state it in the error."""

    ok: Callable[[float], bool]
    text: str


AT_LEAST_1 = Rule(lambda v: v >= 1, ">= 1")
AT_LEAST_2 = Rule(lambda v: v >= 2, ">= 2")
NON_NEGATIVE = Rule(lambda v: v >= 0, ">= 0")
FINITE = Rule(math.isfinite, "finite (not NaN or inf)")
POSITIVE_FINITE = Rule(lambda v: 0 < v < math.inf, "a finite number > 0")


def require(args, option: str, rule: Rule, note: str = "") -> None:
    """Refuse ``option``'s value unless ``rule`` holds (an unset option, None, passes).

    Args:
        args: the parsed ``argparse.Namespace``.
        option: the option as typed, e.g. ``"--early-stopping"`` (its dest is derived).
        rule: the :class:`Rule` the value must satisfy (NaN fails every rule).
        note: words appended to the rule, e.g. ``" (0: off)"``.

    Returns:
        None.

    Raises:
        ValueError: ``"--seeds must be >= 1; got 0."``.
    """
    value = getattr(args, option.lstrip("-").replace("-", "_"), None)
    if value is not None and not rule.ok(value):
        raise ValueError(f"{option} must be {rule.text}{note}; got {value}.")
