r"""Sufficient statistics of a softmax distribution, their merge, and the entropies they give.

Every entropy in :mod:`jaxrg.info` is a function of a few sums over the last axis of the logits
:math:`z`, kept relative to a running maximum :math:`m` so that nothing overflows:

.. math::
    s = \sum_i e^{z_i - m},\quad c = \langle z\rangle_p - m,\quad
    M_k = \sum_i e^{z_i - m}(z_i - \langle z\rangle_p)^k\ (k = 2, 3),\quad
    r_\alpha = \sum_i e^{\alpha(z_i - m)} .

Then :math:`\log Z = m + \log s`, :math:`H_1 = \log s - c`, :math:`\mathrm{Var}_p(\log p) = M_2/s`,
:math:`\kappa_3 = M_3/s` and :math:`H_\alpha = (\log r_\alpha - \alpha\log s)/(1-\alpha)`;
near :math:`\alpha = 1` that cancels, and :math:`H_\alpha` comes from a third sum without
cancellation, :math:`w_\alpha = \sum_i e^{z_i - m}(e^{(\alpha-1)(z_i - m)} - 1)/(\alpha - 1)`
(:func:`renyi_from`).
The maximum contributes exactly 1 to :math:`s` and :math:`r_\alpha`, so both are kept as that 1
plus the rest, :math:`s - 1` and :math:`r_\alpha - 1`, and their logarithms are ``log1p`` of the
rest: a confident distribution (:math:`s - 1` below the float's epsilon) keeps its small entropies
to full relative precision instead of to an absolute one (``[0, -40, -45]``: :math:`H_2 = 8.5\cdot
10^{-18}`, not 0).
Two partial statistics (two chunks of the vocabulary) merge exactly, in any order (Chan et al.'s
pairwise update for the central moments), which is what the streamed and chunked paths use; the
one-shot functions are the single-chunk case, so both paths share one formula.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxrg import _checks

_LOW_PRECISION = (jnp.bfloat16, jnp.float16)


class EntropyStats(NamedTuple):
    """Streaming sufficient statistics of ``softmax(logits)`` along the reduced axis.

    Shapes: ``B`` is the batch shape (the logits without the reduced axis), ``A`` the shape of
    ``alpha``. Every field is a JAX array, so the tuple is a pytree (``scan`` carry, ``vmap``).

    Attributes:
        max: ``B`` running maximum :math:`m` of the finite logits (``-inf`` while empty).
        sum_exp: ``B`` :math:`s = \\sum_i e^{z_i - m}`.
        mean: ``B`` :math:`\\langle z\\rangle_p - m` (at most 0).
        m2: ``B`` :math:`\\sum_i e^{z_i - m}(z_i - \\langle z\\rangle_p)^2`.
        m3: ``B`` :math:`\\sum_i e^{z_i - m}(z_i - \\langle z\\rangle_p)^3`.
        alpha: ``A`` the Rényi orders the power sums belong to (``(0,)`` when none).
        power_sums: ``A + B`` :math:`r_\\alpha = \\sum_i e^{\\alpha (z_i - m)}`.
        sum_rest: ``B`` :math:`s - 1` (0 while empty), summed without the 1 of the maximum.
        power_rest: ``A + B`` :math:`r_\\alpha - 1`, likewise.
        tilted: ``A + B`` :math:`w_\\alpha = \\sum_i e^{z_i - m}\\,
            \\frac{e^{(\\alpha - 1)(z_i - m)} - 1}{\\alpha - 1}` (:math:`s\\,c` at
            :math:`\\alpha = 1`; at most 0), summed term by term: every term has the sign of
            :math:`-1`, so :math:`H_\\alpha` follows from it without cancellation near 1.
    """

    max: jax.Array
    sum_exp: jax.Array
    mean: jax.Array
    m2: jax.Array
    m3: jax.Array
    alpha: jax.Array
    power_sums: jax.Array
    sum_rest: jax.Array
    power_rest: jax.Array
    tilted: jax.Array


# ----------------------------------------------------------------------------- validation


def compute_dtype(dtype) -> jnp.dtype:
    """bf16/f16 inputs are reduced in float32 (their 8/11-bit mantissas cannot hold the sums)."""
    return jnp.dtype(jnp.float32) if dtype in _LOW_PRECISION else jnp.dtype(dtype)


def move_axis(x: jax.Array, axis: int, name: str) -> jax.Array:
    """Validate ``axis`` for ``x`` and move it last."""
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an int; got {type(axis).__name__}.")
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one axis (the categories); got a scalar.")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis={axis} is out of range for {name} of shape {x.shape}.")
    x = jnp.moveaxis(x, int(axis), -1)
    if x.shape[-1] == 0:
        raise ValueError(f"{name} has an empty axis {axis} (no categories); shape {x.shape}.")
    return x


@jax.jit
def logit_flags(z: jax.Array) -> jax.Array:
    """[any NaN, any +inf, some row all -inf] in one compiled pass."""
    return jnp.stack(
        [jnp.any(jnp.isnan(z)), jnp.any(z == jnp.inf), ~jnp.all(jnp.any(z > -jnp.inf, axis=-1))]
    )


def prepare_logits(logits, axis: int = -1, name: str = "logits", *, empty_rows=False) -> jax.Array:
    """Float logits with the category axis last; NaN, +inf and empty rows refused (concrete).

    ``empty_rows=True`` allows rows of only ``-inf`` (a chunk of padding).
    """
    z = _checks.as_float_array(logits, name)
    z = move_axis(z.astype(compute_dtype(z.dtype)), axis, name)
    if _checks.is_concrete(z):
        with jax.ensure_compile_time_eval():  # concrete even when called while tracing
            nan, pos_inf, empty = (bool(f) for f in np.asarray(logit_flags(z)))
        if nan:
            raise ValueError(f"{name} contain NaN; check the model output (e.g. jnp.nan_to_num).")
        if pos_inf:
            raise ValueError(
                f"{name} contain +inf; clip them (e.g. jnp.clip(logits, max=1e30)). "
                "-inf is allowed and means probability 0."
            )
        if empty and not empty_rows:
            raise ValueError(
                f"{name} have a row where every entry is -inf (no category has probability > 0); "
                "give every row at least one finite logit."
            )
    else:  # traced: checkify debug checks, raised by jaxrg.checked (free otherwise)
        _checks.value_check(
            ~jnp.any(jnp.isnan(z)),
            f"{name} contain NaN; check the model output (e.g. jnp.nan_to_num).",
        )
        _checks.value_check(
            ~jnp.any(z == jnp.inf),
            f"{name} contain +inf; clip them (e.g. jnp.clip(logits, max=1e30)). "
            "-inf is allowed and means probability 0.",
        )
    return z


def prepare_probs(probs, axis: int = -1, name: str = "probs") -> jax.Array:
    """Log-probabilities (``-inf`` for zeros) of validated probabilities, category axis last."""
    p = _checks.as_float_array(probs, name)
    tol = {jnp.dtype(jnp.float64): 1e-6, jnp.dtype(jnp.float32): 1e-4}.get(p.dtype, 1e-2)
    p = move_axis(p.astype(compute_dtype(p.dtype)), axis, name)
    if _checks.is_concrete(p):
        with jax.ensure_compile_time_eval():
            finite, low, lo, hi = (float(f) for f in np.asarray(_prob_summary(p)))
        if not finite:
            raise ValueError(f"{name} contain NaN or inf; probabilities must be finite.")
        if low < 0:
            raise ValueError(
                f"{name} contain negative entries (min {low:.3g}); clip them at 0 and "
                "renormalise, or pass logits instead."
            )
        if not (abs(lo - 1) <= tol and abs(hi - 1) <= tol):
            raise ValueError(
                f"{name} must sum to 1 along axis {axis} (within {tol:g}); got sums in "
                f"[{lo:.6g}, {hi:.6g}]. Normalise with "
                f"{name} / {name}.sum(axis={axis}, keepdims=True), or pass logits instead."
            )
    else:  # traced: checkify debug checks (see prepare_logits)
        sums = jnp.sum(p, axis=-1)
        _checks.value_check(
            jnp.all(jnp.isfinite(p)), f"{name} contain NaN or inf; probabilities must be finite."
        )
        _checks.value_check(
            jnp.all(p >= 0),
            f"{name} contain negative entries; clip them at 0 and renormalise, or pass logits.",
        )
        _checks.value_check(
            jnp.all(jnp.abs(sums - 1) <= tol),
            f"{name} must sum to 1 along axis {axis} (within {tol:g}). Normalise with "
            f"{name} / {name}.sum(axis={axis}, keepdims=True), or pass logits instead.",
        )
    return _log(p)


@jax.jit
def _prob_summary(p: jax.Array) -> jax.Array:
    """[all finite, min entry, min row sum, max row sum] in one compiled pass."""
    sums = jnp.sum(p, axis=-1)
    return jnp.stack(
        [jnp.all(jnp.isfinite(p)).astype(p.dtype), jnp.min(p), jnp.min(sums), jnp.max(sums)]
    )


@jax.jit
def _log(p: jax.Array) -> jax.Array:
    zero = p == 0  # NaN is not zero: its log stays NaN (NaN in, NaN out under jit)
    # double where: log(0) = -inf would poison the gradient of the zero entries with NaN
    return jnp.where(zero, -jnp.inf, jnp.log(jnp.where(zero, 1, p)))


def prepare_alpha(alpha, dtype, name: str = "alpha") -> jax.Array:
    """Orders >= 0 (``inf`` allowed) in the compute dtype; NaN and negatives refused (concrete)."""
    a = _checks.as_float_array(alpha, name).astype(dtype)
    if _checks.is_concrete(a):
        with jax.ensure_compile_time_eval():
            host = np.asarray(a)  # a few orders: checked on the host
        if np.any(np.isnan(host)):
            raise ValueError(f"{name} contains NaN; orders must be numbers in [0, inf].")
        if np.any(host < 0):
            raise ValueError(
                f"{name} must be >= 0 (got min {float(np.min(host)):.3g}); use 0 for the Hartley "
                "entropy (log of the support) and jnp.inf for the min-entropy."
            )
    else:  # traced: checkify debug checks (see prepare_logits)
        _checks.value_check(
            ~jnp.any(jnp.isnan(a)), f"{name} contains NaN; orders must be numbers in [0, inf]."
        )
        _checks.value_check(
            jnp.all(a >= 0),
            f"{name} must be >= 0; use 0 for the Hartley entropy (log of the support) and "
            "jnp.inf for the min-entropy.",
        )
    return a


# ----------------------------------------------------------------------------- statistics


def _lead(x: jax.Array, ndim: int) -> jax.Array:
    """Append ``ndim`` unit axes (explicit broadcasting: rank promotion is an error)."""
    return x.reshape(x.shape + (1,) * ndim)


def _trail(x: jax.Array, ndim: int) -> jax.Array:
    """Prepend ``ndim`` unit axes."""
    return x.reshape((1,) * ndim + x.shape)


def _safe_alpha(alpha: jax.Array) -> jax.Array:
    # alpha = inf is finished from log s alone; 1 keeps inf * 0 = NaN out of the power sums
    return jnp.where(jnp.isinf(alpha), jnp.ones_like(alpha), alpha)


def chunk_stats(z: jax.Array, alpha: jax.Array) -> EntropyStats:
    """Statistics of one chunk ``z`` (``B + (C,)``, validated) for orders ``alpha`` (``A``)."""
    mask = z != -jnp.inf  # NaN stays in (and propagates): NaN in, NaN out under jit
    m = jnp.max(jnp.where(mask, z, -jnp.inf), axis=-1)
    m0 = jnp.where(jnp.isfinite(m), m, jnp.zeros_like(m))
    # entries relative to the max: every exponent <= 0, nothing overflows even for |z| ~ 1e30
    d = jnp.where(mask, z - m0[..., None], jnp.zeros_like(z))
    e = jnp.where(mask, jnp.exp(d), jnp.zeros_like(z))
    rest, ties = _rest(d, e, mask)
    s = jnp.where(jnp.any(mask, axis=-1), 1 + rest, jnp.zeros_like(rest))  # one pass over e
    s_safe = jnp.where(s > 0, s, jnp.ones_like(s))
    # an entry of weight 0 adds nothing to the moments, even where d overflowed to -inf
    # (z = [1e308, -1e308]: 0 * -inf would be NaN); NaN entries still propagate through s
    d_moment = jnp.where(e > 0, d, jnp.zeros_like(d))
    c = jnp.sum(e * d_moment, axis=-1) / s_safe
    dev = jnp.where(e > 0, d_moment - c[..., None], jnp.zeros_like(d))  # two-pass central moments
    m2 = jnp.sum(e * dev**2, axis=-1)
    m3 = jnp.sum(e * dev**3, axis=-1)
    na = alpha.ndim
    # the same for r - 1: a maximum's e^{a d} enters as a d (0, with its derivative); r is 1 plus
    # that rest (one pass over the powers), 0 for an empty chunk
    scaled = _lead(_safe_alpha(alpha), z.ndim) * _trail(d, na)
    tied = _trail(mask & (d == 0), na)
    power_rest = jnp.sum(
        jnp.where(tied, scaled, jnp.where(_trail(mask, na), jnp.exp(scaled), 0)), axis=-1
    ) + _trail(ties, na)
    r = jnp.where(_trail(s == 0, na), 0, 1 + power_rest)
    safe = _lead(_safe_alpha(alpha), z.ndim)
    tilted = jnp.sum(jnp.where(_trail(mask, na), _tilt(_trail(d, na), safe), 0), axis=-1)
    return EntropyStats(m, s, c, m2, m3, alpha, r, rest, power_rest, tilted)


def _tilt(d: jax.Array, alpha: jax.Array) -> jax.Array:
    r""":math:`T_\alpha(d) = e^{d}\,(e^{(\alpha-1)d} - 1)/(\alpha - 1)` for :math:`d \le 0`
    (:math:`d\,e^d` at :math:`\alpha = 1`), elementwise; never positive, never overflows.

    With :math:`\beta = \alpha - 1` it is :math:`e^{d}\,\mathrm{expm1}(\beta d)/\beta` for
    :math:`\beta > 0` and the same number as :math:`e^{\alpha d}\,\mathrm{expm1}(-\beta d)/
    (-\beta)` otherwise (:math:`e^{\beta d}` would overflow for :math:`d \ll 0`): one ``exp``
    of a non-positive argument times ``expm1`` of a non-positive :math:`y`, over its Taylor series
    for :math:`|y| < 10^{-3}` (double where: no NaN in any gradient; the form with
    :math:`-\beta` is taken at :math:`\beta = 0`, both one-sided derivatives agree). ``d =
    -inf`` (an overflowed difference of finite logits) is taken as the most negative float:
    weight 0, or :math:`1 \cdot (-1)/(-1)` at :math:`\alpha = 0`.
    """
    d = jnp.maximum(d, jnp.finfo(d.dtype).min)  # NaN stays NaN
    beta = alpha - 1
    up = beta > 0
    weight = jnp.exp(jnp.where(up, d, alpha * d))
    rate = jnp.where(up, beta, -beta)
    y = rate * d
    small = jnp.abs(y) < 1e-3
    y_s = jnp.where(small, y, 0)
    rate_safe = jnp.where(small, jnp.ones_like(rate), rate)
    # expm1(y) / rate = d exprel(y)
    return weight * jnp.where(
        small, d * (1 + y_s / 2 + y_s**2 / 6 + y_s**3 / 24),
        jnp.expm1(jnp.where(small, 0, y)) / rate_safe,
    )


def _rest(d: jax.Array, e: jax.Array, mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(s - 1, ties - 1)`` summed without rounding the maximum's 1 away (``d = z - max``).

    Each maximum (``d = 0``) enters as ``d`` itself instead of ``e^d = 1``: 0 in value, with the
    derivative of ``e^d`` there, so the sum is an exact function of ``z`` to first order; the
    ``ties - 1`` further maxima add their 1s back exactly (an empty chunk: 0).
    """
    tied = mask & (d == 0)
    ties = jnp.maximum(jnp.sum(tied, axis=-1).astype(e.dtype) - 1, 0)
    return jnp.sum(jnp.where(tied, d, e), axis=-1) + ties, ties


