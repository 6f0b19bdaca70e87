"""Tables and plots from the node-classification results (``results.jsonl``, ``kipf_gcn.jsonl``).

Cells are mean ± standard deviation of the test accuracy over seeds, in percent (population
std, ``numpy.std``, as the authors' ``statistics_and_graph_generator_single_node.py``); a ``+``
(``−``) marks a variant whose per-seed accuracies exceed (fall below) SB's by a one-sided exact
Wilcoxon signed-rank test at p < 0.05, paired by seed.
"""

from __future__ import annotations

import os
import pathlib
from collections import defaultdict

import numpy as np

from jaxrg import _io
from jaxrg.experiments.node_classification import KIPF_PUBLISHED, PUBLISHED
from jaxrg.experiments.stats import wilcoxon_signed_rank

VARIANTS = ("SB", "MB", "SR", "MR")
ALPHA = 0.05


def _results_path(path: str | os.PathLike, name: str) -> pathlib.Path:
    path = pathlib.Path(path)
    return path / name if path.is_dir() else path


def _setting(record) -> tuple:
    return (record["dataset"], record["encoder"], record["hidden"], record["learning_rate"])


def summarise(records: list[dict], *, epochs: int | None = None) -> list[dict]:
    """One row per (dataset, encoder, width, learning rate, epoch budget) with every variant.

    Args:
        records: lines of ``results.jsonl``.
        epochs: epoch budget to report (default: the largest budget of each setting).

    Returns:
        Rows ``{"dataset", "encoder", "hidden", "learning_rate", "epochs", "cells"}`` where
        ``cells[variant]`` = a list (one entry per scale τ, several for SR/MR runs at different
        scales) of ``{"mean", "std", "n", "tau", "scale_variant", "p_greater", "p_less",
        "mark"}`` (accuracies in %, p-values against SB; None where SB or pairs are missing).
    """
    by_setting = defaultdict(list)
    for record in records:
        by_setting[_setting(record)].append(record)
    rows = []
    for setting, group in sorted(by_setting.items(), key=lambda kv: str(kv[0])):
        budget = epochs if epochs is not None else max(r["epochs"] for r in group)
        acc = defaultdict(dict)  # (variant, tau) -> {seed: test accuracy}
        for r in group:
            if r["epochs"] == budget:
                key = (r["variant"], r["tau"], r.get("scale_variant"))
                acc[key][r["seed"]] = 100.0 * r["test_acc"]
        if not acc:
            continue
        base = next((v for (variant, _, _), v in acc.items() if variant == "SB"), None)
        cells = {}
        for (variant, tau, scale), per_seed in sorted(acc.items(), key=lambda kv: str(kv[0])):
            values = np.array(list(per_seed.values()))
            cell = {"mean": float(values.mean()), "std": float(values.std()), "n": values.size,
                    "tau": tau, "scale_variant": scale, "p_greater": None, "p_less": None,
                    "mark": ""}
            paired = sorted(set(per_seed) & set(base or {}))
            if variant != "SB" and len(paired) >= 2:
                x = np.array([per_seed[s] for s in paired])
                y = np.array([base[s] for s in paired])
                cell["p_greater"] = wilcoxon_signed_rank(x, y, alternative="greater").p_value
                cell["p_less"] = wilcoxon_signed_rank(x, y, alternative="less").p_value
                cell["mark"] = ("+" if cell["p_greater"] < ALPHA else
                                "−" if cell["p_less"] < ALPHA else "")
            cells.setdefault(variant, []).append(cell)
        rows.append({"dataset": setting[0], "encoder": setting[1], "hidden": setting[2],
                     "learning_rate": setting[3], "epochs": budget, "cells": cells})
    return rows


def _fmt(cells) -> str:
    if not cells:
        return "—"
    parts = []
    for cell in cells:
        tau = "" if cell["tau"] is None else f" (τ={cell['tau']:.3g}" + (
            ", authors' C)" if cell["scale_variant"] == "authors" else ")")
        parts.append(f"{cell['mean']:.1f} ± {cell['std']:.1f}{cell['mark']}{tau}")
    return "<br>".join(parts)


