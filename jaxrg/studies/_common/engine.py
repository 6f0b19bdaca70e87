r"""The small training engine every study uses: optimiser step, schedule, seeds, checkpoints.

Four studies train four kinds of model (multiscale GNNs, masked MLP/CNN subnetworks, RG networks,
transformers) with loops of different shapes, but the same five pieces recur in all of them and
live here once:

- :func:`optimizer_step` — one optax update. optax's Adam bias correction computes
  ``float ** int32 step``, which the strict dtype promotion of the test runtime rejects; the step
  runs under standard promotion here, and nowhere else.
- :func:`warmup_cosine` — a linear warm-up then a cosine decay to ``floor × peak``, with the step
  count cast explicitly (optax's own schedules trip strict promotion too).
- :func:`map_seeds` — several seeds in one program: one ``vmap`` over all of them, or blocks of
  ``batch`` seeds looped inside the program (``lax.map``), which is faster on a CPU.
- :func:`tree_where` — keep a new pytree where a flag holds, else the old one: freezing a seed that
  stopped early, and best-validation checkpointing (``best ← tree_where(val > best_val, p, best)``).
- :func:`with_x64` — run a study's training with ``jax_enable_x64`` on whatever the caller's
  setting, so a Python session and the CLI (which turns x64 on) record the same numbers.

Resumable records (one JSON line per finished unit, a killed run resumed without duplicates) are
:func:`jaxrg._io.append_jsonl` and :func:`jaxrg._io.finished_keys`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

__all__ = ["map_seeds", "optimizer_step", "tree_where", "warmup_cosine", "with_x64"]


def optimizer_step(optimizer: optax.GradientTransformation, grads, opt_state, params):
    """One optimiser update: ``params ← params + update(grads)``.

    Args:
        optimizer: an optax gradient transformation.
        grads: gradients, a pytree shaped like ``params``.
        opt_state: the optimiser state of ``params``.
        params: the parameters.

    Returns:
        ``(params, opt_state)`` after the step.

    Examples:
        >>> import jax.numpy as jnp, optax
        >>> opt = optax.sgd(0.5)
        >>> p, _ = optimizer_step(opt, jnp.array([2.0]), opt.init(jnp.array([1.0])),
        ...                       jnp.array([1.0]))
        >>> p.tolist()
        [0.0]
    """
    # optax's bias correction computes float ** int32 count, refused by strict promotion.
    with jax.numpy_dtype_promotion("standard"):
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state


def warmup_cosine(peak, steps: int, *, floor: float, warmup: int = 0,
                  dtype=jnp.float32) -> Callable[[Any], jax.Array]:
    r"""A learning-rate schedule: linear warm-up, then cosine decay to ``floor × peak``.

    .. math::
        \eta(c) = \eta_{\max}\,\min(c/w, 1)\,\bigl(f + (1 - f)\,\tfrac12\,
        (1 + \cos(\pi \min(c/T, 1)))\bigr)

    with step count :math:`c`, warm-up :math:`w` (the ramp is left out when ``warmup`` is 0),
    total steps :math:`T` and floor :math:`f`.

    Args:
        peak: :math:`\eta_{\max}`, a float or a traced scalar.
        steps: :math:`T`.
        floor: :math:`f`, the final fraction of ``peak``.
        warmup: :math:`w` (0: no warm-up).
        dtype: dtype the step count is cast to.

    Returns:
        ``schedule(count)``, for an optax optimiser's ``learning_rate``.

    Examples:
        >>> s = warmup_cosine(1.0, 10, floor=0.1, warmup=2)
        >>> [round(float(s(c)), 4) for c in (0, 1, 2, 10, 20)]
        [0.0, 0.489, 0.9141, 0.1, 0.1]
    """
    if steps < 1 or warmup < 0:
        raise ValueError(f"need steps >= 1 and warmup >= 0, got steps={steps}, warmup={warmup}")

    def schedule(count):
        c = jnp.asarray(count).astype(dtype)
        cos = 0.5 * (1.0 + jnp.cos(jnp.pi * jnp.minimum(c / steps, 1.0)))
        decay = floor + (1.0 - floor) * cos
        if warmup:
            return peak * jnp.minimum(c / warmup, 1.0) * decay
        return peak * decay

    return schedule


def map_seeds(fn: Callable, per_seed, *, batch: int | None = None):
    """``fn`` applied to every seed's slice of ``per_seed`` (a pytree with a leading seed axis).

    Args:
        fn: the computation for one seed.
        per_seed: pytree whose leaves have a leading axis of ``S`` seeds.
        batch: seeds vmapped together. None (or ``≥ S``): one ``vmap`` over all ``S``; else
            ``lax.map`` over blocks of ``batch`` seeds inside the program (less memory, and on a
            CPU faster than one wide vmap).

    Returns:
        ``fn``'s outputs stacked along a leading seed axis.

    Examples:
        >>> import jax.numpy as jnp
        >>> map_seeds(lambda x: 2 * x, jnp.arange(4.0), batch=1).tolist()
        [0.0, 2.0, 4.0, 6.0]
    """
    num_seeds = jax.tree.leaves(per_seed)[0].shape[0]
    if batch is None or batch >= num_seeds:
        return jax.vmap(fn)(per_seed)
    return jax.lax.map(fn, per_seed, batch_size=batch)


def tree_where(flag, new, old):
    """``new`` where the scalar ``flag`` is True, else ``old``, leaf by leaf.

    Args:
        flag: scalar bool (traced or not).
        new, old: pytrees of the same structure.

    Returns:
        The selected pytree.

    Examples:
        >>> import jax.numpy as jnp
        >>> tree_where(jnp.array(False), {"w": jnp.ones(2)}, {"w": jnp.zeros(2)})["w"].tolist()
        [0.0, 0.0]
    """
    return jax.tree.map(lambda a, b: jnp.where(flag, a, b), new, old)


def with_x64(fn: Callable) -> Callable:
    """``fn`` run with ``jax_enable_x64`` on, whatever the caller's setting (restored after).

    The CLI turns x64 on; a Python session usually has it off. Several things in a training loop
    follow that setting even when the parameters are float32: optax computes Adam's bias
    correction ``1 - b**t`` in the default float, :func:`jaxrg.maxent.targets` builds targets in
    it, and metrics are reduced in it. So the same seed trained slightly different models in the
    two (a different best epoch, different digits in the recorded metrics). Every study's runner
    is wrapped in this, so ``jaxrg study ... run`` and the Python call record the same numbers,
    bit for bit; parameters keep their own dtype.

    Args:
        fn: any function.

    Returns:
        ``fn`` wrapped (``functools.wraps`` keeps its name and docstring).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> with jax.enable_x64(False):
        ...     with_x64(lambda: jnp.zeros(()).dtype)(), jax.config.jax_enable_x64
        (dtype('float64'), False)
    """

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapped
