r"""Kullback–Leibler, cross-entropy and Jensen–Shannon divergences of categorical distributions.

From logits (log domain, ``-inf`` = probability 0) or from probabilities; nats throughout.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from jaxrg.info import _core


def _pair(logits_p, logits_q, axis: int, names=("logits_p", "logits_q")):
    zp = _core.prepare_logits(logits_p, axis, names[0])
    zq = _core.prepare_logits(logits_q, axis, names[1])
    if zp.shape != zq.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape; got {zp.shape} and {zq.shape} "
            "(after moving the category axis last)."
        )
    if zp.dtype != zq.dtype:
        dtype = jnp.promote_types(zp.dtype, zq.dtype)
        zp, zq = zp.astype(dtype), zq.astype(dtype)
    lp, mp = _core.masked_log_softmax(zp)
    lq, mq = _core.masked_log_softmax(zq)
    return lp, mp, lq, mq


def _weighted(lp, mp, values) -> jax.Array:
    """:math:`\\sum_i p_i v_i` over the support of ``p`` (``0 * v`` never formed off it).

    Divided by :math:`\\sum_i p_i`: the rounding of :math:`\\log Z` shifts every ``lp`` alike
    (by half an ulp of the largest logit, 5e-4 for float32 logits of 1e4), which scales all
    :math:`p_i` by one factor; normalising cancels it, else it multiplies :math:`|v|`.
    """
    p = jnp.where(mp, jnp.exp(lp), jnp.zeros_like(lp))
    total = jnp.sum(jnp.where(mp, p * values, jnp.zeros_like(lp)), axis=-1)
    return total / jnp.sum(p, axis=-1)


def _kl(lp, mp, lq, mq) -> jax.Array:
    # q = 0 where p > 0: the divergence is +inf (absolute continuity fails)
    broken = jnp.any(mp & ~mq, axis=-1)
    # >= 0 (Gibbs): round-off of a divergence near 0 (p ~ q, not confident) is clipped there
    return jnp.where(broken, jnp.inf, jnp.maximum(_weighted(lp, mp, lp - lq), 0))


def kl_divergence(logits_p, logits_q, *, axis: int = -1) -> Float[Array, "..."]:
    r"""Kullback–Leibler divergence :math:`D(p\,\|\,q) = \sum_i p_i(\log p_i - \log q_i)`.

    ``p = softmax(logits_p)``, ``q = softmax(logits_q)`` along ``axis``; ``+inf`` where ``q`` is 0
    on the support of ``p``.

    Args:
        logits_p, logits_q: logits of the same shape (``-inf`` = probability 0).
        axis: the category axis.

    Returns:
        Shape of the logits without ``axis``; :math:`\ge 0`.

    Raises:
        ValueError: different shapes, NaN/``+inf`` logits, rows of only ``-inf``.

    Example:
        >>> import jax.numpy as jnp, jaxrg.info
        >>> p, q = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.25, 0.75]))
        >>> round(float(jaxrg.info.kl_divergence(p, q)), 6)   # 0.5 log 2 + 0.5 log(2/3)
        0.143841
    """
    return _kl(*_pair(logits_p, logits_q, axis))


def cross_entropy(logits_p, logits_q, *, axis: int = -1) -> Float[Array, "..."]:
    r"""Cross-entropy :math:`H(p, q) = -\sum_i p_i\log q_i = H(p) + D(p\,\|\,q)`.

    Args:
        logits_p: logits of the reference distribution ``p`` (e.g. the data).
        logits_q: logits of the model ``q``.
        axis: the category axis.

    Returns:
        Shape of the logits without ``axis``.

    Example:
        >>> import jax.numpy as jnp, jaxrg.info
        >>> q = jnp.log(jnp.array([0.25, 0.75]))
        >>> round(float(jaxrg.info.cross_entropy(jnp.zeros(2), q)), 6)
        0.836988
    """
    lp, mp, lq, mq = _pair(logits_p, logits_q, axis)
    broken = jnp.any(mp & ~mq, axis=-1)
    return jnp.where(broken, jnp.inf, -_weighted(lp, mp, lq))


def js_divergence(logits_p, logits_q, *, axis: int = -1) -> Float[Array, "..."]:
    r"""Jensen–Shannon divergence :math:`\tfrac12 D(p\|m) + \tfrac12 D(q\|m)`, :math:`m = (p+q)/2`.

    ``p = softmax(logits_p)``, ``q = softmax(logits_q)`` along ``axis``. Symmetric, finite, in
    :math:`[0, \log 2]`; :math:`\log(m_i/p_i) = \log\frac{1 + q_i/p_i}{2}` is formed as
    ``log1p(expm1(log q_i - log p_i)/2)``, so two confident, nearly equal distributions keep their
    tiny divergence (``logaddexp(log p, log q) - log 2 - log p`` cancelled to round-off).

    Args:
        logits_p, logits_q: logits of the same shape (``-inf`` = probability 0).
        axis: the category axis.

    Returns:
        Shape of the logits without ``axis``; in :math:`[0, \log 2]`.

    Raises:
        ValueError: different shapes, NaN/``+inf`` logits, rows of only ``-inf``.

    Example:
        >>> import jax.numpy as jnp, jaxrg.info
        >>> p, q = jnp.array([0.0, -jnp.inf]), jnp.array([-jnp.inf, 0.0])   # disjoint supports
        >>> round(float(jaxrg.info.js_divergence(p, q)), 6)                 # log 2
        0.693147
    """
    lp, mp, lq, mq = _pair(logits_p, logits_q, axis)
    log2 = np.log(2.0).astype(lp.dtype)
    both = mp & mq
    delta = jnp.where(both, lq - lp, jnp.zeros_like(lp))  # log(q_i / p_i) where both are > 0
    # log m_i - log p_i on p's support: log((1 + q_i/p_i)/2), -log 2 where q_i = 0; likewise for q
    to_p = jnp.where(both, _log_half_one_plus_exp(delta), -log2)
    to_q = jnp.where(both, _log_half_one_plus_exp(-delta), -log2)
    js = -0.5 * _weighted(lp, mp, to_p) - 0.5 * _weighted(lq, mq, to_q)
    return jnp.clip(js, 0, log2)  # round-off of a divergence that is 0 (p = q) stays >= 0


def _log_half_one_plus_exp(x: jax.Array) -> jax.Array:
    """:math:`\\log\\frac{1 + e^x}{2}` without cancellation near ``x = 0`` (``log1p(expm1(x)/2)``:
    the Jensen-Shannon divergence of two confident, nearly equal distributions is of the order of
    their tiny differences, and ``logaddexp(log p, log q) - log 2 - log p`` loses it to round-off)
    and without overflow for large ``x``."""
    small = x < 1
    xs = jnp.where(small, x, jnp.zeros_like(x))
    xl = jnp.where(small, jnp.ones_like(x), x)
    large = xl - np.log(2.0).astype(x.dtype) + jnp.log1p(jnp.exp(-xl))
    return jnp.where(small, jnp.log1p(jnp.expm1(xs) / 2), large)


def kl_divergence_from_probs(probs_p, probs_q, *, axis: int = -1) -> Float[Array, "..."]:
    r""":func:`kl_divergence` of probabilities: :math:`D(p\,\|\,q) = \sum_i p_i\log(p_i/q_i)`.

    Validated like :func:`jaxrg.info.shannon_entropy_from_probs` (non-negative, summing to 1
    along ``axis``); zeros are probability 0, ``+inf`` where ``q_i = 0 < p_i``.

    Args:
        probs_p, probs_q: probabilities of the same shape.
        axis: the category axis.

    Returns:
        Shape of the probabilities without ``axis``; :math:`\ge 0`.

    Raises:
        ValueError: different shapes, NaN/inf, negative entries, or sums off 1.

    Example:
        >>> import jax.numpy as jnp, jaxrg.info
        >>> p, q = jnp.array([1.0, 0.0]), jnp.array([0.5, 0.5])
        >>> round(float(jaxrg.info.kl_divergence_from_probs(p, q)), 6)
        0.693147
    """
    return kl_divergence(*_probs_pair(probs_p, probs_q, axis))


def cross_entropy_from_probs(probs_p, probs_q, *, axis: int = -1) -> Float[Array, "..."]:
    r""":func:`cross_entropy` of probabilities: :math:`H(p, q) = -\sum_i p_i\log q_i`.

    Validated like :func:`jaxrg.info.shannon_entropy_from_probs`; ``+inf`` where
    ``q_i = 0 < p_i``.

    Args:
        probs_p: probabilities of the reference distribution ``p``.
        probs_q: probabilities of the model ``q``, same shape as ``probs_p``.
        axis: the category axis.

    Returns:
        Shape of the probabilities without ``axis``.

    Raises:
        ValueError: different shapes, NaN/inf, negative entries, or sums off 1.
    """
    return cross_entropy(*_probs_pair(probs_p, probs_q, axis))


def js_divergence_from_probs(probs_p, probs_q, *, axis: int = -1) -> Float[Array, "..."]:
    r""":func:`js_divergence` of probabilities: :math:`\tfrac12 D(p\|m) + \tfrac12 D(q\|m)`.

    Here :math:`m = (p+q)/2`.

    Validated like :func:`jaxrg.info.shannon_entropy_from_probs`.

    Args:
        probs_p, probs_q: probabilities of the same shape.
        axis: the category axis.

    Returns:
        Shape of the probabilities without ``axis``; in :math:`[0, \log 2]`.

    Raises:
        ValueError: different shapes, NaN/inf, negative entries, or sums off 1.
    """
    return js_divergence(*_probs_pair(probs_p, probs_q, axis))


def _probs_pair(probs_p, probs_q, axis: int):
    return (
        _core.prepare_probs(probs_p, axis, "probs_p"),
        _core.prepare_probs(probs_q, axis, "probs_q"),
    )