def markdown_table(rows: list[dict]) -> str:
    """The summary rows as a markdown table, with the published numbers where known."""
    lines = ["| dataset | encoder | width | lr | epochs | seeds | SB | MB | SR | MR | published |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        cells = row["cells"]
        seeds = max(c["n"] for group in cells.values() for c in group)
        published = ", ".join(
            f"{v}: {PUBLISHED[(row['dataset'], row['encoder'], v)][0]:.1f} ± "
            f"{PUBLISHED[(row['dataset'], row['encoder'], v)][1]:.1f}"
            for v in VARIANTS if (row["dataset"], row["encoder"], v) in PUBLISHED) or "—"
        width = "in" if row["hidden"] is None else str(row["hidden"])
        lines.append(f"| {row['dataset']} | {row['encoder'].upper()} | {width} | "
                     f"{row['learning_rate']:g} | {row['epochs']} | {seeds} | "
                     + " | ".join(_fmt(cells.get(v)) for v in VARIANTS) + f" | {published} |")
    return "\n".join(lines)


def kipf_table(records: list[dict]) -> str:
    """Markdown table of the Kipf & Welling GCN runs (final-model test accuracy, %)."""
    lines = ["| dataset | seeds | epochs | test accuracy (final model) | best-val checkpoint | "
             "published |", "|---|---|---|---|---|---|"]
    groups = defaultdict(list)
    for r in records:
        groups[(r["dataset"], r["epochs"], r["early_stopping"])].append(r)
    for (dataset, epochs, _), group in sorted(groups.items()):
        final = 100.0 * np.array([r["test_acc"] for r in group])
        best = 100.0 * np.array([r["best_val_test_acc"] for r in group])
        published = KIPF_PUBLISHED.get(dataset)
        lines.append(f"| {dataset} | {len(group)} | {epochs} | {final.mean():.1f} ± "
                     f"{final.std():.1f} | {best.mean():.1f} ± {best.std():.1f} | "
                     f"{'—' if published is None else f'{published:.1f}'} |")
    return "\n".join(lines)


def plot_table(rows: list[dict], path: str | os.PathLike) -> pathlib.Path:
    """The summary table (:func:`summarise` rows) as a figure: mean ± std per variant and setting.

    Hollow markers with dashed bars are the published numbers (Caso et al., IJCNN 2025) where
    known; ``+`` / ``−`` follow the mean as in the markdown table.

    Args:
        rows: rows of :func:`summarise`.
        path: PNG to write (atomically).

    Returns:
        ``path`` as a ``pathlib.Path``.
    """
    from jaxrg.plots._common import save
    from jaxrg.plots.tables import plot_accuracy_table

    figure_rows = []
    for row in rows:
        width = "in" if row["hidden"] is None else row["hidden"]
        label = (f"{row['dataset']} {row['encoder'].upper()}\nh={width}, "
                 f"lr={row['learning_rate']:g}, {row['epochs']} ep")
        cells = {v: [{"mean": c["mean"], "std": c["std"], "mark": c["mark"],
                      "note": "" if c["tau"] is None else f"τ={c['tau']:.3g}"}
                     for c in row["cells"][v]] for v in VARIANTS if v in row["cells"]}
        published = {v: PUBLISHED[(row["dataset"], row["encoder"], v)] for v in VARIANTS
                     if (row["dataset"], row["encoder"], v) in PUBLISHED}
        figure_rows.append({"label": label, "cells": cells, "published": published})
    fig = plot_accuracy_table(figure_rows, variants=VARIANTS,
                              title="test accuracy, mean ± std over seeds (+: > SB, Wilcoxon)")
    return save(fig, path)


def plot_budgets(records: list[dict], path: str | os.PathLike) -> pathlib.Path:
    """Test accuracy (mean ± std over seeds) against the epoch budget, one panel per setting."""
    from jaxrg.plots._common import pyplot, save

    plt = pyplot()
    by_setting = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in records:
        by_setting[_setting(r)][r["variant"]][r["epochs"]].append(100.0 * r["test_acc"])
    settings = sorted(by_setting, key=str)
    fig, axes = plt.subplots(1, len(settings), figsize=(4.2 * len(settings), 3.4), squeeze=False)
    for ax, setting in zip(axes[0], settings, strict=True):
        for variant in VARIANTS:
            curve = by_setting[setting].get(variant)
            if not curve:
                continue
            budgets = sorted(curve)
            mean = np.array([np.mean(curve[b]) for b in budgets])
            std = np.array([np.std(curve[b]) for b in budgets])
            ax.plot(budgets, mean, marker="o", ms=3, label=variant)
            ax.fill_between(budgets, mean - std, mean + std, alpha=0.2)
        dataset, encoder, hidden, lr = setting
        ax.set_title(f"{dataset} {encoder.upper()} (h={hidden or 'in'}, lr={lr:g})", fontsize=9)
        ax.set_xscale("log")
        ax.set_xlabel("epoch budget")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return save(fig, path)


# the keys that identify a record (as jaxrg.experiments.node_classification writes them)
RESULT_KEYS = ("dataset", "encoder", "variant", "tau", "hidden", "learning_rate", "seed",
               "epochs", "test_acc")
KIPF_KEYS = ("dataset", "seed", "epochs", "early_stopping", "test_acc", "best_val_test_acc")


def report(path: str | os.PathLike = "results/node_classification", *,
           epochs: int | None = None, out: str | os.PathLike | None = None,
           plot: str | os.PathLike | None = None,
           table_plot: str | os.PathLike | None = None) -> str:
    """Markdown report of a results folder (or a ``results.jsonl`` file).

    Args:
        path: the folder given to ``jaxrg experiment node-classification --out`` (or the file).
        epochs: epoch budget of the main table (default: each setting's largest).
        out: also write the markdown here (atomically).
        plot: also write the accuracy-vs-budget figure here (PNG).
        table_plot: also write the main table as a figure here (PNG, :func:`plot_table`).

    Returns:
        The markdown text.

    Raises:
        FileNotFoundError: no results in ``path``.
    """
    results = _results_path(path, "results.jsonl")
    records, twice = _io.unique_records(
        _io.read_jsonl(results, required=RESULT_KEYS), RESULT_KEYS[:-1])
    folder = pathlib.Path(path) if pathlib.Path(path).is_dir() else pathlib.Path(path).parent
    kipf, twice_kipf = _io.unique_records(
        _io.read_jsonl(folder / "kipf_gcn.jsonl", required=KIPF_KEYS), KIPF_KEYS[:4])
    if not records and not kipf:
        raise FileNotFoundError(f"no results.jsonl or kipf_gcn.jsonl records in {path}; run "
                                "`jaxrg experiment node-classification --out ...` first")
    parts = []
    rows = summarise(records, epochs=epochs) if records else []
    if records:
        parts += ["Test accuracy (%), mean ± std over seeds; + / − : one-sided exact Wilcoxon "
                  "signed-rank test against SB (paired by seed) with p < 0.05.", "",
                  markdown_table(rows)]
    if kipf:
        parts += ["", "Kipf & Welling GCN (public split, 200 epochs):", "", kipf_table(kipf)]
    for count, file in ((twice, results), (twice_kipf, folder / "kipf_gcn.jsonl")):
        if count:
            parts += ["", f"Note: {count} duplicate record(s) in {file} (the same run written "
                      "twice, e.g. by two processes at once) were ignored; the first of each "
                      "is used."]
    text = "\n".join(parts) + "\n"
    if out is not None:
        _io.atomic_write_text(out, text)
    if plot is not None and records:
        plot_budgets(records, plot)
    if table_plot is not None and rows:
        plot_table(rows, table_plot)
    return text
