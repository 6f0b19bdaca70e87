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

import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from jaxrg import _checks
from jaxrg._numerics import lead, no_real_node_is_nan, scaled_moments
from jaxrg._numerics import log_weights as log_weights_of  # the name is an argument here

__all__ = [
    "FORMULAS",
    "Moments",
    "SpectralCurves",
    "VARIANTS",
    "entropy_curves",
    "measure_curves",
    "measure_heat_trace_curvature",
    "measure_moments",
    "measure_slope_sign",
    "resolve_formula",
    "specific_heat",
    "specific_heat_slope_sign",
    "spectral_dimension",
    "spectral_entropy",
    "unit_measure",
]

#: The quantities called "specific heat" (``formula=``): ``"heat-capacity"`` is
#: :math:`C = -dS/d\log\tau = \tau^2\mathrm{Var}_\mu(\lambda)/\log N`; ``"heat-trace-curvature"``
#: is :math:`\tau^2 Z''(\tau) = \tau^2\sum_i\lambda_i^2 e^{-\tau\lambda_i}`, the quantity of the
#: code of Caso et al. (IJCNN 2025).
FORMULAS = ("heat-capacity", "heat-trace-curvature")

#: Deprecated ``variant=`` values and the ``formula=`` each one names (kept for one release).
VARIANTS = {"exact": "heat-capacity", "authors": "heat-trace-curvature"}


def resolve_formula(formula: str | None = None, variant: str | None = None) -> str:
    """The ``formula`` name, after mapping the deprecated ``variant`` onto it.

    Args:
        formula: one of :data:`FORMULAS`, or None: ``"heat-capacity"`` unless ``variant`` names
            another formula.
        variant: deprecated alias, one of :data:`VARIANTS` (``"exact"``, ``"authors"``), or None.

    Returns:
        The checked formula name.

    Raises:
        ValueError: an unknown name, or ``variant`` naming another formula than ``formula``.
    """
    if formula is not None and formula not in FORMULAS:
        raise ValueError(f"formula must be one of {FORMULAS}; got {formula!r}.")
    if variant is not None:
        if variant not in VARIANTS:
            raise ValueError(
                f"variant is deprecated and must be one of {tuple(VARIANTS)}; got {variant!r}. "
                f"Pass formula= one of {FORMULAS}."
            )
        new = VARIANTS[variant]
        if formula is not None and formula != new:
            raise ValueError(
                f"formula={formula!r} and variant={variant!r} disagree; pass formula only."
            )
        warnings.warn(
            f"variant={variant!r} is deprecated; use formula={new!r}.",
            DeprecationWarning,
            stacklevel=3,
        )
        return new
    return "heat-capacity" if formula is None else formula


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


class Moments(NamedTuple):
    """Moments of :math:`\\mu(\\tau)`; every field has the shape of ``taus`` (``shift``: scalar)."""

    log_z: jax.Array  # log Z of the measure shifted by `shift`
    tau_mean: jax.Array  # tau <theta - shift>_mu
    tau2_var: jax.Array  # tau^2 Var_mu(theta), two-pass
    tau3_third: jax.Array  # tau^3 times the third central moment
    shift: jax.Array  # smallest node with non-zero weight


def unit_measure(eigenvalues) -> tuple[jax.Array, None]:
    """Exact eigenvalues as the unit-weight measure ``(nodes, None)`` (``+inf``: padding, absent).

    Args:
        eigenvalues: ``(N,)`` Laplacian eigenvalues (``+inf`` for padding).

    Returns:
        ``(nodes, log_weights)`` for :func:`measure_moments`: the checked ``(N,)`` eigenvalues and
        ``None``, which stands for ``log_weights = 0`` on the finite eigenvalues and ``-inf`` on
        the padding.
    """
    return no_real_node_is_nan(_checks.check_eigenvalues(eigenvalues)), None


