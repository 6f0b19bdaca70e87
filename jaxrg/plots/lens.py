"""Figures for Entropy-Lens profiles (matplotlib imported lazily, Agg backend when headless).

- :func:`plot_profile_heatmap`: one layer × token entropy matrix;
- :func:`plot_mean_profiles`: mean ± std profile per class, on layers or normalised depth;
- :func:`plot_scores`: k-NN scores against the stratified dummy;
- :func:`lens_figures`: the figure set of :mod:`jaxrg.experiments.entropy_lens`.

Example:
    >>> import numpy as np
    >>> profiles = {"a": np.ones((4, 3)), "b": np.zeros((4, 5))}   # 3 and 5 layers
    >>> from jaxrg.plots import plot_mean_profiles
    >>> ax = plot_mean_profiles(profiles, depth_normalised=True)
    >>> ax.get_xlabel()
    'normalised depth ℓ/L'
"""

from __future__ import annotations

import pathlib

import numpy as np

from jaxrg.plots._common import panel_grid, save
from jaxrg.plots._common import pyplot as _pyplot


def plot_profile_heatmap(profile, *, ax=None, title: str | None = None, tokens=None):
    """Heatmap of an ``(L, T)`` entropy profile (layers bottom to top, tokens left to right).

    Args:
        profile: ``(L, T)`` entropies in nats (layer ``ℓ`` = row ``ℓ - 1``).
        ax: axes to draw on (default: a new figure).
        title: axes title.
        tokens: optional ``T`` tick labels.

    Returns:
        The ``matplotlib`` axes (with a colour bar).
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    p = np.asarray(profile)
    im = ax.imshow(p, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xlabel("generated token")
    ax.set_ylabel("layer")
    ax.set_yticks(range(p.shape[0]), [str(i + 1) for i in range(p.shape[0])])
    if tokens is not None:
        ax.set_xticks(range(len(tokens)), tokens)
    if title:
        ax.set_title(title, fontsize=9)
    ax.figure.colorbar(im, ax=ax, label="entropy (nats)")
    return ax


def plot_mean_profiles(
    profiles_by_label: dict, *, depth_normalised: bool = False, ax=None, styles: dict | None = None
):
    """Mean ± std of ``(n, L)`` profiles per label; x: layer, or normalised depth (ℓ-1)/(L-1).

    Args:
        profiles_by_label: ``{label: (n, L) profiles}`` (``L`` may differ between labels).
        depth_normalised: put every model on ``[0, 1]`` so different depths share an axis.
        ax: axes to draw on (default: a new figure).
        styles: optional ``{label: matplotlib line keywords}``.

    Returns:
        The ``matplotlib`` axes.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3))
    for label, prof in profiles_by_label.items():
        p = np.asarray(prof, dtype=float)
        n_layers = p.shape[1]
        x = np.linspace(0, 1, n_layers) if depth_normalised else np.arange(1, n_layers + 1)
        mean, std = p.mean(0), p.std(0)
        kw = (styles or {}).get(label, {})
        (line,) = ax.plot(x, mean, marker="o", ms=3, label=str(label), **kw)
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    ax.set_xlabel("normalised depth ℓ/L" if depth_normalised else "layer")
    ax.set_ylabel("entropy (nats)")
    ax.legend(fontsize=7)
    return ax


