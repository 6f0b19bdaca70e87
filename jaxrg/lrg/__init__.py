r"""Laplacian renormalisation group (LRG): meta-graph, coarse-graining flow, multiscale rewiring.

At diffusion time :math:`\tau`, nodes ``i`` and ``j`` are linked in the meta-graph
:math:`\zeta(\tau)` when :math:`\rho_{ij}(\tau) \ge \min(\rho_{ii}(\tau), \rho_{jj}(\tau))`,
:math:`\rho = e^{-\tau L}/\mathrm{Tr}\,e^{-\tau L}` (docs/design.md §3). Two constructions use it:

* coarse-graining (Villegas et al., Nature Physics 2023): macro-nodes = connected components of
  :math:`\zeta`, one coarse node each (:func:`coarse_grain`, iterated by :func:`rg_flow`);
* rewiring on the same nodes (Caso et al., IJCNN 2025):
  :math:`1[\zeta A\zeta > 0] \wedge \neg 1[\zeta\zeta\zeta > 0]` (:func:`rewire`,
  :func:`multiscale_graphs`; :func:`rewire_edges` for graphs of tens of thousands of nodes;
  :func:`rewire_directed`, their code's construction on a directed edge list).

The natural scales are the peaks of the specific heat, :func:`jaxrg.characteristic_scales`.

Example:
    >>> import jax.numpy as jnp, jaxrg.lrg
    >>> path = jaxrg.as_adjacency((jnp.arange(7), jnp.arange(1, 8)))    # path of 8 nodes
    >>> jaxrg.lrg.macro_node_counts(path, jnp.array([0.1, 2.0, 1e3])).tolist()
    [8, 6, 2]
"""

from jaxrg.lrg._coarse import (
    CoarseGraph,
    RGFlow,
    coarse_grain,
    macro_node_counts,
    rg_flow,
)
from jaxrg.lrg._kernel import MacroNodes, default_rtol, macro_nodes, meta_graph
from jaxrg.lrg._large import MetaGraphEdges, meta_graph_edges, rewire_edges, sparse_adjacency
from jaxrg.lrg._rewire import MultiscaleGraphs, multiscale_graphs, rewire, rewire_directed

__all__ = [
    "CoarseGraph",
    "MacroNodes",
    "MetaGraphEdges",
    "MultiscaleGraphs",
    "RGFlow",
    "coarse_grain",
    "default_rtol",
    "macro_node_counts",
    "macro_nodes",
    "meta_graph",
    "meta_graph_edges",
    "multiscale_graphs",
    "rewire",
    "rewire_directed",
    "rewire_edges",
    "rg_flow",
    "sparse_adjacency",
]
