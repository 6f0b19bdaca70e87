"""Layers shared by the model families (GNNs, MLP/CNN subnetworks)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array


def dropout(x: Array, rate: float, key: Array | None) -> Array:
    r"""Inverted dropout: zero each entry with probability ``rate``, scale the rest by 1/(1−rate).

    :math:`y = x \cdot m/(1 - r)`, :math:`m \sim \mathrm{Bernoulli}(1 - r)` per entry. Identity
    when ``key`` is None (evaluation) or ``rate`` is 0.

    Args:
        x: array of any shape.
        rate: drop probability :math:`r \in [0, 1)`.
        key: PRNG key, or None for evaluation.

    Returns:
        Same shape and dtype as ``x``.
    """
    if key is None or rate == 0.0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / jnp.asarray(1.0 - rate, dtype=x.dtype), jnp.zeros_like(x))
