# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # The Laplacian renormalisation group
#
# Meta-graph, macro-nodes, coarse-graining flow and rewiring (Villegas et al., Nature Physics
# 2023; Caso et al., IJCNN 2025), on graphs whose answer we know. Run as a script
# (`python notebooks/lrg.py`) or open with jupytext. Figures go to `$JAXRG_FIGURES` (default: a
# temporary folder).

# %%
import os
import pathlib
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

import jaxrg
import jaxrg.lrg
from jaxrg.plots import save
from jaxrg.plots.lrg import plot_coarse_graph, plot_flow

jax.config.update("jax_enable_x64", True)
figures = pathlib.Path(os.environ.get("JAXRG_FIGURES", tempfile.mkdtemp()))

# %% [markdown]
# ## The rule: ρ_ij ≥ min(ρ_ii, ρ_jj)
# Nodes *i* and *j* are linked in the meta-graph ζ(τ) when the heat that *i* sends to *j* is at
# least what stays at one of them. On a path the two end pairs link first; at large τ only the
# slowest mode is left and ζ splits the path into the sign classes of its Fiedler vector.

# %%
n = 10
path = jaxrg.as_adjacency((jnp.arange(n - 1), jnp.arange(1, n)))
for tau in (0.5, 2.0, 4.0, 1e4):
    zeta = jaxrg.lrg.meta_graph(path, tau)
    blocks = jaxrg.lrg.macro_nodes(zeta)
    print(f"tau = {tau:<7g} links: {jnp.argwhere(jnp.triu(zeta, 1)).tolist()}")
    print(f"{'':13} macro-nodes: {blocks.labels.tolist()}")

# %% [markdown]
# Vertex-transitive graphs never merge: every node keeps more heat than it gives to any other.

# %%
ring = jaxrg.as_adjacency((jnp.arange(12), (jnp.arange(12) + 1) % 12))
counts = jaxrg.lrg.macro_node_counts(ring, jnp.logspace(-4, 4, 17))
print("ring C_12, macro-nodes for tau = 1e-4 .. 1e4:", counts.tolist())

# %% [markdown]
# ## Planted blocks are found at the block scale
# A stochastic block model with 4 × 30 nodes has two peaks of the specific heat: a small scale
# (diffusion inside a block) and the block scale, where the macro-nodes are the blocks.

# %%
rng = np.random.default_rng(0)
planted = np.repeat(np.arange(4), 30)
prob = np.where(planted[:, None] == planted[None, :], 0.5, 0.01)
upper = np.triu(rng.random(prob.shape) < prob, 1)
sbm = jnp.asarray((upper | upper.T).astype(float))
eigenvalues = jaxrg.laplacian_spectrum(sbm)
peaks = jaxrg.characteristic_scales(eigenvalues, sort_by="tau")
scales = np.asarray(peaks.taus)[np.asarray(peaks.valid)]
print("characteristic scales:", np.round(scales, 4).tolist())
coarse = jaxrg.lrg.coarse_grain(sbm, scales[-1])
print(f"at tau = {scales[-1]:.3f}: {int(coarse.count)} macro-nodes")
agree = all(len(set(np.asarray(coarse.index)[planted == b])) == 1 for b in range(4))
print("each planted block inside one macro-node:", agree)

# %%
taus = jaxrg.default_taus(eigenvalues, num_taus=48)
flow_counts = jaxrg.lrg.macro_node_counts(sbm, taus)
fig = plot_flow(taus, flow_counts, specific_heat=jaxrg.specific_heat(eigenvalues, taus),
                scales=scales, title="SBM 4 x 30: macro-nodes and C")
print("flow figure:", save(fig, figures / "lrg_flow.png"))
fig = plot_coarse_graph(sbm, coarse.index, coarse.adjacency, coarse.count, tau=scales[-1])
print("coarse graph figure:", save(fig, figures / "lrg_coarse.png"))

# %% [markdown]
# ## The RG flow
# Iterating the coarse-graining with each graph's own first characteristic scale shrinks the
# graph step by step.

# %%
flow = jaxrg.lrg.rg_flow(sbm, steps=3)
print("scales:", np.round(np.asarray(flow.taus), 4).tolist())
print("sizes: ", flow.sizes.tolist())

# %% [markdown]
# ## Rewiring on the same node set
# The renormalised graph links *i* and *j* when a ζ-neighbour of *i* is adjacent to a
# ζ-neighbour of *j*, except inside one macro-node. One graph per characteristic scale,
# each a `jraph.GraphsTuple` away.

# %%
graphs = jaxrg.lrg.multiscale_graphs(sbm)
edges = int(jnp.sum(sbm)) // 2
for tau, rewired in zip(graphs.taus, graphs.adjacency, strict=True):
    tuple_ = jaxrg.to_graphs_tuple(rewired)
    print(f"tau = {float(tau):.4f}: {int(tuple_.n_edge[0]) // 2} edges "
          f"({int(tuple_.n_edge[0]) / 2 / edges:.2f} x the {edges} of the input)")

# %% [markdown]
# ## Large graphs
# `meta_graph_edges` and `rewire_edges` never build an N × N matrix: columns of e^{-τL} come in
# blocks from a Chebyshev expansion with the sparse Laplacian, and each pair is decided as soon as
# both diagonal entries are known. They give the same graph as the dense route.

# %%
zeta_edges = jaxrg.lrg.meta_graph_edges(np.asarray(sbm), float(scales[0]), method="chebyshev",
                                          block_size=32)
dense = np.asarray(jaxrg.lrg.meta_graph(sbm, scales[0]))
same = {tuple(p) for p in np.argwhere(np.triu(dense, 1))} == set(
    zip(zeta_edges.senders.tolist(), zeta_edges.receivers.tolist(), strict=True))
print(f"{zeta_edges.method} route: {zeta_edges.senders.shape[0]} links, same as dense: {same}, "
      f"near-ties: {zeta_edges.near_ties}")
