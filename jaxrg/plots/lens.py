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

__all__ = [
    "families_figures",
    "lens_figures",
    "plot_ablation",
    "plot_mean_profiles",
    "plot_profile_heatmap",
    "plot_scores",
]


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


def lens_figures(
    data: dict, meta: dict, config, out, *, answer_lengths,
    family_prompts: str = "BOS-only samples",
) -> list[pathlib.Path]:
    """The five figures of the reproduction (α = 1 where one order is shown).

    Args:
        data: ``{model: profiles}`` as cached by :mod:`jaxrg.experiments.entropy_lens`.
        meta: ``{model: training record}`` (``family``, ``size``).
        config: the study's ``LensConfig``.
        out: output folder.
        answer_lengths: ``{task name: number of answer tokens}``, in task-index order
            (``ANSWER_LEN`` of the study's task module; passed in, since figures never import a
            study).
        family_prompts: what the family protocol's prompts are (for a title).

    Returns:
        The paths written.
    """
    tasks = list(answer_lengths)
    plt = _pyplot()
    out = pathlib.Path(out)
    a1 = list(config.alphas).index(1.0) if 1.0 in config.alphas else 0
    names = list(data)
    written = []

    fig, axes = panel_grid(len(names))
    for ax, name in zip(axes, names, strict=False):
        d = data[name]
        by_task = {
            t: d["task_profiles"][d["task"] == i, a1][..., : answer_lengths[t]].mean(-1)
            for i, t in enumerate(tasks)
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
    ax.set_title(f"{family_prompts}: profiles by model (colour = family)", fontsize=9)
    written.append(_save(fig, out / "family_profiles.png"))

    written.append(_heatmaps(data[names[-1]], names[-1], tasks, a1, out))

    fig, axes = panel_grid(len(names))
    for ax, name in zip(axes, names, strict=False):
        d = data[name]
        y = d["arith_correct"].astype(bool)
        prof = d["arith_profiles"][:, a1].mean(-1)
        groups = {f"correct ({y.sum()})": prof[y], f"wrong ({(~y).sum()})": prof[~y]}
        plot_mean_profiles({k: v for k, v in groups.items() if len(v)}, ax=ax)
        ax.set_title(f"{name}: modular addition", fontsize=9)
    written.append(_save(fig, out / "correctness_profiles.png"))

    ablation = _ablation(_read_results(out), out)
    return written + ([ablation] if ablation else [])


def _heatmaps(d: dict, name: str, tasks: list[str], a1: int, out: pathlib.Path) -> pathlib.Path:
    """``heatmaps.png``: layer × token entropy of one prompt per task, for model ``name``."""
    fig, axes = panel_grid(len(tasks), panel=(3.3, 2.8))
    for ax, (i, t) in zip(axes, enumerate(tasks), strict=True):
        row = int(np.flatnonzero(d["task"] == i)[0])
        plot_profile_heatmap(d["task_profiles"][row, a1], ax=ax, title=f"{name}: {t}")
    return _save(fig, out / "heatmaps.png")


def _ablation(records: list[dict], out: pathlib.Path) -> pathlib.Path | None:
    """``ablation.png`` from the records of ``results.jsonl`` (None when there are none)."""
    order = {"all": 0, "first-token": 1, "first": 2, "middle": 3, "last": 4}
    rows = sorted(
        (r for r in records if r["alpha"] == 1.0 and r["analysis"] in ("task", "family", "model")),
        key=lambda r: (r["analysis"], r["model"], order.get(r["features"], 9)),
    )
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:  # one panel per classification target, its feature sets side by side
        groups.setdefault((r["analysis"], r["model"]), []).append(r)
    if groups:
        fig, axes = panel_grid(len(groups), panel=(3.0, 2.6))
        for ax, ((analysis, model), group) in zip(axes, groups.items(), strict=True):
            plot_scores([r["features"] for r in group], [r["accuracy"] for r in group],
                        [r["dummy_accuracy"] for r in group], ax=ax,
                        ylabel="accuracy (10-fold CV)")
            ax.set_title(f"{analysis}, all models" if model == "all" else f"{analysis}: {model}",
                         fontsize=9)
            ax.get_legend().remove()
        # one legend for all panels, in the figure's bottom-right corner (a spare cell when the
        # last row is not full), so it hides no bar
        fig.legend(*axes[0].get_legend_handles_labels(), loc="lower right", fontsize=8,
                   frameon=False)
        fig.suptitle("k-NN accuracy: all layers, first token only, or one third of normalised "
                     "depth (α = 1)", fontsize=10)
        return _save(fig, out / "ablation.png")
    return None


def plot_ablation(rows: list[dict], *, axes=None):
    """Component ablation: distance of each variant's mean profile from the base, family votes.

    Args:
        rows: records of :func:`jaxrg.experiments.entropy_lens_families.ablation_scores`
            (``variant``, ``distance``, ``votes`` — a ``{family: share}`` dict or None for the
            family reference rows).
        axes: two axes to draw on (default: a new figure).

    Returns:
        The two ``matplotlib`` axes.
    """
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    ax0, ax1 = axes
    x = np.arange(len(rows))
    colors = ["C7" if r["variant"] == "seed" else "C3" if r["votes"] is None else "C0"
              for r in rows]
    ax0.bar(x, [r["distance"] for r in rows], color=colors)
    ax0.set_xticks(x, [r["variant"] for r in rows], rotation=45, ha="right", fontsize=7)
    ax0.set_ylabel("RMS distance of mean profile (nats)")
    ax0.set_title("swap vs base (blue), seed only (grey), other families (red)", fontsize=8)
    voted = [r for r in rows if r["votes"] is not None]
    families = list(voted[0]["votes"]) if voted else []
    bottom = np.zeros(len(voted))
    for i, fam in enumerate(families):
        share = np.array([r["votes"][fam] for r in voted])
        ax1.bar(np.arange(len(voted)), share, bottom=bottom, label=fam, color=f"C{i}")
        bottom += share
    ax1.set_xticks(np.arange(len(voted)), [r["variant"] for r in voted], rotation=45,
                   ha="right", fontsize=7)
    ax1.set_ylabel("share of samples")
    ax1.set_ylim(0, 1)
    ax1.set_title("family assigned by the k-NN trained on the 12 models", fontsize=8)
    ax1.legend(fontsize=7, loc="lower right")
    return ax0, ax1


def families_figures(data, meta, ablated, ablation, config, out, *,
                     answer_lengths) -> list[pathlib.Path]:
    """Figures of :mod:`jaxrg.experiments.entropy_lens_families`: the first study's set for the
    12 models, and ``component_ablation.png``.

    Args:
        data: ``{model: profiles}`` of the 12 models.
        meta: ``{model: training record}``.
        ablated: ``{model: profiles}`` of the ablation models.
        ablation: rows of ``ablation_scores``.
        config: the study's ``FamiliesConfig``.
        out: output folder.
        answer_lengths: ``{task name: answer tokens}`` (see :func:`lens_figures`).

    Returns:
        The paths written.
    """
    plt = _pyplot()
    written = lens_figures(data, meta, config, out, answer_lengths=answer_lengths,
                           family_prompts="text prompts")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    plot_ablation(ablation, axes=axes)
    fig.suptitle(f"Ablation of {config.base}-{config.base_size}: one component at a time "
                 f"({len(ablated)} models)", fontsize=10)
    written.append(_save(fig, pathlib.Path(out) / "component_ablation.png"))
    return written


def _read_results(out: pathlib.Path) -> list[dict]:
    from jaxrg import _io

    return _io.read_jsonl(out / "results.jsonl")


def _save(fig, path: pathlib.Path) -> pathlib.Path:
    fig.tight_layout()
    return save(fig, path)
