r"""Characteristic scales (peaks of :math:`C`) from a stochastic Lanczos quadrature.

The same algorithm as :func:`jaxrg.characteristic_scales` — grid maxima with a prominence
filter, then bisection on the sign of :math:`dC/d\log\tau \propto 2\kappa_2 - \tau\kappa_3` —
applied to the pooled quadrature measure instead of exact eigenvalues.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Float

from jaxrg import _checks
from jaxrg._gibbs import gibbs_curves, weighted_moments
from jaxrg.scales import (
    CharacteristicScales,
    _bisect,
    _check_num_taus,
    _check_peak_options,
    _prominent_maxima,
)
from jaxrg.sparse._quadrature import SpectralQuadrature
from jaxrg.sparse._slq import _pooled


def default_taus(quad: SpectralQuadrature, *, num_taus: int = 512) -> Float[Array, " t"]:
    r"""Log-spaced grid from :math:`10^{-2}/\theta_{\max}` to :math:`10^{2}/\theta_{\min}`.

    :math:`\theta` are the Ritz values with non-zero weight (estimates of :math:`\lambda_{\max}`
    and of :math:`\lambda_2`; the smallest Ritz value is never below :math:`\lambda_2`).

    Args:
        quad: :class:`SpectralQuadrature` from :func:`lanczos_quadrature`.
        num_taus: ``T``, the number of scales (static).

    Returns:
        ``(T,)`` increasing diffusion times.
    """
    _check_num_taus(num_taus)
    nodes, log_w = _pooled(quad, -1)
    live = (log_w > -jnp.inf) & (nodes > 0)
    hi = jnp.max(jnp.where(live, nodes, 0))
    hi = jnp.where(hi > 0, hi, 1)
    lo = jnp.min(jnp.where(live, nodes, jnp.inf))
    lo = jnp.where(jnp.isfinite(lo), lo, hi)
    return jnp.logspace(jnp.log10(1e-2 / hi), jnp.log10(1e2 / lo), num_taus, dtype=nodes.dtype)


def characteristic_scales(
    quad: SpectralQuadrature,
    taus=None,
    *,
    max_peaks: int = 8,
    num_taus: int = 512,
    min_prominence: float = 1e-2,
    sort_by: str = "height",
) -> CharacteristicScales:
    """Local maxima of :math:`C(\\tau)` of the SLQ curves, refined by bisection.

    Args:
        quad: from :func:`jaxrg.sparse.lanczos_quadrature`.
        taus: optional increasing ``(T,)`` grid (default :func:`default_taus`).
        max_peaks: output size (static).
        num_taus: grid size when ``taus`` is None (static).
        min_prominence: see :func:`jaxrg.characteristic_scales`.
        sort_by: ``"height"`` or ``"tau"``.

    Returns:
        :class:`jaxrg.CharacteristicScales`.

    Example:
        >>> import jax, networkx as nx, jaxrg, jaxrg.sparse as sp
        >>> g = nx.barbell_graph(30, 0)       # two K_30 joined by one edge: one slow mode
        >>> quad = sp.lanczos_quadrature(g, key=jax.random.key(0), num_matvecs=40)
        >>> approx = sp.characteristic_scales(quad)
        >>> exact = jaxrg.characteristic_scales(jaxrg.laplacian_spectrum(g))
        >>> bool(abs(approx.taus[0] / exact.taus[0] - 1) < 0.05)
        True
    """
    if sort_by not in ("height", "tau"):
        raise ValueError(f"sort_by must be 'height' or 'tau'; got {sort_by!r}.")
    _check_peak_options(max_peaks, min_prominence)
    if taus is None:
        taus = default_taus(quad, num_taus=num_taus)
    else:
        taus = _checks.check_taus(taus, dtype=quad.nodes.dtype)
        if taus.ndim != 1 or taus.shape[0] < 3:
            raise ValueError(f"taus must be a 1-D grid of at least 3 points; got {taus.shape}.")
    return _scales(quad, taus, max_peaks, min_prominence, sort_by)


@functools.partial(jax.jit, static_argnums=(2, 4))  # the public contract (bisection loops)
def _scales(quad, taus, max_peaks, min_prominence, sort_by) -> CharacteristicScales:
    nodes, log_w = _pooled(quad, -1)
    log_n = jnp.log(quad.num_nodes.astype(nodes.dtype))

    def heat(t):
        return gibbs_curves(nodes, log_w, t, log_n).specific_heat

    def slope(log_tau):
        tau = jnp.exp(log_tau)
        m = weighted_moments(nodes, log_w, tau)
        return 2 * m.tau2_var - m.tau3_third  # tau^2 (2 kappa_2 - tau kappa_3)

    grid_heat = heat(taus)
    is_peak = _prominent_maxima(grid_heat, min_prominence)
    num = min(max_peaks, grid_heat.shape[0])
    top, index = lax.top_k(jnp.where(is_peak, grid_heat, -jnp.inf), num)
    valid = jnp.isfinite(top)
    index = jnp.clip(index, 1, grid_heat.shape[0] - 2)
    log_taus = jnp.log(taus)
    peak_tau = jnp.exp(
        jax.vmap(lambda lo, hi: _bisect(slope, lo, hi))(log_taus[index - 1], log_taus[index + 1])
    )
    heights = heat(peak_tau)
    order = jnp.argsort(jnp.where(valid, -heights if sort_by == "height" else peak_tau, jnp.inf))
    nan = jnp.full(max_peaks - num, jnp.nan, heights.dtype)
    return CharacteristicScales(
        taus=jnp.concatenate([jnp.where(valid, peak_tau, jnp.nan)[order], nan]),
        heights=jnp.concatenate([jnp.where(valid, heights, jnp.nan)[order], nan]),
        valid=jnp.concatenate([valid[order], jnp.zeros(max_peaks - num, bool)]),
    )
