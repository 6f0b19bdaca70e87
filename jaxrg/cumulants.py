r"""Cumulants: exact algebra, sample estimators, generating functions and layer propagation.

The cumulants :math:`\kappa_n` of a random variable :math:`y` are the Taylor coefficients of its
cumulant generating function :math:`W(j) = \log \langle e^{j y} \rangle = \sum_n \kappa_n j^n/n!`.
From the raw moments :math:`m_n = \langle y^n \rangle`,

.. math:: \kappa_n = m_n - \sum_{k=1}^{n-1} \binom{n-1}{k-1} \kappa_k\, m_{n-k},

and the inverse adds instead of subtracting. Arrays of moments and cumulants are indexed from
order one: index 0 holds order 1 (the mean). For vectors :math:`y \in \mathbb{R}^d` the cumulants
are symmetric tensors :math:`\kappa^{(n)}_{i_1\dots i_n} = \partial^n W / \partial j_{i_1}\cdots
\partial j_{i_n}|_{j=0}`. An affine layer :math:`z = Wy + b` has
:math:`W_z(j) = W_y(W^\top j) + j^\top b`, so every cumulant tensor is contracted with :math:`W`
on each index and :math:`b` shifts the mean only. Elementwise activations mix orders; they are
propagated here by a Taylor (delta-method) expansion or estimated by Monte Carlo.

The central limit theorem as an RG map (:func:`jaxrg.clt.clt_rg_step`,
:func:`jaxrg.clt.clt_cumulant_step`) lives in :mod:`jaxrg.clt`, which builds on this module.

References:
    C. Ashworth, P. Liò, F. Caso, "Symmetry and generalisation in neural approximations of
    renormalisation transformations", arXiv:2510.16591 (2025).
    M. G. Kendall, A. Stuart, *The Advanced Theory of Statistics*, vol. 1, ch. 3 and 12
    (cumulants, k-statistics).

Example:
    >>> import jax.numpy as jnp
    >>> from jaxrg.cumulants import moments_to_cumulants
    >>> m = jnp.array([1.0, 2.0, 6.0, 24.0])  # exponential(1): m_n = n!
    >>> [round(float(k), 6) for k in moments_to_cumulants(m)]  # kappa_n = (n-1)!
    [1.0, 1.0, 2.0, 6.0]
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from jaxrg._checks import as_float_array, check_int, value_check
from jaxrg._numerics import power_of_two_scale

__all__ = [
    "activation_cumulants_mc",
    "activation_cumulants_taylor",
    "affine_cumulants",
    "central_to_raw_moments",
    "cgf_cumulant_tensors",
    "cgf_cumulants",
    "cumulant_generating_function",
    "cumulant_tensors",
    "cumulants_to_moments",
    "k_statistics",
    "moments_to_cumulants",
    "raw_to_central_moments",
    "sample_central_moments",
    "sample_cumulants",
]


def _series(x, name: str) -> Array:
    x = as_float_array(x, name)
    if x.ndim < 1 or x.shape[-1] == 0:
        raise ValueError(
            f"{name} must have a non-empty last axis of orders 1..n (index 0 = order 1); "
            f"got shape {x.shape}."
        )
    return x


def _order(order, name: str = "order", *, maximum: int | None = None) -> int:
    order = check_int(order, name, minimum=1, meaning="static")
    if maximum is not None and order > maximum:
        raise ValueError(f"{name} must be at most {maximum}; got {order}.")
    return int(order)


def _samples(samples, name: str = "samples", *, ndim: int = 1, minimum: int = 1) -> Array:
    samples = as_float_array(samples, name)
    if samples.ndim != ndim:
        shape = "(n,)" if ndim == 1 else "(n, d)"
        raise ValueError(f"{name} must have shape {shape}; got {samples.shape}.")
    if samples.shape[0] < minimum:
        raise ValueError(f"{name} needs at least {minimum} samples; got {samples.shape[0]}.")
    return samples


def moments_to_cumulants(moments) -> Float[Array, "... n"]:
    r"""Cumulants from raw moments by the recursion (inverse: :func:`cumulants_to_moments`).

    .. math:: \kappa_n = m_n - \sum_{k=1}^{n-1}\binom{n-1}{k-1}\kappa_k\,m_{n-k}

    Args:
        moments: raw moments :math:`m_1, \dots, m_n` on the last axis (index 0 = order 1).

    Returns:
        Cumulants :math:`\kappa_1, \dots, \kappa_n`, same shape.

    Raises:
        ValueError: if the last axis is empty. TypeError: for complex input.

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(k), 6) for k in moments_to_cumulants(jnp.array([0.0, 1.0, 0.0, 3.0]))]
        [0.0, 1.0, 0.0, 0.0]
    """
    m = _series(moments, "moments")
    kappa = []
    for n in range(1, m.shape[-1] + 1):
        value = m[..., n - 1]
        for k in range(1, n):
            value = value - float(math.comb(n - 1, k - 1)) * kappa[k - 1] * m[..., n - k - 1]
        kappa.append(value)
    return jnp.stack(kappa, axis=-1)


def cumulants_to_moments(cumulants) -> Float[Array, "... n"]:
    r"""Raw moments from cumulants, the inverse of :func:`moments_to_cumulants`.

    .. math:: m_n = \kappa_n + \sum_{k=1}^{n-1}\binom{n-1}{k-1}\kappa_k\,m_{n-k}

    Args:
        cumulants: :math:`\kappa_1, \dots, \kappa_n` on the last axis (index 0 = order 1).

    Returns:
        Raw moments :math:`m_1, \dots, m_n`, same shape.

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(m), 6) for m in cumulants_to_moments(jnp.array([1.0, 1.0, 1.0]))]
        [1.0, 2.0, 5.0]
    """
    kappa = _series(cumulants, "cumulants")
    m = []
    for n in range(1, kappa.shape[-1] + 1):
        value = kappa[..., n - 1]
        for k in range(1, n):
            value = value + float(math.comb(n - 1, k - 1)) * kappa[..., k - 1] * m[n - k - 1]
        m.append(value)
    return jnp.stack(m, axis=-1)


def raw_to_central_moments(moments) -> Float[Array, "... n"]:
    r"""Central moments from raw ones, :math:`\mu_n = \sum_{k=0}^{n}\binom{n}{k}m_k(-m_1)^{n-k}`.

    Loses precision when :math:`|m_1|` is large against the spread (cancellation); centre the
    data instead when samples are at hand (:func:`sample_central_moments`).

    Args:
        moments: raw moments :math:`m_1..m_n` (index 0 = order 1).

    Returns:
        Central moments :math:`\mu_1 (=0), \mu_2, \dots, \mu_n`.

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(c), 6) for c in raw_to_central_moments(jnp.array([1.0, 2.0, 6.0]))]
        [0.0, 1.0, 2.0]
    """
    m = _series(moments, "moments")
    mean = m[..., 0]
    one = jnp.ones_like(mean)
    raw = [one] + [m[..., i] for i in range(m.shape[-1])]
    central = []
    for n in range(1, m.shape[-1] + 1):
        terms = [float(math.comb(n, k)) * raw[k] * (-mean) ** (n - k) for k in range(n + 1)]
        central.append(sum(terms[1:], terms[0]))
    return jnp.stack(central, axis=-1)


def central_to_raw_moments(
    central_moments, mean
) -> Float[Array, "... n"]:
    r"""Raw moments from central ones, :math:`m_n = \sum_{k=0}^{n}\binom{n}{k}\mu_k\bar y^{\,n-k}`.

    Args:
        central_moments: :math:`\mu_1..\mu_n` (index 0 = order 1, normally 0).
        mean: the mean :math:`\bar y` (shape of the leading axes).

    Returns:
        Raw moments :math:`m_1..m_n`.

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(m), 6) for m in central_to_raw_moments(jnp.array([0.0, 1.0, 2.0]), 1.0)]
        [1.0, 2.0, 6.0]
    """
    mu = _series(central_moments, "central_moments")
    mean = as_float_array(mean, "mean").astype(mu.dtype)
    central = [jnp.ones_like(mu[..., 0])] + [mu[..., i] for i in range(mu.shape[-1])]
    raw = []
    for n in range(1, mu.shape[-1] + 1):
        terms = [float(math.comb(n, k)) * central[k] * mean ** (n - k) for k in range(n + 1)]
        raw.append(sum(terms[1:], terms[0]))
    return jnp.stack(raw, axis=-1)


def sample_central_moments(samples, order: int) -> Float[Array, " order"]:
    r"""Plug-in central moments :math:`\hat\mu_r = \frac1n\sum_i (y_i - \bar y)^r`, r = 1..order.

    The data are centred first, so a large mean costs no precision.

    Args:
        samples: ``(n,)`` observations.
        order: highest order (static Python int).

    Returns:
        ``(order,)`` array; index 0 (order 1) is the mean of the centred data (≈ 0).

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(c), 6) for c in sample_central_moments(jnp.array([1.0, 2.0, 3.0]), 2)]
        [0.0, 0.666667]
    """
    samples = _samples(samples)
    order = _order(order)
    unit, scale = _standardise(_centre(samples)[1])
    powers = unit[:, None] ** jnp.arange(1, order + 1, dtype=samples.dtype)[None, :]
    return _rescale(jnp.mean(powers, axis=0), scale, "sample central moments")


def _centre(samples: Array) -> tuple[Array, Array]:
    r"""``(mean, samples - mean)`` over axis 0, centred in two passes.

    The mean is only as exact as its float (``ulp(1e6) = 1.2e-10``), and that shift of every
    centred value reaches :math:`\kappa_3` and :math:`\kappa_4` through the moments: 1.3e-10
    relative at a mean of 1e6, 1.3e-8 at 1e8, against 60-digit mpmath. The residual mean of the
    centred values is removed from them (small numbers, exact enough) and added to the mean.

    Args:
        samples: ``(n, ...)`` observations.

    Returns:
        ``(mean (...), centred (n, ...))``.
    """
    mean = jnp.mean(samples, axis=0)
    centred = samples - mean[None]
    residual = jnp.mean(centred, axis=0)
    return mean + residual, centred - residual[None]


def _standardise(centred: Array) -> tuple[Array, Array]:
    """``(centred / s, s)`` with ``s = max |centred|`` (1 when every entry is 0).

    Moments and cumulants are formed on data in ``[-1, 1]`` and scaled back by ``s^r``
    (:func:`_rescale`): values of 1e200 give a clear overflow error where the true moment exceeds
    the float range, never ``inf - inf = NaN``.
    """
    scale = jnp.max(jnp.abs(centred))
    scale = jnp.where(scale > 0, scale, 1)  # double where: constant data would give 0/0
    return centred / scale, scale


def _rescale(values: Array, scale: Array, what: str) -> Array:
    r"""``values[r-1] * scale^r`` for ``r = 1..``; an exact 0 stays 0 (not ``0 * inf``).

    A finite ``values[r-1]`` whose scaled value leaves the float range is refused (``what``
    names the quantity): the true value exists but the dtype cannot hold it, and an ``inf``
    would turn into NaN one subtraction later. The user can rescale the data instead, since
    :math:`\kappa_r(y/s) = \kappa_r(y)/s^r` (likewise for central moments).
    """
    orders = jnp.arange(1, values.shape[-1] + 1, dtype=values.dtype)
    scaled = jnp.where(values == 0, 0, values * scale**orders)
    overflow = ~jnp.isfinite(scaled) & jnp.isfinite(values) & jnp.isfinite(scale)
    value_check(
        ~jnp.any(overflow),
        f"{what} overflow {values.dtype} from order {{first}} on (the true values exceed the "
        "float range); ask for a lower order (order={last}), or divide the data by a scale s "
        "first: the order-r value then shrinks by s^r.",
        first=jnp.argmax(overflow) + 1,
        last=jnp.maximum(jnp.argmax(overflow), 1),
    )
    return scaled


def sample_cumulants(samples, order: int) -> Float[Array, " order"]:
    r"""Plug-in cumulants: the cumulants of the empirical law :math:`\frac1n\sum_i\delta_{y_i}`.

    :math:`\hat\kappa_1 = \bar y` and :math:`\hat\kappa_{r\ge2}` from the centred moments. These are
    the derivatives at :math:`j=0` of the sample CGF (:func:`cgf_cumulants`); they are biased at
    finite ``n`` (:func:`k_statistics` are the unbiased versions).

    Args:
        samples: ``(n,)`` observations.
        order: highest order (static Python int).

    Returns:
        ``(order,)`` array :math:`\hat\kappa_1..\hat\kappa_{order}`.

    Raises:
        ValueError: orders whose cumulants overflow the dtype (concrete input; under ``jit``
            via :func:`jaxrg.checked`).

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(k), 4) for k in sample_cumulants(jnp.array([0.0, 0.0, 1.0, 3.0]), 3)]
        [1.0, 1.5, 1.5]
    """
    samples = _samples(samples)
    order = _order(order)
    mean, centred = _centre(samples)
    unit, scale = _standardise(centred)
    mu = jnp.mean(unit[:, None] ** jnp.arange(1, order + 1, dtype=samples.dtype)[None, :], 0)
    unit = moments_to_cumulants(mu.at[0].set(0.0))  # on [-1, 1] data
    # high orders exceed the float range even on [-1, 1] data (|kappa_r| grows like r!), and the
    # recursion then meets inf - inf: refuse rather than return NaN from finite data. (Scaling
    # back may overflow for huge data: _rescale refuses that too.)
    overflow = ~jnp.isfinite(unit) & jnp.all(jnp.isfinite(samples))
    value_check(
        ~jnp.any(overflow),
        f"sample cumulants overflow {unit.dtype} from order {{first}} on (|kappa_r| grows like "
        "r!); ask for a lower order, e.g. order={last}.",
        first=jnp.argmax(overflow) + 1,
        last=jnp.maximum(jnp.argmax(overflow), 1),
    )
    return _rescale(unit, scale, "sample cumulants").at[0].set(mean)


def k_statistics(samples, order: int) -> Float[Array, " order"]:
    r"""Unbiased k-statistics :math:`k_1..k_{order}` (order ≤ 4), :math:`E[k_r] = \kappa_r`.

    With power sums :math:`S_r = \sum_i c_i^r` of the centred data :math:`c_i = y_i - \bar y`
    (centring costs nothing, since :math:`k_{r\ge2}` are shift invariant, and avoids cancellation):

    .. math::
        k_2 = \frac{n S_2 - S_1^2}{n(n-1)},\quad
        k_3 = \frac{2S_1^3 - 3nS_1S_2 + n^2S_3}{n(n-1)(n-2)},\\
        k_4 = \frac{-6S_1^4 + 12nS_1^2S_2 - 3n(n-1)S_2^2 - 4n(n+1)S_1S_3 + n^2(n+1)S_4}
                   {n(n-1)(n-2)(n-3)},

    and :math:`k_1 = \bar y`. Agrees with ``scipy.stats.kstat``.

    Args:
        samples: ``(n,)`` observations, ``n ≥ max(order, 2)`` (``n ≥ 4`` for order 4).
        order: 1, 2, 3 or 4 (static).

    Returns:
        ``(order,)`` array of :math:`k_1..k_{order}`.

    Raises:
        ValueError: for an order outside 1..4 or too few samples.

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(k), 4) for k in k_statistics(jnp.array([0.0, 0.0, 1.0, 3.0]), 4)]
        [1.0, 2.0, 4.0, 6.0]
    """
    order = _order(order, maximum=4)
    samples = _samples(samples, minimum=max(order, 2))
    n = float(samples.shape[0])
    mean, centred = _centre(samples)
    c, scale = _standardise(centred)  # k_r scales as scale^r
    s1, s2, s3, s4 = (jnp.sum(c**r) for r in (1, 2, 3, 4))
    k = [
        mean,
        (n * s2 - s1**2) / (n * (n - 1)),
        (2 * s1**3 - 3 * n * s1 * s2 + n**2 * s3) / (n * (n - 1) * (n - 2)),
        (
            -6 * s1**4
            + 12 * n * s1**2 * s2
            - 3 * n * (n - 1) * s2**2
            - 4 * n * (n + 1) * s1 * s3
            + n**2 * (n + 1) * s4
        )
        / (n * (n - 1) * (n - 2) * (n - 3)),
    ]
    unit = jnp.stack([s1 / n] + k[1:order])  # order 1 of the centred unit data: ~0
    return _rescale(unit, scale, "k-statistics").at[0].set(k[0])


def cumulant_generating_function(samples, j):
    r"""Sample CGF :math:`W(j) = \log \frac1n \sum_i e^{j^\top y_i}`.

    Evaluated as ``logsumexp(samples @ j) - log n``: the log-domain sum cannot overflow.

    Args:
        samples: ``(n,)`` scalar or ``(n, d)`` vector observations.
        j: source, a scalar for ``(n,)`` samples or ``(d,)`` for ``(n, d)`` samples.

    Returns:
        Scalar :math:`W(j)`.

    Example:
        >>> import jax.numpy as jnp
        >>> round(float(cumulant_generating_function(jnp.array([0.0, 2.0]), 0.5)), 4)
        0.6201
    """
    samples = as_float_array(samples, "samples")
    j = as_float_array(j, "j").astype(samples.dtype)
    if samples.ndim == 1:
        if j.ndim != 0:
            raise ValueError(f"j must be a scalar for (n,) samples; got shape {j.shape}.")
        exponent = samples * j
    elif samples.ndim == 2:
        if j.shape != samples.shape[1:]:
            raise ValueError(f"j must have shape {samples.shape[1:]}; got {j.shape}.")
        exponent = samples @ j
    else:
        raise ValueError(f"samples must have shape (n,) or (n, d); got {samples.shape}.")
    return jax.nn.logsumexp(exponent) - jnp.log(float(samples.shape[0]))


# jit: eager nested jacfwd dispatches thousands of tiny ops (~10x slower than one compile).
@functools.partial(jax.jit, static_argnames=("order",))
def _cgf_derivatives(samples: Array, source: Array, order: int) -> list[Array]:
    def w(j):
        return cumulant_generating_function(samples, j)

    out, f = [], w
    for _ in range(order):
        f = jax.jacfwd(f)
        out.append(f(source))
    return out


def cgf_cumulants(samples, order: int) -> Float[Array, " order"]:
    r"""Cumulants as derivatives :math:`\kappa_r = W^{(r)}(0)` of the sample CGF, by ``jax.jacfwd``.

    An independent route to :func:`sample_cumulants` (equal to round-off). The CGF is
    differentiated for the centred data :math:`c_i = y_i - \bar y` (divided by
    :math:`s = \max_i |c_i|`): :math:`\kappa_{r\ge2}` are shift-invariant and scale as
    :math:`\kappa_r(c/s) = \kappa_r(c)/s^r`, and :math:`\kappa_1 = \bar y`. Differentiating
    :math:`\log\langle e^{jy}\rangle` of raw data with a large mean would cancel catastrophically
    (a mean of 1e4 leaves no correct digit in :math:`\kappa_4`).

    Args:
        samples: ``(n,)`` observations.
        order: highest order (static; cost grows like ``order`` nested forward passes).

    Returns:
        ``(order,)`` array :math:`\hat\kappa_1..\hat\kappa_{order}`.

    Raises:
        ValueError: orders whose cumulants overflow the dtype once scaled back by :math:`s^r`
            (concrete input; under ``jit`` via :func:`jaxrg.checked`).

    Example:
        >>> import jax.numpy as jnp
        >>> [round(float(k), 4) for k in cgf_cumulants(jnp.array([0.0, 0.0, 1.0, 3.0]), 3)]
        [1.0, 1.5, 1.5]
    """
    samples = _samples(samples)
    order = _order(order)
    # centre first: W(j) of raw data holds j*mean, and its higher derivatives cancel terms of size
    # mean^r down to kappa_r (catastrophic for a large mean); kappa_{r>=2} are shift-invariant.
    mean, centred = _centre(samples)
    unit, scale = _standardise(centred)  # kappa_r(s c) = s^r kappa_r(c)
    derivatives = _cgf_derivatives(unit, jnp.zeros((), unit.dtype), order=order)
    return _rescale(jnp.stack(derivatives), scale, "cumulants").at[0].set(mean)


def cgf_cumulant_tensors(samples, order: int) -> tuple[Array, ...]:
    r"""Cumulant tensors :math:`\partial^r W(0)` of vector samples by nested ``jax.jacfwd``.

    As in :func:`cgf_cumulants`, the CGF is differentiated for the centred data
    :math:`c_i = y_i - \bar y` divided by one scalar :math:`s = \max_{i,a} |c_{ia}|` (tensors of
    order :math:`r \ge 2` are shift-invariant and scale by :math:`s^r`); the first-order tensor
    is the mean :math:`\bar y`. So a large mean costs no precision.

    Args:
        samples: ``(n, d)`` observations.
        order: highest order (static).

    Returns:
        Tuple of tensors of shapes ``(d,), (d, d), ..., (d,)*order``.

    Raises:
        ValueError: orders whose tensors overflow the dtype once scaled back by :math:`s^r`
            (concrete input; under ``jit`` via :func:`jaxrg.checked`).

    Example:
        >>> import jax.numpy as jnp
        >>> y = jnp.array([[0.0, 1.0], [2.0, 1.0], [1.0, -2.0]])
        >>> k2 = cgf_cumulant_tensors(y, 2)[1]
        >>> [[round(float(v), 4) for v in row] for row in k2]
        [[0.6667, 0.0], [0.0, 2.0]]
    """
    samples = _samples(samples, ndim=2)
    order = _order(order)
    # centre first (see cgf_cumulants): raw data with a large mean cancel catastrophically
    mean, centred = _centre(samples)
    unit, scale = _standardise(centred)
    source = jnp.zeros(samples.shape[1:], samples.dtype)
    derivatives = _cgf_derivatives(unit, source, order=order)
    return (mean, *_rescale_tensors(derivatives[1:], scale))


def _rescale_tensors(tensors, scale: Array) -> list[Array]:
    """Tensors of orders 2, 3, ... of data divided by ``scale``, scaled back by ``scale^r``.

    An exact 0 stays 0 (not ``0 * inf``); a finite tensor entry whose true value leaves the
    float range is refused (concrete input; under ``jit`` via :func:`jaxrg.checked`), never
    returned as ``inf`` (or NaN one subtraction later).
    """
    overflow = jnp.zeros((), bool)
    out = []
    for r, tensor in enumerate(tensors, start=2):
        scaled = jnp.where(tensor == 0, 0, tensor * scale**r)  # an exact 0 stays 0 (not 0 * inf)
        overflow = overflow | jnp.any(~jnp.isfinite(scaled) & jnp.isfinite(tensor))
        out.append(scaled)
    value_check(
        ~overflow | ~jnp.isfinite(scale),
        f"cumulant tensors overflow {scale.dtype} (the true values exceed the float range); "
        "ask for a lower order, or divide the data by a scale s first: the order-r tensor then "
        "shrinks by s^r.",
    )
    return out


def cumulant_tensors(samples, order: int) -> tuple[Array, ...]:
    r"""Plug-in multivariate cumulant tensors of orders 1..order (order ≤ 4).

    With centred data :math:`c = y - \bar y` and :math:`\langle\cdot\rangle` the sample mean:
    :math:`\kappa^{(2)}_{ij} = \langle c_ic_j\rangle`, :math:`\kappa^{(3)}_{ijk} =
    \langle c_ic_jc_k\rangle`, :math:`\kappa^{(4)}_{ijkl} = \langle c_ic_jc_kc_l\rangle -
    \kappa_{ij}\kappa_{kl} - \kappa_{ik}\kappa_{jl} - \kappa_{il}\kappa_{jk}` (symmetric by
    construction). These equal the CGF derivatives of :func:`cgf_cumulant_tensors`.

    Args:
        samples: ``(n, d)`` observations.
        order: 1..4 (static).

    Returns:
        Tuple of tensors of shapes ``(d,), (d, d), ...``.

    Raises:
        ValueError: orders whose tensors overflow the dtype (the centred data are divided by a
            power of two :math:`s` and the order-:math:`r` tensor multiplied back by
            :math:`s^r`, so only a true value beyond the float range is refused; concrete
            input, under ``jit`` via :func:`jaxrg.checked`).

    Example:
        >>> import jax.numpy as jnp
        >>> y = jnp.array([[0.0, 1.0], [2.0, 1.0], [1.0, -2.0]])
        >>> [round(float(v), 4) for v in cumulant_tensors(y, 2)[0]]
        [1.0, 0.0]
    """
    samples = _samples(samples, ndim=2)
    order = _order(order, maximum=4)
    mean, c = _centre(samples)
    # kappa_r(c / s) = kappa_r(c) / s^r, s a power of two (exact): the products below neither
    # over- nor underflow (data at 1e100 gave inf - inf = NaN in the order-4 tensor)
    scale = power_of_two_scale(c)
    c = c / scale
    n = float(samples.shape[0])
    out = []
    if order >= 2:
        k2 = jnp.einsum("ni,nj->ij", c, c) / n
        out.append(k2)
    if order >= 3:
        out.append(jnp.einsum("ni,nj,nk->ijk", c, c, c) / n)
    if order >= 4:
        m4 = jnp.einsum("ni,nj,nk,nl->ijkl", c, c, c, c) / n
        pairs = (
            jnp.einsum("ij,kl->ijkl", k2, k2)
            + jnp.einsum("ik,jl->ijkl", k2, k2)
            + jnp.einsum("il,jk->ijkl", k2, k2)
        )
        out.append(m4 - pairs)
    return (mean, *_rescale_tensors(out, scale))


def affine_cumulants(
    cumulants: Sequence[Array], weight, bias=None
) -> tuple[Array, ...]:
    r"""Cumulant tensors of :math:`z = Wy + b` from those of :math:`y` (exact).

    .. math:: \kappa_z^{(n)}{}_{i_1\dots i_n} = \sum_{s} W_{i_1s_1}\cdots W_{i_ns_n}\,
              \kappa_y^{(n)}{}_{s_1\dots s_n},\qquad \kappa_z^{(1)} = W\kappa_y^{(1)} + b.

    Args:
        cumulants: tensors of orders 1..R, shapes ``(d,), (d, d), ..., (d,)*R``.
        weight: ``(p, d)`` matrix :math:`W`.
        bias: optional ``(p,)`` shift :math:`b`.

    Returns:
        Tuple of tensors of shapes ``(p,), (p, p), ..., (p,)*R``.

    Raises:
        ValueError: on inconsistent shapes.

    Example:
        >>> import jax.numpy as jnp
        >>> k = (jnp.zeros(2), jnp.eye(2))
        >>> z = affine_cumulants(k, jnp.array([[1.0, 1.0]]), jnp.array([3.0]))
        >>> [round(float(z[0][0]), 4), round(float(z[1][0, 0]), 4)]
        [3.0, 2.0]
    """
    weight = as_float_array(weight, "weight")
    if weight.ndim != 2:
        raise ValueError(f"weight must be a (p, d) matrix; got shape {weight.shape}.")
    p, d = weight.shape
    out = []
    for r, kappa in enumerate(cumulants, start=1):
        kappa = as_float_array(kappa, f"cumulants[{r - 1}]").astype(weight.dtype)
        if kappa.shape != (d,) * r:
            raise ValueError(
                f"cumulants[{r - 1}] (order {r}) must have shape {(d,) * r} to match weight "
                f"{weight.shape}; got {kappa.shape}."
            )
        outer, inner = string.ascii_letters[:r], string.ascii_letters[26 : 26 + r]
        spec = ",".join(f"{o}{i}" for o, i in zip(outer, inner, strict=True))
        out.append(jnp.einsum(f"{spec},{inner}->{outer}", *([weight] * r), kappa))
    if not out:
        raise ValueError("cumulants is empty; pass at least the mean (order 1).")
    if bias is not None:
        bias = as_float_array(bias, "bias").astype(weight.dtype)
        if bias.shape != (p,):
            raise ValueError(f"bias must have shape ({p},); got {bias.shape}.")
        out[0] = out[0] + bias
    return tuple(out)


def activation_cumulants_taylor(
    phi: Callable[[Array], Array], cumulants, *, order: int, taylor_order: int
) -> Float[Array, " order"]:
    r"""Cumulants of :math:`\phi(h)` by the delta method: Taylor-expand :math:`\phi` about the mean.

    :math:`\phi(h) \approx \sum_{k=0}^{K} \phi^{(k)}(\kappa_1)\,u^k/k!` with :math:`u = h -
    \kappa_1`; the moments of this polynomial are exact functions of the central moments of
    :math:`h` up to order ``order * K``, which come from ``cumulants``. Exact when :math:`\phi` is a
    polynomial of degree ≤ K (e.g. :math:`\phi(h) = h + \alpha h^2` with K = 2); otherwise the
    truncation error grows with the spread of :math:`h` (compare :func:`activation_cumulants_mc`).

    Args:
        phi: scalar activation, differentiable ``taylor_order`` times by ``jax.grad``.
        cumulants: input cumulants :math:`\kappa_1..\kappa_m` (index 0 = order 1), m ≥ order·K.
        order: number of output cumulants (static).
        taylor_order: K, the degree of the Taylor polynomial (static).

    Returns:
        ``(order,)`` output cumulants.

    Raises:
        ValueError: if fewer than ``order * taylor_order`` input cumulants are given.

    Example:
        >>> import jax.numpy as jnp
        >>> k = jnp.array([0.0, 1.0, 0.0, 0.0])  # standard normal h
        >>> out = activation_cumulants_taylor(lambda h: h + h**2, k, order=2, taylor_order=2)
        >>> [round(float(v), 4) for v in out]  # mean 1, variance 1 + 2
        [1.0, 3.0]
    """
    order = _order(order)
    taylor_order = _order(taylor_order, "taylor_order")
    kappa = _series(cumulants, "cumulants")
    need = order * taylor_order
    if kappa.ndim != 1 or kappa.shape[0] < need:
        raise ValueError(
            f"cumulants must be 1-D with at least order*taylor_order = {need} entries; "
            f"got shape {kappa.shape}."
        )
    mean = kappa[0]
    central = cumulants_to_moments(kappa[:need].at[0].set(0.0))
    u_moments = jnp.concatenate([jnp.ones((1,), kappa.dtype), central])  # E[u^0..u^need]
    coeffs, f = [phi(mean)], phi
    for k in range(1, taylor_order + 1):
        f = jax.grad(f)
        coeffs.append(f(mean) / float(math.factorial(k)))
    poly = jnp.stack(coeffs).astype(kappa.dtype)
    raw, power = [], jnp.ones((1,), kappa.dtype)
    for _ in range(order):
        power = jnp.convolve(power, poly)
        raw.append(jnp.dot(power, u_moments[: power.shape[0]]))
    return moments_to_cumulants(jnp.stack(raw))


def activation_cumulants_mc(
    phi: Callable[[Array], Array], samples, *, order: int
) -> Float[Array, " order"]:
    r"""Monte Carlo cumulants of :math:`\phi(h)`: :func:`sample_cumulants` of ``phi(samples)``.

    Args:
        phi: elementwise activation.
        samples: ``(n,)`` draws of :math:`h`.
        order: number of output cumulants (static).

    Returns:
        ``(order,)`` plug-in cumulants (Monte Carlo error :math:`O(n^{-1/2})`).

    Example:
        >>> import jax.numpy as jnp
        >>> out = activation_cumulants_mc(jnp.abs, jnp.array([-1.0, 1.0, -3.0, 3.0]), order=2)
        >>> [round(float(v), 4) for v in out]
        [2.0, 1.0]
    """
    samples = _samples(samples)
    return sample_cumulants(phi(samples), order)