def measure_moments(nodes, log_weights, taus) -> Moments:
    r"""Log-domain Gibbs moments of the measure :math:`\sum_k w_k\delta_{\theta_k}`.

    .. math::
        Z(\tau) = \sum_k w_k e^{-\tau\theta_k},\qquad
        \mu_k = \frac{w_k e^{-\tau\theta_k}}{Z} = \mathrm{softmax}(\log w - \tau\theta)_k .

    Exact eigenvalues are the unit-weight case (:func:`unit_measure`); SLQ quadratures and the
    feature measure (:mod:`jaxrg.features`) are weighted ones. The nodes are shifted by the
    smallest present one (the moments are shift-invariant; ``log Z`` is returned for the shifted
    measure), so the largest logit ``m`` is of order 1 and
    ``Z = e^m (1 + sum_{k != k*} e^{l_k - m})`` with every term ``<= 1``: one ``exp`` per atom,
    no overflow, and ``log Z = m + log1p(rest)`` keeps its relative accuracy at large tau;
    central moments are two-pass (:func:`jaxrg._numerics.scaled_moments`). With unit weights
    the largest logit is ``m = 0`` at the lowest node for every tau, so that case skips the
    search for it and forms ``mu = e^l / Z`` (weighted: ``e^{l - log Z}``): the same formula, in
    the arrangement each route's committed numbers were computed with (bit for bit).

    Args:
        nodes: ``(K,)`` support points (eigenvalues or quadrature nodes; any value where absent).
        log_weights: ``(K,)`` log masses (``-inf`` removes an atom; at least one must be
            finite), or None for unit weights on the finite nodes (``+inf`` nodes absent).
        taus: scalar or any-shape diffusion times ``> 0``.

    Returns:
        :class:`Moments`.

    Raises:
        ValueError: (concrete input; under ``jit`` through :func:`jaxrg.checked`) ``+inf``
            log weights, or log weights that are all ``-inf`` (no atom); under plain ``jit``
            those give NaN moments. A NaN log weight gives NaN moments (NaN in, NaN out).

    Example:
        >>> import jax.numpy as jnp
        >>> m = measure_moments(jnp.array([0.0, 2.0]), jnp.log(jnp.array([1.0, 3.0])), 0.5)
        >>> round(float(m.log_z), 6), round(float(m.tau_mean), 6)   # log(1 + 3/e), (3/e)/(1 + 3/e)
        (0.743668, 0.524633)
    """
    nodes, log_weights, taus = _checked_measure(nodes, log_weights, taus)
    unit = log_weights is None
    # NaN stays in: NaN in, NaN out under jit
    present = nodes != jnp.inf if unit else log_weights != -jnp.inf
    # double where: an absent atom at a large node must not set the shift or make 0 * inf
    safe = jnp.where(present, nodes, 0)
    lowest = jnp.argmin(jnp.where(present, safe, jnp.inf))
    shift = safe[lowest] if unit else jnp.min(jnp.where(present, safe, jnp.inf))
    shifted = jnp.where(present, safe - shift, 0)
    present_t, shifted_t = lead(present, taus.ndim), lead(shifted, taus.ndim)
    if unit:
        # the largest logit is exactly 0 at the lowest node for every tau: Z = 1 + rest, mu = e/Z
        others = lead(jnp.arange(shifted.shape[0]) != lowest, taus.ndim)
        terms = jnp.where(present_t, jnp.exp(-taus[..., None] * shifted_t), 0)  # in [0, 1]
        rest = jnp.sum(jnp.where(others, terms, 0), axis=-1)
        log_z = jnp.log1p(rest)
        mu = terms / (1 + rest)[..., None]
    else:
        logits = jnp.where(
            present_t, lead(log_weights, taus.ndim) - taus[..., None] * shifted_t, -jnp.inf
        )
        top = jnp.argmax(logits, axis=-1)  # the largest logit moves with tau
        peak = jnp.take_along_axis(logits, top[..., None], axis=-1)
        others = lead(jnp.arange(logits.shape[-1]), top.ndim) != top[..., None]
        rest = jnp.sum(jnp.where(others, jnp.exp(logits - peak), 0), axis=-1)  # terms <= 1
        log_z = peak[..., 0] + jnp.log1p(rest)
        mu = jnp.exp(logits - log_z[..., None])
    tau_mean, tau2_var, tau3_third = scaled_moments(mu, shifted_t, taus)
    return Moments(log_z, tau_mean, tau2_var, tau3_third, shift)


