r"""The central limit theorem as a renormalisation-group flow, on densities, cumulants and samples.

One RG step replaces a variable by the rescaled sum of two independent copies,
:math:`X' = (X_1 + X_2)/\sqrt2`. On densities

.. math:: p_{n+1}(x) = \sqrt2 \int p_n(\sqrt2 x - y)\, p_n(y)\, dy,

on the cumulant generating function :math:`K'(t) = 2K(t/\sqrt2)`, i.e. the exact recursion

.. math:: \kappa_r^{(n+1)} = 2^{1-r/2}\, \kappa_r^{(n)}

(mean ×√2, variance fixed, :math:`\kappa_{r\ge3} \to 0`): the Gaussian is the fixed point. The
three routes — densities on a grid (:func:`clt_rg_step`), cumulants (:func:`clt_cumulant_step`)
and samples (:func:`clt_sample_step`) — are checked against each other in the tests and in
``jaxrg.studies.clt_rg.experiment``. Starting distributions (:data:`FAMILIES`) are standardised to
mean 0 and variance 1 and come with exact moments, densities and samplers.

References:
    C. Ashworth, P. Liò, F. Caso, arXiv:2510.16591 (2025), the CLT as the test-case RG map.
    G. Jona-Lasinio, "The renormalization group: a probabilistic view", Il Nuovo Cimento 26
    (1975) 99.

Example:
    >>> import jax.numpy as jnp
    >>> from jaxrg.clt import clt_cumulant_step
    >>> [round(float(k), 4) for k in clt_cumulant_step(jnp.array([0.0, 1.0, 2.0, 6.0]))]
    [0.0, 1.0, 1.4142, 3.0]
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from jaxrg._checks import as_float_array, check_int, is_concrete, value_check
from jaxrg.cumulants import cumulants_to_moments, moments_to_cumulants

__all__ = [
    "FAMILIES",
    "clt_cumulant_flow",
    "clt_cumulant_step",
    "clt_flow",
    "clt_rg_step",
    "clt_sample_step",
    "density_cumulants",
    "distance_to_gaussian",
    "family_cumulants",
    "family_density",
    "family_moments",
    "family_sample",
]

#: Standardised starting distributions (mean 0, variance 1). ``spins`` (±1) has no density.
FAMILIES = ("gaussian", "uniform", "exponential", "laplace", "mixture", "spins")

_SQRT3 = math.sqrt(3.0)
_LAPLACE_SCALE = 1.0 / math.sqrt(2.0)
_MIX_CENTRE, _MIX_WIDTH = 0.9, math.sqrt(1.0 - 0.81)  # two bumps at ±0.9, total variance 1


def _grid_and_density(density, grid) -> tuple[Array, Array]:
    grid = as_float_array(grid, "grid")
    density = as_float_array(density, "density").astype(grid.dtype)
    if grid.ndim != 1 or grid.shape[0] < 2:
        raise ValueError(f"grid must be 1-D with at least 2 points; got shape {grid.shape}.")
    if density.shape != grid.shape:
        raise ValueError(
            f"density must have the grid's shape {grid.shape}; got {density.shape}. "
            "For a batch of densities, jax.vmap over the leading axis."
        )
    value_check(
        jnp.all(jnp.isfinite(density)) & jnp.all(density >= 0) & (jnp.sum(density) > 0),
        "density must be finite and >= 0 with a positive mass (a probability density on the "
        "grid); got min {low:.3g} and sum {total:.3g}. Clip round-off negatives with "
        "jnp.maximum(density, 0).",
        low=jnp.min(density),
        total=jnp.sum(density),
    )
    if is_concrete(grid):
        g = np.asarray(grid)
        steps = np.diff(g)
        slack = 64 * np.finfo(g.dtype).eps * np.max(np.abs(g))  # round-off of linspace
        if not (np.all(steps > 0) and np.max(np.abs(steps - steps[0])) <= 1e-6 * steps[0] + slack):
            raise ValueError(
                "grid must be increasing and uniformly spaced (e.g. jnp.linspace(-L, L, n))."
            )
    return density, grid


def _grid_step(grid: Array) -> Array:
    r"""The lattice step :math:`\Delta x = (x_{n-1} - x_0)/(n - 1)` of a uniform grid.

    From the whole span, not :math:`x_1 - x_0`: on a float32 grid each point carries the rounding
    of its own value (up to :math:`\varepsilon|x|/2`), so one difference of two large points can be
    off by a few per cent of the step (``linspace(9990, 10010, 2001)``: 0.00977 for 0.01), while the
    span spreads the same rounding over ``n - 1`` steps.
    """
    return (grid[-1] - grid[0]) / (grid.shape[0] - 1)


def _centred(weights: Array, grid: Array) -> tuple[Array, Array]:
    r"""``(mean, grid - mean)`` of the measure :math:`\sum_i w_i\delta_{x_i}`, centred cheaply.

    The mean is summed about the middle grid point :math:`c`, :math:`\bar x = c + \sum_i
    w_i(x_i - c)`, and the offsets are :math:`(x_i - c) - (\bar x - c)`: on an offset grid
    (:math:`|x| \gg` its width) the large value :math:`c` never enters a rounded sum, and
    :math:`x_i - c` is exact there (Sterbenz: :math:`x_i/c \in [1/2, 2]`).
    """
    centre = grid[grid.shape[0] // 2]
    offsets = grid - centre
    shift = jnp.sum(weights * offsets) / jnp.sum(weights)
    return centre + shift, offsets - shift


def _lattice_cumulants(weights: Array, grid: Array, order: int) -> Array:
    r"""Cumulants :math:`\kappa_1..\kappa_R` of the measure :math:`\sum_i w_i\delta_{x_i}` (sum 1).

    Central moments :math:`\mu_r = \sum_i w_i (x_i - \bar x)^r` about the (centred, see
    :func:`_centred`) mean, converted by :func:`jaxrg.cumulants.moments_to_cumulants`;
    :math:`\kappa_1 = \bar x`.
    """
    mean, c = _centred(weights, grid)
    central = jnp.stack([jnp.sum(weights * c**r) for r in range(1, order + 1)])
    return moments_to_cumulants(central.at[0].set(0.0)).at[0].set(mean)


def _fft_floor(conv: Array, weights: Array) -> Array:
    r"""``conv`` with values under the FFT round-off floor :math:`2\varepsilon\sum_i w_i^2` zeroed.

    A zero-padded FFT self-convolution has an absolute error of a few :math:`\varepsilon\|w\|_2^2`
    at every point (Parseval; :math:`\|w\|_2^2 \ge \max_k (w*w)_k` by Cauchy-Schwarz), so in the
    far tails it returns noise, not the density. Measured in float32 (CPU, n = 1024..20001, a
    Gaussian): rms 0.2-0.3 and max 1.3 :math:`\varepsilon\|w\|_2^2` where the true value is 0.
    The floor keeps that noise out of the moments (it is weighted by :math:`|u|^L`, up to
    :math:`30^4` on a wide grid); in float64 it sits at :math:`4\cdot10^{-16}` of the peak.
    """
    floor = 2.0 * jnp.finfo(conv.dtype).eps * jnp.sum(weights**2)
    return jnp.where(conv > floor, conv, 0.0)


def _interpolate(values: Array, x0: Array, dx: Array, points: Array) -> Array:
    """Cubic (4-point Lagrange) interpolation of lattice ``values`` at ``points``; 0 outside."""
    n = values.shape[0]
    t = (points - x0) / dx
    base = jnp.floor(t)
    frac = t - base
    base = base.astype(jnp.int32)
    out = jnp.zeros_like(points)
    for o in (-1, 0, 1, 2):
        weight = jnp.ones_like(frac)
        for o2 in (-1, 0, 1, 2):
            if o2 != o:
                weight = weight * (frac - o2) / float(o - o2)
        idx = base + o
        inside = (idx >= 0) & (idx < n)
        out = out + weight * jnp.where(inside, values[jnp.clip(idx, 0, n - 1)], 0.0)
    return out


def clt_rg_step(
    density: Float[Array, " n"], grid: Float[Array, " n"], *, conserve: int = 4
) -> Float[Array, " n"]:
    r"""One CLT RG step on a grid density, :math:`p'(x) = \sqrt2\,(p*p)(\sqrt2x)`.

    The grid values define the lattice measure :math:`w_i = p_i\Delta x / M` (mass :math:`M`,
    step :math:`\Delta x = (x_{n-1} - x_0)/(n-1)`). Its self-convolution is exact (zero-padded
    FFT) on the lattice :math:`s_k = 2x_0 + k\Delta x`, up to the FFT's round-off floor
    :math:`2\varepsilon\sum_i w_i^2`, below which values are set to 0 (they are noise there); the
    law of :math:`(X_1+X_2)/\sqrt2` sits on the points :math:`s_k/\sqrt2`. The new density
    on the grid is the cubic (4-point Lagrange) interpolant :math:`\sqrt2\, g(\sqrt2 x_i)` of the
    lattice density :math:`g`, clipped at 0 (cubic interpolation overshoots next to kinks). Then

    * ``conserve = 0``: the mass is rescaled to :math:`M`. Cumulants follow the recursion to the
      interpolation accuracy, :math:`O(\Delta x^4)` for smooth densities but :math:`O(\Delta x^2)`
      for a step taken from a density with kinks or jumps (uniform, exponential);
    * ``conserve = L ≥ 1`` (default 4): :math:`q \to q\,(1 + \sum_{l\le L} c_l u^l/(1+u^2)^{L/2})`,
      :math:`u` the standardised coordinate, with the :math:`c_l` solving the linear system that
      makes the mass and the moments of orders ``1..L`` equal to those of the exact rescaled
      lattice measure. Those targets come from the input's lattice cumulants by the recursion
      :math:`\kappa'_r = 2^{1-r/2}\kappa_r` (the same moments as the self-convolution's in exact
      arithmetic, but free of its round-off, which :math:`u^L` would amplify in the tails).
      Cumulants of orders ≤ L then follow :math:`\kappa_r \to 2^{1-r/2}\kappa_r`
      to round-off for any density; the bounded relative correction leaves point values at
      interpolation accuracy, but it moves cumulants above L by the size of the interpolation
      error it absorbs (for an exponential start at :math:`\Delta x = 0.03`, ~2e-3 on
      :math:`\kappa_5` where ``conserve=0`` is off by 6e-9).

    Float32: the correction also puts back, in the bulk, the moments of the tails under the FFT
    floor (a Gaussian's :math:`|u| \gtrsim 5.5`). With ``conserve=4`` the Gaussian fixed point
    then holds to ~4e-5 of the peak (``conserve=0``: ~7e-6), on grids from
    ``linspace(-12, 12, 1024)`` to ``linspace(-40, 40, 20001)``, and :math:`\kappa_4` follows
    the recursion to ~1e-6 per step (from a uniform start, 2e-6 relative after 6 steps). Float64:
    the floor sits at :math:`4\cdot10^{-16}` of the peak; the fixed point holds to interpolation
    accuracy (1e-8 at :math:`\Delta x = 0.06`).

    Mass beyond the grid window is lost: the grid must cover the tails.
    Args:
        density: ``(n,)`` values :math:`p(x_i) \ge 0` (any positive mass; it is preserved).
        grid: ``(n,)`` uniformly spaced, increasing points :math:`x_i`.
        conserve: highest moment order matched exactly (static, 0..8); 0 only rescales the mass.

    Returns:
        ``(n,)`` density :math:`p'(x_i)` with the input's mass.

    Raises:
        ValueError: for mismatched shapes, a non-uniform grid, a bad ``conserve`` or one above
            ``n - 1``, or a density that is negative, not finite or of zero mass, or too
            concentrated for ``conserve >= 1`` (positive on fewer than 2 grid points, or its
            step on fewer than ``conserve + 1``: the moment system is singular; concrete; under
            ``jit`` through :func:`jaxrg.checked`, and NaN out otherwise).

    Example:
        >>> import jax.numpy as jnp
        >>> x = jnp.linspace(-12.0, 12.0, 1024)
        >>> p = jnp.where(jnp.abs(x) <= 3**0.5, 1 / (2 * 3**0.5), 0.0)  # uniform, variance 1
        >>> q = clt_rg_step(p, x)
        >>> round(float(jnp.sum(q) / jnp.sum(p)), 10)  # mass preserved
        1.0
        >>> round(float(jnp.max(q)), 2)  # the triangle density peaks at 1/sqrt(6) = 0.408
        0.41
    """
    density, grid = _grid_and_density(density, grid)
    conserve = check_int(conserve, "conserve", minimum=0, meaning="the highest moment matched")
    if conserve > 8:
        raise ValueError(f"conserve must be an int in 0..8; got {conserve!r}.")
    n = grid.shape[0]
    if conserve >= n:  # static: the (conserve + 1)-moment system needs as many grid points
        raise ValueError(
            f"grid must have at least conserve + 1 = {conserve + 1} points for conserve="
            f"{conserve} (got {n}): matching the mass and the moments of orders 1..{conserve} "
            "needs that many. Use a finer grid or a smaller conserve (0 only rescales the mass)."
        )
    dx = _grid_step(grid)
    mass = jnp.sum(density) * dx
    weights = density * dx / mass  # probability of each lattice point
    size = 2 * n  # zero padding: the linear convolution has 2n - 1 points, no wrap-around
    spectrum = jnp.fft.rfft(weights, size)
    conv = _fft_floor(jnp.fft.irfft(spectrum * spectrum, size)[: 2 * n - 1], weights)
    q = math.sqrt(2.0) * _interpolate(conv / dx, 2.0 * grid[0], dx, math.sqrt(2.0) * grid)
    q = jnp.maximum(q, 0.0)
    if conserve == 0:
        return q * (mass / (jnp.sum(q) * dx))
    # The moment system below is q-weighted: its Gram matrix has rank min(#{q > 0}, conserve + 1),
    # and u needs a positive variance. A density on one or two grid points gave all-NaN (or, on a
    # few more, a finite density with the wrong mass and negative values).
    support, count = jnp.sum(density > 0), jnp.sum(q > 0)
    solvable = (support >= 2) & (count > conserve)
    value_check(
        solvable,
        "density must be positive on at least 2 grid points, and one RG step of it on at least "
        f"conserve + 1 = {conserve + 1}, for conserve={conserve} (got {{support}} and {{count}}):"
        f" the system that matches the mass and the moments of orders 1..{conserve} is singular "
        "otherwise. Spread the density over more grid points (a finer grid; mass beyond the "
        "grid window is lost) or use conserve <= {most} (0 only rescales the mass).",
        support=support, count=count, most=jnp.where(support >= 2, count - 1, 0),
    )
    # The targets are the moments of the exact rescaled lattice law, from the input's cumulants by
    # the recursion (kappa_r -> 2^(1 - r/2) kappa_r): the convolved density's float32 tails are
    # round-off, which u^L would amplify. In standardised coordinates u = (x - mean)/sd the
    # system stays well posed; the standardised cumulants give the raw moments of u.
    kappa = clt_cumulant_step(_lattice_cumulants(weights, grid, max(conserve, 2)))
    mean, sd = kappa[0], jnp.sqrt(kappa[1])
    ranks = np.arange(1, kappa.shape[0] + 1)
    standard = (kappa / sd ** jnp.asarray(ranks, grid.dtype)).at[0].set(0.0).at[1].set(1.0)
    target = jnp.concatenate([jnp.ones(1, grid.dtype), cumulants_to_moments(standard)[:conserve]])
    orders = jnp.arange(conserve + 1, dtype=grid.dtype)
    u = (grid - mean) / sd
    powers = u[:, None] ** orders[None, :]
    # The correction q * P(u) / (1 + u^2)^(L/2) is a bounded relative change of q, so it cannot
    # blow up in heavy tails (and leaves higher moments nearly untouched).
    basis = powers / ((1.0 + u**2) ** (conserve / 2.0))[:, None]
    current = powers.T @ q * dx
    gram = powers.T @ (q[:, None] * basis) * dx
    coeffs = jnp.linalg.solve(gram, target - current)
    # traced (no error raised): NaN out, not the solve's finite garbage
    return jnp.where(solvable, (q + q * (basis @ coeffs)) * mass, jnp.nan)


def clt_cumulant_step(cumulants: Float[Array, "... r"]) -> Float[Array, "... r"]:
    r"""The exact cumulant recursion of one CLT step, :math:`\kappa_r \mapsto 2^{1-r/2}\kappa_r`.

    Args:
        cumulants: :math:`\kappa_1..\kappa_R` on the last axis (index 0 = order 1).

    Returns:
        The cumulants after one step, same shape.

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(k), 4) for k in clt_cumulant_step(jnp.array([1.0, 1.0, 1.0, 1.0]))]
        [1.4142, 1.0, 0.7071, 0.5]
    """
    kappa = as_float_array(cumulants, "cumulants")
    if kappa.ndim < 1 or kappa.shape[-1] == 0:
        raise ValueError(f"cumulants must have a non-empty last axis; got shape {kappa.shape}.")
    r = np.arange(1, kappa.shape[-1] + 1)
    factors = jnp.asarray(2.0 ** (1.0 - r / 2.0), dtype=kappa.dtype)
    return kappa * factors.reshape((1,) * (kappa.ndim - 1) + factors.shape)


def _check_steps(steps) -> int:
    """The number of RG steps: a Python/NumPy int >= 0 (a float is not truncated)."""
    return check_int(steps, "steps", minimum=0, meaning="the number of RG steps")


def _check_order(order) -> int:
    """A moment/cumulant order: a Python/NumPy int >= 1."""
    return check_int(order, "order", minimum=1, meaning="the highest order")


def clt_flow(
    density: Float[Array, " n"], grid: Float[Array, " n"], *, steps: int, conserve: int = 4
) -> Float[Array, "steps+1 n"]:
    r"""``steps`` iterations of :func:`clt_rg_step` (``lax.scan``); row 0 is the input.

    Row :math:`n` is :math:`p_n`, with :math:`p_{n+1}(x) = \sqrt2\,(p_n*p_n)(\sqrt2 x)`.

    Args:
        density: ``(n,)`` values :math:`p_0(x_i) \ge 0` on the grid.
        grid: ``(n,)`` uniformly spaced, increasing points :math:`x_i`.
        steps: number of RG steps (static).
        conserve: highest moment order matched exactly at each step (static, 0..8), as in
            :func:`clt_rg_step`.

    Returns:
        ``(steps + 1, n)`` densities :math:`p_0, \dots, p_{steps}` on the grid.

    Raises:
        ValueError: mismatched shapes, a non-uniform grid, a bad ``conserve`` or ``steps``.

    Example:
        >>> import jax.numpy as jnp
        >>> x = jnp.linspace(-10.0, 10.0, 512)
        >>> clt_flow(jnp.exp(-jnp.abs(x)), x, steps=3).shape
        (4, 512)
    """
    steps = _check_steps(steps)
    density, grid = _grid_and_density(density, grid)

    def body(p, _):
        q = clt_rg_step(p, grid, conserve=conserve)
        return q, q

    _, path = jax.lax.scan(body, density, None, length=steps)
    return jnp.concatenate([density[None, :], path], axis=0)


def clt_cumulant_flow(cumulants: Float[Array, " r"], *, steps: int) -> Float[Array, "steps+1 r"]:
    r"""Closed form of ``steps`` cumulant steps: row n is :math:`2^{n(1-r/2)}\kappa_r`.

    Args:
        cumulants: ``(R,)`` cumulants :math:`\kappa_1..\kappa_R` (index 0 = order 1).
        steps: number of RG steps (static).

    Returns:
        ``(steps + 1, R)``; row 0 is the input.

    Raises:
        ValueError: ``cumulants`` not 1-D.

    Example:
        >>> import jax.numpy as jnp
        >>> flow = clt_cumulant_flow(jnp.array([0.0, 1.0, 0.0, 3.0]), steps=2)
        >>> [round(float(k), 4) for k in flow[2]]
        [0.0, 1.0, 0.0, 0.75]
    """
    kappa = as_float_array(cumulants, "cumulants")
    if kappa.ndim != 1:
        raise ValueError(f"cumulants must be 1-D (r,); got shape {kappa.shape}.")
    steps = _check_steps(steps)
    r = np.arange(1, kappa.shape[0] + 1)[None, :]
    n = np.arange(steps + 1)[:, None]
    return kappa[None, :] * jnp.asarray(2.0 ** (n * (1.0 - r / 2.0)), dtype=kappa.dtype)


def clt_sample_step(samples: Float[Array, " n"]) -> Float[Array, " n/2"]:
    r"""Monte Carlo CLT step: pairs consecutive samples, :math:`x'_i = (x_{2i} + x_{2i+1})/\sqrt2`.

    Args:
        samples: ``(n,)`` i.i.d. draws, ``n`` even and non-zero.

    Returns:
        ``(n // 2,)`` draws of :math:`(X_1 + X_2)/\sqrt2`.

    Raises:
        ValueError: ``samples`` not 1-D or of odd or zero length.

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(v), 4) for v in clt_sample_step(jnp.array([1.0, 1.0, 2.0, 0.0]))]
        [1.4142, 1.4142]
    """
    samples = as_float_array(samples, "samples")
    if samples.ndim != 1 or samples.shape[0] % 2 or samples.shape[0] == 0:
        raise ValueError(f"samples must be 1-D with an even, non-zero length; got {samples.shape}.")
    return (samples[0::2] + samples[1::2]) / math.sqrt(2.0)


def density_cumulants(
    density: Float[Array, " n"], grid: Float[Array, " n"], order: int
) -> Float[Array, " order"]:
    r"""Cumulants of the normalised lattice measure :math:`w_i = p_i / \sum_j p_j` on the grid.

    Central moments :math:`\mu_r = \sum_i w_i (x_i - \bar x)^r` are summed about the mean
    :math:`\bar x = \sum_i w_i x_i` (no cancellation) and converted by
    :func:`jaxrg.cumulants.moments_to_cumulants`; :math:`\kappa_1 = \bar x`.

    Args:
        density: ``(n,)`` values :math:`p(x_i) \ge 0` (any positive mass).
        grid: ``(n,)`` uniformly spaced, increasing points :math:`x_i`.
        order: highest cumulant order ``R >= 1`` (static Python int).

    Returns:
        ``(R,)`` cumulants :math:`\kappa_1..\kappa_R`.

    Raises:
        ValueError: mismatched shapes, a non-uniform grid or a bad ``order``.

    Example:
        >>> import jax.numpy as jnp
        >>> x = jnp.linspace(-10.0, 10.0, 2001)
        >>> [round(float(k), 6) + 0.0 for k in density_cumulants(jnp.exp(-x**2 / 2), x, 4)]
        [0.0, 1.0, 0.0, 0.0]
    """
    density, grid = _grid_and_density(density, grid)
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 1:
        raise ValueError(f"order must be a positive Python int; got {order!r}.")
    return _lattice_cumulants(density / jnp.sum(density), grid, order)


def distance_to_gaussian(density: Float[Array, " n"], grid: Float[Array, " n"]) -> Array:
    r"""Total-variation distance :math:`\frac12\int|p - \mathcal N(\mu,\sigma^2)|\,dx`.

    ``p`` is the density normalised to unit mass on the grid and the Gaussian has its mean
    :math:`\mu` and variance :math:`\sigma^2`; the integral is the Riemann sum with step
    :math:`\Delta x`.

    Args:
        density: ``(n,)`` values :math:`p(x_i) \ge 0` (any positive mass).
        grid: ``(n,)`` uniformly spaced, increasing points :math:`x_i`.

    Returns:
        Scalar distance in :math:`[0, 1]`.

    Raises:
        ValueError: mismatched shapes or a non-uniform grid.

    Example:
        >>> import jax.numpy as jnp
        >>> x = jnp.linspace(-10.0, 10.0, 2001)
        >>> round(float(distance_to_gaussian(jnp.exp(-x**2 / 2), x)), 6)
        0.0
    """
    density, grid = _grid_and_density(density, grid)
    dx = _grid_step(grid)
    w = density / jnp.sum(density)
    p = w / dx
    _, c = _centred(w, grid)
    var = jnp.sum(w * c**2)
    value_check(var > 0, "density must have a positive variance on the grid (a point mass "
                "has no Gaussian to compare with); refine the grid or widen the density.")
    gauss = jnp.exp(-(c**2) / (2 * var)) / jnp.sqrt(2 * jnp.pi * var)
    return 0.5 * jnp.sum(jnp.abs(p - gauss)) * dx


def _family(name: str) -> str:
    if name not in FAMILIES:
        raise ValueError(f"unknown family {name!r}; choose one of {FAMILIES}.")
    return name


def family_density(name: str, grid: Float[Array, " n"]) -> Float[Array, " n"]:
    r"""Closed-form density of a standardised family (mean 0, variance 1) on ``grid``.

    ``gaussian`` :math:`e^{-x^2/2}/\sqrt{2\pi}`; ``uniform`` on :math:`[-\sqrt3, \sqrt3]`;
    ``exponential`` :math:`e^{-(x+1)}` for :math:`x \ge -1`; ``laplace`` with scale
    :math:`1/\sqrt2`; ``mixture`` :math:`\tfrac12[\mathcal N(0.9, 0.19) + \mathcal N(-0.9, 0.19)]`.

    Args:
        name: one of :data:`FAMILIES` except ``"spins"`` (which has no density).
        grid: points :math:`x`, any shape (typically ``(n,)``).

    Returns:
        The density :math:`p(x)`, same shape as ``grid``.

    Raises:
        ValueError: unknown family, or ``"spins"``.

    Example:
        >>> import jax.numpy as jnp
        >>> round(float(family_density("laplace", jnp.zeros(1))[0]), 4)
        0.7071
    """
    x = as_float_array(grid, "grid")
    if _family(name) == "gaussian":
        return jnp.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)
    if name == "uniform":
        return jnp.where(jnp.abs(x) <= _SQRT3, 1 / (2 * _SQRT3), 0.0).astype(x.dtype)
    if name == "exponential":
        return jnp.where(x >= -1.0, jnp.exp(-(x + 1.0)), 0.0)
    if name == "laplace":
        return jnp.exp(-jnp.abs(x) / _LAPLACE_SCALE) / (2 * _LAPLACE_SCALE)
    if name == "mixture":
        s2 = _MIX_WIDTH**2
        bumps = jnp.exp(-((x - _MIX_CENTRE) ** 2) / (2 * s2)) + jnp.exp(
            -((x + _MIX_CENTRE) ** 2) / (2 * s2)
        )
        return 0.5 * bumps / math.sqrt(2 * math.pi * s2)
    raise ValueError("family 'spins' (±1) has no density; use family_sample or family_moments.")


def family_sample(name: str, key: Array, shape: tuple[int, ...], *, dtype=None) -> Array:
    r"""Independent draws from a standardised family (mean 0, variance 1).

    ``spins`` draws :math:`\pm1` with probability 1/2; ``mixture`` draws
    :math:`\pm0.9 + \sqrt{0.19}\,\varepsilon`, :math:`\varepsilon \sim \mathcal N(0, 1)`; the
    others as in :func:`family_density`.

    Args:
        name: one of :data:`FAMILIES`.
        key: a JAX PRNG key.
        shape: output shape (static tuple of ints).
        dtype: float dtype; default the default float type.

    Returns:
        Array of shape ``shape``.

    Raises:
        ValueError: unknown family, or a bad ``shape``.

    Example:
        >>> import jax
        >>> family_sample("spins", jax.random.key(0), (3,)).shape
        (3,)
    """
    dtype = jnp.result_type(float) if dtype is None else dtype
    shape = tuple(shape) if isinstance(shape, tuple | list) else (shape,)
    if not all(isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 0
               for d in shape):
        raise ValueError(
            f"shape must be a tuple of ints >= 0 (the sample shape); got {shape!r}."
        )
    if _family(name) == "gaussian":
        return jax.random.normal(key, shape, dtype)
    if name == "uniform":
        return jax.random.uniform(key, shape, dtype, -_SQRT3, _SQRT3)
    if name == "exponential":
        return jax.random.exponential(key, shape, dtype) - 1.0
    if name == "laplace":
        return jax.random.laplace(key, shape, dtype) * _LAPLACE_SCALE
    if name == "spins":
        return jax.random.rademacher(key, shape, dtype)
    k_sign, k_noise = jax.random.split(key)
    sign = jax.random.rademacher(k_sign, shape, dtype)
    return sign * _MIX_CENTRE + _MIX_WIDTH * jax.random.normal(k_noise, shape, dtype)


def _gaussian_moment(k: int) -> float:
    return 0.0 if k % 2 else float(math.prod(range(k - 1, 0, -2)))


def family_moments(name: str, order: int) -> Float[Array, " order"]:
    r"""Exact raw moments :math:`m_n = E[X^n]`, :math:`n = 1..order`, of a standardised family.

    Computed in float64 from closed forms (e.g. uniform :math:`3^{n/2}/(n+1)` for even
    :math:`n`, exponential :math:`\sum_k \binom nk k!\,(-1)^{n-k}`), returned in the default
    float dtype.

    Args:
        name: one of :data:`FAMILIES`.
        order: highest moment order ``R`` (static Python int).

    Returns:
        ``(R,)`` moments :math:`m_1..m_R`.

    Raises:
        ValueError: unknown family, or ``order`` < 1.

    Example:
        >>> [round(float(m), 4) for m in family_moments("uniform", 4)]
        [0.0, 1.0, 0.0, 1.8]
    """
    _family(name)
    out = []
    for n in range(1, _check_order(order) + 1):
        if name == "gaussian":
            m = _gaussian_moment(n)
        elif name == "uniform":
            m = 0.0 if n % 2 else 3.0 ** (n / 2) / (n + 1)
        elif name == "exponential":  # E[(E - 1)^n] = sum_k C(n,k) k! (-1)^(n-k)
            m = float(
                sum(math.comb(n, k) * math.factorial(k) * (-1) ** (n - k) for k in range(n + 1))
            )
        elif name == "laplace":
            m = 0.0 if n % 2 else math.factorial(n) * _LAPLACE_SCALE**n
        elif name == "spins":
            m = 0.0 if n % 2 else 1.0
        else:  # mixture: average of N(±a, s^2); odd powers of a cancel
            m = sum(
                math.comb(n, k) * _MIX_CENTRE ** (n - k) * _MIX_WIDTH**k * _gaussian_moment(k)
                for k in range(n + 1)
                if (n - k) % 2 == 0
            )
        out.append(m)
    return jnp.asarray(np.array(out, dtype=np.float64), dtype=jnp.result_type(float))


def family_cumulants(name: str, order: int) -> Float[Array, " order"]:
    r"""Exact cumulants :math:`\kappa_1..\kappa_R` of a standardised family.

    From :func:`family_moments` by the moment-to-cumulant recursion
    :math:`\kappa_n = m_n - \sum_{k=1}^{n-1}\binom{n-1}{k-1}\kappa_k m_{n-k}`.

    Args:
        name: one of :data:`FAMILIES`.
        order: highest cumulant order ``R`` (static Python int).

    Returns:
        ``(R,)`` cumulants.

    Raises:
        ValueError: unknown family, or ``order`` < 1.

    Example:
        >>> [round(float(k), 4) for k in family_cumulants("exponential", 4)]
        [0.0, 1.0, 2.0, 6.0]
    """
    return moments_to_cumulants(family_moments(name, order))
