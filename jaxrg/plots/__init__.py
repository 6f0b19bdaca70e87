"""Headless matplotlib figures for jaxrg results (matplotlib is imported lazily).

Every function returns a ``matplotlib.figure.Figure``; :func:`save` writes it atomically.
"""

from jaxrg.plots._common import save
from jaxrg.plots.curves import plot_entropy_curves

__all__ = ["plot_entropy_curves", "save"]
