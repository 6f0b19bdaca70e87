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


def _layout(rows, variants):
    """Lines ``(row index, variant, cell | None, published | None)`` and their slots.

    Each row gets as many slots as it has lines, and at least as many as its label has text
    lines (else a one-cell row's two-line label runs into its neighbours); its lines sit in the
    middle of its slots. Returns ``(lines, row_slots)`` with ``row_slots[r]`` the slots of row r.
    """
    lines, row_slots = [], []
    for r, row in enumerate(rows):
        published = row.get("published", {})
        count = 0
        for v in variants:
            cells = row["cells"].get(v, [])
            pub = published.get(v)
            if not cells and pub is not None:
                lines.append((r, v, None, pub))
                count += 1
            for k, cell in enumerate(cells):
                lines.append((r, v, cell, pub if k == 0 else None))
                count += 1
        row_slots.append(max(count, row["label"].count("\n") + 1))
    return lines, row_slots


def _split(row_slots: list[int], panels: int) -> list[list[int]]:
    """Consecutive rows in ``panels`` groups of about equal slots (reading order kept)."""
    total, groups, cursor = sum(row_slots), [[] for _ in range(panels)], 0
    for r, slots in enumerate(row_slots):
        # a row goes to the panel its middle falls in, so no panel is much taller than another
        p = min(int((cursor + slots / 2) * panels / total), panels - 1)
        groups[p].append(r)
        cursor += slots
    return [g for g in groups if g]


def _line_text(variant, cell, pub) -> str:
    """The text written right of a line: ``"MR: 72.2 ± 1.6+  τ=0.53  (published 75.2)"``."""
    text = ""
    if cell is not None:
        text = f"{cell['mean']:.1f} ± {cell['std']:.1f}{cell.get('mark', '')}"
        if cell.get("note"):
            text += f"  {cell['note']}"
    if pub is not None:
        text += f"{'  ' if text else ''}(published {pub[0]:.1f})"
    return f"{variant}: {text}"


def _draw_panel(ax, rows, lines, row_slots, members, variants, colours, handles):
    """Draw the rows ``members`` (indices into ``rows``) on ``ax``; returns its slot count."""
    members = set(members)
    mine = [line for line in lines if line[0] in members]  # consecutive rows, in order
    counts = [sum(1 for line in mine if line[0] == r) for r in sorted(members)]
    y, bands, cursor, start = np.zeros(len(mine)), [], 0.0, 0
    for r, count in zip(sorted(members), counts, strict=True):
        slots = row_slots[r]
        y[start:start + count] = -(cursor + (slots - count) / 2 + np.arange(count))
        bands.append((r, -cursor + 0.5, -(cursor + slots) + 0.5))
        cursor, start = cursor + slots, start + count
    for yi, (_, v, cell, pub) in zip(y, mine, strict=True):
        colour, marker = colours[v], _MARKERS[variants.index(v) % len(_MARKERS)]
        if cell is not None:
            bar = ax.errorbar(cell["mean"], yi, xerr=cell["std"], fmt=marker, color=colour,
                              capsize=2, ms=5)
            handles.setdefault(v, bar)
        if pub is not None:
            bar = ax.errorbar(pub[0], yi, xerr=pub[1], fmt=marker, mfc="none", color=colour,
                              ms=6, capsize=2, alpha=0.8)
            bar[-1][0].set_linestyle("--")
            handles.setdefault("published", bar)
        ax.text(1.01, yi, _line_text(v, cell, pub), transform=ax.get_yaxis_transform(),
                va="center", fontsize=7, color=colour)
    # row bands and labels (alternate shading continues across panels)
    for r, top, bottom in bands:
        if r % 2 == 0:
            ax.axhspan(bottom, top, color="0.94", zorder=0)
        ax.text(-0.01, (top + bottom) / 2, rows[r]["label"], ha="right", va="center",
                fontsize=8, transform=ax.get_yaxis_transform())
    ax.set_yticks([])
    ax.set_ylim(bands[-1][2] - 0.1, bands[0][1] + 0.1)
    ax.grid(True, axis="x", alpha=0.3)
    return cursor


