"""Entropy and specific-heat curves with their characteristic scales marked."""

from __future__ import annotations

import numpy as np

from jaxrg.plots._common import pyplot

__all__ = ["plot_entropy_curves"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value, _position=None) -> str:
    """A log-axis tick label in plain text: ``10⁻²`` at a power of ten, nothing elsewhere."""
    if not value > 0:
        return ""
    exponent = np.log10(value)
    if abs(exponent - round(exponent)) > 1e-9:
        return ""
    return "10" + str(round(exponent)).translate(_SUPERSCRIPT)


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
    ax_s.set_ylabel("S(τ) (normalised)")
    ax_s.set_ylim(-0.02, 1.02)
    ax_c.semilogx(taus, np.asarray(curves.specific_heat), color="tab:red")
    ax_c.set_ylabel("C(τ) = −dS/d log τ")
    ax_c.set_xlabel("diffusion time τ")
    # plain-text labels and powers of ten: mathtext (matplotlib's TeX parser) was half the time
    # of drawing this figure, the largest part of a short command such as `jaxrg demo`
    ax_c.xaxis.set_major_formatter(_power_of_ten)
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
                xytext=(7, -2),  # beside the marker, below the top of the axes
                va="top",
                fontsize=8,
            )
            for ax in (ax_s, ax_c):
                ax.axvline(tau, color="0.6", linestyle=":", linewidth=1)
    for ax in (ax_s, ax_c):
        ax.grid(True, which="major", alpha=0.3)
    if title:
        fig.suptitle(title)
    # fixed margins (save() trims the rest): tight_layout would lay out every text once more,
    # a third of the time of a short command such as `jaxrg demo`
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.09, top=0.92 if title else 0.97,
                        hspace=0.08)
    return fig
