"""Entropy and specific-heat curves with their characteristic scales marked."""

from __future__ import annotations

import numpy as np

from jaxrg.plots._common import pyplot

__all__ = ["plot_entropy_curves"]


def plot_entropy_curves(taus, curves, scales=None, *, title: str | None = None):
    """Two panels over :math:`\\log\\tau`: :math:`S(\\tau)` and :math:`C(\\tau)`, peaks marked.

    Args:
        taus: ``(T,)`` diffusion times.
        curves: :class:`jaxrg.SpectralCurves` on ``taus`` (or any object with ``entropy`` and
            ``specific_heat`` of shape ``(T,)``).
        scales: optional :class:`jaxrg.CharacteristicScales` (valid peaks are marked).
        title: figure title.

    Returns:
        ``matplotlib.figure.Figure``.
    """
    plt = pyplot()
    taus = np.asarray(taus)
    fig, (ax_s, ax_c) = plt.subplots(2, 1, sharex=True, figsize=(6.4, 5.6))
    ax_s.semilogx(taus, np.asarray(curves.entropy), color="tab:blue")
    ax_s.set_ylabel(r"$S(\tau)$ (normalised)")
    ax_s.set_ylim(-0.02, 1.02)
    ax_c.semilogx(taus, np.asarray(curves.specific_heat), color="tab:red")
    ax_c.set_ylabel(r"$C(\tau) = -dS/d\log\tau$")
    ax_c.set_xlabel(r"diffusion time $\tau$")
    if scales is not None:
        valid = np.asarray(scales.valid)
        for tau, height in zip(
            np.asarray(scales.taus)[valid], np.asarray(scales.heights)[valid], strict=True
        ):
            ax_c.plot([tau], [height], "k^", markersize=8)
            ax_c.annotate(
                f"τ*={tau:.3g}",
                (tau, height),
                textcoords="offset points",
                xytext=(5, 5),
                fontsize=8,
            )
            for ax in (ax_s, ax_c):
                ax.axvline(tau, color="0.6", linestyle=":", linewidth=1)
    for ax in (ax_s, ax_c):
        ax.grid(True, which="major", alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
