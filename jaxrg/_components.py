"""Connected components by min-label propagation: one engine for dense and edge-list graphs.

Every round each node takes the smallest label among itself and its neighbours, then follows
its label's label twice (pointer jumping); labels only decrease and stay inside the component,
so the fixed point labels every component by its smallest node after ``O(log diameter)``
rounds. :func:`jaxrg.connected_components` supplies the neighbour minimum of a dense matrix;
:func:`edge_components` and :func:`jaxrg.sparse` supply it by ``segment_min`` over edges.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["edge_components", "propagate_min_labels"]


def propagate_min_labels(neighbour_min, n: int) -> jax.Array:
    """Fixed point of ``l <- jump(jump(min(l, neighbour_min(l))))`` from ``l = arange(n)``."""

    def body(state):
        labels, _ = state
        new = jnp.minimum(labels, neighbour_min(labels))
        new = new[new][new]  # pointer jumping: follow the label's label (twice)
        return new, jnp.any(new != labels)

    labels, _ = lax.while_loop(
        lambda state: state[1], body, (jnp.arange(n, dtype=jnp.int32), jnp.array(True))
    )
    return labels


@functools.partial(jax.jit, static_argnames=("num_nodes",))
def _edge_labels(senders, receivers, num_nodes: int):
    big = jnp.asarray(num_nodes, jnp.int32)
    both_s = jnp.concatenate([senders, receivers])
    both_r = jnp.concatenate([receivers, senders])

    def neighbour_min(labels):
        return jnp.minimum(
            jax.ops.segment_min(labels[both_r], both_s, num_segments=num_nodes), big
        )

    labels = propagate_min_labels(neighbour_min, num_nodes)
    return labels, jnp.sum(labels == jnp.arange(num_nodes, dtype=jnp.int32))


def edge_components(senders, receivers, num_nodes: int):
    """Connected components of an edge list: ``(labels (N,), count)``, labels = smallest id."""
    senders = jnp.asarray(senders, jnp.int32)
    receivers = jnp.asarray(receivers, jnp.int32)
    return _edge_labels(senders, receivers, int(num_nodes))