def measure_curves(nodes, log_weights, taus, log_n) -> SpectralCurves:
    r"""``Z``, ``S``, ``C``, ``d_S`` of a spectral measure (see :func:`measure_moments`).

    .. math::
        S = \frac{\log Z + \tau\langle\theta\rangle_\mu}{\log N},\quad
        C = \frac{\tau^2\,\mathrm{Var}_\mu(\theta)}{\log N},\quad
        d_S = 2\tau\langle\theta\rangle_\mu .

    Args:
        nodes: ``(K,)`` support points.
        log_weights: ``(K,)`` log masses (``-inf``: absent), or None for unit weights.
        taus: scalar or any-shape diffusion times.
        log_n: scalar :math:`\log N` (``S`` and ``C`` are 0 where ``log_n <= 0``, i.e. N <= 1).

    Returns:
        :class:`SpectralCurves`.
    """
    m = measure_moments(nodes, log_weights, taus)
    taus = jnp.asarray(taus).astype(m.log_z.dtype)
    log_n = jnp.asarray(log_n).astype(m.log_z.dtype)
    single = log_n <= 0
    # double where: N = 1 would divide by log 1 = 0 (and give NaN gradients)
    safe_log_n = jnp.where(single, 1, log_n)
    entropy = (m.log_z + m.tau_mean) / safe_log_n
    specific_heat = m.tau2_var / safe_log_n
    # N = 1: exactly 0, but a NaN (tau, eigenvalue) stays NaN: NaN in, NaN out under jit
    return SpectralCurves(
        heat_trace=jnp.exp(m.log_z - taus * m.shift),
        entropy=jnp.where(single & ~jnp.isnan(entropy), 0, entropy),
        specific_heat=jnp.where(single & ~jnp.isnan(specific_heat), 0, specific_heat),
        spectral_dimension=2 * (m.tau_mean + taus * m.shift),
    )


def measure_slope_sign(nodes, log_weights, taus, *, formula: str | None = None) -> jax.Array:
    r"""A quantity with the sign of :math:`dC/d\log\tau`, in closed form.

    ``"heat-capacity"``: :math:`\tau^2(2\kappa_2 - \tau\kappa_3)`, :math:`\kappa_k` the central
    moments of :math:`\theta` under :math:`\mu` (since :math:`d\kappa_2/d\tau = -\kappa_3`),
    formed as moments of :math:`\tau\theta`, finite for every :math:`\tau`.
    ``"heat-trace-curvature"``: :math:`\tau^2(2M_2 - \tau M_3)`, with
    :math:`M_k = \sum_k w_k\theta_k^k e^{-\tau\theta_k}` (see
    :func:`measure_heat_trace_curvature`). The peak search refines its maxima by bisection on
    this sign.

    Args:
        nodes: ``(K,)`` support points.
        log_weights: ``(K,)`` log masses (``-inf``: absent), or None for unit weights.
        taus: scalar or any-shape diffusion times.
        formula: one of :data:`FORMULAS` (None: ``"heat-capacity"``).

    Returns:
        A value with the sign of :math:`dC/d\log\tau`, shaped like ``taus``.
    """
    if resolve_formula(formula) == "heat-trace-curvature":
        weights, x = _curvature_terms(nodes, log_weights, taus)
        return jnp.sum(weights * (2 * x**2 - x**3), axis=-1)  # tau^2 (2 M_2 - tau M_3)
    m = measure_moments(nodes, log_weights, taus)
    return 2 * m.tau2_var - m.tau3_third