def merge_stats(a: EntropyStats, b: EntropyStats) -> EntropyStats:
    """Exact merge of two partial statistics (associative and commutative up to round-off)."""
    m = jnp.maximum(a.max, b.max)
    m0 = jnp.where(jnp.isfinite(m), m, jnp.zeros_like(m))

    def offset(x: EntropyStats):
        present = x.max != -jnp.inf  # a NaN part stays present, so NaN propagates
        # double where: an empty part has max = -inf, and -inf - (-inf) = NaN
        return present, jnp.where(present, x.max, m0) - m0

    pa, oa = offset(a)
    pb, ob = offset(b)
    fa = jnp.where(pa, jnp.exp(oa), jnp.zeros_like(oa))
    fb = jnp.where(pb, jnp.exp(ob), jnp.zeros_like(ob))
    wa, wb = a.sum_exp * fa, b.sum_exp * fb
    w = wa + wb
    w_safe = jnp.where(w > 0, w, jnp.ones_like(w))
    ca, cb = a.mean + oa, b.mean + ob
    delta = cb - ca
    m2a, m2b = a.m2 * fa, b.m2 * fb
    # Chan, Golub & LeVeque's pairwise update of weighted central moments
    m2 = m2a + m2b + delta**2 * wa * wb / w_safe
    m3 = (
        a.m3 * fa
        + b.m3 * fb
        + delta**3 * wa * wb * (wa - wb) / w_safe**2
        + 3 * delta * (wa * m2b - wb * m2a) / w_safe
    )
    na, nb = a.alpha.ndim, m.ndim
    alpha = _lead(_safe_alpha(a.alpha), nb)
    ga = jnp.where(_trail(pa, na), jnp.exp(alpha * _trail(oa, na)), 0)
    gb = jnp.where(_trail(pb, na), jnp.exp(alpha * _trail(ob, na)), 0)
    r = a.power_sums * ga.astype(m.dtype) + b.power_sums * gb.astype(m.dtype)
    # s - 1 of the union: the part holding the maximum brings its rest (and expm1 of its offset,
    # 0 in value), the other part its whole sum
    a_top = a.max >= b.max
    top_o = jnp.where(a_top, oa, ob)
    rest = jnp.where(
        a_top, a.sum_rest * fa + b.sum_exp * fb, b.sum_rest * fb + a.sum_exp * fa
    ) + jnp.where(jnp.where(a_top, pa, pb), jnp.expm1(top_o), jnp.zeros_like(top_o))
    a_top_r, top_g = _trail(a_top, na), alpha * _trail(top_o, na)
    power_rest = jnp.where(
        a_top_r,
        a.power_rest * ga.astype(m.dtype) + b.power_sums * gb.astype(m.dtype),
        b.power_rest * gb.astype(m.dtype) + a.power_sums * ga.astype(m.dtype),
    ) + jnp.where(_trail(jnp.where(a_top, pa, pb), na), jnp.expm1(top_g), 0).astype(m.dtype)
    # the tilted sums: a part at offset o <= 0 brings e^{alpha o} w + s T(o), both <= 0
    tilted = (
        a.tilted * ga.astype(m.dtype)
        + jnp.where(_trail(pa, na), _trail(a.sum_exp, na) * _tilt(_trail(oa, na), alpha), 0)
        + b.tilted * gb.astype(m.dtype)
        + jnp.where(_trail(pb, na), _trail(b.sum_exp, na) * _tilt(_trail(ob, na), alpha), 0)
    )
    return EntropyStats(
        m, w, (wa * ca + wb * cb) / w_safe, m2, m3, a.alpha, r, rest, power_rest, tilted
    )


