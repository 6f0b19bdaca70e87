r"""Spectral thermodynamics of diffusion on a graph (Villegas et al. 2022, 2023).

With Laplacian eigenvalues :math:`\lambda_i` and :math:`\mu_i(\tau) = e^{-\tau\lambda_i}/Z(\tau)`
(a softmax, formed in log domain):

.. math::
    S(\tau) = -\frac{1}{\log N}\sum_i \mu_i\log\mu_i
            = \frac{\log Z + \tau\langle\lambda\rangle_\mu}{\log N}\in[0, 1],\qquad
    C(\tau) = -\frac{dS}{d\log\tau} = \frac{\tau^2\,\mathrm{Var}_\mu(\lambda)}{\log N},\qquad
    d_S(\tau) = -2\frac{d\log Z}{d\log\tau} = 2\tau\langle\lambda\rangle_\mu .

``N`` counts the finite eigenvalues (padding is ``+inf``). Every formula is evaluated on the
shifted spectrum :math:`\lambda - \lambda_{\min}` (``S`` and ``C`` are shift-invariant), so the
two terms of ``S`` stay of order :math:`\log N` for every :math:`\tau` from 1e-8 to 1e8 and no
cancellation of large numbers occurs; the variance is two-pass. ``S = C = 0`` for ``N = 1``.

References:
    P. Villegas, A. Gabrielli, F. Santucci, G. Caldarelli, T. Gili, "Laplacian paths in complex
    networks: Information core emerges from entropic transitions", Phys. Rev. Research 4 (2022).
    P. Villegas, T. Gili, G. Caldarelli, A. Gabrielli, "Laplacian renormalization group for
    heterogeneous networks", Nature Physics 19 (2023).

Example:
    >>> import jax.numpy as jnp, jaxrg
    >>> eig = jnp.array([0.0, 3.0, 3.0])                  # the triangle K_3
    >>> curves = jaxrg.entropy_curves(eig, jnp.array([1e-8, 1e8]))
    >>> curves.entropy.round(6).tolist()                  # S(0+) = 1, S(inf) = 0 (connected)
    [1.0, 0.0]
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from jaxrg._numerics import lead, log_weights, scaled_moments

__all__ = [
    "SpectralCurves",
    "VARIANTS",
    "entropy_curves",
    "specific_heat",
    "specific_heat_slope_sign",
    "spectral_dimension",
    "spectral_entropy",
]

VARIANTS = ("exact", "authors")


class SpectralCurves(NamedTuple):
    """Thermodynamic curves on a grid of diffusion times; every field has the shape of ``taus``.

    Attributes:
        heat_trace: :math:`Z(\\tau)` (unnormalised, NetLSD's heat trace).
        entropy: :math:`S(\\tau)`, normalised by :math:`\\log N`.
        specific_heat: :math:`C(\\tau) = -dS/d\\log\\tau`, normalised by :math:`\\log N`.
        spectral_dimension: :math:`d_S(\\tau) = 2\\tau\\langle\\lambda\\rangle_\\mu`.
    """

    heat_trace: Float[Array, " *t"]
    entropy: Float[Array, " *t"]
    specific_heat: Float[Array, " *t"]
    spectral_dimension: Float[Array, " *t"]


class _Moments(NamedTuple):
    log_z: jax.Array  # log Z of the shifted spectrum
    tau_mean: jax.Array  # tau <lambda - lambda_min>_mu
    tau2_var: jax.Array  # tau^2 Var_mu(lambda), two-pass
    tau3_third: jax.Array  # tau^3 times the third central moment of lambda under mu
    shift: jax.Array  # lambda_min
    log_n: jax.Array  # log N, N = number of finite eigenvalues (1 where N = 1)
    single: jax.Array  # N == 1


def _moments(eigenvalues, taus) -> _Moments:
    """Moments of the Gibbs weights ``mu`` on the shifted spectrum; shapes of ``taus``.

    After the shift by ``lambda_min`` (index ``i0``, independent of tau) the largest logit is
    exactly ``0`` at ``i0``, so ``Z = 1 + sum_{i != i0} e^{-tau (lambda_i - lambda_min)}`` with
    every term ``<= 1``: one ``exp`` per weight, no overflow, ``log Z = log1p(rest)`` keeps its
    relative accuracy at large tau, and ``mu = e / Z``.
    """
    _, safe, taus = log_weights(eigenvalues, taus)
    real = jnp.asarray(eigenvalues) != jnp.inf  # NaN stays in (NaN in, NaN out under jit)
    lowest = jnp.argmin(jnp.where(real, safe, jnp.inf))
    shift = safe[lowest]
    shifted = jnp.where(real, safe - shift, 0)
    real_t, shifted_t = lead(real, taus.ndim), lead(shifted, taus.ndim)
    others = lead(jnp.arange(shifted.shape[0]) != lowest, taus.ndim)
    weights = jnp.where(real_t, jnp.exp(-taus[..., None] * shifted_t), 0)  # in [0, 1]
    rest = jnp.sum(jnp.where(others, weights, 0), axis=-1)
    log_z = jnp.log1p(rest)
    mu = weights / (1 + rest)[..., None]
    tau_mean, tau2_var, tau3_third = scaled_moments(mu, shifted_t, taus)
    count = jnp.sum(real)
    single = count <= 1
    # double where: log 1 = 0 would make 0/0 (and NaN gradients) for a single node
    log_n = jnp.log(jnp.where(single, 2, count).astype(log_z.dtype))
    log_n = jnp.where(single, 1, log_n)
    return _Moments(log_z, tau_mean, tau2_var, tau3_third, shift, log_n, single)


def entropy_curves(eigenvalues, taus) -> SpectralCurves:
    """``Z``, ``S``, ``C`` and ``d_S`` at once, sharing one softmax (see the module docstring).

    Args:
        eigenvalues: ``(N,)`` Laplacian eigenvalues (``+inf`` for padding), e.g. from
            :func:`jaxrg.laplacian_spectrum`.
        taus: scalar or any-shape diffusion times ``> 0``.

    Returns:
        :class:`SpectralCurves`, each field shaped like ``taus``.

    Raises:
        ValueError: NaN eigenvalues, ``taus`` not finite or not positive (concrete input).
    """
    m = _moments(eigenvalues, taus)
    taus = jnp.asarray(taus).astype(m.log_z.dtype)
    entropy = jnp.where(m.single, 0, (m.log_z + m.tau_mean) / m.log_n)
    specific_heat = jnp.where(m.single, 0, m.tau2_var / m.log_n)
    return SpectralCurves(
        heat_trace=jnp.exp(m.log_z - taus * m.shift),
        entropy=entropy,
        specific_heat=specific_heat,
        spectral_dimension=2 * (m.tau_mean + taus * m.shift),
    )


def spectral_entropy(eigenvalues, taus) -> Float[Array, " *t"]:
    r"""Normalised von Neumann entropy :math:`S(\tau) = -\sum_i\mu_i\log\mu_i/\log N \in [0, 1]`.

    :math:`S(0^+) = 1`, :math:`S(\infty) = \log c/\log N` for ``c`` connected components.

    Args:
        eigenvalues: ``(N,)`` Laplacian eigenvalues (``+inf`` for padding).
        taus: scalar or any-shape diffusion times ``> 0``.

    Returns:
        ``S`` with the shape of ``taus``.

    Example:
        >>> import jax.numpy as jnp, jaxrg
        >>> s = jaxrg.spectral_entropy(jnp.array([0.0, 0.0, 5.0, 5.0]), 1e3)  # two components
        >>> round(float(s), 6)                          # log 2 / log 4
        0.5
    """
    return entropy_curves(eigenvalues, taus).entropy


def specific_heat(eigenvalues, taus, *, variant: str = "exact") -> Float[Array, " *t"]:
    r"""Specific heat :math:`C(\tau) = -dS/d\log\tau = \tau^2\mathrm{Var}_\mu(\lambda)/\log N`.

    Closed form (no finite differences); agrees with ``jax.grad`` of :func:`spectral_entropy`.

    Args:
        eigenvalues: ``(N,)`` Laplacian eigenvalues (``+inf`` for padding).
        taus: scalar or any-shape diffusion times ``> 0``.
        variant: ``"exact"`` (default) or ``"authors"``: the quantity
            :math:`\tau^2\sum_i\lambda_i^2 e^{-\tau\lambda_i}` computed by the code of Caso et al.
            (IJCNN 2025) — no normalisation by ``Z``, no variance — whose peaks sit elsewhere; use
            it only to reproduce their characteristic scales.

    Returns:
        ``C`` with the shape of ``taus``.

    Example:
        >>> import jax.numpy as jnp, jaxrg
        >>> c = jaxrg.specific_heat(jnp.array([0.0, 2.0]), 1.0)   # two nodes, one edge
        >>> round(float(c), 6)                                   # 4 p (1 - p) / log 2
        0.605895
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}; got {variant!r}.")
    if variant == "authors":
        weights, x = _authors_terms(eigenvalues, taus)
        return jnp.sum(weights * x**2, axis=-1)
    return entropy_curves(eigenvalues, taus).specific_heat