def plot_scores(labels, model, dummy, *, ax=None, ylabel: str = "ROC-AUC"):
    """Bars of a score against the stratified dummy's.

    Args:
        labels: ``K`` bar labels.
        model: ``(K,)`` scores of the k-NN on profiles.
        dummy: ``(K,)`` scores of the stratified dummy classifier.
        ax: axes to draw on (default: a new figure).
        ylabel: name of the score.

    Returns:
        The ``matplotlib`` axes.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.5 * len(labels)), 3))
    x = np.arange(len(labels))
    ax.bar(x - 0.2, model, 0.4, label="k-NN on profiles")
    ax.bar(x + 0.2, dummy, 0.4, label="stratified dummy", color="0.7")
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    return ax


def lens_figures(data: dict, meta: dict, config, out) -> list[pathlib.Path]:
    """The five figures of the reproduction (α = 1 where one order is shown)."""
    from jaxrg.experiments import lens_tasks

    plt = _pyplot()
    out = pathlib.Path(out)
    a1 = list(config.alphas).index(1.0) if 1.0 in config.alphas else 0
    names = list(data)
    written = []

    fig, axes = panel_grid(len(names))
    for ax, name in zip(axes, names, strict=False):
        d = data[name]
        by_task = {
            t: d["task_profiles"][d["task"] == i, a1][..., : lens_tasks.ANSWER_LEN[t]].mean(-1)
            for i, t in enumerate(lens_tasks.TASKS)
        }
        plot_mean_profiles(by_task, ax=ax)
        ax.set_title(name, fontsize=9)
    fig.suptitle("Entropy profile per task (mean over answer tokens)", fontsize=10)
    written.append(_save(fig, out / "task_profiles.png"))

    fig, ax = plt.subplots(figsize=(5, 3.5))
    colors = {f: f"C{i % 10}" for i, f in enumerate(config.families)}
    dashes = ["-", "--", ":", "-."]
    styles = {
        n: {
            "color": colors[meta[n]["family"]],
            "linestyle": dashes[[s[0] for s in config.sizes].index(meta[n]["size"]) % 4],
        }
        for n in names
    }
    plot_mean_profiles(
        {n: data[n]["bos_profiles"][:, a1].mean(-1) for n in names},
        depth_normalised=True,
        ax=ax,
        styles=styles,
    )
    ax.set_title("BOS-only samples: profiles by model (colour = family)", fontsize=9)
    written.append(_save(fig, out / "family_profiles.png"))

    name = names[-1]
    d = data[name]
    fig, axes = panel_grid(len(lens_tasks.TASKS), panel=(3.3, 2.8))
    for ax, (i, t) in zip(axes, enumerate(lens_tasks.TASKS), strict=True):
        row = int(np.flatnonzero(d["task"] == i)[0])
        plot_profile_heatmap(d["task_profiles"][row, a1], ax=ax, title=f"{name}: {t}")
    written.append(_save(fig, out / "heatmaps.png"))

    fig, axes = panel_grid(len(names))
    for ax, name in zip(axes, names, strict=False):
        d = data[name]
        y = d["arith_correct"].astype(bool)
        prof = d["arith_profiles"][:, a1].mean(-1)
        groups = {f"correct ({y.sum()})": prof[y], f"wrong ({(~y).sum()})": prof[~y]}
        plot_mean_profiles({k: v for k, v in groups.items() if len(v)}, ax=ax)
        ax.set_title(f"{name}: modular addition", fontsize=9)
    written.append(_save(fig, out / "correctness_profiles.png"))

    records = _read_results(out)
    order = {"all": 0, "first-token": 1, "first": 2, "middle": 3, "last": 4}
    rows = sorted(
        (r for r in records if r["alpha"] == 1.0 and r["analysis"] in ("task", "family", "model")),
        key=lambda r: (r["analysis"], r["model"], order.get(r["features"], 9)),
    )
    if rows:
        fig, ax = plt.subplots(figsize=(max(5, 0.3 * len(rows)), 3.4))
        plot_scores(
            [f"{r['analysis']}:{r['model']}:{r['features']}" for r in rows],
            [r["accuracy"] for r in rows],
            [r["dummy_accuracy"] for r in rows],
            ax=ax,
            ylabel="accuracy (10-fold CV)",
        )
        ax.legend(fontsize=7, loc="lower left")
        ax.set_title(
            "k-NN accuracy: all layers, first token only, or one third of normalised depth (α = 1)",
            fontsize=9,
        )
        written.append(_save(fig, out / "ablation.png"))
    return written


def _read_results(out: pathlib.Path) -> list[dict]:
    from jaxrg import _io

    return _io.read_jsonl(out / "results.jsonl")


def _save(fig, path: pathlib.Path) -> pathlib.Path:
    fig.tight_layout()
    return save(fig, path)
