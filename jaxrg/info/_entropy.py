r"""Shannon, Rényi and Tsallis entropies of categorical distributions, from logits or probabilities.

All in nats (natural log; divide by :math:`\log 2` for bits), computed in log domain from the
logits (see :mod:`jaxrg.info._core`): probabilities are never formed, so logits of any magnitude
are safe. ``-inf`` logits (and zero probabilities) are categories with probability 0.
"""

from __future__ import annotations

from jaxtyping import Array, Float

from jaxrg.info import _core


def shannon_entropy(logits, *, axis: int = -1) -> Float[Array, "..."]:
    r"""Shannon entropy of ``softmax(logits)`` along ``axis``.

    .. math:: H_1 = -\sum_i p_i \log p_i = \log\textstyle\sum_i e^{z_i} - \langle z\rangle_p .

    Args:
        logits: array of unnormalised log-probabilities; ``-inf`` means probability 0. bf16/f16
            inputs are reduced (and returned) in float32.
        axis: the category axis.

    Returns:
        The entropy, shape of ``logits`` without ``axis``.

    Raises:
        ValueError: NaN or ``+inf`` logits, a row of only ``-inf``, or a bad ``axis`` (value
            checks on concrete inputs only; under ``jit`` such rows give NaN).

    Example:
        >>> import jax.numpy as jnp, jaxrg.info
        >>> round(float(jaxrg.info.shannon_entropy(jnp.zeros(4))), 6)   # log 4
        1.386294
    """
    z = _core.prepare_logits(logits, axis)
    return _core.shannon_kernel(z)


def renyi_entropy(logits, alpha, *, axis: int = -1) -> Float[Array, "..."]:
    r"""Rényi entropy of order :math:`\alpha` of ``softmax(logits)`` along ``axis``.

    .. math::
        H_\alpha = \frac{1}{1-\alpha}\log\sum_i p_i^\alpha
                 = \frac{\operatorname{lse}(\alpha z) - \alpha\operatorname{lse}(z)}{1-\alpha},

    with the exact limits :math:`H_0 = \log|\{i: p_i > 0\}|`, :math:`H_1` (Shannon) and
    :math:`H_\infty = -\log\max_i p_i`. Near :math:`\alpha = 1` (and wherever it is the more
    accurate) it is computed without cancellation as :math:`H_\alpha = \log s - u\,
    \log(1 + (\alpha-1)u)/((\alpha-1)u)`, :math:`u = \sum_i p_i (e^{(\alpha-1)(z_i - m)} -
    1)/(\alpha - 1) \le 0` (:math:`m = \max z`, :math:`s = \sum_i e^{z_i - m}`): two
    non-negative terms, equal to :math:`H_1 = \log s - \langle z - m\rangle_p` at 1, so value
    and gradient are smooth there. :math:`H_\alpha` is non-increasing in :math:`\alpha`.

    Args:
        logits: unnormalised log-probabilities (``-inf`` = probability 0).
        alpha: order(s) :math:`\alpha \ge 0` (``jnp.inf`` allowed): a scalar or any array; not
            static, so sweeping it does not recompile.
        axis: the category axis.

    Returns:
        Shape ``alpha.shape + batch``, batch being ``logits.shape`` without ``axis``.

    Raises:
        ValueError: ``alpha`` negative or NaN; bad logits (see :func:`shannon_entropy`).

    References:
        A. Rényi, "On measures of entropy and information", Proc. 4th Berkeley Symp. (1961).

    Example:
        >>> import jax.numpy as jnp, jaxrg.info
        >>> z = jnp.log(jnp.array([0.5, 0.25, 0.25]))
        >>> jaxrg.info.renyi_entropy(z, jnp.array([0.0, 1.0, 2.0, jnp.inf])).round(4).tolist()
        [1.0986, 1.0397, 0.9808, 0.6931]
    """
    z = _core.prepare_logits(logits, axis)
    a = _core.prepare_alpha(alpha, z.dtype)
    return _core.renyi_kernel(z, a)


def tsallis_entropy(logits, q, *, axis: int = -1) -> Float[Array, "..."]:
    r"""Tsallis entropy of index :math:`q` of ``softmax(logits)`` along ``axis``.

    .. math:: S_q = \frac{1 - \sum_i p_i^q}{q - 1} = \frac{e^{(1-q)H_q} - 1}{1-q},

    computed from the Rényi entropy :math:`H_q` with a series for :math:`(e^x-1)/x` near
    :math:`x = 0`; :math:`S_1 = H_1`, :math:`S_0 = |\mathrm{supp}\,p| - 1`, :math:`S_\infty = 0`.

    Args:
        logits: unnormalised log-probabilities.
        q: entropic index(es) :math:`q \ge 0` (scalar or array).
        axis: the category axis.

    Returns:
        Shape ``q.shape + batch``.

    Raises:
        ValueError: ``q`` negative or NaN; bad logits.

    References:
        C. Tsallis, "Possible generalization of Boltzmann-Gibbs statistics",
        J. Stat. Phys. 52 (1988).

    Example:
        >>> import jax.numpy as jnp, jaxrg.info
        >>> round(float(jaxrg.info.tsallis_entropy(jnp.zeros(4), 2.0)), 6)   # 1 - 4/16
        0.75
    """
    z = _core.prepare_logits(logits, axis)
    a = _core.prepare_alpha(q, z.dtype, "q")
    return _core.tsallis_kernel(z, a)


def shannon_entropy_from_probs(probs, *, axis: int = -1) -> Float[Array, "..."]:
    r"""Shannon entropy :math:`H_1 = -\sum_i p_i\log p_i` of probabilities (zeros allowed).

    ``probs`` must be non-negative and sum to 1 along ``axis`` within 1e-6 (float64), 1e-4
    (float32) or 1e-2 (bf16/f16); the small remainder is renormalised away, so gradients are those
    of :math:`H(p/\sum p)`.

    Args:
        probs: probabilities, any shape; the categories along ``axis``.
        axis: the category axis.

    Returns:
        The entropy (nats), shape of ``probs`` without ``axis``.

    Raises:
        ValueError: NaN/inf, negative entries, or sums off 1.

    Example:
        >>> import jax.numpy as jnp, jaxrg.info
        >>> round(float(jaxrg.info.shannon_entropy_from_probs(jnp.array([0.5, 0.5, 0.0]))), 6)
        0.693147
    """
    return shannon_entropy(_core.prepare_probs(probs, axis))


def renyi_entropy_from_probs(probs, alpha, *, axis: int = -1) -> Float[Array, "..."]:
    r"""Rényi entropy :math:`H_\alpha = \frac{1}{1-\alpha}\log\sum_i p_i^\alpha` of probabilities.

    See :func:`renyi_entropy` for the limits at :math:`\alpha \in \{0, 1, \infty\}`.

    Args:
        probs: probabilities, any shape; the categories along ``axis`` (validated as in
            :func:`shannon_entropy_from_probs`).
        alpha: order(s) :math:`\alpha \ge 0`, scalar or any array.
        axis: the category axis.

    Returns:
        Shape ``alpha.shape + batch``, batch being ``probs.shape`` without ``axis``.

    Raises:
        ValueError: bad ``probs`` (see :func:`shannon_entropy_from_probs`) or ``alpha``.

    Example:
        >>> import jax.numpy as jnp, jaxrg.info
        >>> p = jnp.array([0.5, 0.5, 0.0])
        >>> jaxrg.info.renyi_entropy_from_probs(p, jnp.array([0.0, 2.0])).round(6).tolist()
        [0.693147, 0.693147]
    """
    return renyi_entropy(_core.prepare_probs(probs, axis), alpha)


def tsallis_entropy_from_probs(probs, q, *, axis: int = -1) -> Float[Array, "..."]:
    r"""Tsallis entropy :math:`S_q = (1 - \sum_i p_i^q)/(q - 1)` of probabilities.

    See :func:`tsallis_entropy` for the limits at :math:`q \in \{0, 1, \infty\}`.

    Args:
        probs: probabilities, any shape; the categories along ``axis`` (validated as in
            :func:`shannon_entropy_from_probs`).
        q: entropic index(es) :math:`q \ge 0`, scalar or any array.
        axis: the category axis.

    Returns:
        Shape ``q.shape + batch``, batch being ``probs.shape`` without ``axis``.

    Raises:
        ValueError: bad ``probs`` or ``q``.

    Example:
        >>> import jax.numpy as jnp, jaxrg.info
        >>> round(float(jaxrg.info.tsallis_entropy_from_probs(jnp.array([0.5, 0.5]), 2.0)), 6)
        0.5
    """
    return tsallis_entropy(_core.prepare_probs(probs, axis), q)