def spectral_dimension(eigenvalues, taus) -> Float[Array, " *t"]:
    r"""Spectral dimension :math:`d_S = -2\,d\log Z/d\log\tau = 2\tau\langle\lambda\rangle_\mu`.

    Args:
        eigenvalues: ``(N,)`` Laplacian eigenvalues (``+inf`` for padding).
        taus: scalar or any-shape diffusion times ``> 0``.

    Returns:
        ``d_S`` with the shape of ``taus``.
    """
    return entropy_curves(eigenvalues, taus).spectral_dimension


def specific_heat_slope_sign(eigenvalues, taus, *, variant: str = "exact") -> jax.Array:
    r"""A quantity with the sign of :math:`dC/d\log\tau`, in closed form.

    ``exact``: :math:`\tau^2(2\kappa_2 - \tau\kappa_3)` (formed as moments of
    :math:`\tau\lambda`, finite for every :math:`\tau`) with :math:`\kappa_k` the central
    moments of :math:`\lambda` under :math:`\mu` (since :math:`d\kappa_2/d\tau = -\kappa_3`).
    ``authors``: :math:`\tau^2(2M_2 - \tau M_3)`, with
    :math:`M_k = \sum_i\lambda_i^k e^{-\tau\lambda_i}`.
    Used by :func:`jaxrg.characteristic_scales` to refine peaks by bisection.
    """
    if variant == "authors":
        weights, x = _authors_terms(eigenvalues, taus)
        return jnp.sum(weights * (2 * x**2 - x**3), axis=-1)  # tau^2 (2 M_2 - tau M_3)
    m = _moments(eigenvalues, taus)
    return 2 * m.tau2_var - m.tau3_third  # tau^2 (2 kappa_2 - tau kappa_3): same sign


def _authors_terms(eigenvalues, taus) -> tuple[jax.Array, jax.Array]:
    """``(e^{-tau lambda}, tau lambda)`` of the ``authors`` variant, ``(*t, N)`` each.

    ``tau lambda`` is set to 0 where the weight underflows to 0 (double where: it may be inf
    there, and 0 * inf is NaN), so ``tau^2 lambda^2`` is never formed as ``tau^2`` times
    ``lambda^2`` and no finite tau or eigenvalue overflows.
    """
    logits, safe, taus = log_weights(eigenvalues, taus)
    weights = jnp.exp(logits)
    x = jnp.where(weights != 0, taus[..., None] * lead(safe, taus.ndim), 0)
    return weights, x

