"""Tables and plots from the node-classification results (``results.jsonl``, ``kipf_gcn.jsonl``).

Cells are mean ± standard deviation of the test accuracy over seeds, in percent (population
std, ``numpy.std``, as the authors' ``statistics_and_graph_generator_single_node.py``); a ``+``
(``−``) marks a variant whose per-seed accuracies exceed (fall below) SB's by a one-sided exact
Wilcoxon signed-rank test at p < 0.05, paired by seed. A second mark, labelled "pooled", repeats
the authors' own test: the per-node test correctness (0/1) of all seeds pooled into one sample,
paired by (seed, node) with SB's (their ``statistics_and_graph_generator_single_node.py`` passes
these lists to ``scipy.stats.wilcoxon(..., alternative="greater")``); it is available for records
that store ``test_correct``.

:func:`comparison` sets every cell of the published table (package data
``jaxrg/data/published_node_classification.csv``, a copy of Caso et al.'s table) beside ours
under the authors' protocol (:data:`PROTOCOL`).
"""

from __future__ import annotations

import os
import pathlib
from collections import defaultdict

import numpy as np

from jaxrg import _io
from jaxrg.studies.node_classification.experiment import (
    KEY_FIELDS,
    KIPF_PUBLISHED,
    decode_correct,
    default_hidden,
    default_split,
    with_defaults,
)
from jaxrg.studies.node_classification.stats import wilcoxon_signed_rank

__all__ = [
    "ALPHA",
    "DATASETS",
    "PROTOCOL",
    "PROTOCOL_EDGES",
    "PROTOCOL_SEEDS",
    "PUBLISHED",
    "VARIANTS",
    "collect",
    "comparison",
    "comparison_table",
    "kipf_table",
    "learned_scale_table",
    "markdown_table",
    "plot_budgets",
    "plot_table",
    "published_table",
    "report",
    "scale_ablation_table",
    "summarise",
]

VARIANTS = ("SB", "MB", "SR", "MR")
ALPHA = 0.05
DATASETS = ("citeseer", "cora", "europe", "pubmed", "photo", "computers")
#: The authors' protocol, which :func:`comparison` reads our cells from: PyTorch initialisation,
#: lr 1e-4, GCN without input projection, GAT at their width, their τ* pipeline, and their split
#: (Planetoid public; Amazon/Europe ordered).
PROTOCOL = {"init": "torch", "learning_rate": 1e-4, "scale_variant": "authors"}
#: seeds per published cell; a cell of ours with fewer is shown as partial and not compared
PROTOCOL_SEEDS = 10
#: the edges the authors' encoders read where they differ from both directions of every edge:
#: PyG's ``Airports`` keeps Europe's edge list as stored, each edge once (directed)
PROTOCOL_EDGES = {"europe": "as-stored"}
NOT_RUN = {"pubmed": "not run: `ind.pubmed.allx` (PubMed's features) is not obtainable here"}


def published_table() -> dict:
    """Caso et al.'s table as ``{(dataset, encoder, variant): (mean, std, mark)}`` (%, mark
    ``"+"``, ``"−"`` or ``""``), read from the package data file."""
    import importlib.resources

    text = importlib.resources.files("jaxrg").joinpath(
        "data/published_node_classification.csv").read_text(encoding="utf-8")
    table = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or line.startswith("dataset,"):
            continue
        dataset, encoder, variant, mean, std, mark = line.split(",")
        table[(dataset, encoder, variant)] = (float(mean), float(std),
                                              {"+": "+", "-": "−"}.get(mark, ""))
    return table


PUBLISHED = {k: v[:2] for k, v in published_table().items()}


def _results_path(path: str | os.PathLike, name: str) -> pathlib.Path:
    path = pathlib.Path(path)
    return path / name if path.is_dir() else path


def _setting(record) -> tuple:
    return (record["dataset"], record["encoder"], record["hidden"], record["learning_rate"],
            record.get("init", "flax"), record.get("split") or default_split(record["dataset"]),
            record.get("edges", "undirected"), record.get("propagation", "subgraph"))


