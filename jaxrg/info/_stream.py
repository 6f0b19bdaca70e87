r"""Streaming entropies: reduce the category axis chunk by chunk, never holding all probabilities.

A chunk of logits becomes an :class:`EntropyStats` (running max, rescaled :math:`\sum e^{z}`,
centred moments, :math:`\sum e^{\alpha z}`); statistics of disjoint chunks merge exactly and in any
order, so chunks can come from a loop, a ``scan``, different hosts or devices
(:func:`merge_entropy_stats` is associative and commutative up to round-off). For a
[layers × tokens × vocabulary] tensor this bounds memory by one chunk of the vocabulary.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from jaxrg import _checks
from jaxrg.info import _core
from jaxrg.info._core import EntropyStats


def entropy_stats(logits, alpha=None, *, axis: int = -1) -> EntropyStats:
    r"""Sufficient statistics of one chunk of logits (the categories along ``axis``).

    Args:
        logits: a chunk of unnormalised log-probabilities (``-inf`` = probability 0); a chunk may
            be all ``-inf`` (it then adds nothing when merged).
        alpha: Rényi/Tsallis orders to keep power sums for (scalar or array, :math:`\ge 0`);
            ``None`` for Shannon only.
        axis: the category axis of this chunk.

    Returns:
        :class:`EntropyStats` with batch shape ``logits.shape`` without ``axis``.

    Raises:
        ValueError: NaN or ``+inf`` logits; ``alpha`` negative or NaN (concrete inputs).

    Example:
        >>> import jax.numpy as jnp, jaxrg.info as info
        >>> z = jnp.array([1.0, 2.0, 3.0, 4.0])
        >>> s = info.merge_entropy_stats(info.entropy_stats(z[2:], 2.0),
        ...                              info.entropy_stats(z[:2], 2.0))
        >>> h = info.renyi_entropy_from_stats(s)
        >>> bool(jnp.allclose(h, info.renyi_entropy(z, 2.0)))
        True
    """
    z = _core.prepare_logits(logits, axis, empty_rows=True)
    return _core.stats_kernel(z, _orders(alpha, z.dtype))


def merge_entropy_stats(a: EntropyStats, b: EntropyStats) -> EntropyStats:
    r"""Merge the statistics of two disjoint chunks (exact; any order, any grouping).

    With :math:`m = \max(m_a, m_b)` the sums rescale as
    :math:`s = s_a e^{m_a - m} + s_b e^{m_b - m}` (likewise the power sums :math:`r_\alpha`
    with :math:`e^{\alpha(m_\cdot - m)}`), and the centred moments combine by the pairwise
    update of Chan, Golub & LeVeque.

    Args:
        a, b: :class:`EntropyStats` of the same batch shape ``B``, built with the same ``alpha``
            (shape ``A``).

    Returns:
        :class:`EntropyStats` of the union of both chunks, batch shape ``B``.

    Raises:
        ValueError: batch shapes or ``alpha`` shapes differ, or (concrete; under ``jit``
            through :func:`jaxrg.checked`) the ``alpha`` values differ: power sums of different
            orders do not add.
    """
    if a.max.shape != b.max.shape or a.alpha.shape != b.alpha.shape:
        raise ValueError(
            f"cannot merge EntropyStats of batch shapes {a.max.shape} and {b.max.shape} "
            f"(alpha shapes {a.alpha.shape} and {b.alpha.shape}); build both from chunks of the "
            "same rows with the same alpha."
        )
    _checks.value_check(
        jnp.all(a.alpha == b.alpha),
        "cannot merge EntropyStats built with different alpha (first {alpha_a}, second "
        "{alpha_b}); build every chunk's statistics with the same alpha.",
        alpha_a=a.alpha,
        alpha_b=b.alpha,
    )
    return _core.merge_kernel(a, b)


def shannon_entropy_from_stats(stats: EntropyStats) -> Float[Array, "..."]:
    r"""Shannon entropy (nats) of merged statistics.

    .. math::
        H_1 = \log\textstyle\sum_i e^{z_i} - \langle z\rangle_p
            = \log s - (\langle z\rangle_p - m) .

    Args:
        stats: :class:`EntropyStats` with batch shape ``B``.

    Returns:
        ``B``, the entropy of each row.
    """
    return _core.shannon_from_kernel(stats)


def renyi_entropy_from_stats(stats: EntropyStats) -> Float[Array, "..."]:
    r"""Rényi entropies for the orders the statistics were built with.

    .. math:: H_\alpha = \frac{\log r_\alpha - \alpha\log s}{1-\alpha},

    with the limits of :func:`jaxrg.info.renyi_entropy` at :math:`\alpha \in \{0, 1, \infty\}`.

    Args:
        stats: :class:`EntropyStats` with batch shape ``B`` and orders of shape ``A``.

    Returns:
        Shape ``A + B`` (``alpha.shape + batch``).

    Raises:
        ValueError: the statistics carry no orders (built with ``alpha=None``).
    """
    _need_alpha(stats)
    return _core.renyi_from_kernel(stats)


def tsallis_entropy_from_stats(stats: EntropyStats) -> Float[Array, "..."]:
    r"""Tsallis entropies with the orders of ``stats`` as indices :math:`q`.

    .. math:: S_q = \frac{e^{(1-q)H_q} - 1}{1-q},

    :math:`H_q` the Rényi entropy (see :func:`renyi_entropy_from_stats`).

    Args:
        stats: :class:`EntropyStats` with batch shape ``B`` and orders of shape ``A``.

    Returns:
        Shape ``A + B`` (``q.shape + batch``).

    Raises:
        ValueError: the statistics carry no orders (built with ``alpha=None``).
    """
    _need_alpha(stats)
    return _core.tsallis_from_kernel(stats)


def streamed_entropy_stats(
    logits_fn: Callable[[jax.Array], jax.Array],
    alpha=None,
    *,
    num_chunks: int,
    name: str = "logits_fn's logits",
    fix: str = "clip them (e.g. jnp.clip(z, max=1e30)); -inf is allowed and means probability 0",
) -> EntropyStats:
    r"""Statistics of logits that are produced chunk by chunk, e.g. ``h @ W[:, chunk]``.

    ``logits_fn(i)`` (``i`` a traced int32 scalar in ``[0, num_chunks)``) returns chunk ``i`` with
    the categories on its **last** axis; every chunk must have the same shape (pad a short last
    chunk with ``-inf``). The chunks are reduced by ``lax.scan``, so only one is alive at a time.

    Args:
        logits_fn: chunk index -> logits chunk ``B + (C,)``.
        alpha: orders for Rényi/Tsallis (``None``: Shannon only).
        num_chunks: number of chunks (static).
        name, fix: how the errors name the logits and what they suggest (a caller that builds
            the chunks, such as :func:`jaxrg.lens.entropy_profile`, names its own inputs).

    Returns:
        The merged :class:`EntropyStats` over all chunks.

    Raises:
        ValueError: (concrete chunks; under ``jit`` through :func:`jaxrg.checked`, else NaN
            out) a NaN or ``+inf`` logit in **any** chunk, naming the first such chunk; a row
            that is ``-inf`` in every chunk (no category with probability > 0). A row of only
            ``-inf`` within one chunk is allowed (padding).

    Example:
        >>> import jax, jax.numpy as jnp, jaxrg.info as info
        >>> w = jnp.arange(12.0).reshape(2, 6) / 10          # "unembedding", vocabulary 6
        >>> h = jnp.array([1.0, -1.0])
        >>> chunk = lambda i: h @ jax.lax.dynamic_slice_in_dim(w, 3 * i, 3, axis=1)
        >>> s = info.streamed_entropy_stats(chunk, num_chunks=2)
        >>> bool(jnp.allclose(info.shannon_entropy_from_stats(s), info.shannon_entropy(h @ w)))
        True
    """
    num_chunks = _checks.check_int(num_chunks, "num_chunks", meaning="chunks of logits_fn")
    z0 = _checks.as_float_array(logits_fn(jnp.asarray(0, jnp.int32)), name)
    # every chunk checked, not only the first (a NaN or +inf in a later chunk gave NaN, or a
    # wrong number, silently): the first bad chunk's index is carried through the scan
    first_bad = jnp.where(_bad_logits(z0), 0, -1)
    z0 = z0.astype(_core.compute_dtype(z0.dtype))
    first = _core.stats_kernel(z0, _orders(alpha, z0.dtype))  # checked below, with the others
    if num_chunks > 1:

        def body(carry, i):
            stats, bad_index = carry
            z = jnp.asarray(logits_fn(i))
            bad_index = jnp.where((bad_index < 0) & _bad_logits(z), i, bad_index)
            part = _core.chunk_stats(z.astype(stats.max.dtype), stats.alpha)
            return (_core.merge_stats(stats, part), bad_index), None

        (first, first_bad), _ = jax.lax.scan(
            body, (first, first_bad), jnp.arange(1, num_chunks, dtype=jnp.int32))
    _checks.value_check(
        first_bad < 0,
        f"{name} contain NaN or +inf in chunk {{chunk}} of {num_chunks}; {fix}.",
        chunk=first_bad,
    )
    _checks.value_check(
        jnp.all(first.sum_exp > 0) | jnp.any(jnp.isnan(first.sum_exp)),
        f"{name} have a row where every entry of every chunk is -inf (no category has "
        "probability > 0); give every row at least one finite logit.",
    )
    return first


def _bad_logits(z: jax.Array) -> jax.Array:
    """Whether a chunk of logits holds a NaN or ``+inf`` (scalar bool): the first two of the
    flags :func:`prepare_logits` checks (a row of only ``-inf`` is padding within one chunk)."""
    return jnp.any(_core.logit_flags(z)[:2])


def chunked_entropy_stats(logits, alpha=None, *, axis: int = -1, chunk_size: int) -> EntropyStats:
    r"""Statistics of a whole logits array, reduced ``chunk_size`` categories at a time.

    Equivalent to merging :func:`entropy_stats` of consecutive chunks of the category axis (a
    ``lax.scan`` over full chunks plus one shorter remainder).

    Args:
        logits: unnormalised log-probabilities, any shape (``-inf`` = probability 0).
        alpha: Rényi/Tsallis orders (scalar or array, :math:`\ge 0`); ``None`` for Shannon only.
        axis: the category axis.
        chunk_size: categories per chunk (static, ``>= 1``).

    Returns:
        :class:`EntropyStats` with batch shape ``logits.shape`` without ``axis``.

    Raises:
        ValueError: ``chunk_size < 1``; bad logits or ``alpha``.
    """
    z = _core.prepare_logits(logits, axis)
    chunk_size = _checks.check_int(chunk_size, "chunk_size", meaning="categories per chunk")
    return _chunked(z, _orders(alpha, z.dtype), chunk_size)


@functools.partial(jax.jit, static_argnums=2)
def _chunked(z: jax.Array, a: jax.Array, chunk_size: int) -> EntropyStats:
    full, rest = divmod(z.shape[-1], chunk_size)
    parts = []
    if full:

        def body(carry, i):
            piece = jax.lax.dynamic_slice_in_dim(z, i * chunk_size, chunk_size, axis=-1)
            return _core.merge_stats(carry, _core.chunk_stats(piece, a)), None

        first = _core.chunk_stats(z[..., :chunk_size], a)
        stats, _ = jax.lax.scan(body, first, jnp.arange(1, full, dtype=jnp.int32))
        parts.append(stats)
    if rest:
        parts.append(_core.chunk_stats(z[..., full * chunk_size :], a))
    return parts[0] if len(parts) == 1 else _core.merge_stats(parts[0], parts[1])


def shannon_entropy_chunked(
    logits, *, axis: int = -1, chunk_size: int = 8192
) -> Float[Array, "..."]:
    r""":func:`jaxrg.info.shannon_entropy`, reduced ``chunk_size`` categories at a time.

    Same value :math:`H_1 = \log\sum_i e^{z_i} - \langle z\rangle_p`, with peak extra memory of one
    chunk instead of the whole category axis.

    Args:
        logits: unnormalised log-probabilities, any shape.
        axis: the category axis.
        chunk_size: categories per chunk (static).

    Returns:
        Shape of ``logits`` without ``axis``.

    Example:
        >>> import jax.numpy as jnp, jaxrg.info as info
        >>> z = jnp.linspace(-3.0, 3.0, 1000)
        >>> h = info.shannon_entropy_chunked(z, chunk_size=64)
        >>> bool(jnp.allclose(h, info.shannon_entropy(z)))
        True
    """
    return _core.shannon_from_kernel(
        chunked_entropy_stats(logits, axis=axis, chunk_size=chunk_size)
    )


def renyi_entropy_chunked(
    logits, alpha, *, axis: int = -1, chunk_size: int = 8192
) -> Float[Array, "..."]:
    r""":func:`jaxrg.info.renyi_entropy`, reduced ``chunk_size`` categories at a time.

    Same value
    :math:`H_\alpha = (\operatorname{lse}(\alpha z) - \alpha\operatorname{lse}(z))/(1-\alpha)`.
    Peak extra memory: ``len(alpha) x batch x chunk_size`` instead of ``... x vocabulary``.

    Args:
        logits: unnormalised log-probabilities, any shape.
        alpha: order(s) :math:`\alpha \ge 0`, scalar or array.
        axis: the category axis.
        chunk_size: categories per chunk (static).

    Returns:
        Shape ``alpha.shape + batch``, batch being ``logits.shape`` without ``axis``.

    Example:
        >>> import jax.numpy as jnp, jaxrg.info as info
        >>> z = jnp.linspace(-3.0, 3.0, 1000)
        >>> a = jnp.array([0.5, 1.0, 5.0])
        >>> h = info.renyi_entropy_chunked(z, a, chunk_size=64)
        >>> bool(jnp.allclose(h, info.renyi_entropy(z, a)))
        True
    """
    stats = chunked_entropy_stats(logits, alpha, axis=axis, chunk_size=chunk_size)
    return _core.renyi_from_kernel(stats)


def tsallis_entropy_chunked(
    logits, q, *, axis: int = -1, chunk_size: int = 8192
) -> Float[Array, "..."]:
    r""":func:`jaxrg.info.tsallis_entropy`, reduced ``chunk_size`` categories at a time.

    Same value :math:`S_q = (1 - \sum_i p_i^q)/(q - 1)`, computed from the chunked Rényi entropy.

    Args:
        logits: unnormalised log-probabilities, any shape.
        q: entropic index(es) :math:`q \ge 0`, scalar or array.
        axis: the category axis.
        chunk_size: categories per chunk (static).

    Returns:
        Shape ``q.shape + batch``, batch being ``logits.shape`` without ``axis``.
    """
    stats = chunked_entropy_stats(logits, q, axis=axis, chunk_size=chunk_size)
    return _core.tsallis_from_kernel(stats)


def _orders(alpha, dtype) -> jax.Array:
    """Validated orders, or an empty set (Shannon needs no power sums)."""
    return jnp.zeros((0,), dtype) if alpha is None else _core.prepare_alpha(alpha, dtype)


def _need_alpha(stats: EntropyStats) -> None:
    if stats.alpha.shape == (0,):
        raise ValueError(
            "these EntropyStats carry no Rényi orders; build them with alpha=... "
            "(e.g. entropy_stats(logits, alpha=jnp.array([0.5, 1.0, 5.0])))."
        )
