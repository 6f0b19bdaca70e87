r"""The LRG eigendecomposition: one ``eigh`` of the Laplacian and each component's Fiedler value.

Both meta-graph routes build the zero-mode-free kernel of each connected component ``c``,

.. math:: \tilde K_{ij} = \sum_{k:\,\lambda_k > 0} e^{-\tau(\lambda_k - s_c)}\, u_{ik} u_{jk},
    \qquad s_c = \lambda_2 \text{ of component } c,

from :func:`eigen_basis` (computed once, serves every :math:`\tau`) and :func:`scaled_vectors`
(:math:`\tilde K = VV^\top`): the dense route in :mod:`jaxrg.lrg._kernel`, the column-block route
in :mod:`jaxrg.lrg._large`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxrg.graphs import connected_components
from jaxrg.spectral import laplacian

__all__ = ["Basis", "eigen_basis", "scaled_vectors"]


class Basis(NamedTuple):
    """Everything :math:`\\tilde K(\\tau)` needs, for any ``tau``.

    vectors: (N, N) eigenvectors u_k (columns). eigenvalues: (N,). modes: (N,) bool, the non-zero
    modes of real nodes. shift: (N,) s_c of each node's component (+inf for isolated and padded
    nodes). labels: (N,) component label, -1 = padding.
    """

    vectors: jax.Array
    eigenvalues: jax.Array
    modes: jax.Array
    shift: jax.Array
    labels: jax.Array


def eigen_basis(adjacency: jax.Array, mask) -> Basis:
    """One ``eigh`` of the (padded) Laplacian plus each component's Fiedler value."""
    n = adjacency.shape[0]
    real = jnp.ones(n, bool) if mask is None else mask
    if mask is not None:
        adjacency = adjacency * (mask[:, None] & mask[None, :]).astype(adjacency.dtype)
    lap = laplacian(adjacency)
    if mask is not None:  # padded nodes: decoupled, eigenvalue above every real one, sorted last
        fill = 1 + 2 * jnp.maximum(lax.stop_gradient(jnp.max(jnp.sum(adjacency, 1))), 1)
        lap = lap + jnp.diag(jnp.where(mask, 0, fill).astype(lap.dtype))
    eigenvalues, vectors = jnp.linalg.eigh(lap)
    components = connected_components(adjacency, mask)
    index = jnp.arange(n)
    n_real = jnp.sum(real)
    nonzero_mode = (index >= components.count) & (index < n_real)
    eigenvalues = jnp.where(index < components.count, 0, eigenvalues)
    # mass of mode k on component c; a mode "belongs" to c when its mass there exceeds 1/(2N):
    # the modes of one eigenvalue of c carry total mass >= 1 there, so one of them passes.
    segment = jnp.where(real, components.labels, n)
    mass = jax.ops.segment_sum(vectors**2, segment, num_segments=n + 1)[:n]
    belongs = (mass > 0.5 / n_real.astype(mass.dtype)) & nonzero_mode[None, :]
    fiedler = jnp.min(jnp.where(belongs, eigenvalues[None, :], jnp.inf), axis=1)
    shift = jnp.where(real, fiedler[jnp.clip(components.labels, 0, n - 1)], jnp.inf)
    return Basis(vectors, eigenvalues, nonzero_mode, shift, components.labels)


def scaled_vectors(basis: Basis, tau) -> jax.Array:
    r"""Rows :math:`V_{ik} = u_{ik} e^{-\tau(\lambda_k - s_{c(i)})/2}`: :math:`\tilde K = VV^\top`.

    Zero modes, padding and modes below the component's Fiedler value (round-off leakage from
    other components) get weight 0; no weight exceeds 1, so nothing overflows at any ``tau``.
    """
    gap = basis.eigenvalues[None, :] - basis.shift[:, None]
    keep = (gap >= 0) & basis.modes[None, :] & jnp.isfinite(basis.shift)[:, None]
    # double where: exp(-tau * gap) of a dropped mode may be inf
    half = jnp.exp(-0.5 * tau * jnp.where(keep, gap, 0))
    return basis.vectors * jnp.where(keep, half, 0)