def _dataset_label(row: dict) -> str:
    """The dataset's name, marked when the encoders read the edges as stored (directed) or
    trained on the full graphs."""
    edges = row.get("edges", "undirected")
    label = row["dataset"] if edges == "undirected" else f"{row['dataset']} (edges {edges})"
    return label if row.get("propagation", "subgraph") == "subgraph" else f"{label} (full graph)"


def _pooled(per_seed_correct: dict, base_correct: dict):
    """One-sided p-values (greater, less) of the authors' pooled per-node test, or None."""
    paired = sorted(set(per_seed_correct) & set(base_correct))
    if not paired:
        return None
    x = np.concatenate([per_seed_correct[s] for s in paired]).astype(np.float64)
    y = np.concatenate([base_correct[s] for s in paired]).astype(np.float64)
    if x.shape != y.shape:
        return None
    return (wilcoxon_signed_rank(x, y, alternative="greater").p_value,
            wilcoxon_signed_rank(x, y, alternative="less").p_value)


def summarise(records: list[dict], *, epochs: int | None = None) -> list[dict]:
    """One row per (dataset, encoder, width, learning rate, epoch budget) with every variant.

    Args:
        records: lines of ``results.jsonl``.
        epochs: epoch budget to report (default: the largest budget of each setting, and a
            further row at the largest budget of every run that stopped short of it, so that
            no recorded variant is left out: e.g. SR trained for 200 epochs beside SB and MB
            trained for 1000 gets its own row at 200).

    Returns:
        Rows ``{"dataset", "encoder", "hidden", "learning_rate", "init", "split", "edges",
        "epochs", "cells"}`` where ``cells[variant]`` = a list (one entry per scale τ, several
        for SR/MR runs at different scales) of ``{"mean", "std", "n", "tau", "scale_variant",
        "p_greater", "p_less", "mark", "pooled_mark"}`` (accuracies in %, p-values against SB
        paired by seed; ``pooled_mark`` from the authors' pooled per-node test, None when the
        records hold no per-node correctness; None where SB or pairs are missing).
    """
    by_setting = defaultdict(list)
    for record in records:
        by_setting[_setting(record)].append(record)
    rows = []
    for setting, group in sorted(by_setting.items(), key=lambda kv: str(kv[0])):
        if epochs is not None:
            budgets = [epochs]
        else:  # the largest budget of each run (variant and scale) in this setting
            largest = defaultdict(int)
            for r in group:
                largest[_run_key(r)] = max(largest[_run_key(r)], r["epochs"])
            budgets = sorted(set(largest.values()), reverse=True)
        rows += [row for budget in budgets
                 if (row := _summarise_budget(setting, group, budget)) is not None]
    return rows


def _run_key(record: dict) -> tuple:
    """A run within a setting: (variant, τ, scale variant, scale source, τ rate)."""
    return (record["variant"], record["tau"], record.get("scale_variant"),
            record.get("scale_source", "structure"), record.get("tau_rate", 1.0))


