r"""Private numerics shared by the spectral modules and both routes (dense and sparse).

One home for the small tricks several modules need: explicit leading axes (rank promotion is an
error), the Gibbs logits :math:`-\tau\lambda` with padding, an accurate ``logsumexp`` for large
:math:`\tau`, and the peak search behind :func:`jaxrg.characteristic_scales` and
:func:`jaxrg.sparse.characteristic_scales`. Nothing here validates more than its callers need;
the public functions check their input at the door.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxrg import _checks

__all__ = [
    "any_in_batch",
    "bisect",
    "eigh_resolution",
    "exact_ends",
    "host_power_of_two_scale",
    "lead",
    "log_weights",
    "logsumexp_1p",
    "max_in_batch",
    "merged_atoms",
    "no_real_node_is_nan",
    "pairwise_sq_distances",
    "power_of_two_scale",
    "prominent_maxima",
    "scaled_eigh",
    "scaled_moments",
    "symmetrised",
]


@jax.custom_batching.custom_vmap
def any_in_batch(flag: jax.Array) -> jax.Array:
    """``flag`` (a boolean scalar); under ``jax.vmap``, one unbatched ``any`` over the batch.

    For the predicate of a ``lax.cond`` whose expensive branch is rarely needed: batched, the
    predicate would turn the ``cond`` into a ``select`` that runs both branches for every
    member. With this rule the batch takes the expensive branch when any member needs it (so
    the branch must be right, if unneeded, for every member) and skips it otherwise.
    """
    return flag


@any_in_batch.def_vmap
def _any_in_batch_vmap(axis_size, in_batched, flag):
    del axis_size, in_batched  # a batched leading axis or a scalar: jnp.any reduces either
    return jnp.any(flag), False


@jax.custom_batching.custom_vmap
def max_in_batch(x: jax.Array) -> jax.Array:
    """``x`` (a scalar); under ``jax.vmap``, one unbatched ``max`` over the batch.

    For the index of a ``lax.switch`` between cheaper and dearer branches that are each right
    for every member (as :func:`any_in_batch` for a ``lax.cond``): batched, the index would turn
    the switch into a select that runs every branch.
    """
    return x


@max_in_batch.def_vmap
def _max_in_batch_vmap(axis_size, in_batched, x):
    del axis_size, in_batched
    return jnp.max(x), False


def lead(x: jax.Array, ndim: int) -> jax.Array:
    """``x`` with ``ndim`` leading unit axes (explicit broadcasting against ``(*t, N)``)."""
    return x.reshape((1,) * ndim + x.shape)


def power_of_two_scale(x: jax.Array) -> jax.Array:
    r"""``s = 2^e`` with ``max |x| / s`` in ``[1/2, 1)`` (``[1/2, 4)`` above 2^126 in float32:
    :func:`_power_of_two_above`); ``1`` for an all-zero or non-finite ``x``.

    Dividing by ``s`` is exact in binary floating point. A quantity invariant to a global scale
    of ``x`` (a normalised measure), or homogeneous in it (a Laplacian's spectrum), can so be
    computed from ``x / s``, where squares neither overflow nor underflow, and comes out bit for
    bit the same wherever they did not before. ``s`` carries no gradient: for such quantities the
    derivative through it is zero (invariant) or restored by the homogeneity (``s f(x / s)``).
    """
    return _power_of_two_above(jnp.max(jnp.abs(x), initial=0))


def host_power_of_two_scale(x: np.ndarray) -> float:
    """:func:`power_of_two_scale` of host values, in NumPy float64: ``2^e`` with
    ``max |x| / 2^e`` in ``[1/2, 1)`` over the finite entries (``[1/2, 2)`` above 2^1023);
    ``1.0`` when none is finite and non-zero.

    For rescaling NumPy input *before* its cast to JAX's float (float32 unless
    ``jax_enable_x64``): a float64 cloud at 1e-40 or 1e39 becomes subnormal (flushed to 0 by
    XLA) or inf there, while the same cloud divided by ``2^e`` (exact) is held to float32's
    precision. Only for quantities invariant to, or homogeneous in, a global scale of ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    top = float(np.max(np.abs(x[np.isfinite(x)]), initial=0.0))
    if top == 0.0:
        return 1.0
    return float(np.ldexp(1.0, min(int(np.frexp(top)[1]), np.finfo(np.float64).maxexp - 1)))


