r"""Characteristic scales: the local maxima of the specific heat :math:`C(\tau)`.

A peak of :math:`C` marks a diffusion time at which heat has equilibrated inside a structure (a
module, a community) but not yet across it (Villegas et al., Nature Physics 2023). Hierarchical
graphs have several peaks; scale-invariant graphs show a plateau instead.

Algorithm (jit-able, fixed-size output):

1. :math:`C` on a log-spaced grid (default: ``num_taus`` points from :math:`10^{-2}/\lambda_{\max}`
   to :math:`10^{2}/\lambda_2`, which brackets every peak, since a pair of eigenvalues
   contributes a bump near :math:`\tau \approx 2.4/|\lambda_i - \lambda_j|`);
2. grid local maxima, kept when their topographic prominence is at least ``min_prominence``
   times :math:`\max C` (this removes round-off ripples on plateaus);
3. the ``max_peaks`` highest, each refined by bisection on the sign of the closed-form slope
   :math:`dC/d\log\tau \propto 2\kappa_2 - \tau\kappa_3` inside its grid bracket, to machine
   precision in :math:`\log\tau`.

Example:
    >>> import jax.numpy as jnp, jaxrg
    >>> scales = jaxrg.characteristic_scales(jnp.array([0.0, 2.0]))
    >>> round(float(scales.taus[0]), 4), int(scales.valid.sum())   # one peak, at 2.3994/2
    (1.1997, 1)
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Bool, Float

from jaxrg import _checks
from jaxrg._gibbs import gibbs_curves, weighted_moments
from jaxrg.thermo import VARIANTS, specific_heat, specific_heat_slope_sign


class CharacteristicScales(NamedTuple):
    """Peaks of :math:`C(\\tau)`, fixed size ``max_peaks``; invalid slots hold NaN.

    Attributes:
        taus: ``(P,)`` refined peak positions.
        heights: ``(P,)`` :math:`C` at the peaks.
        valid: ``(P,)`` boolean, True for real peaks.
    """

    taus: Float[Array, " p"]
    heights: Float[Array, " p"]
    valid: Bool[Array, " p"]


def default_taus(eigenvalues, *, num_taus: int = 512) -> Float[Array, " t"]:
    r"""Log-spaced grid from :math:`10^{-2}/\lambda_{\max}` to :math:`10^{2}/\lambda_2`.

    :math:`\lambda_2` is the smallest positive finite eigenvalue (1 when there is none).

    Args:
        eigenvalues: ``(N,)`` (``+inf`` for padding).
        num_taus: number of grid points (static).

    Returns:
        ``(num_taus,)`` increasing diffusion times.
    """
    eigenvalues = _checks.check_eigenvalues(eigenvalues)
    real = jnp.isfinite(eigenvalues) & (eigenvalues > 0)
    lam_max = jnp.max(jnp.where(real, eigenvalues, 0))
    lam_min = jnp.min(jnp.where(real, eigenvalues, jnp.inf))
    lam_max = jnp.where(lam_max > 0, lam_max, 1)
    lam_min = jnp.where(jnp.isfinite(lam_min), lam_min, lam_max)
    lo, hi = jnp.log10(1e-2 / lam_max), jnp.log10(1e2 / lam_min)
    return jnp.logspace(lo, hi, num_taus, dtype=eigenvalues.dtype)


def characteristic_scales(
    eigenvalues,
    taus=None,
    *,
    max_peaks: int = 8,
    num_taus: int = 512,
    min_prominence: float = 1e-2,
    sort_by: str = "height",
    variant: str = "exact",
) -> CharacteristicScales:
    """Every local maximum of the specific heat, refined beyond the grid spacing.

    Args:
        eigenvalues: ``(N,)`` Laplacian eigenvalues (``+inf`` for padding).
        taus: optional ``(T,)`` increasing grid (default: :func:`default_taus`).
        max_peaks: size ``P`` of the output (static).
        num_taus: grid size when ``taus`` is None (static).
        min_prominence: keep a grid maximum only if its prominence is at least this fraction
            of :math:`\\max C` on the grid (0 keeps every strict local maximum).
        sort_by: ``"height"`` (highest peak first) or ``"tau"`` (smallest scale first, e.g. the
            "first peak" of Caso et al.); invalid slots always come last.
        variant: ``"exact"`` or ``"authors"`` (see :func:`jaxrg.specific_heat`).

    Returns:
        :class:`CharacteristicScales`.

    Raises:
        ValueError: bad ``sort_by``/``variant``, ``taus`` not 1-D or not increasing.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}; got {variant!r}.")
    if sort_by not in ("height", "tau"):
        raise ValueError(f"sort_by must be 'height' or 'tau'; got {sort_by!r}.")
    eigenvalues = _checks.check_eigenvalues(eigenvalues)
    if taus is None:
        taus = default_taus(eigenvalues, num_taus=num_taus)
    else:
        taus = _checks.check_taus(taus).astype(eigenvalues.dtype)
        if taus.ndim != 1 or taus.shape[0] < 3:
            raise ValueError(f"taus must be a 1-D grid of at least 3 points; got {taus.shape}.")
        _checks.value_check(
            jnp.all(jnp.diff(taus) > 0),
            "taus must be strictly increasing.",
        )
    return _find_peaks(
        lambda t, ev: specific_heat(ev, t, variant=variant),
        lambda log_tau, ev: specific_heat_slope_sign(ev, jnp.exp(log_tau), variant=variant),
        eigenvalues,
        taus,
        max_peaks=max_peaks,
        min_prominence=min_prominence,
        sort_by=sort_by,
    )


