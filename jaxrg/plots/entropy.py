"""Rényi entropy profiles: H_α against α over many distributions, and 2-D entropy maps."""

from __future__ import annotations

import numpy as np

from jaxrg.plots._common import pyplot
from jaxrg.plots.lens import plot_profile_heatmap

__all__ = ["MAX_MAPS", "plot_renyi_profiles"]

MAX_MAPS = 4


def _alpha_label(alpha: float) -> str:
    return "∞" if np.isinf(alpha) else f"{alpha:g}"


def plot_renyi_profiles(alphas, entropies, *, num_categories: int | None = None,
                        title: str | None = None):
    r"""Rényi entropies of many distributions: their spread against α, and maps of a 2-D batch.

    The left panel draws, at every order α (evenly spaced, so 0 and ∞ fit), the median of
    :math:`H_\alpha` over the distributions, the 25–75 % and min–max bands and the mean; since
    :math:`H_\alpha` is non-increasing in α for every distribution, so are the quantile lines. When
    the batch is 2-D (e.g. layers × tokens), one heatmap per α (up to four, α > 0 first) follows.

    Args:
        alphas: ``(A,)`` Rényi orders ``>= 0`` (``inf`` allowed).
        entropies: ``(A,) + batch`` entropies in nats (``batch`` any shape, ``()`` for one
            distribution), as :func:`jaxrg.info.renyi_entropy` returns for an ``(A,)`` α.
        num_categories: ``V``; draws the maximum :math:`\log V` as a dashed line.
        title: figure title.

    Returns:
        ``matplotlib.figure.Figure``.

    Raises:
        ValueError: ``entropies`` does not start with ``len(alphas)`` or holds no distribution.
    """
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    h = np.asarray(entropies, dtype=float)
    if h.ndim < 1 or h.shape[0] != alphas.size or h[0].size == 0:
        raise ValueError(f"entropies must have shape (len(alphas)={alphas.size}, *batch) with a "
                         f"non-empty batch; got {h.shape}.")
    batch = h.shape[1:]
    # H_0 = log |support| is flat for full-support softmax: map the other orders first
    order = [i for i in range(alphas.size) if alphas[i] > 0] + [
        i for i in range(alphas.size) if alphas[i] == 0]
    maps = min(alphas.size, MAX_MAPS) if len(batch) == 2 else 0
    plt = pyplot()
    fig, axes = plt.subplots(1, 1 + maps, figsize=(4.6 + 3.8 * maps, 3.6), squeeze=False)
    ax = axes[0, 0]
    flat = h.reshape(alphas.size, -1)
    x = np.arange(alphas.size)
    q = np.quantile(flat, [0.0, 0.25, 0.5, 0.75, 1.0], axis=1)
    ax.fill_between(x, q[0], q[4], color="tab:blue", alpha=0.15, label="min–max")
    ax.fill_between(x, q[1], q[3], color="tab:blue", alpha=0.35, label="25–75 %")
    ax.plot(x, q[2], "o-", color="tab:blue", ms=4, label="median")
    ax.plot(x, flat.mean(axis=1), "--", color="k", lw=1, label="mean")
    if num_categories is not None:
        ax.axhline(np.log(num_categories), color="0.5", ls=":", lw=1,
                   label=f"log V (V = {num_categories})")
    ax.set_xticks(x, [_alpha_label(a) for a in alphas])
    ax.set_xlabel("Rényi order α")
    ax.set_ylabel(r"$H_\alpha$ (nats)")
    ax.set_title(f"{flat.shape[1]} distributions", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    for panel, i in enumerate(order[:maps], start=1):
        plot_profile_heatmap(h[i], ax=axes[0, panel], title=f"H_{_alpha_label(alphas[i])}")
        axes[0, panel].set_xlabel("batch axis 1 (e.g. token)")
        axes[0, panel].set_ylabel("batch axis 0 (e.g. layer), from 1")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
