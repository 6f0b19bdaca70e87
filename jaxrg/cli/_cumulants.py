"""``jaxrg cumulants FILE``: sample cumulants and k-statistics of a column of numbers.

``jaxrg cumulants data.txt --column 0 --order 4`` prints the plug-in cumulants and the unbiased
k-statistics of one column of numbers (whitespace- or comma-separated; ``#`` comments).
The CLT/RG reproduction is ``jaxrg study clt-rg`` (:mod:`jaxrg.studies.clt_rg.cli`).
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np


def register(subparsers) -> None:
    cum = subparsers.add_parser(
        "cumulants",
        help="sample cumulants and k-statistics of a column of numbers",
        description="Plug-in cumulants (orders 1..ORDER) and unbiased k-statistics (orders "
        "1..min(ORDER, 4)) of one column of a text/CSV file.",
    )
    cum.add_argument("file", help="text or CSV file of numbers ('-' is not supported)")
    cum.add_argument("--column", type=int, default=0, help="0-based column (default 0)")
    cum.add_argument("--order", type=int, default=4, help="highest order (default 4)")
    cum.add_argument("--json", action="store_true", help="print JSON instead of a table")
    cum.set_defaults(func=_cumulants)


def _read_column(path: pathlib.Path, column: int) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    text = path.read_text(encoding="utf-8", errors="replace")
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.replace(",", " ").split()
        if column >= len(fields) or column < -len(fields):
            raise ValueError(f"{path}:{lineno}: no column {column} (the line has {len(fields)}).")
        try:
            rows.append(float(fields[column]))
        except ValueError:
            raise ValueError(
                f"{path}:{lineno}: {fields[column]!r} is not a number (column {column})."
            ) from None
    values = np.asarray(rows, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{path}: column {column} holds NaN or inf values; remove them first.")
    return values


def _cumulants(args: argparse.Namespace) -> int:
    import jax

    from jaxrg.cumulants import k_statistics, sample_cumulants

    if args.order < 1:
        raise ValueError(f"--order must be ≥ 1; got {args.order}.")
    values = _read_column(pathlib.Path(args.file), args.column)
    k_order = min(args.order, 4)
    if values.size < max(k_order, 2):
        raise ValueError(f"{args.file}: need at least {max(k_order, 2)} numbers (the k-statistics "
                         f"up to order {k_order}); column {args.column} has {values.size}.")
    with jax.enable_x64(True):
        kappa = np.asarray(sample_cumulants(values, args.order))
        kstat = np.asarray(k_statistics(values, k_order))
    if args.json:
        out = {"n": int(values.size), "cumulants": kappa.tolist(), "k_statistics": kstat.tolist()}
        print(json.dumps(out))
        return 0
    print(f"n = {values.size}")
    print(f"{'order':>5}  {'cumulant':>16}  {'k-statistic':>16}")
    for r in range(args.order):
        k = f"{kstat[r]:16.8g}" if r < k_order else f"{'':>16}"
        print(f"{r + 1:>5}  {kappa[r]:16.8g}  {k}")
    return 0
