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

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Bool, Float

from jaxrg import _checks
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
    _check_num_taus(num_taus)
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
        ValueError: bad ``sort_by``/``variant``, ``max_peaks`` not a positive int,
            ``min_prominence`` not a number in ``[0, 1]``, ``num_taus < 3``, ``taus`` not 1-D or
            not increasing.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}; got {variant!r}.")
    if sort_by not in ("height", "tau"):
        raise ValueError(f"sort_by must be 'height' or 'tau'; got {sort_by!r}.")
    _check_peak_options(max_peaks, min_prominence)
    eigenvalues = _checks.check_eigenvalues(eigenvalues)
    if taus is None:
        taus = default_taus(eigenvalues, num_taus=num_taus)
    else:
        taus = _checks.check_taus(taus, dtype=eigenvalues.dtype)
        if taus.ndim != 1 or taus.shape[0] < 3:
            raise ValueError(f"taus must be a 1-D grid of at least 3 points; got {taus.shape}.")
        _checks.value_check(
            jnp.all(jnp.diff(taus) > 0),
            "taus must be strictly increasing.",
        )
    heat = specific_heat(eigenvalues, taus, variant=variant)
    is_peak = _prominent_maxima(heat, min_prominence)
    num = min(max_peaks, heat.shape[0])
    top, index = lax.top_k(jnp.where(is_peak, heat, -jnp.inf), num)
    valid = jnp.isfinite(top)
    index = jnp.clip(index, 1, heat.shape[0] - 2)
    log_taus = jnp.log(taus)

    def slope(log_tau):
        return specific_heat_slope_sign(eigenvalues, jnp.exp(log_tau), variant=variant)

    peak_log_tau = jax.vmap(lambda lo, hi: _bisect(slope, lo, hi))(
        log_taus[index - 1], log_taus[index + 1]
    )
    peak_tau = jnp.exp(peak_log_tau)
    heights = specific_heat(eigenvalues, peak_tau, variant=variant)
    key = jnp.where(valid, -heights if sort_by == "height" else peak_tau, jnp.inf)
    order = jnp.argsort(key)
    nan = jnp.asarray(jnp.nan, heights.dtype)
    out = CharacteristicScales(
        taus=jnp.where(valid, peak_tau, nan)[order],
        heights=jnp.where(valid, heights, nan)[order],
        valid=valid[order],
    )
    if num < max_peaks:  # pad a short grid's output to the promised size
        pad = max_peaks - num
        out = CharacteristicScales(
            jnp.concatenate([out.taus, jnp.full(pad, nan)]),
            jnp.concatenate([out.heights, jnp.full(pad, nan)]),
            jnp.concatenate([out.valid, jnp.zeros(pad, bool)]),
        )
    return out


def _check_num_taus(num_taus) -> None:
    """``num_taus`` is a Python int ``>= 3`` (a peak needs a point on each side).

    Args:
        num_taus: grid size (static).

    Returns:
        None.

    Raises:
        ValueError: otherwise.
    """
    if isinstance(num_taus, bool) or not isinstance(num_taus, int) or num_taus < 3:
        raise ValueError(
            f"num_taus must be an int >= 3 (a peak needs a grid point on each side); got "
            f"{num_taus!r}. The default 512 resolves every peak."
        )


def _check_peak_options(max_peaks, min_prominence) -> None:
    """``max_peaks`` a positive Python int; ``min_prominence`` a number in ``[0, 1]``.

    Args:
        max_peaks: output size ``P`` (static).
        min_prominence: fraction of the maximum of C (a Python number or a concrete scalar).

    Returns:
        None.

    Raises:
        ValueError: otherwise (a NaN prominence would silently drop every peak).
    """
    if isinstance(max_peaks, bool) or not isinstance(max_peaks, int) or max_peaks < 1:
        raise ValueError(
            f"max_peaks must be an int >= 1 (the size of the output); got {max_peaks!r}."
        )
    if _checks.is_concrete(min_prominence) and not 0 <= float(min_prominence) <= 1:
        raise ValueError(
            f"min_prominence must be a number in [0, 1] (a fraction of max C; 0 keeps every "
            f"local maximum); got {min_prominence!r}."
        )


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
