"""Accuracy tables drawn as figures: one line per setting, mean ± std per variant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from jaxrg.plots._common import pyplot

__all__ = ["plot_accuracy_table"]

_MARKERS = ("o", "s", "D", "^", "v", "P")


def _check_rows(rows) -> list[Mapping]:
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence) or not rows:
        raise ValueError("rows must be a non-empty list of {'label': str, 'cells': {variant: "
                         "[{'mean', 'std'}, ...]}} dicts; got "
                         f"{type(rows).__name__}{'' if rows else ' (empty)'}")
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping) or "label" not in row or "cells" not in row:
            raise ValueError(f"rows[{i}] must be a dict with keys 'label' and 'cells'; got {row!r}")
        for variant, cells in row["cells"].items():
            for cell in cells:
                if not {"mean", "std"} <= set(cell):
                    raise ValueError(f"rows[{i}]['cells'][{variant!r}] entries need 'mean' and "
                                     f"'std'; got keys {sorted(cell)}")
    return list(rows)


def plot_accuracy_table(rows, *, variants: Sequence[str] | None = None,
                        xlabel: str = "test accuracy (%)", title: str | None = None):
    """An accuracy table as a forest plot: rows are settings, markers are variants.

    Each row is a horizontal band; inside it every variant gets its own line with a marker at the
    mean and a bar of ± one standard deviation. Several cells for one variant (e.g. MR at two
    scales τ) are drawn one under the other with their ``note``. Published numbers are drawn as
    hollow markers with dashed bars on the variant's line, and a cell's ``mark`` (``"+"``/``"−"``
    from a significance test) is written after its bar.

    Args:
        rows: ``R`` dicts ``{"label": str, "cells": {variant: [cell, ...]},
            "published": {variant: (mean, std)}}`` (``published`` optional), where a cell is
            ``{"mean": float, "std": float, "mark": str, "note": str}`` (``mark``/``note``
            optional). Rows are drawn top to bottom in the given order.
        variants: the variants to draw, in this order (default: every variant, in order of first
            appearance).
        xlabel: label of the value axis.
        title: figure title.

    Returns:
        ``matplotlib.figure.Figure``.

    Raises:
        ValueError: ``rows`` is empty or a row/cell lacks ``label``/``cells``/``mean``/``std``.
    """
    rows = _check_rows(rows)
    if variants is None:
        variants = list(dict.fromkeys(v for row in rows for v in row["cells"]))
    colours = {v: f"C{i % 10}" for i, v in enumerate(variants)}
    lines = []  # (row index, variant, cell or None, published or None)
    for r, row in enumerate(rows):
        published = row.get("published", {})
        for v in variants:
            cells = row["cells"].get(v, [])
            pub = published.get(v)
            if not cells and pub is not None:
                lines.append((r, v, None, pub))
            for k, cell in enumerate(cells):
                lines.append((r, v, cell, pub if k == 0 else None))
    # Each row gets as many slots as it has lines, and at least as many as its label has text
    # lines (else a one-cell row's two-line label runs into its neighbours); its lines sit in
    # the middle of its slots.
    y, bands, cursor = np.zeros(len(lines)), [], 0.0
    starts = [i for i, line in enumerate(lines) if i == 0 or lines[i - 1][0] != line[0]]
    ends = starts[1:] + [len(lines)]
    for s, e in zip(starts, ends, strict=True):
        slots = max(e - s, rows[lines[s][0]]["label"].count("\n") + 1)
        y[s:e] = -(cursor + (slots - (e - s)) / 2 + np.arange(e - s))
        bands.append((s, -cursor + 0.5, -(cursor + slots) + 0.5))
        cursor += slots
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 0.9 + 0.28 * cursor))
    handles = {}
    for yi, (_, v, cell, pub) in zip(y, lines, strict=True):
        colour, marker = colours[v], _MARKERS[variants.index(v) % len(_MARKERS)]
        text = ""
        if cell is not None:
            handles.setdefault(v, ax.errorbar(cell["mean"], yi, xerr=cell["std"], fmt=marker,
                                              color=colour, capsize=2, ms=5))
            text = f"{cell['mean']:.1f} ± {cell['std']:.1f}{cell.get('mark', '')}"
            if cell.get("note"):
                text += f"  {cell['note']}"
        if pub is not None:
            bar = ax.errorbar(pub[0], yi, xerr=pub[1], fmt=marker, mfc="none", color=colour,
                              ms=6, capsize=2, alpha=0.8)
            bar[-1][0].set_linestyle("--")
            handles.setdefault("published", bar)
            text += f"{'  ' if text else ''}(published {pub[0]:.1f})"
        ax.text(1.01, yi, f"{v}: {text}", transform=ax.get_yaxis_transform(), va="center",
                fontsize=7, color=colour)
    # row bands and labels
    for b, (s, top, bottom) in enumerate(bands):
        if b % 2 == 0:
            ax.axhspan(bottom, top, color="0.94", zorder=0)
        ax.text(-0.01, (top + bottom) / 2, rows[lines[s][0]]["label"], ha="right",
                va="center", fontsize=8, transform=ax.get_yaxis_transform())
    ax.set_yticks([])
    ax.set_ylim(bands[-1][2] - 0.1, bands[0][1] + 0.1)
    ax.set_xlabel(xlabel)
    ax.grid(True, axis="x", alpha=0.3)
    names = [v for v in [*variants, "published"] if v in handles]
    ax.legend([handles[n] for n in names], names, fontsize=7, ncol=len(names), frameon=False,
              loc="upper center", bbox_to_anchor=(0.5, -0.06 - 0.6 / cursor))
    if title:
        ax.set_title(title, fontsize=9)
    return fig
