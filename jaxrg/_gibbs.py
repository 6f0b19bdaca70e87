r"""Gibbs moments of a *weighted* discrete spectral measure, in log domain.

A spectral measure :math:`\sum_k w_k\,\delta_{\theta_k}` — unit weights on exact eigenvalues
(the dense route) or Gauss-quadrature nodes and weights from Lanczos (the sparse route) — gives

.. math::
    Z(\tau) = \sum_k w_k e^{-\tau\theta_k},\qquad
    \mu_k = \frac{w_k e^{-\tau\theta_k}}{Z} = \mathrm{softmax}(\log w - \tau\theta)_k,

and the moments :math:`\langle\theta\rangle_\mu`, :math:`\mathrm{Var}_\mu(\theta)` and the third
central moment that :mod:`jaxrg.thermo` turns into :math:`S`, :math:`C`, :math:`d_S`. The same
tricks as :func:`jaxrg.thermo._moments`: nodes shifted by their minimum (the moments are
shift-invariant; ``log Z`` is returned for the shifted measure), ``logsumexp_1p`` for ``log Z``,
two-pass central moments. Atoms with ``log_weights = -inf`` are absent.

With ``log_weights = 0`` on the finite eigenvalues this is exactly
:func:`jaxrg.thermo._moments`; the lead may later let ``thermo`` call :func:`weighted_moments`
(see the report of issue 9).

Example:
    >>> import jax.numpy as jnp
    >>> m = weighted_moments(jnp.array([0.0, 2.0]), jnp.log(jnp.array([1.0, 3.0])), 0.5)
    >>> round(float(m.log_z), 6), round(float(m.tau_mean), 6)   # log(1 + 3/e), (3/e) / (1 + 3/e)
    (0.743668, 0.524633)
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxrg import _checks
from jaxrg._numerics import lead, logsumexp_1p, scaled_moments


class WeightedMoments(NamedTuple):
    """Moments of :math:`\\mu(\\tau)`; every field has the shape of ``taus`` (``shift``: scalar)."""

    log_z: jax.Array  # log Z of the measure shifted by `shift`
    tau_mean: jax.Array  # tau <theta - shift>_mu
    tau2_var: jax.Array  # tau^2 Var_mu(theta), two-pass
    tau3_third: jax.Array  # tau^3 times the third central moment
    shift: jax.Array  # smallest node with non-zero weight


def weighted_moments(nodes, log_weights, taus) -> WeightedMoments:
    """Log-domain Gibbs moments of the measure ``sum_k exp(log_weights_k) delta(nodes_k)``.

    Args:
        nodes: ``(K,)`` finite support points (eigenvalues or quadrature nodes).
        log_weights: ``(K,)`` log masses; ``-inf`` removes an atom (at least one must be finite).
        taus: scalar or any-shape diffusion times ``> 0``.

    Returns:
        :class:`WeightedMoments`.
    """
    nodes = _checks.as_float_array(nodes, "nodes")
    log_weights = jnp.asarray(log_weights).astype(nodes.dtype)
    taus = _checks.check_taus(taus, dtype=nodes.dtype)
    present = log_weights != -jnp.inf  # NaN stays in: NaN in, NaN out under jit
    # double where: an absent atom at a large node must not set the shift or make 0 * inf
    safe = jnp.where(present, nodes, 0)
    shift = jnp.min(jnp.where(present, safe, jnp.inf))
    shifted = jnp.where(present, safe - shift, 0)
    present_t, shifted_t = lead(present, taus.ndim), lead(shifted, taus.ndim)
    logits = jnp.where(
        present_t, lead(log_weights, taus.ndim) - taus[..., None] * shifted_t, -jnp.inf
    )
    log_z = logsumexp_1p(logits)
    mu = jnp.exp(logits - log_z[..., None])
    tau_mean, tau2_var, tau3_third = scaled_moments(mu, shifted_t, taus)
    return WeightedMoments(log_z, tau_mean, tau2_var, tau3_third, shift)


def gibbs_curves(nodes, log_weights, taus, log_n):
    r"""``Z``, ``S``, ``C``, ``d_S`` of a weighted spectral measure (see the module docstring).

    .. math::
        S = \frac{\log Z + \tau\langle\theta\rangle_\mu}{\log N},\quad
        C = \frac{\tau^2\,\mathrm{Var}_\mu(\theta)}{\log N},\quad
        d_S = 2\tau\langle\theta\rangle_\mu .

    With unit weights on the finite eigenvalues and ``log_n = log N`` this equals
    :func:`jaxrg.entropy_curves` (tested); the sparse route passes Lanczos quadrature nodes.

    Args:
        nodes: ``(K,)`` support points.
        log_weights: ``(K,)`` log masses (``-inf``: absent).
        taus: scalar or any-shape diffusion times.
        log_n: scalar :math:`\log N` (``S`` and ``C`` are 0 where ``log_n <= 0``, i.e. N = 1).

    Returns:
        :class:`jaxrg.SpectralCurves`.
    """
    from jaxrg.thermo import SpectralCurves

    m = weighted_moments(nodes, log_weights, taus)
    taus = jnp.asarray(taus).astype(m.log_z.dtype)
    log_n = jnp.asarray(log_n).astype(m.log_z.dtype)
    single = log_n <= 0
    # double where: N = 1 would divide by log 1 = 0
    safe_log_n = jnp.where(single, 1, log_n)
    return SpectralCurves(
        heat_trace=jnp.exp(m.log_z - taus * m.shift),
        entropy=jnp.where(single, 0, (m.log_z + m.tau_mean) / safe_log_n),
        specific_heat=jnp.where(single, 0, m.tau2_var / safe_log_n),
        spectral_dimension=2 * (m.tau_mean + taus * m.shift),
    )
