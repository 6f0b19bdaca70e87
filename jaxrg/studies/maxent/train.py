r"""Training of maximum-entropy subnetworks: masked Adam, evaluation, iterative magnitude pruning.

The functions here are pure in the parameters and take the training targets as an array (built by
:func:`jaxrg.maxent.targets`), so one compiled loop trains ME, QME and XE models, several rewarded
subsets and several seeds at once under ``jax.vmap`` (see :func:`fit_many`).

- :func:`fit`: ``epochs`` epochs of Adam on :math:`\mathrm{KL}(\tilde y \Vert
  \mathrm{softmax}(f(x)/t))`, minibatches of 64, dropout on, parameters multiplied by a fixed
  mask (pruned entries stay exactly 0). Samples of weight 0 (non-rewarded XE samples) are sorted
  to the end of every epoch's permutation and the steps that would only see them are skipped, so
  XE trains on the rewarded samples alone, in batches of 64, as the paper's baseline.
- :func:`evaluate`: loss, R-Acc, overall accuracy and mean prediction entropy on and off
  :math:`R`.
- :func:`imp`: iterative magnitude pruning with rewinding to the initial weights (Frankle &
  Carbin 2019), layer-wise, the last layer (``head``) at half the per-round ratio.

References:
    F. Caso, S. Fonio, A. Saccomanno, A. Monaco, F. Silvestri, "Composable subnetworks by the
    maximum-entropy principle", NeurIPS 2025 workshop on mechanistic interpretability.
    J. Frankle, M. Carbin, "The lottery ticket hypothesis", ICLR 2019.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from jaxrg import maxent
from jaxrg.studies._common.engine import optimizer_step

__all__ = [
    "Metrics",
    "apply_mask",
    "evaluate",
    "fit",
    "fit_many",
    "full_masks",
    "head_ratios",
    "imp",
    "imp_many",
    "logits_of",
    "metrics_from_logits",
    "sparsity",
]


class Metrics(NamedTuple):
    """Evaluation of one model on one labelled set (scalars; NaN where a subset is empty)."""

    loss: jax.Array  # weighted mean KL against the given targets
    r_acc: jax.Array  # accuracy on samples with label in R
    accuracy: jax.Array  # accuracy on all samples
    entropy_out: jax.Array  # mean entropy of softmax(z/t) on samples with label not in R
    entropy_in: jax.Array  # mean entropy on samples with label in R


def apply_mask(params, masks):
    """:math:`\\theta \\odot m` leaf by leaf (``masks`` boolean, same structure)."""
    return jax.tree.map(lambda w, m: jnp.where(m, w, jnp.zeros((), w.dtype)), params, masks)


def full_masks(params):
    """All-True masks of the shape of ``params``."""
    return jax.tree.map(lambda w: jnp.ones(w.shape, dtype=bool), params)


def head_ratios(params, ratio: float, *, head: str = "head", factor: float = 0.5):
    """Per-leaf pruning ratios: ``ratio`` everywhere, ``factor · ratio`` in the ``head`` layer."""

    def pick(path, _):
        first = path[0]
        name = getattr(first, "key", getattr(first, "name", None))
        return ratio * factor if name == head else ratio

    return jax.tree_util.tree_map_with_path(pick, params)


def sparsity(masks) -> jax.Array:
    """The fraction of pruned entries over all leaves."""
    leaves = jax.tree.leaves(masks)
    kept = sum(jnp.sum(m) for m in leaves)
    total = sum(m.size for m in leaves)
    return 1.0 - kept / total


@functools.partial(jax.jit, static_argnames=("graphdef", "epochs", "batch_size"))
def fit(graphdef, params, masks, x, targets, key, learning_rate=1e-3, temperature=5.0, *,
        epochs: int, batch_size: int = 64):
    """Train ``params`` (an ``nnx.State`` of the model ``graphdef``) under the fixed ``masks``.

    Args:
        graphdef: the static graph of an nnx model from :mod:`jaxrg.studies.maxent.subnetworks`.
        params: its parameters; entries where ``masks`` is False are set to 0.
        masks: boolean masks of the same structure.
        x: (n, d) training inputs.
        targets: (n, c) targets (:func:`jaxrg.maxent.targets`); zero rows are skipped.
        key: PRNG key (permutations and dropout).
        learning_rate: Adam step size (not static).
        temperature: the loss temperature :math:`t` (not static).
        epochs, batch_size: static.

    Returns:
        ``(params, losses)``: the trained, masked parameters and the (epochs,) mean training loss
        of each epoch (over the steps taken).
    """
    n = x.shape[0]
    steps = math.ceil(n / batch_size)
    weights = maxent.sample_weights(targets).astype(x.dtype)
    n_valid = jnp.sum(weights > 0)
    optimiser = optax.adam(learning_rate)
    params = apply_mask(params, masks)

    def loss_fn(p, xb, tb, wb, k):
        logits = nnx.merge(graphdef, apply_mask(p, masks))(xb, key=k)
        return maxent.weighted_mean(maxent.kl_loss(logits, tb, temperature=temperature), wb)

    def epoch(carry, ek):
        k_perm, k_drop = jax.random.split(ek)
        u = jax.random.uniform(k_perm, (n,), dtype=x.dtype)
        # Weight-0 samples go last: the first ceil(n_valid / batch) batches hold every valid one.
        order = jnp.argsort(jnp.where(weights > 0, u, u + 2.0))
        order = jnp.concatenate([order, order[: steps * batch_size - n]])

        def step(carry, i):
            p, s = carry
            start = i * batch_size
            idx = jax.lax.dynamic_slice(order, (start,), (batch_size,))
            valid = (start + jnp.arange(batch_size)) < n_valid
            wb = jnp.where(valid, weights[idx], jnp.zeros((), x.dtype))

            def take(args):
                p, s = args
                loss, grads = jax.value_and_grad(loss_fn)(
                    p, x[idx], targets[idx], wb, jax.random.fold_in(k_drop, i))
                p, s = optimizer_step(optimiser, grads, s, p)
                return (apply_mask(p, masks), s), loss

            def skip(args):
                return args, jnp.zeros((), x.dtype)

            return jax.lax.cond(start < n_valid, take, skip, (p, s))

        (p, s), losses = jax.lax.scan(step, carry, jnp.arange(steps))
        taken = jnp.maximum(jnp.ceil(n_valid / batch_size), 1.0).astype(x.dtype)
        return (p, s), jnp.sum(losses) / taken

    carry = (params, optimiser.init(params))
    (params, _), losses = jax.lax.scan(epoch, carry, jax.random.split(key, epochs))
    return params, losses


def logits_of(graphdef, params, x, *, chunk: int = 2000):
    """Evaluation-mode logits of the model on ``x`` (in chunks of ``chunk`` rows)."""
    model = nnx.merge(graphdef, params)
    n = x.shape[0]
    if n <= chunk:
        return model(x)
    pad = (-n) % chunk
    xs = jnp.concatenate([x, jnp.zeros((pad, *x.shape[1:]), x.dtype)]).reshape(
        -1, chunk, *x.shape[1:])
    out = jax.lax.map(lambda xb: nnx.merge(graphdef, params)(xb), xs)
    return out.reshape(-1, out.shape[-1])[:n]


def metrics_from_logits(logits, labels, rewarded, targets, temperature=5.0) -> Metrics:
    """:class:`Metrics` of ``logits`` (n, c) against integer ``labels`` and ``targets``."""
    weights = maxent.sample_weights(targets).astype(logits.dtype)
    loss = maxent.weighted_mean(maxent.kl_loss(logits, targets, temperature=temperature), weights)
    entropy = maxent.prediction_entropy(logits, temperature=temperature)
    inside = rewarded[labels]
    dtype = logits.dtype
    out_mean = jnp.sum(jnp.where(inside, 0.0, entropy)) / jnp.sum(~inside).astype(dtype)
    in_mean = jnp.sum(jnp.where(inside, entropy, 0.0)) / jnp.sum(inside).astype(dtype)
    # the accuracy over all classes: R-Acc with R = C (NaN for a NaN row, not argmax's guess)
    acc = maxent.rewarded_accuracy(logits, labels, jnp.ones_like(rewarded)).astype(dtype)
    return Metrics(loss, maxent.rewarded_accuracy(logits, labels, rewarded), acc, out_mean,
                   in_mean)


@functools.partial(jax.jit, static_argnames=("graphdef",))
def evaluate(graphdef, params, x, labels, rewarded, targets, temperature=5.0) -> Metrics:
    """Evaluate one model (no dropout): :class:`Metrics` on ``(x, labels)``."""
    logits = logits_of(graphdef, params, x)
    return metrics_from_logits(logits, labels, rewarded, targets.astype(logits.dtype),
                               temperature)


def fit_many(graphdef, params, masks, x, targets, keys, **kwargs):
    """:func:`fit` vmapped over a leading axis of ``params``, ``masks``, ``targets``, ``keys``.

    ``x`` is shared. Stack K models' inputs along axis 0 (e.g. K = losses × seeds × subsets).
    """
    run = functools.partial(fit, graphdef, **kwargs)
    return jax.vmap(lambda p, m, t, k: run(p, m, x, t, k))(params, masks, targets, keys)


def imp(graphdef, init_params, x, targets, key, *, sparsity: float, rounds: int, epochs: int,
        learning_rate=1e-3, temperature=5.0, batch_size: int = 64, head_factor: float = 0.5,
        callback=None):
    r"""Iterative magnitude pruning with rewinding (vmappable over models when ``rounds`` is fixed).

    Train the dense network; then ``rounds`` times: prune the fraction
    :math:`q = 1-(1-p)^{1/\mathrm{rounds}}` of the surviving entries of every array by magnitude
    (``head`` at :math:`q\cdot` ``head_factor``), rewind the survivors to ``init_params`` and
    retrain. ``callback(stage, params, masks)`` (if given) sees every trained stage ``0..rounds``.

    Returns:
        ``(params, masks)`` of the final subnetwork.
    """
    q = maxent.round_ratio(sparsity, rounds)
    ratios = head_ratios(init_params, q, factor=head_factor)
    masks = full_masks(init_params)
    keys = jax.random.split(key, rounds + 1)
    kwargs = dict(learning_rate=learning_rate, temperature=temperature, epochs=epochs,
                  batch_size=batch_size)
    params, _ = fit(graphdef, init_params, masks, x, targets, keys[0], **kwargs)
    if callback is not None:
        callback(0, params, masks)
    for r in range(rounds):
        masks = maxent.magnitude_prune(params, masks, ratios)
        params, _ = fit(graphdef, apply_mask(init_params, masks), masks, x, targets, keys[r + 1],
                        **kwargs)
        if callback is not None:
            callback(r + 1, params, masks)
    return params, masks


def imp_many(graphdef, init_params, x, targets, keys, *, sparsity: float, rounds: int,
             epochs: int, learning_rate=1e-3, temperature=5.0, batch_size: int = 64,
             head_factor: float = 0.5, callback=None):
    """:func:`imp` for K models at once (leading axis on ``init_params``, ``targets``, ``keys``).

    ``callback(stage, params, masks)`` receives the stacked (K, ...) parameters and masks.
    """
    q = maxent.round_ratio(sparsity, rounds)
    ratios = head_ratios(jax.tree.map(lambda w: w[0], init_params), q, factor=head_factor)
    masks = full_masks(init_params)
    stage_keys = jax.vmap(lambda k: jax.random.split(k, rounds + 1), out_axes=1)(keys)
    kwargs = dict(learning_rate=learning_rate, temperature=temperature, epochs=epochs,
                  batch_size=batch_size)
    prune = jax.jit(jax.vmap(lambda p, m: maxent.magnitude_prune(p, m, ratios)))
    params, _ = fit_many(graphdef, init_params, masks, x, targets, stage_keys[0], **kwargs)
    if callback is not None:
        callback(0, params, masks)
    for r in range(rounds):
        masks = prune(params, masks)
        params, _ = fit_many(graphdef, apply_mask(init_params, masks), masks, x, targets,
                             stage_keys[r + 1], **kwargs)
        if callback is not None:
            callback(r + 1, params, masks)
    return params, masks