def _user_grid(taus, sort_by: str, dtype) -> jax.Array:
    """``sort_by`` and a user's ``(T,)`` grid checked (the weighted-measure routes' door)."""
    if sort_by not in ("height", "tau"):
        raise ValueError(f"sort_by must be 'height' or 'tau'; got {sort_by!r}.")
    if taus is None:
        return None
    taus = _checks.check_taus(taus).astype(dtype)
    if taus.ndim != 1 or taus.shape[0] < 3:
        raise ValueError(f"taus must be a 1-D grid of at least 3 points; got {taus.shape}.")
    return taus


def _measure_scales(
    nodes, log_weights, log_n, taus, *, max_peaks: int, min_prominence: float, sort_by: str
) -> CharacteristicScales:
    r"""Peaks of :math:`C` of a weighted spectral measure (SLQ quadrature, feature-aware).

    :math:`C = \tau^2\mathrm{Var}_\mu(\theta)/\log N` of
    :math:`\mu \propto \sum_k w_k e^{-\tau\theta_k}\delta_{\theta_k}`
    (:func:`jaxrg._gibbs.gibbs_curves`), with the search of :func:`characteristic_scales`
    and its implicit-function derivatives with respect to ``nodes`` and ``log_weights``.

    Args:
        nodes: ``(K,)`` support points (``+inf`` allowed where the weight is absent).
        log_weights: ``(K,)`` log masses (``-inf``: absent).
        log_n: scalar :math:`\log N`.
        taus: ``(T,)`` increasing grid.
        max_peaks: output size (static).
        min_prominence: see :func:`characteristic_scales`.
        sort_by: ``"height"`` or ``"tau"``.

    Returns:
        :class:`CharacteristicScales`.
    """

    def heat(t, params):
        return gibbs_curves(*params, t, log_n).specific_heat

    def slope(log_tau, params):
        tau = jnp.exp(log_tau)
        m = weighted_moments(*params, tau)
        return 2 * m.var - tau * m.third

    return _find_peaks(
        heat,
        slope,
        (nodes, log_weights),
        taus,
        max_peaks=max_peaks,
        min_prominence=min_prominence,
        sort_by=sort_by,
    )