def _summarise_budget(setting: tuple, group: list[dict], budget: int) -> dict | None:
    """The row of :func:`summarise` for one setting at one epoch budget (None: no records)."""
    acc = defaultdict(dict)  # (variant, tau) -> {seed: test accuracy}
    correct = defaultdict(dict)  # (variant, tau) -> {seed: per-node correctness}
    learned = defaultdict(dict)  # (variant, tau) -> {seed: trained τ} (SL, ML)
    for r in group:
        if r["epochs"] == budget:
            key = _run_key(r)
            acc[key][r["seed"]] = 100.0 * r["test_acc"]
            if r.get("learned_tau") is not None:
                learned[key][r["seed"]] = r["learned_tau"]
            if r.get("test_correct") is not None:
                correct[key][r["seed"]] = r["test_correct"]
    if not acc:
        return None
    base_key = next((k for k in acc if k[0] == "SB"), None)
    base = acc.get(base_key)
    base_correct = _decode_all(correct.get(base_key, {}))
    cells = {}
    for key, per_seed in sorted(acc.items(), key=lambda kv: str(kv[0])):
        variant, tau, scale, source, tau_rate = key
        values = np.array(list(per_seed.values()))
        cell = {"mean": float(values.mean()), "std": float(values.std()), "n": values.size,
                "tau": tau, "scale_variant": scale, "scale_source": source,
                "tau_rate": tau_rate,
                "p_greater": None, "p_less": None, "mark": "",
                "learned_tau": (np.array(list(learned[key].values()))
                                if learned.get(key) else None)}
        paired = sorted(set(per_seed) & set(base or {}))
        if variant != "SB" and len(paired) >= 2:
            x = np.array([per_seed[s] for s in paired])
            y = np.array([base[s] for s in paired])
            cell["p_greater"] = wilcoxon_signed_rank(x, y, alternative="greater").p_value
            cell["p_less"] = wilcoxon_signed_rank(x, y, alternative="less").p_value
            cell["mark"] = ("+" if cell["p_greater"] < ALPHA else
                            "−" if cell["p_less"] < ALPHA else "")
        cell["pooled_mark"] = None
        pooled = (_pooled(_decode_all(correct.get(key, {})), base_correct)
                  if variant != "SB" else None)
        if pooled is not None:
            cell["pooled_mark"] = ("+" if pooled[0] < ALPHA else
                                   "−" if pooled[1] < ALPHA else "")
        cells.setdefault(variant, []).append(cell)
    return {"dataset": setting[0], "encoder": setting[1], "hidden": setting[2],
            "learning_rate": setting[3], "init": setting[4], "split": setting[5],
            "edges": setting[6], "propagation": setting[7], "epochs": budget,
            "cells": cells}


def _decode_all(encoded: dict) -> dict:
    """{seed: base64 bits} → {seed: bool array of whole bytes}. The few padding bits at the end
    are 0 in every record of a setting, so they pair as zero differences, which the signed-rank
    test drops."""
    import base64

    return {seed: decode_correct(text, len(base64.b64decode(text)) * 8)
            for seed, text in encoded.items()}


_SCALE_LABELS = {"authors": ", authors' pipeline)", "authors-analytic": ", authors' C analytic)"}


def _pooled_label(cell: dict) -> str:
    """`` [pooled +]``-style label of the authors' pooled test, empty when it was not run."""
    mark = cell.get("pooled_mark")
    return "" if mark is None else f" [pooled {mark or '·'}]"


def _fmt(cells) -> str:
    if not cells:
        return "—"
    parts = []
    for cell in cells:
        tau = "" if cell["tau"] is None else (
            f" (τ{'*_X' if cell.get('scale_source') == 'features' else ''}={cell['tau']:.3g}"
            + _SCALE_LABELS.get(cell["scale_variant"], ")"))
        if cell.get("learned_tau") is not None:
            tau += (f" → learned τ = {cell['learned_tau'].mean():.3g} ± "
                    f"{cell['learned_tau'].std():.2g}")
            if cell.get("tau_rate", 1.0) != 1.0:
                tau += f" (τ step ×{cell['tau_rate']:g})"
        pooled = _pooled_label(cell)
        parts.append(f"{cell['mean']:.1f} ± {cell['std']:.1f}{cell['mark']}{pooled}{tau}")
    return "<br>".join(parts)


