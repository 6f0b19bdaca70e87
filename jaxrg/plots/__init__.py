"""Headless matplotlib figures for jaxrg results (matplotlib is imported lazily).

Every function returns a ``matplotlib.figure.Figure``; :func:`save` writes it atomically.
"""

from jaxrg.plots._common import save
from jaxrg.plots.curves import plot_entropy_curves
from jaxrg.plots.entropy import plot_renyi_profiles
from jaxrg.plots.lens import plot_ablation, plot_mean_profiles, plot_profile_heatmap, plot_scores
from jaxrg.plots.lrg import plot_coarse_graph, plot_flow
from jaxrg.plots.tables import plot_accuracy_table

__all__ = [
    "plot_ablation",
    "plot_accuracy_table",
    "plot_coarse_graph",
    "plot_entropy_curves",
    "plot_flow",
    "plot_mean_profiles",
    "plot_profile_heatmap",
    "plot_renyi_profiles",
    "plot_scores",
    "save",
]
