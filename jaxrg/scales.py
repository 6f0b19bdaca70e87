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
from jaxrg._numerics import bisect, prominent_maxima
from jaxrg.thermo import VARIANTS, specific_heat, specific_heat_slope_sign

__all__ = ["CharacteristicScales", "characteristic_scales", "default_taus"]


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
    heat = specific_heat(eigenvalues, taus, variant=variant)
    is_peak = prominent_maxima(heat, min_prominence)
    num = min(max_peaks, heat.shape[0])
    top, index = lax.top_k(jnp.where(is_peak, heat, -jnp.inf), num)
    valid = jnp.isfinite(top)
    index = jnp.clip(index, 1, heat.shape[0] - 2)
    log_taus = jnp.log(taus)

    def slope(log_tau):
        return specific_heat_slope_sign(eigenvalues, jnp.exp(log_tau), variant=variant)

    peak_log_tau = jax.vmap(lambda lo, hi: bisect(slope, lo, hi))(
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