def markdown_table(rows: list[dict]) -> str:
    """The summary rows as a markdown table, with the published numbers where known."""
    lines = ["| dataset | encoder | width | lr | init | split | epochs | seeds | SB | MB | SR | MR "
             "| published |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        cells = row["cells"]
        seeds = max(c["n"] for group in cells.values() for c in group)
        published = ", ".join(
            f"{v}: {PUBLISHED[(row['dataset'], row['encoder'], v)][0]:.1f} ± "
            f"{PUBLISHED[(row['dataset'], row['encoder'], v)][1]:.1f}"
            for v in VARIANTS if (row["dataset"], row["encoder"], v) in PUBLISHED) or "—"
        width = "in" if row["hidden"] is None else str(row["hidden"])
        lines.append(f"| {_dataset_label(row)} | {row['encoder'].upper()} | {width} | "
                     f"{row['learning_rate']:g} | {row['init']} | {row['split']} | "
                     f"{row['epochs']} | {seeds} | "
                     + " | ".join(_fmt(cells.get(v)) for v in VARIANTS) + f" | {published} |")
    return "\n".join(lines)


def learned_scale_table(rows: list[dict]) -> str:
    """The settings that ran a learned-scale variant (SD, MD, SL, ML): every choice of scale
    side by side, each marked against SB (empty when no such run)."""
    from jaxrg.studies.node_classification.learned_scale import LEARNED_VARIANTS

    columns = ("SB", "SR", "MR") + LEARNED_VARIANTS
    lines = ["| dataset | encoder | width | lr | epochs | " + " | ".join(columns) + " |",
             "|---|---|---|---|---|" + "---|" * len(columns)]
    for row in rows:
        if not any(v in row["cells"] for v in LEARNED_VARIANTS):
            continue
        width = "in" if row["hidden"] is None else str(row["hidden"])
        lines.append(f"| {_dataset_label(row)} | {row['encoder'].upper()} | {width} | "
                     f"{row['learning_rate']:g} | {row['epochs']} | "
                     + " | ".join(_fmt(row["cells"].get(v)) for v in columns) + " |")
    return "\n".join(lines) if len(lines) > 2 else ""


def scale_ablation_table(rows: list[dict], *, spread: float = 3.0, minimum: int = 6) -> str:
    """τ* against random scales: the settings whose MR ran at ``minimum`` or more scales.

    The ablation of Caso et al. (IJCNN 2025): MR trained with the renormalised graph at τ* (a
    cell whose ``scale_variant`` is ``"authors"`` or ``"authors-analytic"``; the pipeline's
    when both ran) and at scales drawn at random (every other MR cell of the setting). The
    random scales are grouped by where they fall: below τ*/``spread``, within
    [τ*/``spread``, ``spread``·τ*], above. Per group: count, mean, best and worst of the
    per-scale mean accuracies; then how many random scales beat τ* and τ*'s rank among all.
    When MR also ran at the feature-aware τ*_X (``scale_source == "features"``, issue 21), a
    column ranks it among the same random scales (τ*_X is not one of them); when ML ran in the
    same setting (heat diffusion beside the base encoder, τ learned from the normalised
    Laplacian's τ*; issue 21), the last column ranks it there too, with the learned τ.

    Args:
        rows: :func:`summarise` rows.
        spread: the factor that bounds the "around τ*" group.
        minimum: MR scales a setting needs to count as an ablation.

    Returns:
        A markdown table (empty string when no setting qualifies).
    """
    lines = ["| dataset | encoder | width | lr | epochs | seeds | SB | MR at τ* | "
             f"random τ < τ*/{spread:g} | τ*/{spread:g} ≤ τ ≤ {spread:g}τ* | "
             f"τ > {spread:g}τ* | random scales beating τ* | rank of τ* | MR at τ*_X "
             "(rank among the random scales) | ML, learned τ (rank among the random scales) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        cells = row["cells"].get("MR", [])
        chosen = [c for c in cells if c["scale_variant"] in _SCALE_LABELS]
        stars = sorted((c for c in chosen if c.get("scale_source", "structure") == "structure"),
                       key=lambda c: c["scale_variant"] != "authors")
        if len(cells) < minimum or not stars:
            continue
        star = stars[0]
        feature_stars = sorted((c for c in chosen if c.get("scale_source") == "features"),
                               key=lambda c: c["scale_variant"] != star["scale_variant"])
        random = [c for c in cells if c["scale_variant"] not in _SCALE_LABELS]
        groups = ([c for c in random if c["tau"] < star["tau"] / spread],
                  [c for c in random if star["tau"] / spread <= c["tau"] <= spread * star["tau"]],
                  [c for c in random if c["tau"] > spread * star["tau"]])

        def group(cs):
            if not cs:
                return "—"
            means = [c["mean"] for c in cs]
            return (f"n={len(cs)}: {np.mean(means):.1f} (best {max(means):.1f}, "
                    f"worst {min(means):.1f})")

        beating = sum(c["mean"] > star["mean"] for c in random)
        def ranked(cell, label, random=random):
            if cell is None:
                return "—"
            rank = sum(c["mean"] > cell["mean"] for c in random) + 1
            return (f"{cell['mean']:.1f} ± {cell['std']:.1f}{cell['mark']} "
                    f"({label}; {rank} of {len(random) + 1})")

        fx = feature_stars[0] if feature_stars else None
        feature_cell = ranked(fx, fx and f"τ*_X={fx['tau']:.3g}")
        learned = [c for c in row["cells"].get("ML", [])
                   if c.get("learned_tau") is not None and c.get("tau_rate", 1.0) == 1.0
                   and c["scale_variant"] in _SCALE_LABELS]
        ml = learned[0] if learned else None
        learned_cell = ranked(ml, ml and (f"τ: {ml['tau']:.3g} → {ml['learned_tau'].mean():.3g} "
                                          "of L̂"))
        base = row["cells"].get("SB")
        width = "in" if row["hidden"] is None else str(row["hidden"])
        lines.append(
            f"| {_dataset_label(row)} | {row['encoder'].upper()} | {width} | "
            f"{row['learning_rate']:g} | {row['epochs']} | {star['n']} | "
            f"{_fmt(base) if base else '—'} | {star['mean']:.1f} ± {star['std']:.1f}{star['mark']} "
            f"(τ*={star['tau']:.3g}{_SCALE_LABELS[star['scale_variant']]} | "
            + " | ".join(group(g) for g in groups)
            + f" | {beating} of {len(random)} | {beating + 1} of {len(random) + 1} | "
            f"{feature_cell} | {learned_cell} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def _protocol_width(row: dict) -> str | None:
    """``"default"`` or ``"reduced"`` for a row at one of the authors' widths, else None.

    Their GCN has no input projection unless ``--dim_reduction`` is given, when it projects to
    :data:`~jaxrg.studies.node_classification.experiment.GCN_REDUCED_HIDDEN`; their GAT always
    projects (:func:`~jaxrg.studies.node_classification.experiment.default_hidden`).
    """
    dataset, encoder = row["dataset"], row["encoder"]
    if row["hidden"] == default_hidden(dataset, encoder):
        return "default"
    if row["hidden"] == default_hidden(dataset, encoder, reduced=True):
        return "reduced"
    return None


def _is_protocol(row: dict) -> bool:
    """A summary row run under the authors' protocol (:data:`PROTOCOL`), at either width."""
    split = "public" if row["dataset"] in ("cora", "citeseer", "pubmed") else "ordered"
    return (row["init"] == PROTOCOL["init"] and row["split"] == split
            and row.get("propagation", "subgraph") == "subgraph"
            and row["learning_rate"] == PROTOCOL["learning_rate"]
            and _protocol_width(row) is not None)


def comparison(rows: list[dict]) -> list[dict]:
    """Every published cell beside ours under the authors' protocol.

    Our cell of a (dataset, encoder, variant) is taken from the :func:`summarise` rows that
    follow :data:`PROTOCOL` (SR/MR: at the τ* of the authors' pipeline), preferring the
    authors' edges (:data:`PROTOCOL_EDGES`: Europe as stored), then a complete run
    (:data:`PROTOCOL_SEEDS` seeds), then the GCN without input projection over their GCN's
    ``--dim_reduction`` width (the paper does not say which its cells used), then the most
    seeds, then the largest epoch budget. A cell on other edges than theirs, or at the reduced
    width, says so in its note (with the default width's partial run, if any). Cells without
    such a run say so; PubMed says why.

    Args:
        rows: rows of :func:`summarise`.

    Returns:
        One dict per published cell, in the published table's order: ``dataset``, ``encoder``,
        ``variant``, ``published`` (mean, std, mark), ``ours`` (the summary cell or None),
        ``epochs``, ``hidden`` (our cell's width), ``diff`` (ours − published, points, or
        None), ``within_2sd`` (|diff| ≤ 2 × the pooled std), ``mark_reproduced`` (our
        paired-by-seed mark equals the published one), ``note``. A run with fewer than
        :data:`PROTOCOL_SEEDS` seeds (a long run still going) is named in the note and not
        compared.
    """
    published = published_table()
    out = []
    for (dataset, encoder, variant), (mean, std, mark) in published.items():
        best, default_partial = None, None
        for row in rows:
            if (row["dataset"], row["encoder"]) != (dataset, encoder) or not _is_protocol(row):
                continue
            width = _protocol_width(row)
            for cell in row["cells"].get(variant, []):
                if variant in ("SR", "MR") and cell["scale_variant"] != "authors":
                    continue
                edges = row.get("edges", "undirected")
                complete = cell["n"] >= PROTOCOL_SEEDS
                key = (edges == PROTOCOL_EDGES.get(dataset, "undirected"), complete,
                       width == "default", cell["n"], row["epochs"])
                if best is None or key > best[0]:
                    best = (key, cell, row["epochs"], edges, row["hidden"], width)
                if width == "default" and not complete and (
                        default_partial is None or cell["n"] > default_partial["n"]):
                    default_partial = cell
        entry = {"dataset": dataset, "encoder": encoder, "variant": variant,
                 "published": (mean, std, mark), "ours": None, "epochs": None, "diff": None,
                 "within_2sd": None, "mark_reproduced": None, "hidden": None,
                 "note": NOT_RUN.get(dataset, "not run yet under the authors' protocol")}
        if best is not None and best[1]["n"] < PROTOCOL_SEEDS:
            _, cell, epochs, _, hidden, width = best
            at = f" at their `--dim_reduction` width h = {hidden}" if width == "reduced" else ""
            entry["note"] = (f"partial: {cell['n']} of {PROTOCOL_SEEDS} seeds so far{at}, "
                             f"{cell['mean']:.1f} at {epochs} epochs (not compared)")
        elif best is not None:
            _, cell, epochs, edges, hidden, width = best
            pooled_sd = float(np.sqrt((cell["std"] ** 2 + std**2) / 2))
            diff = cell["mean"] - mean
            notes = []
            if edges != PROTOCOL_EDGES.get(dataset, "undirected"):
                notes.append(f"{edges} edges (theirs: {PROTOCOL_EDGES[dataset]})"
                             if dataset in PROTOCOL_EDGES else f"{edges} edges")
            if width == "reduced":
                notes.append(f"their GCN `--dim_reduction` width, h = {hidden}" + (
                    "" if default_partial is None else
                    f" (without projection: {default_partial['n']} of {PROTOCOL_SEEDS} seeds, "
                    f"{default_partial['mean']:.1f})"))
            entry.update(ours=cell, epochs=epochs, diff=diff, hidden=hidden,
                         within_2sd=abs(diff) <= 2 * pooled_sd,
                         mark_reproduced=None if variant == "SB" else cell["mark"] == mark,
                         note="; ".join(notes))
        out.append(entry)
    return out


def comparison_table(entries: list[dict]) -> str:
    """:func:`comparison` as markdown, with the Cora+Citeseer mean difference underneath."""
    lines = ["| dataset | model | published | ours (authors' protocol) | epochs | ours − published "
             "| within 2 sd | +/− reproduced | note |", "|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        mean, std, mark = e["published"]
        model = f"{e['encoder'].upper()}_{e['variant']}"
        if e["ours"] is None:
            lines.append(f"| {e['dataset']} | {model} | {mean:.1f} ± {std:.1f}{mark} | — | — | — "
                         f"| — | — | {e['note']} |")
            continue
        cell = e["ours"]
        pooled = _pooled_label(cell)
        reproduced = "—" if e["mark_reproduced"] is None else (
            "yes" if e["mark_reproduced"] else "no")
        lines.append(f"| {e['dataset']} | {model} | {mean:.1f} ± {std:.1f}{mark} | "
                     f"{cell['mean']:.1f} ± {cell['std']:.1f}{cell['mark']}{pooled} (n={cell['n']})"
                     f" | {e['epochs']} | {e['diff']:+.1f} | {'yes' if e['within_2sd'] else 'no'} "
                     f"| {reproduced} | {e['note']} |")
    diffs = [e["diff"] for e in entries
             if e["diff"] is not None and e["dataset"] in ("cora", "citeseer")]
    run = sum(e["ours"] is not None for e in entries)
    lines += ["", f"Cells run under the authors' protocol: {run} of {len(entries)}. "
              + (f"Cora + Citeseer: mean difference {np.mean(diffs):+.2f} points over "
                 f"{len(diffs)} of 16 cells." if diffs else "Cora + Citeseer: no cell run yet.")]
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
        label = (f"{_dataset_label(row)} {row['encoder'].upper()}\nh={width}, "
                 f"lr={row['learning_rate']:g}, {row['init']}, {row['epochs']} ep")
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
    from jaxrg.plots._common import panel_grid, save

    by_setting = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in records:
        by_setting[_setting(r)][r["variant"]][r["epochs"]].append(100.0 * r["test_acc"])
    settings = sorted(by_setting, key=str)
    fig, axes = panel_grid(len(settings), panel=(4.2, 3.4))
    for ax, setting in zip(axes, settings, strict=True):
        for variant in VARIANTS:
            curve = by_setting[setting].get(variant)
            if not curve:
                continue
            budgets = sorted(curve)
            mean = np.array([np.mean(curve[b]) for b in budgets])
            std = np.array([np.std(curve[b]) for b in budgets])
            ax.plot(budgets, mean, marker="o", ms=3, label=variant)
            ax.fill_between(budgets, mean - std, mean + std, alpha=0.2)
        dataset, encoder, hidden, lr, init, _, edges, propagation = setting
        dataset = _dataset_label({"dataset": dataset, "edges": edges,
                                  "propagation": propagation})
        ax.set_title(f"{dataset} {encoder.upper()} (h={hidden or 'in'}, lr={lr:g}, {init})",
                     fontsize=9)
        ax.set_xscale("log")
        ax.set_xlabel("epoch budget")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)


# the keys that identify a record (as jaxrg.studies.node_classification.experiment writes them)
RESULT_KEYS = ("dataset", "encoder", "variant", "tau", "hidden", "learning_rate", "seed",
               "epochs", "test_acc")
KIPF_KEYS = ("dataset", "seed", "epochs", "early_stopping", "test_acc", "best_val_test_acc")


def collect(sources, out: str | os.PathLike = "results/node_classification"
            ) -> dict[str, _io.Collected]:
    """Add the runs of other results folders (another machine, a GPU, a worktree) to ``out``.

    Every record whose key (:data:`KEY_FIELDS`, old records read with :func:`with_defaults`;
    Kipf's GCN: dataset, seed, epochs, early stopping) ``out`` lacks is appended to
    ``out/results.jsonl`` (``out/kipf_gcn.jsonl``); a key already there keeps its record, so
    collecting twice adds nothing (:func:`jaxrg._io.collect_jsonl`).

    Args:
        sources: results folders (their ``results.jsonl`` and ``kipf_gcn.jsonl``, whichever
            exist) or files (a file named ``kipf_gcn.jsonl`` goes to Kipf's file, any other
            ``.jsonl`` to ``results.jsonl``).
        out: the results folder to extend.

    Returns:
        ``{file name: Collected counts}`` for each of the two files some source fed.

    Raises:
        FileNotFoundError: a source folder without either file, or a missing file.
        ValueError: a source line that is not a record of this study (the message names it).
    """
    out = pathlib.Path(out)
    feeds: dict[str, list[pathlib.Path]] = {"results.jsonl": [], "kipf_gcn.jsonl": []}
    for source in map(pathlib.Path, sources):
        if source.is_dir():
            found = [source / name for name in feeds if (source / name).is_file()]
            if not found:
                raise FileNotFoundError(f"{source} holds neither results.jsonl nor "
                                        "kipf_gcn.jsonl; pass a folder a run wrote.")
        else:
            found = [source]
        for path in found:
            feeds["kipf_gcn.jsonl" if path.name == "kipf_gcn.jsonl" else "results.jsonl"
                  ].append(path)
    keys = {"results.jsonl": (lambda r: tuple(with_defaults(r)[f] for f in KEY_FIELDS),
                              RESULT_KEYS, ("test_acc",)),
            "kipf_gcn.jsonl": (lambda r: tuple(r[f] for f in KIPF_KEYS[:4]), KIPF_KEYS,
                               ("test_acc", "best_val_test_acc"))}
    done = {}
    for name, paths in feeds.items():
        if paths:
            key, required, finite = keys[name]
            done[name] = _io.collect_jsonl(paths, out / name, key, compare=finite,
                                           required=required, finite=finite)
    return done


def report(path: str | os.PathLike = "results/node_classification", *,
           epochs: int | None = None, out: str | os.PathLike | None = None,
           plot: str | os.PathLike | None = None,
           table_plot: str | os.PathLike | None = None) -> str:
    """Markdown report of a results folder (or a ``results.jsonl`` file).

    Args:
        path: the folder given to ``jaxrg study node-classification run --out`` (or the file).
        epochs: epoch budget of the main table (default: each setting's largest).
        out: also write the markdown here (atomically).
        plot: also write the accuracy-vs-budget figure here (PNG).
        table_plot: also write the main table as a figure here (PNG, :func:`plot_table`).

    Returns:
        The markdown text.

    Raises:
        FileNotFoundError: no results in ``path``.
        ValueError: a record with a non-finite accuracy (naming the file and line), or an
            ``epochs`` budget that no run has.
    """
    results = _results_path(path, "results.jsonl")
    records, twice = _io.unique_records(
        [with_defaults(r) for r in _io.read_jsonl(results, required=RESULT_KEYS,
                                                  finite=("test_acc",))],
        KEY_FIELDS)
    folder = pathlib.Path(path) if pathlib.Path(path).is_dir() else pathlib.Path(path).parent
    kipf, twice_kipf = _io.unique_records(
        _io.read_jsonl(folder / "kipf_gcn.jsonl", required=KIPF_KEYS,
                       finite=("test_acc", "best_val_test_acc")), KIPF_KEYS[:4])
    if not records and not kipf:
        raise FileNotFoundError(f"no results.jsonl or kipf_gcn.jsonl records in {path}; run "
                                "`jaxrg study node-classification run --out ...` first")
    budgets = sorted({r["epochs"] for r in records})
    if epochs is not None and records and epochs not in budgets:
        raise ValueError(f"no run in {results} has an epoch budget of {epochs} (--epochs); the "
                         f"budgets there are {', '.join(map(str, budgets))}.")
    parts = []
    rows = summarise(records, epochs=epochs) if records else []
    if records:
        entries = comparison(rows)
        if any(e["ours"] is not None for e in entries):
            parts += ["Published cells (Caso et al., IJCNN 2025) beside ours under the authors' "
                      "protocol (PyTorch init, lr 1e-4, their widths, their τ* pipeline, their "
                      "splits):", "", comparison_table(entries), ""]
        else:  # an ablation or a study of other settings: no empty 48-row comparison
            parts += ["No run here follows the authors' protocol (PyTorch init, lr 1e-4, their "
                      "widths, their τ* pipeline, their splits), so the published cells (Caso "
                      "et al., IJCNN 2025) are not compared; `jaxrg report "
                      "results/node_classification` compares them.", ""]
        parts += ["All settings. Test accuracy (%), mean ± std over seeds; + / − : one-sided "
                  "exact Wilcoxon signed-rank test against SB (paired by seed) with p < 0.05; "
                  "[pooled +]: the authors' test (per-node correctness pooled over seeds).", "",
                  markdown_table(rows)]
        learned_scales = learned_scale_table(rows)
        if learned_scales:
            parts += ["", "Choosing the scale (issue 21): SR/MR at τ* of C or τ*_X of the "
                      "feature-aware C_X; SD/MD heat diffusion at τ* of the normalised "
                      "Laplacian, SL/ML the same with τ trained from there (the learned τ is "
                      "that of the best-validation checkpoint).", "", learned_scales]
        ablation = scale_ablation_table(rows)
        if ablation:
            parts += ["", "τ* against random scales (MR; the random scales grouped by where "
                      "they fall relative to τ*; each accuracy is a mean over seeds):", "",
                      ablation]
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