def _power_of_two_above(top: jax.Array) -> jax.Array:
    """``2^e`` with ``top / 2^e`` in ``[1/2, 1)``, ``1`` where ``top`` is 0 or not finite.

    At most ``2^(maxexp - 2)`` (2^126 in float32), so ``top / 2^e`` lies in ``[1/2, 4)``
    there: XLA divides by multiplying with the reciprocal, and 2^-127 is subnormal, which the
    CPU flushes to 0 (weights of 1e38 divided by 2^127 came out 0).
    """
    _, exponent = jnp.frexp(top)
    exponent = jnp.minimum(exponent, jnp.finfo(top.dtype).maxexp - 2)
    one = jnp.ones((), top.dtype)
    ok = (top > 0) & jnp.isfinite(top)
    return lax.stop_gradient(jnp.where(ok, jnp.ldexp(one, exponent), one))


def symmetrised(matrix: jax.Array) -> tuple[jax.Array, jax.Array]:
    r"""``(S, s)``: :math:`S = (M/s + (M/s)^\top)/2`, ``s`` a power of two per matrix.

    The one home of the symmetrisation before every ``eigh`` of a Laplacian. ``s`` puts
    :math:`\max|M/s|` in ``[1/2, 4)`` (as :func:`power_of_two_scale`, over the last two axes,
    without gradient), so the sum cannot overflow (``(M + M^T)/2`` gave inf, then NaN, for
    float32 weights of 1e38, which validation accepts), and halving the sum keeps every entry
    that was normal (``M/2 + M^T/2`` made weights of 2e-38 subnormal, which XLA on the CPU
    flushes to 0: a connected path read as two components). The eigenvalues of ``M`` are ``s``
    times those of ``S`` (exactly), the eigenvectors the same.

    Returns:
        ``S`` shaped like ``matrix`` and ``s`` shaped ``(..., 1)``.
    """
    scale = _power_of_two_above(jnp.max(jnp.abs(matrix), axis=(-2, -1), initial=0)[..., None])
    unit = matrix / scale[..., None]
    return (unit + jnp.swapaxes(unit, -1, -2)) / 2, scale