def measure_heat_trace_curvature(nodes, log_weights, taus) -> jax.Array:
    r"""The heat-trace curvature :math:`\tau^2 Z''(\tau)` of a spectral measure.

    .. math:: \tau^2 Z''(\tau) = \tau^2\sum_k w_k\theta_k^2 e^{-\tau\theta_k}.

    The ``"heat-trace-curvature"`` formula of :func:`specific_heat` (the quantity of the code of
    Caso et al., IJCNN 2025) for any measure :math:`\sum_k w_k\delta_{\theta_k}`: exact
    eigenvalues (unit weights), an SLQ quadrature (:mod:`jaxrg.sparse`, whose weights make
    :math:`Z` an estimate of the heat trace) or the feature measure (:mod:`jaxrg.features`).
    Each term is formed as :math:`e^{\log w_k - x_k} x_k^2` with :math:`x_k = \tau\theta_k`, set
    to 0 where the exponential underflows, so no finite input overflows.

    Args:
        nodes: ``(K,)`` support points (``+inf`` allowed where the weight is absent).
        log_weights: ``(K,)`` log masses (``-inf``: absent), or None for unit weights on the
            finite nodes.
        taus: scalar or any-shape diffusion times ``> 0``.

    Returns:
        :math:`\tau^2 Z''(\tau)` with the shape of ``taus``.

    Example:
        >>> import jax.numpy as jnp
        >>> nodes, log_w = jnp.array([0.0, 2.0]), jnp.log(jnp.array([1.0, 3.0]))
        >>> round(float(measure_heat_trace_curvature(nodes, log_w, 0.5)), 6)  # 3 (0.5*2)^2 / e
        1.103638
    """
    weights, x = _curvature_terms(nodes, log_weights, taus)
    return jnp.sum(weights * x**2, axis=-1)


