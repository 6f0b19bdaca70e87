r"""Characteristic scales (peaks of :math:`C`) from a stochastic Lanczos quadrature.

The same algorithm as :func:`jaxrg.characteristic_scales` — grid maxima with a prominence
filter, then bisection on the sign of :math:`dC/d\log\tau \propto 2\kappa_2 - \tau\kappa_3` —
applied to the pooled quadrature measure instead of exact eigenvalues.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from jaxrg._peaks import (
    CharacteristicScales,
    check_num_taus,
    log_grid,
    measure_scales,
    user_grid,
)
from jaxrg.sparse._quadrature import SpectralQuadrature, check_quadrature
from jaxrg.sparse._slq import pooled_measure
from jaxrg.thermo import resolve_formula


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
    check_num_taus(num_taus)
    nodes, log_w = pooled_measure(check_quadrature(quad), -1)
    return log_grid(nodes, (log_w > -jnp.inf) & (nodes > 0), num_taus)


def characteristic_scales(
    quad: SpectralQuadrature,
    taus=None,
    *,
    max_peaks: int = 8,
    num_taus: int = 512,
    min_prominence: float = 1e-2,
    sort_by: str = "height",
    formula: str | None = None,
) -> CharacteristicScales:
    """Local maxima of :math:`C(\\tau)` of the SLQ curves, refined by bisection.

    Args:
        quad: from :func:`jaxrg.sparse.lanczos_quadrature`.
        taus: optional increasing ``(T,)`` grid (default :func:`default_taus`).
        max_peaks: output size (static).
        num_taus: grid size when ``taus`` is None (static).
        min_prominence: see :func:`jaxrg.characteristic_scales`.
        sort_by: ``"height"`` or ``"tau"``.
        formula: ``"heat-capacity"`` (the default, also for None) or ``"heat-trace-curvature"``
            (:math:`\\tau^2 Z''(\\tau)` of the pooled measure, the quantity of Caso et al.'s
            code; see :func:`jaxrg.specific_heat`).

    Returns:
        :class:`jaxrg.CharacteristicScales`.

    Raises:
        ValueError: bad ``sort_by``, ``formula``, ``max_peaks``, ``min_prominence`` or grid.
        TypeError: ``quad`` is not a :class:`SpectralQuadrature` (e.g. a graph).

    Example:
        >>> import jax, networkx as nx, jaxrg, jaxrg.sparse as sp
        >>> g = nx.barbell_graph(30, 0)       # two K_30 joined by one edge: one slow mode
        >>> quad = sp.lanczos_quadrature(g, key=jax.random.key(0), num_matvecs=40)
        >>> approx = sp.characteristic_scales(quad)
        >>> exact = jaxrg.characteristic_scales(jaxrg.laplacian_spectrum(g))
        >>> bool(abs(approx.taus[0] / exact.taus[0] - 1) < 0.05)
        True
    """
    quad = check_quadrature(quad)
    formula = resolve_formula(formula)
    taus = user_grid(
        taus, quad.nodes.dtype, sort_by=sort_by, max_peaks=max_peaks, min_prominence=min_prominence
    )
    if taus is None:
        taus = default_taus(quad, num_taus=num_taus)
    return _scales(quad, taus, max_peaks, min_prominence, sort_by, formula)


@functools.partial(jax.jit, static_argnums=(2, 4, 5))  # the public contract (bisection loops)
def _scales(quad, taus, max_peaks, min_prominence, sort_by, formula) -> CharacteristicScales:
    nodes, log_w = pooled_measure(quad, -1)
    log_n = jnp.log(quad.num_nodes.astype(nodes.dtype))
    return measure_scales(
        nodes,
        log_w,
        log_n,
        taus,
        max_peaks=max_peaks,
        min_prominence=min_prominence,
        sort_by=sort_by,
        formula=formula,
    )