def plot_accuracy_table(rows, *, variants: Sequence[str] | None = None,
                        xlabel: str = "test accuracy (%)", title: str | None = None,
                        max_slots: int = 64):
    """An accuracy table as a forest plot: rows are settings, markers are variants.

    Each row is a horizontal band; inside it every variant gets its own line with a marker at the
    mean and a bar of ± one standard deviation. Several cells for one variant (e.g. MR at two
    scales τ) are drawn one under the other with their ``note``. Published numbers are drawn as
    hollow markers with dashed bars on the variant's line, and a cell's ``mark`` (``"+"``/``"−"``
    from a significance test) is written after its bar. A table of more than ``max_slots`` lines
    is cut, between rows, into ``⌈lines / max_slots⌉`` panels of about equal height, laid out
    in reading order in a grid of at most two columns that share the value axis, so a long
    table stays a readable shape instead of a tall strip.

    Args:
        rows: ``R`` dicts ``{"label": str, "cells": {variant: [cell, ...]},
            "published": {variant: (mean, std)}}`` (``published`` optional), where a cell is
            ``{"mean": float, "std": float, "mark": str, "note": str}`` (``mark``/``note``
            optional). Rows are drawn top to bottom (then panel by panel) in the given order.
        variants: the variants to draw, in this order (default: every variant, in order of first
            appearance).
        xlabel: label of the value axis.
        title: figure title.
        max_slots: most lines (slots) in one panel, >= 1.

    Returns:
        ``matplotlib.figure.Figure``.

    Raises:
        ValueError: ``rows`` is empty, a row/cell lacks ``label``/``cells``/``mean``/``std``, or
            ``max_slots`` < 1.
    """
    rows = _check_rows(rows)
    if isinstance(max_slots, bool) or not isinstance(max_slots, int) or max_slots < 1:
        raise ValueError(f"max_slots must be an int >= 1 (lines per panel); got {max_slots!r}")
    if variants is None:
        variants = list(dict.fromkeys(v for row in rows for v in row["cells"]))
    colours = {v: f"C{i % 10}" for i, v in enumerate(variants)}
    lines, row_slots = _layout(rows, variants)
    groups = _split(row_slots, -(-sum(row_slots) // max_slots))
    tallest = max(sum(row_slots[r] for r in g) for g in groups)
    plt = pyplot()
    # A panel's axes are 5.58 in wide (7.2 in figure, default margins). Panels sit in a grid of
    # at most two columns; between two columns lie the line texts of the left panel and the row
    # labels of the right one (~0.055 in per character at 7 pt, ~0.065 in at 8 pt).
    axes_w, axes_h = 5.58, 0.28 * tallest
    columns = min(len(groups), 2)
    grid_rows = -(-len(groups) // columns)
    text_w = 0.055 * max((len(_line_text(*line[1:])) for line in lines), default=0) + 0.15
    label_w = 0.065 * max(len(part) for row in rows for part in row["label"].split("\n")) + 0.2
    gap = text_w + label_w
    width = 7.2 + (columns - 1) * (axes_w + gap)
    fig, axes = plt.subplots(grid_rows, columns,
                             figsize=(width, grid_rows * (0.9 + axes_h)),
                             squeeze=False, sharex=True)
    axes = list(axes.ravel())
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    axes = axes[:len(groups)]
    handles = {}
    for ax, members in zip(axes, groups, strict=True):
        slots = _draw_panel(ax, rows, lines, row_slots, members, variants, colours, handles)
        if slots < tallest:  # a shorter panel keeps the slot height of the tallest
            ax.set_ylim(0.5 - tallest - 0.1, 0.6)
        ax.set_xlabel(xlabel)
        ax.xaxis.set_tick_params(labelbottom=True)
    names = [v for v in [*variants, "published"] if v in handles]
    if len(axes) == 1:
        axes[0].legend([handles[n] for n in names], names, fontsize=7, ncol=len(names),
                       frameon=False, loc="upper center",
                       bbox_to_anchor=(0.5, -0.06 - 0.6 / tallest))
    else:
        height = grid_rows * (0.9 + axes_h)
        fig.subplots_adjust(left=0.9 / width, right=1 - 0.72 / width, wspace=gap / axes_w,
                            hspace=0.9 / axes_h, bottom=0.6 / height, top=1 - 0.3 / height)
        fig.legend([handles[n] for n in names], names, fontsize=7, ncol=len(names),
                   frameon=False, loc="upper center", bbox_to_anchor=(0.5, 0.0))
    if title:
        (axes[0].set_title if len(axes) == 1 else fig.suptitle)(title, fontsize=9)
    return fig
