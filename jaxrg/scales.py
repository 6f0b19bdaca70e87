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

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from jaxrg import _checks
from jaxrg._peaks import (
    CharacteristicScales,
    check_num_taus,
    check_peak_options,
    find_peaks,
    log_grid,
)
from jaxrg.thermo import resolve_formula, specific_heat, specific_heat_slope_sign

__all__ = [
    "CharacteristicScales",
    "authors_pipeline_scales",
    "characteristic_scales",
    "default_taus",
]


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
    return _default_grid(eigenvalues, check_num_taus(num_taus))


def _default_grid(eigenvalues: jax.Array, num_taus: int) -> jax.Array:
    """The grid of :func:`default_taus` for checked eigenvalues (traced inside the jitted core)."""
    return log_grid(eigenvalues, jnp.isfinite(eigenvalues) & (eigenvalues > 0), num_taus)


def characteristic_scales(
    eigenvalues,
    taus=None,
    *,
    max_peaks: int = 8,
    num_taus: int = 512,
    min_prominence: float = 1e-2,
    sort_by: str = "height",
    formula: str | None = None,
    variant: str | None = None,
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
        formula: ``"heat-capacity"`` (the default, also for None) or ``"heat-trace-curvature"`` (see
            :func:`jaxrg.specific_heat`).
        variant: deprecated alias of ``formula`` (``"exact"``, ``"authors"``); warns.

    Returns:
        :class:`CharacteristicScales`.

    Raises:
        ValueError: bad ``sort_by``/``formula``, ``max_peaks`` not a positive int,
            ``min_prominence`` not a number in ``[0, 1]``, ``num_taus < 3``, ``taus`` not 1-D or
            not increasing.
    """
    formula = resolve_formula(formula, variant)
    if sort_by not in ("height", "tau"):
        raise ValueError(f"sort_by must be 'height' or 'tau'; got {sort_by!r}.")
    check_peak_options(max_peaks, min_prominence)
    eigenvalues = _checks.check_eigenvalues(eigenvalues)
    if taus is None:
        num_taus = check_num_taus(num_taus)
    else:
        num_taus = None  # not a static argument of the core when the grid is given
        taus = _checks.check_taus(taus, dtype=eigenvalues.dtype)
        if taus.ndim != 1 or taus.shape[0] < 3:
            raise ValueError(f"taus must be a 1-D grid of at least 3 points; got {taus.shape}.")
        _checks.value_check(
            jnp.all(jnp.diff(taus) > 0),
            "taus must be strictly increasing.",
        )
    return _scales(eigenvalues, taus, min_prominence, max_peaks=int(max_peaks), num_taus=num_taus,
                   sort_by=sort_by, formula=formula)


# One compiled program per (shape, dtype, options); the inputs were checked at the door above.
# Eagerly, the search would run op by op (its bisection compiled anew at every call).
@functools.partial(jax.jit, static_argnames=("max_peaks", "num_taus", "sort_by", "formula"))
def _scales(eigenvalues, taus, min_prominence, *, max_peaks, num_taus, sort_by, formula):
    if taus is None:
        taus = _default_grid(eigenvalues, num_taus)
    return find_peaks(
        lambda t, ev: specific_heat(ev, t, formula=formula),
        lambda log_tau, ev: specific_heat_slope_sign(ev, jnp.exp(log_tau), formula=formula),
        eigenvalues,
        taus,
        max_peaks=max_peaks,
        min_prominence=min_prominence,
        sort_by=sort_by,
    )


#: The grid of Caso et al.'s code: ``np.logspace(-2, 4, 100)``.
AUTHORS_GRID = (-2.0, 4.0, 100)


def authors_pipeline_scales(
    eigenvalues,
    taus=None,
    *,
    max_peaks: int = 8,
    sigma=1.0,
    decimals: int | None = 6,
) -> CharacteristicScales:
    r"""Characteristic scales exactly as the code of Caso et al. (IJCNN 2025) finds them.

    Their pipeline (``LaplacianRenormalizationGroup4.py`` in ``FrancescoCaso/RGR``), step by
    step:

    1. the heat trace
       :math:`T(\tau) = \mathrm{Tr}[e^{-\tau L} L] = \sum_i \lambda_i e^{-\tau\lambda_i}` on
       the grid ``logspace(-2, 4, 100)``, written to a text file with 6 decimals;
    2. :math:`C_k = -\tau_k^2\,\widehat{T'}(\tau_k)`, with :math:`\widehat{T'}` = ``np.gradient`` of
       :math:`T` on the non-uniform grid (second-order central differences inside, one-sided at
       the ends), again written with 6 decimals;
    3. :math:`C` smoothed by ``scipy.ndimage.gaussian_filter1d(C, sigma=1)`` (mode ``reflect``,
       radius 4);
    4. the strict interior local maxima of the smoothed curve (``argrelextrema(·, np.greater)``),
       in grid order; the first one is their τ*.

    So τ* is always a grid point (Cora and Citeseer: 0.572 = grid point 29; PubMed 1.52; Photo and
    Computers 0.0705), while :func:`characteristic_scales` with ``formula="heat-trace-curvature"``
    maximises
    the same quantity :math:`\tau^2\sum_i\lambda_i^2 e^{-\tau\lambda_i}` analytically between grid
    points (Cora 0.528, Citeseer 0.597). The rewired graph — and hence the paper's SR/MR rows —
    depends on which τ* is used; reproductions use this function. Differences from their code:
    the eigenvalues come from a float64 eigendecomposition, where their trace came from a float32
    ``torch.linalg.matrix_exp`` per τ (this does not move the first peak on the paper's graphs).

    Args:
        eigenvalues: ``(N,)`` Laplacian eigenvalues (``+inf`` for padding).
        taus: optional ``(T,)`` increasing grid, ``T ≥ 3`` (default: ``logspace(-2, 4, 100)``).
        max_peaks: size ``P`` of the output (static).
        sigma: width of the Gaussian smoothing in grid steps (static; their 1). 0 disables it.
        decimals: rounding of the trace and of :math:`C` (their files keep 6 decimals); None
            skips the rounding.

    Returns:
        :class:`CharacteristicScales` sorted by τ (the first is their τ*): ``taus`` are grid
        points, ``heights`` the smoothed :math:`C` there; invalid slots hold NaN.

    Raises:
        ValueError: ``taus`` not a 1-D grid of at least 3 points, ``sigma`` negative or
            ``max_peaks`` < 1.

    Example:
        >>> import jax.numpy as jnp, jaxrg
        >>> s = jaxrg.scales.authors_pipeline_scales(jnp.array([0.0, 2.0]))
        >>> float(s.taus[0])     # the analytic peak tau = 2/lambda = 1 is the grid point 10**0
        1.0
    """
    import numpy as np

    _checks.check_int(max_peaks, "max_peaks", meaning="the size of the output")
    if not 0 <= sigma < np.inf:
        raise ValueError(f"sigma must be a finite number >= 0 (grid steps; 0: no smoothing), "
                         f"got {sigma}")
    if decimals is not None and (not isinstance(decimals, int | np.integer) or decimals < 0):
        raise ValueError(f"decimals must be None or an int >= 0 (their files keep 6), got "
                         f"{decimals!r}")
    eigenvalues = _checks.check_eigenvalues(eigenvalues)
    dtype = eigenvalues.dtype
    if taus is None:
        taus = jnp.asarray(np.logspace(*AUTHORS_GRID[:2], AUTHORS_GRID[2]), dtype)
    else:
        taus = _checks.check_taus(taus).astype(dtype)
        if taus.ndim != 1 or taus.shape[0] < 3:
            raise ValueError(f"taus must be a 1-D grid of at least 3 points; got {taus.shape}.")
        _checks.value_check(jnp.all(jnp.diff(taus) > 0), "taus must be strictly increasing.")
    real = jnp.isfinite(eigenvalues)
    lam = jnp.where(real, eigenvalues, 0)
    weights = jnp.where(real[None, :], jnp.exp(-taus[:, None] * lam[None, :]), 0)
    trace = _round(weights @ lam, decimals)
    heat = _round(-(taus**2) * _np_gradient(trace, taus), decimals)
    smooth = _gaussian_filter1d(heat, sigma)
    is_max = jnp.zeros(smooth.shape, bool).at[1:-1].set(
        (smooth[1:-1] > smooth[:-2]) & (smooth[1:-1] > smooth[2:]))
    num = min(max_peaks, smooth.shape[0])
    position = jnp.arange(smooth.shape[0])
    # the first `num` maxima in grid order: sort positions, non-maxima pushed to the end
    index = jnp.sort(jnp.where(is_max, position, smooth.shape[0]))[:num]
    valid = index < smooth.shape[0]
    index = jnp.minimum(index, smooth.shape[0] - 1)
    nan = jnp.asarray(jnp.nan, dtype)
    out_taus = jnp.where(valid, taus[index], nan)
    heights = jnp.where(valid, smooth[index], nan)
    if num < max_peaks:
        pad = max_peaks - num
        out_taus = jnp.concatenate([out_taus, jnp.full(pad, nan)])
        heights = jnp.concatenate([heights, jnp.full(pad, nan)])
        valid = jnp.concatenate([valid, jnp.zeros(pad, bool)])
    return CharacteristicScales(taus=out_taus, heights=heights, valid=valid)


def _round(values: jax.Array, decimals: int | None) -> jax.Array:
    """``values`` rounded half-to-even to ``decimals`` places, like a ``%.{decimals}f`` file."""
    return values if decimals is None else jnp.round(values, decimals)


def _np_gradient(values: jax.Array, grid: jax.Array) -> jax.Array:
    """``numpy.gradient(values, grid)`` (edge_order=1) on a non-uniform 1-D grid."""
    h = jnp.diff(grid)
    hs, hd = h[:-1], h[1:]  # spacing to the left and to the right of each interior point
    interior = (hs**2 * values[2:] + (hd**2 - hs**2) * values[1:-1] - hd**2 * values[:-2]) / (
        hs * hd * (hd + hs))
    first = (values[1] - values[0]) / h[0]
    last = (values[-1] - values[-2]) / h[-1]
    return jnp.concatenate([first[None], interior, last[None]])


def _gaussian_filter1d(values: jax.Array, sigma) -> jax.Array:  # sigma: a Python number
    """``scipy.ndimage.gaussian_filter1d(values, sigma)``: mode ``reflect``, truncate 4."""
    if sigma == 0:
        return values
    import numpy as np

    radius = int(4.0 * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = jnp.asarray(kernel / kernel.sum(), values.dtype)
    # scipy's "reflect" repeats the edge sample (d c b a | a b c d | d c b a): numpy "symmetric"
    padded = jnp.pad(values, radius, mode="symmetric")
    return jnp.convolve(padded, kernel, mode="valid")
