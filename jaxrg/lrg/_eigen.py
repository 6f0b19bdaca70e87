r"""The LRG eigendecomposition: one ``eigh`` of the Laplacian and each component's Fiedler value.

Both meta-graph routes build the zero-mode-free kernel of each connected component ``c``,

.. math:: \tilde K_{ij} = \sum_{k:\,\lambda_k > 0} e^{-\tau(\lambda_k - s_c)}\, u_{ik} u_{jk},
    \qquad s_c = \lambda_2 \text{ of component } c,

from :func:`eigen_basis` (computed once, serves every :math:`\tau`) and :func:`scaled_vectors`
(:math:`\tilde K = VV^\top`): the dense route in :mod:`jaxrg.lrg._kernel`, the column-block route
in :mod:`jaxrg.lrg._large`.

Each component is decomposed at its own scale: ``eigh``'s absolute error is
:math:`\sim N\varepsilon\max|L|` over the whole matrix, so a component whose weights are 1e-6
of another's had its eigenpairs computed to round-off (float32: 26-234 of its meta-graph's pairs
wrong, its macro-nodes [8, 3, 2, 1] for [5, 2, 2, 2]). The components are decoupled, so each
block of :math:`L` is multiplied by a power of two (exact) that brings its largest degree into
:math:`[1/2, 1)`; the eigenvalues :math:`\mu_k` of the scaled matrix are in the units of the
component they belong to, and the exponent of node ``i`` reads
:math:`-\tau\,(\mu_k - \sigma_{c(i)})/r_{c(i)}` (:math:`r_c` the scale, :math:`\sigma_c` the
scaled Fiedler value). An eigenvector that ``eigh`` mixes across two components (a scaled
eigenvalue they share) stays right: the factor is per node, and the eigenspace's projector has
no cross-component entries.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxrg._numerics import eigh_resolution, scaled_eigh
from jaxrg.graphs import connected_components
from jaxrg.spectral import laplacian

__all__ = ["Basis", "eigen_basis", "scaled_vectors"]


class Basis(NamedTuple):
    r"""Everything :math:`\tilde K(\tau)` needs, for any ``tau``.

    vectors: (N, N) eigenvectors u_k (columns). eigenvalues: (N,) :math:`\mu_k`, eigenvalues of
    the component-scaled Laplacian (module docstring). modes: (N,) bool, the non-zero modes of
    real nodes. shift: (N,) :math:`\sigma_c` of each node's component, scaled (+inf for isolated
    and padded nodes). unscale: (N,) :math:`1/r_c` of each node's component (a power of two).
    resolution: scalar, ``eigh``'s round-off bound on the scaled eigenvalues (from the real
    nodes only: padding does not change it). labels: (N,) component label, -1 = padding.
    """

    vectors: jax.Array
    eigenvalues: jax.Array
    modes: jax.Array
    shift: jax.Array
    unscale: jax.Array
    resolution: jax.Array
    labels: jax.Array


def _component_scale(adjacency, labels, real) -> jax.Array:
    """``(N,)`` the power of two :math:`r_c` that brings component ``c``'s largest degree into
    ``[1/2, 1)`` (1 for isolated and padded nodes), for each node."""
    n = adjacency.shape[0]
    degree = jnp.sum(adjacency - jnp.diag(jnp.diagonal(adjacency)), axis=1)
    segment = jnp.where(real, labels, n)
    top = jax.ops.segment_max(jnp.where(real, degree, 0), segment, num_segments=n + 1)[:n]
    top = jnp.where(real, top[jnp.clip(labels, 0, n - 1)], 0)
    positive = top > 0
    _, exponent = jnp.frexp(jnp.where(positive, top, 1))  # top = m 2^e, m in [1/2, 1)
    return jnp.where(positive, jnp.ldexp(jnp.ones_like(top), -exponent), 1)


def eigen_basis(adjacency: jax.Array, mask) -> Basis:
    """One ``eigh`` of the (padded, component-scaled) Laplacian plus each component's Fiedler
    value."""
    n = adjacency.shape[0]
    real = jnp.ones(n, bool) if mask is None else mask
    if mask is not None:
        adjacency = adjacency * (mask[:, None] & mask[None, :]).astype(adjacency.dtype)
    components = connected_components(adjacency, mask)
    scale = lax.stop_gradient(_component_scale(adjacency, components.labels, real))
    # each block times its own power of two: exact, and still symmetric (no edge crosses blocks)
    lap = scale[:, None] * laplacian(adjacency)
    if mask is not None:  # padded nodes: decoupled, above every scaled eigenvalue (< 2), last
        lap = lap + jnp.diag(jnp.where(mask, 0, 3).astype(lap.dtype))
    eigenvalues, vectors = scaled_eigh(lap)
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
    # the bound that _eigh_psd and check_laplacian_values use, over the real nodes only (their
    # number, and the largest entry of their blocks, below 1): padding (decoupled, fill 3) must
    # not change the answer. With the padded N and the fill, an 8-ring whose double lambda_2 was
    # split by 1.46e-4 counted it as repeated once padded to 12 nodes (8 macro-nodes for 2).
    resolution = eigh_resolution(lap, real)
    return Basis(vectors, eigenvalues, nonzero_mode, shift, 1 / scale, resolution,
                 components.labels)


def scaled_vectors(basis: Basis, tau) -> jax.Array:
    r"""Rows :math:`V_{ik} = u_{ik} e^{-\tau(\mu_k - \sigma_{c(i)})/(2r_{c(i)})}`:
    :math:`\tilde K = VV^\top`.

    Zero modes, padding and modes below the component's Fiedler value (round-off leakage from
    other components) get weight 0; no weight exceeds 1, so nothing overflows at any ``tau``.
    A mode within ``eigh``'s round-off of the Fiedler value counts as degenerate with it (its
    gap is 0): a repeated λ₂ (the 4 × 4 grid, a ring) that ``eigh`` split by 1e-7 in float32
    otherwise lost one of its vectors at large ``tau`` (4 × 4 grid: 1 macro-node for 4 from
    τ = 1e6; 7-ring: 2 for 7 from 1e7; float64 from τ ≈ 1e15).
    """
    gap = basis.eigenvalues[None, :] - basis.shift[:, None]
    keep = (gap >= 0) & basis.modes[None, :] & jnp.isfinite(basis.shift)[:, None]
    gap = jnp.where(gap <= basis.resolution, 0, gap)
    # double where: exp(-tau * gap) of a dropped mode may be inf
    half = jnp.exp(-0.5 * tau * basis.unscale[:, None] * jnp.where(keep, gap, 0))
    return basis.vectors * jnp.where(keep, half, 0)
