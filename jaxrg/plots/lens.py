"""Figures for Entropy-Lens profiles (matplotlib imported lazily, Agg backend when headless).

- :func:`plot_profile_heatmap`: one layer × token entropy matrix;
- :func:`plot_mean_profiles`: mean ± std profile per class, on layers or normalised depth;
- :func:`plot_scores`: k-NN scores against the stratified dummy;
- :func:`plot_ablation`: the component ablation (scores and family assignments).

The study's figure sets are in :mod:`jaxrg.studies.entropy_lens.figures`.

Example:
    >>> import numpy as np
    >>> profiles = {"a": np.ones((4, 3)), "b": np.zeros((4, 5))}   # 3 and 5 layers
    >>> from jaxrg.plots import plot_mean_profiles
    >>> ax = plot_mean_profiles(profiles, depth_normalised=True)
    >>> ax.get_xlabel()
    'normalised depth ℓ/L'
"""

from __future__ import annotations

import numpy as np

from jaxrg.plots._common import pyplot as _pyplot

__all__ = [
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


def plot_ablation(rows: list[dict], *, axes=None):
    """Component ablation: distance of each variant's mean profile from the base, family votes.

    Args:
        rows: records of :func:`jaxrg.studies.entropy_lens.families.ablation_scores`
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