# ----------------------------------------------------------------------------- entropies


def _log1p_rest(total: jax.Array, rest: jax.Array) -> jax.Array:
    """:math:`\\log s` as ``log1p(s - 1)``; ``log s`` (-inf) for an empty row (``s = 0``)."""
    empty = total == 0
    return jnp.where(empty, jnp.log(total), jnp.log1p(jnp.where(empty, jnp.zeros_like(rest), rest)))


def shannon_from(stats: EntropyStats) -> jax.Array:
    """:math:`H_1 = \\log s - c`."""
    # a row of only -inf (no category with probability > 0; refused on concrete input) has no
    # entropy: NaN under jit, not log 0 - c = -inf
    entropy = _log1p_rest(stats.sum_exp, stats.sum_rest) - stats.mean
    return jnp.where(stats.sum_exp == 0, jnp.nan, entropy)


def _log1prel(x: jax.Array) -> jax.Array:
    """:math:`\\log(1 + x)/x`, with its Taylor series near 0 (1 and gradient -1/2 at 0)."""
    small = jnp.abs(x) < 1e-4
    x_safe = jnp.where(small, jnp.ones_like(x), x)
    return jnp.where(small, 1 - x / 2 + x**2 / 3 - x**3 / 4, jnp.log1p(x_safe) / x_safe)