def _find_peaks(heat, slope, params, taus, *, max_peaks, min_prominence, sort_by):
    r"""The peak search shared by every route (dense, SLQ, feature-aware); one home.

    Grid maxima of ``heat(taus, params)`` with the prominence filter, the ``max_peaks`` highest
    refined by bisection on the sign of ``slope(log_tau, params)`` (any function with the sign
    of :math:`dC/d\log\tau` that is smooth in ``params``), then sorted and padded.
    Derivatives of the refined ``taus`` and ``heights`` with respect to ``params`` follow the
    implicit function theorem (:func:`_peak_log_tau`); the grid itself is treated as fixed.

    Args:
        heat: ``(taus, params) -> C`` with the shape of ``taus``.
        slope: ``(log_tau, params) -> h``, a scalar with the sign of :math:`dC/d\log\tau`.
        params: a pytree of arrays (eigenvalues, or quadrature nodes and log weights).
        taus: ``(T,)`` increasing grid.
        max_peaks: output size ``P`` (static).
        min_prominence: see :func:`characteristic_scales`.
        sort_by: ``"height"`` or ``"tau"``.

    Returns:
        :class:`CharacteristicScales`.
    """
    grid_heat = heat(taus, params)
    is_peak = _prominent_maxima(grid_heat, min_prominence)
    num = min(max_peaks, grid_heat.shape[0])
    top, index = lax.top_k(jnp.where(is_peak, grid_heat, -jnp.inf), num)
    valid = jnp.isfinite(top)
    index = jnp.clip(index, 1, grid_heat.shape[0] - 2)
    log_taus = lax.stop_gradient(jnp.log(taus))  # the grid only brackets the roots
    peak_log_tau = jax.vmap(lambda lo, hi, ok: _peak_log_tau(slope, params, lo, hi, ok))(
        log_taus[index - 1], log_taus[index + 1], valid
    )
    peak_tau = jnp.exp(peak_log_tau)
    heights = heat(peak_tau, params)
    key = jnp.where(valid, -heights if sort_by == "height" else peak_tau, jnp.inf)
    order = jnp.argsort(lax.stop_gradient(key))
    nan = jnp.asarray(jnp.nan, heights.dtype)
    pad = max_peaks - num  # pad a short grid's output to the promised size
    return CharacteristicScales(
        taus=jnp.concatenate([jnp.where(valid, peak_tau, nan)[order], jnp.full(pad, nan)]),
        heights=jnp.concatenate([jnp.where(valid, heights, nan)[order], jnp.full(pad, nan)]),
        valid=jnp.concatenate([valid[order], jnp.zeros(pad, bool)]),
    )


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _peak_log_tau(slope, params, lo, hi, valid):
    r"""The root :math:`x^* = \log\tau^*` of ``slope(x, params)`` in ``[lo, hi]``, by bisection.

    Differentiating through the bisection would differentiate its iterations (and give wrong
    derivatives); :math:`x^*` is defined by :math:`h(x^*, \theta) = 0`, so by the implicit
    function theorem :math:`dx^* = -\partial_\theta h\,d\theta / \partial_x h` at
    :math:`x^*` (the custom JVP below; reverse mode transposes it). Any ``h`` with the roots
    of :math:`dC/d\log\tau` gives the same derivative, since a non-vanishing factor cancels.
    """
    del valid
    return _bisect(lambda x: slope(x, params), lo, hi)


@_peak_log_tau.defjvp
def _peak_log_tau_jvp(slope, primals, tangents):
    params, lo, hi, valid = primals
    x = _peak_log_tau(slope, params, lo, hi, valid)
    curvature = jax.grad(slope)(x, params)  # dh/dx < 0 at a maximum of C
    _, d_slope = jax.jvp(lambda p: slope(x, p), (params,), (tangents[0],))
    # an invalid slot or a degenerate maximum (dh/dx = 0) gets a zero derivative, never NaN
    ok = valid & (curvature < 0) & jnp.isfinite(curvature)
    d_x = jnp.where(ok, -d_slope / jnp.where(ok, curvature, -1), 0)
    return x, d_x


def _prominent_maxima(values: jax.Array, min_prominence: float) -> jax.Array:
    """Interior strict-left local maxima whose prominence is >= ``min_prominence * max``.

    Prominence of a maximum at ``i``: its height minus the higher of the two minima between
    ``i`` and the nearest strictly higher point on each side (or the ends). ``O(T^2)``, tiny.
    """
    t = values.shape[0]
    interior = jnp.zeros(t, bool).at[1:-1].set(True)
    left = jnp.concatenate([values[:1], values[:-1]])
    right = jnp.concatenate([values[1:], values[-1:]])
    is_max = interior & (values > left) & (values >= right)
    pos = jnp.arange(t)
    higher = values[None, :] > values[:, None]  # [i, j]: j is strictly higher than i
    left_wall = jnp.max(jnp.where(higher & (pos[None, :] < pos[:, None]), pos[None, :], -1), 1)
    right_wall = jnp.min(jnp.where(higher & (pos[None, :] > pos[:, None]), pos[None, :], t), 1)
    in_left = (pos[None, :] > left_wall[:, None]) & (pos[None, :] <= pos[:, None])
    in_right = (pos[None, :] < right_wall[:, None]) & (pos[None, :] >= pos[:, None])
    inf = jnp.asarray(jnp.inf, values.dtype)
    base_left = jnp.min(jnp.where(in_left, values[None, :], inf), 1)
    base_right = jnp.min(jnp.where(in_right, values[None, :], inf), 1)
    prominence = values - jnp.maximum(base_left, base_right)
    threshold = min_prominence * jnp.max(values)
    return is_max & (prominence >= threshold) & (values > 0)


def _bisect(slope, lo, hi, *, iterations: int = 64):
    """Root of a decreasing-through-zero ``slope`` in ``[lo, hi]`` (a maximum of C)."""

    def body(_, bracket):
        lo, hi = bracket
        mid = (lo + hi) / 2
        rising = slope(mid) > 0
        return jnp.where(rising, mid, lo), jnp.where(rising, hi, mid)

    lo, hi = lax.fori_loop(0, iterations, body, (lo, hi))
    return (lo + hi) / 2
