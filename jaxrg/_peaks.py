"""The peak search behind every characteristic-scale function (dense, SLQ, feature-aware).

One home for: :class:`CharacteristicScales` (re-exported by :mod:`jaxrg.scales`), the grid check
of the weighted-measure routes, the grid search with its prominence filter, and the refinement by
bisection whose derivatives follow the implicit function theorem (a custom JVP).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Bool, Float

from jaxrg import _checks
from jaxrg._numerics import bisect, prominent_maxima
from jaxrg.thermo import measure_curves, measure_heat_trace_curvature, measure_slope_sign


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


def user_grid(taus, dtype, *, sort_by: str, max_peaks, min_prominence) -> jax.Array | None:
    """The options and a user's ``(T,)`` grid checked: the one door of the weighted-measure routes.

    Args:
        taus: a user's grid, or None (the caller then builds its default grid).
        dtype: the floating dtype of the measure.
        sort_by: ``"height"`` or ``"tau"``.
        max_peaks: output size (see :func:`check_peak_options`).
        min_prominence: fraction of the maximum of C (see :func:`check_peak_options`).

    Returns:
        The checked ``(T,)`` grid in ``dtype``, or None when ``taus`` is None.

    Raises:
        ValueError: a bad option or a grid that is not 1-D with at least 3 points.
    """
    check_peak_options(max_peaks, min_prominence)
    if sort_by not in ("height", "tau"):
        raise ValueError(f"sort_by must be 'height' or 'tau'; got {sort_by!r}.")
    if taus is None:
        return None
    taus = _checks.check_taus(taus).astype(dtype)
    if taus.ndim != 1 or taus.shape[0] < 3:
        raise ValueError(f"taus must be a 1-D grid of at least 3 points; got {taus.shape}.")
    return taus


def log_grid(values: jax.Array, live: jax.Array, num_taus: int) -> jax.Array:
    r"""The default grid: ``num_taus`` log-spaced scales from :math:`10^{-2}/v_{\max}` to
    :math:`10^{2}/v_{\min}` over the ``live`` positive values (exact eigenvalues or Ritz nodes).

    Args:
        values: ``(...)`` spectrum (eigenvalues or quadrature nodes).
        live: boolean mask of ``values`` that count (finite, positive, with weight).
        num_taus: ``T`` (static, already checked).

    Returns:
        ``(T,)`` increasing diffusion times in ``values.dtype``; with no live value the grid
        spans :math:`[10^{-2}, 10^{2}]`.
    """
    hi = jnp.max(jnp.where(live, values, 0))
    hi = jnp.where(hi > 0, hi, 1)
    lo = jnp.min(jnp.where(live, values, jnp.inf))
    lo = jnp.where(jnp.isfinite(lo), lo, hi)
    return jnp.logspace(jnp.log10(1e-2 / hi), jnp.log10(1e2 / lo), num_taus, dtype=values.dtype)


# One compiled program per (shape, dtype, options), as for the dense route (jaxrg.scales):
# eagerly, the search would run op by op (its bisection compiled anew at every call).
@functools.partial(jax.jit, static_argnames=("max_peaks", "sort_by", "formula"))
def measure_scales(
    nodes,
    log_weights,
    log_n,
    taus,
    *,
    max_peaks: int,
    min_prominence: float,
    sort_by: str,
    formula: str = "heat-capacity",
) -> CharacteristicScales:
    r"""Peaks of :math:`C` of a weighted spectral measure (SLQ quadrature, feature-aware).

    ``formula="heat-capacity"``: :math:`C = \tau^2\mathrm{Var}_\mu(\theta)/\log N` of
    :math:`\mu \propto \sum_k w_k e^{-\tau\theta_k}\delta_{\theta_k}`
    (:func:`jaxrg.thermo.measure_curves`); ``"heat-trace-curvature"``:
    :math:`\tau^2 Z''(\tau) = \tau^2\sum_k w_k\theta_k^2 e^{-\tau\theta_k}`
    (:func:`jaxrg.thermo.measure_heat_trace_curvature`). With the search of
    :func:`characteristic_scales` and its implicit-function derivatives with respect to
    ``nodes`` and ``log_weights``.

    Args:
        nodes: ``(K,)`` support points (``+inf`` allowed where the weight is absent).
        log_weights: ``(K,)`` log masses (``-inf``: absent).
        log_n: scalar :math:`\log N`.
        taus: ``(T,)`` increasing grid.
        max_peaks: output size (static).
        min_prominence: see :func:`characteristic_scales`.
        sort_by: ``"height"`` or ``"tau"``.
        formula: a checked name of :data:`jaxrg.thermo.FORMULAS` (static).

    Returns:
        :class:`CharacteristicScales`.
    """

    def heat(t, params):
        if formula == "heat-trace-curvature":
            return measure_heat_trace_curvature(*params, t)
        return measure_curves(*params, t, log_n).specific_heat

    def slope(log_tau, params):
        return measure_slope_sign(*params, jnp.exp(log_tau), formula=formula)

    return find_peaks(
        heat,
        slope,
        (nodes, log_weights),
        taus,
        max_peaks=max_peaks,
        min_prominence=min_prominence,
        sort_by=sort_by,
    )


def find_peaks(heat, slope, params, taus, *, max_peaks, min_prominence, sort_by):
    r"""The peak search shared by every route (dense, SLQ, feature-aware); one home.

    Grid maxima of ``heat(taus, params)`` with the prominence filter, the ``max_peaks`` highest
    refined by bisection on the sign of ``slope(log_tau, params)`` (any function with the sign
    of :math:`dC/d\log\tau` that is smooth in ``params``), then sorted and padded.
    Derivatives of the refined ``taus`` and ``heights`` with respect to ``params`` follow the
    implicit function theorem (:func:`refine_peak`); the grid itself is treated as fixed.

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
    is_peak = prominent_maxima(grid_heat, min_prominence)
    num = min(max_peaks, grid_heat.shape[0])
    top, index = lax.top_k(jnp.where(is_peak, grid_heat, -jnp.inf), num)
    valid = jnp.isfinite(top)
    index = jnp.clip(index, 1, grid_heat.shape[0] - 2)
    log_taus = lax.stop_gradient(jnp.log(taus))  # the grid only brackets the roots
    log_peak = jax.vmap(lambda lo, hi, ok: refine_peak(slope, params, lo, hi, ok))(
        log_taus[index - 1], log_taus[index + 1], valid
    )
    peak_tau = jnp.exp(log_peak)
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
def refine_peak(slope, params, lo, hi, valid):
    r"""The root :math:`x^* = \log\tau^*` of ``slope(x, params)`` in ``[lo, hi]``, by bisection.

    Differentiating through the bisection would differentiate its iterations (and give wrong
    derivatives); :math:`x^*` is defined by :math:`h(x^*, \theta) = 0`, so by the implicit
    function theorem :math:`dx^* = -\partial_\theta h\,d\theta / \partial_x h` at
    :math:`x^*` (the custom JVP below; reverse mode transposes it). Any ``h`` with the roots
    of :math:`dC/d\log\tau` gives the same derivative, since a non-vanishing factor cancels.
    """
    del valid
    return bisect(lambda x: slope(x, params), lo, hi)