def renyi_from(stats: EntropyStats) -> jax.Array:
    r""":math:`H_\alpha` for every order in ``stats.alpha`` (shape ``A + B``), exact limits.

    Two forms of :math:`H_\alpha = \frac{1}{1-\alpha}\log\sum_i p_i^\alpha`, with
    :math:`\beta = \alpha - 1`, :math:`L = \log s`, :math:`u = w_\alpha/s \le 0`
    (:class:`EntropyStats`) and :math:`x = \beta u = \sum_i p_i(e^{\beta(z_i - m)} - 1)`:

    * tilted: :math:`H_\alpha = L - u\,\log(1 + x)/x` — a sum of two non-negative terms, exact
      at :math:`\alpha = 1` (:math:`L - c`) and relatively accurate to a few
      :math:`\varepsilon\,|u|/(1 + x)`;
    * closed: :math:`(\log r_\alpha - \alpha L)/(1-\alpha)`, which cancels near 1 (error
      :math:`\varepsilon(|\log r_\alpha| + \alpha L)/|\beta|`) but not where
      :math:`1 + x = r_\alpha/s` is tiny (a large order of a spread-out distribution).

    Each element takes the form of the smaller error bound. Before the tilted form a second-order
    series in :math:`\beta` served :math:`|\beta| < \varepsilon^{1/4}` and the closed form just
    outside it lost up to 35 times float32's documented tolerance.
    """
    na, shape = stats.alpha.ndim, stats.alpha.shape + stats.max.shape
    alpha = jnp.broadcast_to(_lead(stats.alpha, stats.max.ndim), shape)

    def wide(x):
        return jnp.broadcast_to(_trail(x, na), shape)

    total = wide(stats.sum_exp)
    log_s = wide(_log1p_rest(stats.sum_exp, stats.sum_rest))
    is_inf = jnp.isinf(alpha)
    beta = jnp.where(is_inf, jnp.zeros_like(alpha), alpha - 1)
    u = stats.tilted / jnp.where(total > 0, total, jnp.ones_like(total))
    x = beta * u
    log_r = _log1p_rest(stats.power_sums, stats.power_rest)
    tilted_form = log_s - u * _log1prel(x)
    # error bounds (times |beta|): tilted eps |u| / (1 + x), closed eps (|log r| + alpha L) / |beta|
    use_tilted = (total > 0) & ~(
        jnp.abs(u * beta) > (1 + x) * (jnp.abs(log_r) + jnp.abs(alpha * log_s))
    )
    # double where: the closed form is 0/0 at alpha = 1 and inf/inf at alpha = inf; those
    # branches must not even be evaluated there, or their NaN reaches the gradients
    a_gen = jnp.where(use_tilted | is_inf, 2 * jnp.ones_like(alpha), alpha)
    closed = (log_r - a_gen * log_s) / (1 - a_gen)
    out = jnp.where(is_inf, log_s, jnp.where(use_tilted, tilted_form, closed))
    return jnp.where(total == 0, jnp.nan, out)  # a row of only -inf: no entropy (NaN)


