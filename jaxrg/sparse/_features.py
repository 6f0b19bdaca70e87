r"""The feature measure of :mod:`jaxrg.features` for large sparse graphs, by Lanczos quadrature.

:math:`\sum_i \|u_i^\top\hat X\|^2 g(\lambda_i) = \sum_j \hat x_j^\top g(L)\,\hat x_j`: one
Lanczos run from each (centred, normalised) feature column :math:`\hat x_j` gives a Gauss
quadrature of :math:`\hat x_j^\top g(L)\hat x_j` for every :math:`g = e^{-\tau\lambda}` at once,
exact for polynomials of degree below :math:`2k`. The zero modes are exact: the runs start from
:math:`P\hat x_j` (the component means removed, as in :mod:`jaxrg.sparse._quadrature`) and the mass
:math:`\|(I - P)\hat X\|^2 = \sum_c \|\mathbf 1_c^\top \hat X\|^2/n_c` sits at :math:`\lambda = 0`.
The columns are the starting vectors, not random probes, so there is no probe noise: the only
error is the quadrature's, which vanishes once ``num_matvecs`` resolves :math:`e^{-\tau\lambda}`
(all of it for ``num_matvecs = N`` with ``reortho="full"``). The result is a
:class:`jaxrg.FeatureSpectrum` whose ``eigenvalues`` are the Ritz values, so
:func:`jaxrg.feature_entropy_curves` and :func:`jaxrg.feature_characteristic_scales` apply as they
are. Cost: ``f x num_matvecs`` sparse products for ``f`` feature columns.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxrg import _checks
from jaxrg._numerics import merged_atoms, power_of_two_scale
from jaxrg.features import FeatureSpectrum
from jaxrg.sparse._graph import as_sparse_graph, deflate
from jaxrg.sparse._lanczos import REORTHO
from jaxrg.sparse._quadrature import drop_roundoff, operator_setup, run_quadrature


def feature_quadrature(
    adjacency,
    features,
    *,
    num_matvecs: int | np.integer = 100,
    centre: bool = True,
    normalize: bool = True,
    reortho: str = "full",
    num_nodes: int | None = None,
) -> FeatureSpectrum:
    r"""The feature measure by one Lanczos run per feature column (no eigendecomposition).

    Args:
        adjacency: any graph form :func:`jaxrg.sparse.as_sparse_graph` takes.
        features: ``(N, f)`` (or ``(N,)``) node features, host array.
        num_matvecs: Lanczos steps ``k`` per column (static; clipped to ``N``).
        centre: subtract each column's mean (see :mod:`jaxrg.features`).
        normalize: scale each centred column to unit norm.
        reortho: ``"full"`` (default: ``O(kN)`` memory per column, no ghost Ritz values) or
            ``"none"`` (``O(N)`` memory).
        num_nodes: ``N`` for edge lists with isolated trailing nodes.

    Returns:
        :class:`jaxrg.FeatureSpectrum` with ``(1 + f k,)`` atoms (the zero modes, then every
        column's quadrature; absent atoms have ``+inf`` nodes and ``-inf`` log weights). The
        columns' Ritz values of one eigenvalue, apart by round-off (gap under
        :math:`\min(10k\varepsilon\,2\max_i d_i, \sqrt\varepsilon\theta)`), share one
        position, their weighted mean (:func:`jaxrg._numerics.merged_atoms`): apart, they gave
        :math:`C_X` a spurious peak at :math:`\tau \approx 1/\text{gap}` (float32 karate: 3.7e6).

    Raises:
        ValueError: features of the wrong shape, not finite, or without mass; bad ``reortho``;
            ``num_matvecs < 1``.
        TypeError: ``num_matvecs`` not an integer (a float is not truncated).

    Example:
        >>> import networkx as nx, numpy as np, jaxrg, jaxrg.sparse as sp
        >>> g = nx.barbell_graph(10, 0)
        >>> x = np.random.default_rng(0).normal(size=(20, 2))
        >>> approx = sp.feature_quadrature(g, x, num_matvecs=20)
        >>> exact = jaxrg.feature_spectrum(nx.to_numpy_array(g), x)
        >>> a = jaxrg.feature_characteristic_scales(approx).taus[0]
        >>> b = jaxrg.feature_characteristic_scales(exact).taus[0]
        >>> bool(abs(a / b - 1) < 1e-8)
        True
    """
    num_matvecs = _checks.check_int(num_matvecs, "num_matvecs", meaning="Lanczos steps per column")
    if reortho not in REORTHO:
        raise ValueError(f"reortho must be one of {REORTHO}; got {reortho!r}.")
    graph = as_sparse_graph(adjacency, num_nodes=num_nodes)
    n = graph.num_nodes
    x = np.asarray(features, dtype=graph.degree.dtype)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] != n:
        raise ValueError(
            f"features must have shape ({n},) or ({n}, f) to match the graph; got {x.shape}."
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("features must be finite (no NaN or inf).")
    spectrum = _feature_quadrature(
        graph,
        jnp.asarray(x),
        steps=min(num_matvecs, n),
        centre=centre,
        normalize=normalize,
        reortho=reortho,
    )
    if not np.isfinite(np.asarray(spectrum.log_weights)).any():
        raise ValueError(
            "features have no mass after centring (constant or zero columns); pass "
            "centre=False or informative features."
        )
    return spectrum


@functools.partial(jax.jit, static_argnames=("steps", "centre", "normalize", "reortho"))
def _feature_quadrature(graph, x, *, steps, centre, normalize, reortho) -> FeatureSpectrum:
    setup = operator_setup(graph)
    null = setup.null
    n = x.shape[0]
    x = x / power_of_two_scale(x)  # exact; the measure is invariant to a global scale of X
    count = jnp.asarray(n, x.dtype)
    sums = jax.ops.segment_sum(x, null.labels, n)  # 1_c^T X, at each component's label
    if centre:
        # the total from the component sums themselves: on a connected graph the centred zero
        # mode is then exactly 0 (a separate jnp.sum rounds differently and left ~1e-31 of
        # mass at lambda = 0, which outlives every real mode: S_X(84) = -20 on weighted karate)
        total_sum = jnp.sum(sums, axis=0)
        x = x - total_sum[None, :] / count
        sums = sums - (null.sizes / count)[:, None] * total_sum[None, :]  # exact for c = 1
    if normalize:
        norm2 = jnp.sum(x**2, axis=0)
        # double where: a zero column stays zero
        scale = jnp.where(norm2 > 0, 1 / jnp.sqrt(jnp.where(norm2 > 0, norm2, 1)), 0)
        x, sums = x * scale[None, :], sums * scale[None, :]
    zero_mass = jnp.sum(
        jnp.where(null.sizes > 0, jnp.sum(sums**2, axis=1) / jnp.maximum(null.sizes, 1), 0)
    )
    quad = jax.lax.map(
        lambda column: run_quadrature(
            setup, drop_roundoff(deflate(null, column), column), steps, reortho),
        x.T,
    )
    log_w = jnp.concatenate(
        [
            jnp.where(zero_mass > 0, jnp.log(jnp.where(zero_mass > 0, zero_mass, 1)), -jnp.inf)[
                None
            ],
            quad.log_weights.reshape(-1),
        ]
    )
    # the operator is L / scale (operator_setup)
    nodes = jnp.concatenate([jnp.zeros(1, x.dtype), quad.nodes.reshape(-1) * setup.scale])
    present = log_w > -jnp.inf
    log_total = jax.nn.logsumexp(jnp.where(present, log_w, -jnp.inf))
    log_w = jnp.where(present, log_w + jnp.log(count) - log_total, -jnp.inf)
    nodes = jnp.where(present, jnp.maximum(nodes, 0), jnp.inf)
    # the columns' runs find one eigenvalue each, apart by round-off (karate, float32: 1.187104,
    # 1.1871047, 1.1871085): one atom, or C_X ~ tau^2 Var grows to a spurious peak at tau ~ 4e6.
    # The bound: eigh's on a k x k tridiagonal, 10 k eps ||T||, ||T|| <= bound (Gershgorin)
    resolution = 10 * steps * jnp.finfo(x.dtype).eps * setup.bound * setup.scale
    return FeatureSpectrum(
        eigenvalues=merged_atoms(nodes, log_w, jax.lax.stop_gradient(resolution)),
        log_weights=log_w,
        log_n=jnp.log(count),
    )