@refine_peak.defjvp
def _refine_peak_jvp(slope, primals, tangents):
    params, lo, hi, valid = primals
    x = refine_peak(slope, params, lo, hi, valid)
    curvature = jax.grad(slope)(x, params)  # dh/dx < 0 at a maximum of C
    _, d_slope = jax.jvp(lambda p: slope(x, p), (params,), (tangents[0],))
    # an invalid slot or a degenerate maximum (dh/dx = 0) gets a zero derivative, never NaN
    ok = valid & (curvature < 0) & jnp.isfinite(curvature)
    d_x = jnp.where(ok, -d_slope / jnp.where(ok, curvature, -1), 0)
    return x, d_x


def check_num_taus(num_taus) -> int:
    """``num_taus`` is a Python or NumPy int ``>= 3`` (a peak needs a point on each side).

    Args:
        num_taus: grid size (static).

    Returns:
        ``int(num_taus)`` (a NumPy integer becomes a Python int: one static key per size).

    Raises:
        ValueError: otherwise, or a grid whose peak search exceeds the dense memory limit.
    """
    num_taus = _checks.check_int(
        num_taus, "num_taus", minimum=3, meaning="a peak needs a grid point on each side"
    )
    largest = _checks.max_num_taus()
    if num_taus > largest:
        raise ValueError(
            f"num_taus={num_taus} needs ~{64 * num_taus**2 / 2**30:.3g} GiB for the peak search "
            f"(O(T^2)); use at most {largest} (or raise ${_checks.DENSE_LIMIT_ENV}). The "
            "default 512 resolves every peak."
        )
    return num_taus


def check_peak_options(max_peaks, min_prominence) -> None:
    """``max_peaks`` a positive Python int; ``min_prominence`` a number in ``[0, 1]``.

    Args:
        max_peaks: output size ``P`` (static).
        min_prominence: fraction of the maximum of C (a Python number or a concrete scalar).

    Returns:
        None.

    Raises:
        ValueError: otherwise (a NaN prominence would silently drop every peak).
    """
    _checks.check_int(max_peaks, "max_peaks", minimum=1, meaning="the size of the output")
    largest = _checks.max_num_taus() // 2  # a grid of T points has fewer than T/2 maxima
    if max_peaks > largest:
        raise ValueError(
            f"max_peaks={max_peaks} exceeds the number of peaks any allowed grid can hold "
            f"({largest}: fewer than num_taus/2, num_taus <= {2 * largest}); the output has "
            "max_peaks slots, so ask for what you need (e.g. 8)."
        )
    if _checks.is_concrete(min_prominence) and not 0 <= float(min_prominence) <= 1:
        raise ValueError(
            f"min_prominence must be a number in [0, 1] (a fraction of max C; 0 keeps every "
            f"local maximum); got {min_prominence!r}."
        )