def _exprel(x: jax.Array) -> jax.Array:
    """:math:`(e^x - 1)/x`, with its Taylor series near 0 (finite value and gradient at 0)."""
    small = jnp.abs(x) < 1e-3
    x_safe = jnp.where(small, jnp.ones_like(x), x)
    return jnp.where(small, 1 + x / 2 + x**2 / 6 + x**3 / 24, jnp.expm1(x_safe) / x_safe)


def tsallis_from(stats: EntropyStats) -> jax.Array:
    """Tsallis :math:`S_q = (e^{(1-q)H_q} - 1)/(1-q) = H_q\\,\\mathrm{exprel}((1-q)H_q)`.

    :math:`S_\\infty = 0`.
    """
    h = renyi_from(stats)
    q = jnp.broadcast_to(_lead(stats.alpha, stats.max.ndim), h.shape)
    is_inf = jnp.isinf(q)
    q_safe = jnp.where(is_inf, jnp.ones_like(q), q)
    return jnp.where(is_inf, jnp.zeros_like(h), h * _exprel((1 - q_safe) * h))


# One compiled kernel per public entry point: eager op-by-op dispatch of the ~60 primitives
# below would compile each of them separately for every new shape.
shannon_kernel = jax.jit(lambda z: shannon_from(chunk_stats(z, jnp.zeros((0,), z.dtype))))
renyi_kernel = jax.jit(lambda z, a: renyi_from(chunk_stats(z, a)))
tsallis_kernel = jax.jit(lambda z, a: tsallis_from(chunk_stats(z, a)))
stats_kernel = jax.jit(chunk_stats)
merge_kernel = jax.jit(merge_stats)
shannon_from_kernel = jax.jit(lambda s: shannon_from(s))
renyi_from_kernel = jax.jit(lambda s: renyi_from(s))
tsallis_from_kernel = jax.jit(lambda s: tsallis_from(s))


def masked_log_softmax(z: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(log p, mask)`` along the last axis; ``log p`` is 0 (not ``-inf``) where ``mask`` is off.

    The zeros keep ``0 * -inf`` out of every later product and its gradient.
    """
    mask = z != -jnp.inf  # NaN stays in (and propagates): NaN in, NaN out under jit
    z_safe = jnp.where(mask, z, jnp.zeros_like(z))
    m = jax.lax.stop_gradient(jnp.max(jnp.where(mask, z, -jnp.inf), axis=-1, keepdims=True))
    m = jnp.where(jnp.isfinite(m), m, jnp.zeros_like(m))
    d = z_safe - m
    e = jnp.where(mask, jnp.exp(d), jnp.zeros_like(z))
    # log p = d - log1p(s - 1), with s - 1 summed apart from the maximum's 1 (:func:`_rest`):
    # the maximum's log p keeps its tiny value, so the divergences of confident distributions
    # keep their relative precision
    rest = _rest(d, e, mask)[0][..., None]
    return jnp.where(mask, d - jnp.log1p(rest), jnp.zeros_like(z)), mask