def _log_n(eigenvalues: jax.Array) -> jax.Array:
    """``log N``, ``N`` the number of finite eigenvalues (``<= 0`` for a single node)."""
    return jnp.log(jnp.sum(eigenvalues != jnp.inf).astype(eigenvalues.dtype))


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
            Under plain ``jit`` a NaN eigenvalue or ``tau`` gives NaN (also for one node), and
            a spectrum without a finite eigenvalue (padding only) gives NaN curves, as
            :func:`jaxrg.batch.batch_curves` does for a graph without a real node.
    """
    nodes, log_w = unit_measure(eigenvalues)
    return measure_curves(nodes, log_w, taus, _log_n(nodes))


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


def specific_heat(
    eigenvalues, taus, *, formula: str | None = None, variant: str | None = None
) -> Float[Array, " *t"]:
    r"""Specific heat :math:`C(\tau) = -dS/d\log\tau = \tau^2\mathrm{Var}_\mu(\lambda)/\log N`.

    Closed form (no finite differences); agrees with ``jax.grad`` of :func:`spectral_entropy`.

    Args:
        eigenvalues: ``(N,)`` Laplacian eigenvalues (``+inf`` for padding).
        taus: scalar or any-shape diffusion times ``> 0``.
        formula: ``"heat-capacity"`` (the default, also for None), the :math:`C` above, or
            ``"heat-trace-curvature"``: :math:`\tau^2 Z''(\tau) =
            \tau^2\sum_i\lambda_i^2 e^{-\tau\lambda_i}`, the quantity computed by the code of
            Caso et al. (IJCNN 2025) — no normalisation by ``Z``, no variance — whose peaks sit
            elsewhere; use it only to reproduce their characteristic scales.
        variant: deprecated alias of ``formula`` (``"exact"``: ``"heat-capacity"``,
            ``"authors"``: ``"heat-trace-curvature"``); warns.

    Returns:
        ``C`` with the shape of ``taus``.

    Example:
        >>> import jax.numpy as jnp, jaxrg
        >>> c = jaxrg.specific_heat(jnp.array([0.0, 2.0]), 1.0)   # two nodes, one edge
        >>> round(float(c), 6)                                   # 4 p (1 - p) / log 2
        0.605895
    """
    if resolve_formula(formula, variant) == "heat-trace-curvature":
        return measure_heat_trace_curvature(eigenvalues, None, taus)
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


def specific_heat_slope_sign(
    eigenvalues, taus, *, formula: str | None = None, variant: str | None = None
) -> jax.Array:
    r"""A quantity with the sign of :math:`dC/d\log\tau`, in closed form.

    ``"heat-capacity"``: :func:`measure_slope_sign` of the unit-weight measure,
    :math:`\tau^2(2\kappa_2 - \tau\kappa_3)`. ``"heat-trace-curvature"``:
    :math:`\tau^2(2M_2 - \tau M_3)`, with :math:`M_k = \sum_i\lambda_i^k e^{-\tau\lambda_i}`.
    Used by :func:`jaxrg.characteristic_scales` to refine peaks by bisection.

    Args:
        eigenvalues: ``(N,)`` Laplacian eigenvalues (``+inf`` for padding).
        taus: scalar or any-shape diffusion times ``> 0``.
        formula: one of :data:`FORMULAS` (see :func:`specific_heat`).
        variant: deprecated alias of ``formula``; warns.

    Returns:
        A value with the sign of :math:`dC/d\log\tau`, shaped like ``taus``.
    """
    if resolve_formula(formula, variant) == "heat-trace-curvature":
        return measure_slope_sign(eigenvalues, None, taus, formula="heat-trace-curvature")
    return measure_slope_sign(*unit_measure(eigenvalues), taus)


def _checked_measure(nodes, log_weights, taus):
    """``(nodes, log_weights, taus)`` as arrays of the nodes' floating dtype, shapes checked."""
    nodes = _checks.as_float_array(nodes, "nodes")
    if log_weights is not None:
        log_weights = _checks.as_float_array(log_weights, "log_weights").astype(nodes.dtype)
        if log_weights.shape != nodes.shape or nodes.ndim != 1:
            raise ValueError(
                f"nodes and log_weights must be 1-D of one length (K,), one log mass per node; "
                f"got shapes {nodes.shape} and {log_weights.shape}."
            )
        # concrete input (under jit: NaN out; jaxrg.checked raises these): a +inf log mass has
        # no Gibbs weight, and a measure of only -inf has no atom. A NaN log mass gives NaN
        # moments, eagerly too (NaN in, NaN out: a spectrum a jitted function made NaN, e.g.
        # of constant features, gives NaN curves, not an error)
        _checks.value_check(
            ~jnp.any(log_weights == jnp.inf),
            "log_weights has +inf entries: a log mass must be finite, or -inf for an absent "
            "atom; fix the quadrature or weights that produced them.",
        )
        _checks.value_check(
            jnp.any(log_weights != -jnp.inf),
            "log_weights are all -inf: the measure has no atom (Z = 0), so it has no moments; "
            "give at least one finite log mass.",
        )
    return nodes, log_weights, _checks.check_taus(taus, dtype=nodes.dtype)


def _curvature_terms(nodes, log_weights, taus) -> tuple[jax.Array, jax.Array]:
    """``(w e^{-tau theta}, tau theta)`` of ``"heat-trace-curvature"``, ``(*t, K)`` each.

    ``tau theta`` is set to 0 where the weight underflows to 0 (double where: it may be inf
    there, and 0 * inf is NaN), so ``tau^2 theta^2`` is never formed as ``tau^2`` times
    ``theta^2`` and no finite tau or node overflows. ``log_weights`` None: unit weights on the
    finite nodes (exact eigenvalues, ``+inf`` padding).
    """
    if log_weights is None:
        logits, safe, taus = log_weights_of(nodes, taus)
    else:
        nodes, log_weights, taus = _checked_measure(nodes, log_weights, taus)
        present = log_weights != -jnp.inf  # NaN stays in: NaN in, NaN out under jit
        safe = jnp.where(present, nodes, 0)  # double where: an absent atom may sit at +inf
        logits = jnp.where(
            lead(present, taus.ndim),
            lead(log_weights, taus.ndim) - taus[..., None] * lead(safe, taus.ndim),
            -jnp.inf,
        )
    weights = jnp.exp(logits)
    x = jnp.where(weights != 0, taus[..., None] * lead(safe, taus.ndim), 0)
    return weights, x