def scaled_eigh(matrix: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``jnp.linalg.eigh`` of the symmetrised ``matrix`` (:func:`symmetrised`), scaled back.

    Half precision (float16, bfloat16; ``eigh`` has no kernel for it) is solved in float32
    and cast back, as :func:`jaxrg.eigenvalues.eigvalsh` does.

    Returns:
        ``(eigenvalues (..., N), eigenvectors (..., N, N))``, ascending.
    """
    if jnp.finfo(matrix.dtype).bits < 32:
        values, vectors = scaled_eigh(matrix.astype(jnp.float32))
        return values.astype(matrix.dtype), vectors.astype(matrix.dtype)
    unit, scale = symmetrised(matrix)
    values, vectors = jnp.linalg.eigh(unit, symmetrize_input=False)
    return values * scale, vectors


# entries of the (rows, n, d) block of differences that pairwise_sq_distances holds at once
_DISTANCE_BLOCK = 1 << 22


def pairwise_sq_distances(a: jax.Array, b: jax.Array, scale) -> jax.Array:
    r"""``(m, n)`` squared distances :math:`\sum_k ((a_{ik} - b_{jk}) / s)^2` by direct differences.

    Not by the Gram expansion :math:`|a_i|^2 + |b_j|^2 - 2 a_i\cdot b_j`, whose absolute error
    is about :math:`\varepsilon(|a_i|^2 + |b_j|^2)`: centring removes a common offset but not the
    spread of the cloud, so two clusters at :math:`\pm 500` with a spread of 0.1 lose every
    within-cluster distance in float32 (error 0.2 against 0.05). A difference of two close points
    is exact (Sterbenz), so here the error is relative to each distance. Rows of ``a`` are taken
    in blocks (``lax.map``) so that no more than ``2^22`` differences are held at once, never the
    whole ``(m, n, d)`` array; the coordinate axis leads, so the sum over it runs along whole
    rows (3 times faster than a sum over the last axis at ``d = 16``). The cost is ``m n d``
    subtractions and multiplications: about 10 times the Gram matmul, far below an ``eigh``
    of ``n`` (0.1 s against 0.01 s at ``n = 1000, d = 512`` in float32 on a CPU).

    Each difference is multiplied by ``1 / scale``, one rounding shared by every pair (a relative
    change of ``scale`` by at most ``eps / 2``). With ``|a|, |b| < 1`` and ``scale`` at least the
    smallest normal number nothing overflows but the squares, to ``inf``, where
    :math:`e^{-d^2}` is 0 anyway; an exact 0 stays 0; ``scale = inf`` gives 0.

    Args:
        a: ``(m, d)`` points.
        b: ``(n, d)`` points.
        scale: scalar ``> 0`` each difference is divided by (``1`` for plain distances).
    """
    m, n, d = a.shape[0], b.shape[0], a.shape[1]
    inverse = 1 / scale
    columns = b.T[:, None, :]  # (d, 1, n)

    def rows(block):  # (d, r) coordinates of r rows of a -> (r, n)
        diff = (block[:, :, None] - columns) * inverse
        return jnp.sum(diff * diff, axis=0)

    per_row = max(n * d, 1)
    if m * per_row <= _DISTANCE_BLOCK:
        return rows(a.T)
    batch = max(_DISTANCE_BLOCK // per_row, 1)
    return lax.map(lambda row: rows(row[:, None])[0], a, batch_size=batch)


def logsumexp_1p(logits: jax.Array) -> jax.Array:
    r"""``logsumexp`` over the last axis as :math:`m + \log1p(\sum_{i \ne i^*} e^{x_i - m})`.

    Plain ``logsumexp`` forms :math:`\log(1 + s)` and loses all relative accuracy when
    :math:`s < \varepsilon` (large :math:`\tau`, where :math:`\log Z \approx
    \sum_{k\ge2} e^{-\tau\lambda_k}`); leaving the largest term out of the sum keeps it.
    """
    top = jnp.argmax(logits, axis=-1)
    peak = jnp.take_along_axis(logits, top[..., None], axis=-1)
    others = lead(jnp.arange(logits.shape[-1]), top.ndim) != top[..., None]
    rest = jnp.sum(jnp.where(others, jnp.exp(logits - peak), 0), axis=-1)
    return peak[..., 0] + jnp.log1p(rest)


def log_weights(eigenvalues, taus) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(-tau * lambda)`` with ``-inf`` for padding, NaN-free in value and gradient.

    Returns the ``(*t, N)`` logits, the ``(N,)`` eigenvalues with padding replaced by 0 and the
    ``(*t,)`` taus, all of one floating dtype.
    """
    eigenvalues = no_real_node_is_nan(_checks.check_eigenvalues(eigenvalues))
    taus = _checks.check_taus(taus, dtype=eigenvalues.dtype)  # in the dtype of the spectrum
    # NaN counts as a real eigenvalue, so that under jit a NaN in gives a NaN out
    real = eigenvalues != jnp.inf
    # double where: tau * inf is fine forward but its gradient 0 * inf is NaN
    safe = jnp.where(real, eigenvalues, 0)
    logits = jnp.where(lead(real, taus.ndim), -taus[..., None] * lead(safe, taus.ndim), -jnp.inf)
    return logits, safe, taus


def prominent_maxima(values: jax.Array, min_prominence) -> jax.Array:  # float or traced
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


def bisect(slope, lo, hi, *, iterations: int = 64):
    """Root of a decreasing-through-zero ``slope`` in ``[lo, hi]`` (a maximum of C)."""

    def body(_, bracket):
        lo, hi = bracket
        mid = (lo + hi) / 2
        rising = slope(mid) > 0
        return jnp.where(rising, mid, lo), jnp.where(rising, hi, mid)

    lo, hi = lax.fori_loop(0, iterations, body, (lo, hi))
    return (lo + hi) / 2


def no_real_node_is_nan(eigenvalues: jax.Array) -> jax.Array:
    """``eigenvalues``, or all NaN when every one is ``+inf`` padding (a graph without a node).

    Eager calls refuse such a spectrum (:func:`jaxrg._checks.check_eigenvalues`); under ``jit``
    its curves are NaN, as :func:`jaxrg.batch.batch_curves` gives for a graph without a real
    node, not the ``S = C = d_S = 0`` of an empty sum.
    """
    return jnp.where(jnp.any(eigenvalues != jnp.inf), eigenvalues, jnp.nan)


def exact_ends(eigenvalues, num_zero, mask):
    """Ascending eigenvalues with the ``c`` zero modes set to exactly 0 and padding to ``+inf``.

    A NaN eigenvalue (from a NaN weight, under ``jit``) is kept: NaN in, NaN out, never an exact
    zero mode.
    """
    index = jnp.arange(eigenvalues.shape[0])
    eigenvalues = jnp.where((index < num_zero) & ~jnp.isnan(eigenvalues), 0, eigenvalues)
    if mask is not None:
        eigenvalues = jnp.where(index < jnp.sum(mask), eigenvalues, jnp.inf)
    return eigenvalues


def eigh_resolution(matrix: jax.Array, real: jax.Array) -> jax.Array:
    r"""``eigh``'s round-off bound on the eigenvalues of ``matrix``: :math:`10 N \varepsilon
    \max|M_{ij}|`, ``N`` and the largest entry over the ``real`` rows and columns only (padding,
    decoupled with any fill, must not change it). Not differentiated (a tolerance).

    Args:
        matrix: ``(N, N)`` symmetric.
        real: ``(N,)`` bool, the real nodes.
    """
    count = jnp.sum(real).astype(matrix.dtype)
    top = jnp.max(jnp.where(real[:, None] & real[None, :], jnp.abs(matrix), 0))
    return lax.stop_gradient(10 * count * jnp.finfo(matrix.dtype).eps * top)


def merged_atoms(eigenvalues: jax.Array, log_weights: jax.Array, resolution) -> jax.Array:
    r"""``(K,)`` ``eigenvalues`` with the atoms of a measure that lie within round-off of each
    other moved to their weighted mean :math:`\sum_{i\in c} w_i\lambda_i / \sum_{i\in c} w_i`.

    Two atoms (adjacent in ascending order) are one eigenvalue when their gap is at most
    :math:`\min(r, \sqrt\varepsilon\max(|\lambda_i|, |\lambda_j|))`, ``r = resolution`` the
    route's absolute round-off bound (:func:`eigh_resolution`); chains of such gaps form one
    cluster, merged only while its whole spread is within that bound (a chain of small gaps
    between distinct eigenvalues, as in a dense float32 bulk, keeps its positions). The relative
    cap keeps every merge beyond :math:`\tau \approx 1/(\sqrt\varepsilon
    \lambda)` (3000/λ in float32; the default grids end at 100/λ₂), where two real eigenvalues
    that close could still be told apart, and it is the bound between two eigenvalues that
    :func:`jaxrg._refine.refined_eigh` refined to relative accuracy. Why: round-off splits one
    eigenvalue into atoms :math:`\delta \sim \varepsilon\|L\|` apart, and where they are the
    slowest modes (the feature measure has no weight at :math:`\lambda = 0`)
    :math:`\tau^2\mathrm{Var}_p(\lambda) \approx \tau^2\delta^2/4` grows until
    :math:`\tau \approx 1/\delta`: a spurious peak of :math:`C_X` at :math:`\tau\lambda \sim
    10^5`-:math:`10^6` in float32. The measure keeps its size: the atoms stay (ascending order is
    kept), only their positions coincide, so every function of the measure is that of the merged
    atom (weight summed, position weight-averaged). Static shapes; ``jit``/``vmap``/``grad``
    safe (the cluster structure is piecewise constant; the mean is differentiated). Atoms
    without weight (``-inf``), ``+inf`` padding and NaN stay apart; a cluster without weight
    keeps its positions.

    Args:
        eigenvalues: ``(K,)`` atom positions, any order.
        log_weights: ``(K,)`` their log weights (``-inf``: absent).
        resolution: scalar absolute bound ``r``.
    """
    k = eigenvalues.shape[0]
    order = jnp.argsort(eigenvalues)
    values, log_w = eigenvalues[order], log_weights[order]
    cap = jnp.sqrt(jnp.finfo(values.dtype).eps) * jnp.maximum(
        jnp.abs(values[1:]), jnp.abs(values[:-1]))
    tied = jnp.diff(values) <= jnp.minimum(resolution, cap)  # inf - inf, NaN: not tied
    label = jnp.concatenate([jnp.zeros(1, jnp.int32), jnp.cumsum(~tied, dtype=jnp.int32)])
    present = jnp.isfinite(log_w) & jnp.isfinite(values)
    top = lax.stop_gradient(jnp.max(jnp.where(present, log_w, -jnp.inf)))
    top = jnp.where(jnp.isfinite(top), top, 0)
    # double where: no NaN gradient through an absent atom's exp or 0 * inf
    w = jnp.where(present, jnp.exp(jnp.where(present, log_w - top, 0)), 0)
    total = jax.ops.segment_sum(w, label, num_segments=k)
    moment = jax.ops.segment_sum(w * jnp.where(present, values, 0), label, num_segments=k)
    # a chain of small gaps is not one eigenvalue: a cluster whose spread exceeds the bound
    # keeps its positions (a dense float32 bulk, gaps ~ 1e-4 lambda, would otherwise collapse)
    finite = jnp.isfinite(values)
    low = jax.ops.segment_min(jnp.where(finite, values, jnp.inf), label, num_segments=k)
    high = jax.ops.segment_max(jnp.where(finite, values, -jnp.inf), label, num_segments=k)
    bound = jnp.minimum(resolution, jnp.sqrt(jnp.finfo(values.dtype).eps) * jnp.maximum(
        jnp.abs(low), jnp.abs(high)))
    has = (total > 0) & (high - low <= bound)
    mean = moment / jnp.where(total > 0, total, 1)
    merged = jnp.where(has[label] & finite, mean[label], values)
    return jnp.zeros_like(eigenvalues).at[order].set(merged)


def scaled_moments(mu: jax.Array, shifted: jax.Array, taus: jax.Array):
    r"""Moments of :math:`x = \tau(\lambda - \lambda_{\min})` under the weights ``mu``.

    Returns :math:`(\langle x\rangle, \mathrm{Var}(x), \kappa_3(x))`, i.e.
    :math:`\tau\langle\lambda\rangle`, :math:`\tau^2\mathrm{Var}(\lambda)` and
    :math:`\tau^3\kappa_3(\lambda)` (shapes of ``taus``), without ever forming
    :math:`\tau^2` or :math:`\lambda^2`: an atom with :math:`\mu_i > 0` has
    :math:`x_i \lesssim 745`, and an atom with :math:`\mu_i = 0` is left out (double where:
    :math:`x_i` may be inf there, and :math:`0 \cdot \infty` is NaN), so no :math:`\tau` up to the
    largest float and no weight up to 1e300 overflows. NaN in ``mu`` or ``shifted`` stays NaN.

    Args:
        mu: ``(*t, K)`` Gibbs weights (each row sums to 1).
        shifted: ``(*t, K)`` or broadcastable support points minus their minimum (``>= 0``).
        taus: ``(*t,)`` diffusion times.

    Returns:
        ``(tau_mean, tau2_var, tau3_third)``, each of shape ``(*t,)``.
    """
    x = taus[..., None] * shifted
    x = jnp.where(mu != 0, x, 0)
    mean = jnp.sum(mu * x, axis=-1)
    centred = x - mean[..., None]
    return mean, jnp.sum(mu * centred**2, axis=-1), jnp.sum(mu * centred**3, axis=-1)
