r"""Composable subnetworks by the maximum-entropy principle: targets, loss, pruning, merging.

A classifier over classes :math:`C` is *rewarded* on a subset :math:`R \subseteq C` and asked to
stay maximally uncertain elsewhere. With :math:`y` the label of a sample:

- **ME** (MaxEnt): :math:`\tilde y = \mathrm{onehot}(y)` if :math:`y \in R`, else the uniform
  distribution :math:`1/|C|` over all classes.
- **QME** (quasi-MaxEnt): as ME, but for :math:`y \notin R` uniform over :math:`C \setminus R`.
- **XE** (cross-entropy on R only): :math:`\tilde y = \mathrm{onehot}(y)` if :math:`y \in R`; a
  sample with :math:`y \notin R` gets an all-zero target row, i.e. weight 0 (see :func:`targets`).

The loss is :math:`\mathrm{KL}(\tilde y \,\Vert\, \mathrm{softmax}(f(x)/t))` with temperature
:math:`t = 5`, averaged over the samples of positive weight :math:`w = \sum_c \tilde y_c`.

Subnetworks are found by iterative magnitude pruning (IMP) with rewinding to the initial weights:
``rounds`` rounds, each removing the fraction :math:`q = 1 - (1-p)^{1/\mathrm{rounds}}` of the
surviving entries of every weight and bias array with the smallest magnitude (the last layer at
:math:`q/2`), so that the final sparsity is :math:`p` (:func:`round_ratio`,
:func:`magnitude_prune`). Subnetworks trained on disjoint :math:`R_i` from one initialisation are
composed by summation, :math:`\theta = \sum_i \theta_i \odot m_i` (:func:`merge`), and compared
along connectivity paths (:func:`connectivity_path`, :func:`loss_barrier`).

Everything here is a pure function of arrays (or of pytrees of arrays); batch over rewarded
subsets or seeds with ``jax.vmap``. The training loop lives in :mod:`jaxrg.studies.maxent.train`.

References:
    F. Caso, S. Fonio, A. Saccomanno, A. Monaco, F. Silvestri, "Composable subnetworks by the
    maximum-entropy principle", NeurIPS 2025 workshop on mechanistic interpretability.

Examples:
    >>> import jax.numpy as jnp
    >>> t = targets(jnp.array([0, 2]), jnp.array([True, True, False, False]), 4)
    >>> t.tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from jaxrg._checks import as_float_array, check_int, floating_leaves, is_concrete, value_check
from jaxrg.info import _core as _info_core

KINDS = ("me", "qme", "xe")

__all__ = [
    "KINDS", "connectivity_path", "kl_loss", "loss_barrier", "magnitude_prune", "merge",
    "prediction_entropy", "rewarded_accuracy", "round_ratio", "sample_weights", "targets",
    "weighted_mean",
]


def _check_rewarded(rewarded, num_classes: int) -> Array:
    rewarded = jnp.asarray(rewarded)
    if rewarded.shape != (num_classes,):
        raise ValueError(
            f"rewarded must be a boolean mask of shape (num_classes,) = ({num_classes},), got "
            f"shape {rewarded.shape}"
        )
    if rewarded.dtype != jnp.bool_:
        raise TypeError(f"rewarded must be a boolean mask, got dtype {rewarded.dtype}")
    return rewarded


def targets(
    labels: Int[Array, " n"],
    rewarded: Bool[Array, " c"],
    num_classes: int,
    *,
    kind: str = "me",
) -> Float[Array, "n c"]:
    r"""The training targets :math:`\tilde y` of the ME, QME or XE loss.

    .. math::
        \tilde y_i = \begin{cases} \mathrm{onehot}(y_i) & y_i \in R \\
        \mathbf 1/|C| & y_i \notin R \text{ (ME)} \\
        \mathbf 1_{C\setminus R}/|C \setminus R| & y_i \notin R \text{ (QME)} \\
        \mathbf 0 & y_i \notin R \text{ (XE)} \end{cases}

    For XE a non-rewarded sample gets the zero row: its KL term is exactly 0 (0·log 0 = 0) and its
    weight :func:`sample_weights` is 0, so :func:`weighted_mean` trains on :math:`R` only — the
    cross-entropy baseline of the paper. For QME with :math:`R = C` the non-rewarded branch is
    never used; with :math:`R = C` every kind gives one-hot targets.

    Args:
        labels: (n,) integer class labels in ``[0, num_classes)``.
        rewarded: (num_classes,) boolean mask of the rewarded classes :math:`R`.
        num_classes: :math:`|C|` (static).
        kind: ``"me"``, ``"qme"`` or ``"xe"``.

    Returns:
        (n, num_classes) targets, dtype float32 (float64 under x64). Rows sum to 1 (to 0 for
        non-rewarded XE rows).

    Raises:
        ValueError: unknown ``kind``, wrong shapes, or (concrete labels) a label out of range.
        TypeError: ``rewarded`` is not boolean or ``labels`` not integer.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    rewarded = _check_rewarded(rewarded, num_classes)
    labels = jnp.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be (n,), got shape {labels.shape}")
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    if not isinstance(labels, jax.core.Tracer) and labels.size:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"labels must lie in [0, {num_classes}), got values in [{low}, {high}]"
            )
    dtype = jnp.zeros(()).dtype  # float32, or float64 under x64
    onehot = jax.nn.one_hot(labels, num_classes, dtype=dtype)
    in_r = rewarded[labels][:, None]
    if kind == "me":
        other = jnp.full((num_classes,), 1.0 / num_classes, dtype=dtype)
    elif kind == "qme":
        outside = (~rewarded).astype(dtype)
        # max(·, 1) avoids 0/0 when R = C (then the branch is never selected anyway).
        other = outside / jnp.maximum(outside.sum(), 1.0)
    else:
        other = jnp.zeros((num_classes,), dtype=dtype)
    return jnp.where(in_r, onehot, other[None, :])


def sample_weights(targets: Float[Array, "n c"]) -> Float[Array, " n"]:
    r"""Per-sample weights :math:`w_i = \sum_c \tilde y_{ic}` (1, or 0 for non-rewarded XE rows).

    Args:
        targets: ``(n, c)`` targets from :func:`targets`.

    Returns:
        ``(n,)`` weights.
    """
    return jnp.sum(targets, axis=-1)


def kl_loss(
    logits: Float[Array, "n c"],
    targets: Float[Array, "n c"],
    *,
    temperature: float = 5.0,
) -> Float[Array, " n"]:
    r"""Per-sample :math:`\mathrm{KL}(\tilde y \,\Vert\, \mathrm{softmax}(z/t))`, in nats.

    .. math::
        \mathrm{KL}_i = \sum_c \tilde y_{ic}\,\bigl(\log \tilde y_{ic} -
        \log\mathrm{softmax}(z_i/t)_c\bigr), \qquad 0 \log 0 = 0.

    Computed in the log domain (``log_softmax`` and ``xlogy``), so it is finite for any finite
    logits, however extreme; a zero target entry contributes exactly 0 whatever the logit, and a
    zero target row gives 0. Average with :func:`weighted_mean` for the batch loss.

    Args:
        logits: (n, c) network outputs :math:`z` (before the temperature).
        targets: (n, c) non-negative target distributions (rows summing to 1, or 0).
        temperature: :math:`t > 0` (not static: sweeping it does not recompile).

    Returns:
        (n,) per-sample KL divergences.

    Raises:
        ValueError: shapes differ, or (concrete; under ``jit`` through :func:`jaxrg.checked`)
            ``temperature`` not finite and ``> 0``, a negative target entry, or a target row
            summing to neither 1 nor 0 (the KL of a non-distribution is no divergence).
    """
    logits = as_float_array(logits, "logits")  # integer logits: cast, or t = 0.5 would be 0
    targets = jnp.asarray(targets)
    if logits.ndim != 2 or logits.shape != targets.shape:
        raise ValueError(
            f"logits and targets must both be (n, c); got {logits.shape} and {targets.shape}"
        )
    t = _temperature(temperature, logits.dtype)
    log_q = jax.nn.log_softmax(logits / t, axis=-1)
    targets = targets.astype(logits.dtype)
    _check_targets(targets)
    # xlogy(0, 0) = 0, and where() (not a product) keeps -inf·0 out of the value and the gradient.
    cross = jnp.where(targets > 0, targets * log_q, 0.0)
    return jnp.sum(jax.scipy.special.xlogy(targets, targets) - cross, axis=-1)


def _check_targets(targets: Array) -> None:
    """Target rows are distributions (entries ``>= 0``, sum 1) or all-zero (weight 0)."""
    sums = jnp.sum(targets, axis=-1)
    # Round-off of a genuine distribution: each entry rounded once (relative u = eps/2, so the
    # sum is off by <= u) and c terms summed in any order (<= (c-1) u): together <= c u. Twice
    # that, 2 c eps, admits an extra rounding per entry (label smoothing, a cast from float64).
    # It grows like c eps, not like c sqrt(eps) (0.69 at c = 2000 in float32, which passed a
    # row summing to 1.5): float32, c = 10 -> 2.4e-6; c = 1e5 (uniform 1/c) -> 0.024.
    tol = 2.0 * max(targets.shape[-1], 1) * float(np.finfo(targets.dtype).eps)
    row_ok = (jnp.abs(sums - 1) <= tol) | (sums == 0)
    value_check(
        jnp.all((targets >= 0) & row_ok[..., None]),
        "targets must be non-negative rows summing to 1 (a distribution) or 0 (a sample of "
        "weight 0), as built by maxent.targets; got row sums in [{lo}, {hi}] and a smallest "
        "entry of {low}. Normalise each row by its sum.",
        lo=jnp.min(sums) if sums.size else jnp.zeros((), sums.dtype),
        hi=jnp.max(sums) if sums.size else jnp.zeros((), sums.dtype),
        low=jnp.min(targets) if targets.size else jnp.zeros((), targets.dtype),
    )


def weighted_mean(values: Float[Array, " n"], weights: Float[Array, " n"]) -> Float[Array, ""]:
    r"""Weighted mean :math:`\sum_i w_i v_i / \max(\sum_i w_i, \epsilon)`.

    0 when every weight is 0; :math:`\epsilon` is the smallest positive normal number of the
    dtype of ``values``.

    Args:
        values: ``(n,)`` per-sample values (e.g. from :func:`kl_loss`).
        weights: ``(n,)`` non-negative weights (e.g. from :func:`sample_weights`), cast to the
            dtype of ``values``.

    Returns:
        Scalar weighted mean.

    Raises:
        ValueError: a negative or NaN weight (concrete; under ``jit`` through
            :func:`jaxrg.checked`): with mixed signs the total may vanish and the mean explode.
    """
    values = as_float_array(values, "values")
    weights = as_float_array(weights, "weights").astype(values.dtype)
    value_check(
        jnp.all(weights >= 0),
        "weights must be non-negative (e.g. sample_weights(targets)); got a minimum of {low}.",
        low=jnp.min(weights) if weights.size else jnp.zeros((), weights.dtype),
    )
    total = jnp.sum(weights)
    return jnp.sum(weights * values) / jnp.maximum(total, jnp.finfo(values.dtype).tiny)


def prediction_entropy(
    logits: Float[Array, "n c"], *, temperature: float = 5.0
) -> Float[Array, " n"]:
    r"""Shannon entropy (nats) of :math:`\mathrm{softmax}(z/t)` per sample; at most :math:`\log c`.

    :math:`H_i = -\sum_c q_{ic} \log q_{ic}`, :math:`q_i = \mathrm{softmax}(z_i/t)`, by the
    statistics of :mod:`jaxrg.info` (finite for extreme logits, ``-inf`` logits are probability
    0, and a confident prediction keeps its small entropy to full relative precision).

    The logits are validated as by :func:`jaxrg.info.shannon_entropy`: NaN, ``+inf`` and a row
    of only ``-inf`` (no class with probability > 0) are refused on concrete input; under
    ``jit`` (where nothing can raise; :func:`jaxrg.checked` raises for NaN and ``+inf``) such a
    row gives NaN. bf16/f16 logits are reduced in float32 and the result cast back.

    Args:
        logits: ``(n, c)`` network outputs :math:`z` (before the temperature).
        temperature: :math:`t > 0`.

    Returns:
        ``(n,)`` entropies in :math:`[0, \log c]` (NaN under ``jit`` for an invalid row), in the
        floating dtype of ``logits``.

    Raises:
        ValueError: (concrete) NaN or ``+inf`` logits, a row of only ``-inf``, or a temperature
            not finite and ``> 0``.
    """
    logits = as_float_array(logits, "logits")
    z = _info_core.prepare_logits(logits, -1, "logits")
    z = z / _temperature(temperature, z.dtype)
    entropy = _info_core.shannon_from(_info_core.chunk_stats(z, jnp.zeros((0,), z.dtype)))
    # traced input is not refused: a row of only -inf has no distribution (the sums give -inf)
    entropy = jnp.where(jnp.all(z == -jnp.inf, axis=-1), jnp.nan, entropy)
    return entropy.astype(logits.dtype)


def _temperature(temperature, dtype) -> Array:
    """The temperature as a ``dtype`` scalar; a finite value > 0 (checked when concrete)."""
    t = as_float_array(temperature, "temperature", dtype=dtype)
    value_check(
        jnp.all(jnp.isfinite(t) & (t > 0)),
        "temperature must be a finite number > 0; got {t}.",
        t=t,
    )
    return t


def rewarded_accuracy(
    logits: Float[Array, "n c"], labels: Int[Array, " n"], rewarded: Bool[Array, " c"]
) -> Float[Array, ""]:
    r"""R-Acc: the accuracy of :math:`\arg\max_c z_c` over the samples whose label is in :math:`R`.

    :math:`\sum_i 1[y_i \in R]\,1[\arg\max_c z_{ic} = y_i] / \sum_i 1[y_i \in R]`. The argmax runs
    over all classes. With no sample whose label is in :math:`R` the accuracy is undefined: a
    ``ValueError`` naming ``rewarded`` on concrete input, NaN under ``jit``.

    Args:
        logits: ``(n, c)`` network outputs.
        labels: ``(n,)`` integer labels in ``[0, c)``; ``-1`` marks an unlabelled sample,
            which is in no class (not counted).
        rewarded: ``(c,)`` boolean mask of the rewarded classes :math:`R`.

    Returns:
        Scalar accuracy in :math:`[0, 1]`; NaN under ``jit`` when no label is rewarded, or when
        a counted row (label in :math:`R`) holds a NaN or ``+inf`` logit or only ``-inf`` (its
        argmax is no prediction: ``argmax`` would rank NaN highest).

    Raises:
        ValueError: ``rewarded`` not of shape ``(c,)``; labels outside ``-1..c-1``, or no
            label in ``rewarded`` (concrete; under ``jit`` through :func:`jaxrg.checked`);
            logits with NaN or ``+inf`` (likewise) or a row of only ``-inf`` (concrete),
            validated as by :func:`jaxrg.info.shannon_entropy`.
        TypeError: ``rewarded`` not boolean, labels not integers.
    """
    logits = _info_core.prepare_logits(logits, -1, "logits")
    num_classes = logits.shape[-1]
    rewarded = _check_rewarded(rewarded, num_classes)
    labels = jnp.asarray(labels)
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    value_check(
        jnp.all((labels >= -1) & (labels < num_classes)),
        f"labels must be class ids 0..{num_classes - 1} or -1 (unlabelled); got ids in "
        "[{lo}, {hi}].",
        lo=jnp.min(labels) if labels.size else jnp.zeros((), labels.dtype),
        hi=jnp.max(labels) if labels.size else jnp.zeros((), labels.dtype),
    )
    known = (labels >= 0) & (labels < num_classes)
    # an unlabelled sample (-1) is in no class; indexing with -1 would wrap to the last class
    inside = known & rewarded[jnp.where(known, labels, 0)]
    predicted = jnp.argmax(logits, axis=-1)
    correct = (predicted == labels.astype(predicted.dtype)) & inside
    value_check(
        jnp.any(inside),
        "rewarded marks no class that any of the {n} labels belongs to, so the rewarded "
        "accuracy is undefined (0/0); pass a rewarded mask that includes a class present in "
        "labels, or skip this metric for this batch.",
        n=jnp.asarray(labels.size),
    )
    # traced input is not refused: an invalid counted row makes the accuracy NaN, not a guess
    invalid = (jnp.any(jnp.isnan(logits) | (logits == jnp.inf), axis=-1)
               | jnp.all(logits == -jnp.inf, axis=-1))
    accuracy = jnp.sum(correct) / jnp.sum(inside)
    return jnp.where(jnp.any(invalid & inside), jnp.nan, accuracy)


def round_ratio(sparsity: float, rounds: int) -> float:
    r"""The per-round pruning ratio :math:`q = 1 - (1 - p)^{1/\mathrm{rounds}}`.

    ``rounds`` rounds that each remove the fraction :math:`q` of the surviving entries leave
    :math:`(1-q)^{\mathrm{rounds}} = 1 - p`. With :math:`p = 0.99` and 2 rounds, :math:`q = 0.9`.

    Args:
        sparsity: final sparsity :math:`p \in [0, 1)` (Python float).
        rounds: number of pruning rounds, ``>= 1`` (Python int).

    Returns:
        The ratio :math:`q` as a Python float.

    Raises:
        ValueError: ``sparsity`` outside ``[0, 1)`` or ``rounds < 1``.
        TypeError: ``rounds`` not an integer (``2.5`` rounds are no schedule).

    Examples:
        >>> round(round_ratio(0.99, 2), 12)
        0.9
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must lie in [0, 1), got {sparsity}")
    rounds = check_int(rounds, "rounds", meaning="pruning rounds")
    return 1.0 - (1.0 - sparsity) ** (1.0 / rounds)


def _prune_leaf(weight: Array, mask: Array, ratio) -> Array:
    flat_w = jnp.abs(weight).reshape(-1)
    flat_m = mask.reshape(-1).astype(bool)
    positions = jnp.arange(flat_w.size)
    alive = jnp.sum(flat_m, dtype=positions.dtype)
    # Number removed: round(ratio · alive), ties broken by position (stable sort): deterministic.
    k = jnp.round(jnp.asarray(ratio, flat_w.dtype) * alive.astype(flat_w.dtype))
    # A NaN weight (traced input; concrete input is refused) ranks below every magnitude and is
    # removed whatever k: argsort would put it last, i.e. keep it as the largest.
    nan = jnp.isnan(flat_w)
    scores = jnp.where(flat_m, jnp.where(nan, -1, flat_w), jnp.inf)
    rank = jnp.zeros_like(positions).at[jnp.argsort(scores, stable=True)].set(positions)
    return (flat_m & ~nan & (rank >= k.astype(rank.dtype))).reshape(weight.shape)


def magnitude_prune(params, masks, ratios):
    r"""One round of layer-wise magnitude pruning of every array in ``params``.

    In each leaf (a weight or bias array) independently, the :math:`k = \mathrm{round}(r\,n)`
    surviving entries (of :math:`n` with mask 1) of smallest :math:`|\theta|` are removed; ties go
    by flat position. Entries already pruned stay pruned.

    NaN or ``inf`` parameters (a diverged training run) have no magnitude to rank: on concrete
    input they are refused, naming the leaf. Under ``jit`` (where nothing can raise;
    :func:`jaxrg.checked` raises the same message) a NaN entry is removed — it counts among the
    :math:`k` removed, and is removed even beyond them — so it never survives as "the largest";
    ``inf`` ranks as the largest magnitude.

    Args:
        params: a pytree of arrays (the trained weights :math:`\theta`).
        masks: a pytree of the same structure of boolean masks (True = kept).
        ratios: a pytree of the same structure of ratios :math:`r \in [0, 1]` (scalars; use
            :func:`round_ratio` :math:`q` for hidden layers and :math:`q/2` for the last layer),
            or one scalar for every leaf.

    Returns:
        The new masks (booleans, same structure).

    Raises:
        ValueError: a ratio outside ``[0, 1]`` or NaN (under ``jit``: a :func:`jaxrg.checked`
            check); ``1.5`` would silently prune everything. A NaN or ``inf`` entry of
            ``params`` (concrete; under ``jit`` through :func:`jaxrg.checked`), naming its leaf.
    """
    if isinstance(ratios, int | float | np.number) or (
        isinstance(ratios, jax.Array | np.ndarray) and ratios.ndim == 0
    ):
        scalar = ratios
        ratios = jax.tree.map(lambda _: scalar, params)
    jax.tree.map(_check_ratio, ratios)
    jax.tree_util.tree_map_with_path(_check_finite_leaf, params)
    return jax.tree.map(_prune_leaf, params, masks, ratios)


def _check_finite_leaf(path, weight) -> None:
    """A parameter leaf without NaN/inf: on the host when concrete, else checkify."""
    name = ("params" + jax.tree_util.keystr(path)).replace("{", "{{").replace("}", "}}")
    if is_concrete(weight):
        w = np.asarray(weight)
        bad = int(np.sum(~np.isfinite(w))) if w.dtype.kind in "fc" else 0
        ok = bad == 0
    else:
        bad = jnp.sum(~jnp.isfinite(weight))
        ok = bad == 0
    value_check(
        ok,
        f"{name} holds {{bad}} NaN or inf entries, which have no magnitude to rank (argsort "
        "would keep a NaN as the largest); the training diverged: lower the learning rate, or "
        "check the data.",
        bad=bad,
    )


def _check_ratio(ratio) -> None:
    """A pruning ratio in ``[0, 1]`` (NaN refused): on the host when concrete, else checkify."""
    if is_concrete(ratio):
        r = np.asarray(ratio, dtype=float)
        ok = bool(np.all((r >= 0) & (r <= 1)))
    else:
        ok = jnp.all((ratio >= 0) & (ratio <= 1))
    value_check(
        ok,
        "ratios must lie in [0, 1] (the fraction of surviving entries removed); got {ratio}. "
        "Use round_ratio(sparsity, rounds) for the per-round ratio.",
        ratio=ratio,
    )


def merge(params_list, masks_list):
    r"""Compose subnetworks by summation: :math:`\theta = \sum_i \theta_i \odot m_i`.

    Entries kept by several masks are summed; the mask of the result is the union
    :math:`\bigvee_i m_i`.

    Args:
        params_list: a sequence of parameter pytrees (same structure), or one pytree whose leaves
            carry a leading module axis.
        masks_list: the matching boolean masks (sequence or stacked).

    Returns:
        ``(params, mask)``: the merged parameters and the union mask.

    Raises:
        ValueError: ``params_list`` and ``masks_list`` of different lengths (a module without
            its mask would be dropped), or stacked leaves with different module axes.
    """
    if isinstance(params_list, list | tuple) != isinstance(masks_list, list | tuple):
        raise ValueError(
            "params_list and masks_list must both be sequences or both be stacked pytrees; got "
            f"{type(params_list).__name__} and {type(masks_list).__name__}."
        )
    if isinstance(params_list, list | tuple):
        if len(params_list) != len(masks_list):
            raise ValueError(
                f"params_list has {len(params_list)} modules but masks_list has "
                f"{len(masks_list)} masks; pass one mask per module."
            )
        if not params_list:
            raise ValueError("params_list is empty; pass at least one module to merge.")
        params_list = jax.tree.map(lambda *xs: jnp.stack(xs), *params_list)
        masks_list = jax.tree.map(lambda *xs: jnp.stack(xs), *masks_list)
    else:
        sizes = {jnp.shape(x)[0] if jnp.ndim(x) else None
                 for x in jax.tree.leaves((params_list, masks_list))}
        if len(sizes) > 1:
            raise ValueError(
                "params_list and masks_list stacked leaves must share one leading module axis; "
                f"got sizes {sorted(sizes, key=str)}."
            )
    merged = jax.tree.map(
        lambda w, m: jnp.sum(jnp.where(m, w, jnp.zeros((), w.dtype)), axis=0),
        params_list, masks_list,
    )
    union = jax.tree.map(lambda m: jnp.any(m, axis=0), masks_list)
    return merged, union


def connectivity_path(params1, params2, t: Float[Array, ""], *, kind: str = "merge"):
    r"""A point :math:`\gamma(t)`, :math:`t \in [0, 1]`, on a path from ``params1`` to ``params2``.

    - ``kind="merge"`` (the paper's path through the merged model):
      :math:`\gamma(t) = \theta_1 + 2t\,\theta_2` for :math:`t \le \tfrac12`,
      :math:`2(1-t)\,\theta_1 + \theta_2` for :math:`t > \tfrac12`; :math:`\gamma(\tfrac12) =
      \theta_1 + \theta_2`.
    - ``kind="linear"``: :math:`\gamma(t) = (1-t)\,\theta_1 + t\,\theta_2`.

    Pass masked parameters :math:`\theta_i \odot m_i`. ``t`` may be traced (vmap over a grid);
    there a ``t`` outside :math:`[0, 1]` (or NaN) gives NaN parameters, not an extrapolation.

    Args:
        params1, params2: parameter pytrees of the same structure and leaf shapes.
        t: scalar path coordinate in :math:`[0, 1]`.
        kind: ``"merge"`` or ``"linear"``.

    Returns:
        A pytree like ``params1``, every leaf the same shape as the corresponding leaf (integer
        and boolean leaves promoted to the default float dtype, as in :mod:`jaxrg.merging`).

    Raises:
        ValueError: unknown ``kind``; ``t`` outside :math:`[0, 1]` or NaN (concrete; under
            ``jit`` through :func:`jaxrg.checked`).
    """
    params1, params2 = floating_leaves(params1), floating_leaves(params2)
    t = as_float_array(t, "t")
    inside = (t >= 0) & (t <= 1)
    value_check(
        jnp.all(inside),
        "t must lie in [0, 1] (the path runs from params1 at t = 0 to params2 at t = 1; "
        "beyond it would extrapolate); got t = {t}.",
        t=t,
    )
    t = jnp.where(inside, t, jnp.nan)
    if kind == "merge":
        a = jnp.where(t <= 0.5, 1.0, 2.0 * (1.0 - t))
        b = jnp.where(t <= 0.5, 2.0 * t, 1.0)
    elif kind == "linear":
        a, b = 1.0 - t, t
    else:
        raise ValueError(f"kind must be 'merge' or 'linear', got {kind!r}")
    return jax.tree.map(lambda x, y: (a.astype(x.dtype) * x + b.astype(y.dtype) * y),
                        params1, params2)


def loss_barrier(
    ts: Float[Array, " k"], losses: Float[Array, " k"], *, reference: str = "linear"
) -> Float[Array, ""]:
    r"""The loss barrier of a path sampled at ``ts`` (with ``ts[0] = 0``, ``ts[-1] = 1``).

    - ``reference="linear"``: :math:`\max_t \bigl[L(t) - ((1-t)L(0) + tL(1))\bigr]`, the excess
      over the linear interpolation of the end-point losses (the issue's definition);
    - ``reference="mean"``: :math:`\max_t L(t) - \tfrac12(L(0) + L(1))` (docs/design.md §8).

    Both are 0 for a constant path; the "linear" barrier is ≥ 0 since the end points are sampled.

    Args:
        ts: ``(k,)`` path coordinates, ``ts[0] = 0`` and ``ts[-1] = 1``.
        losses: ``(k,)`` losses :math:`L(t)` at ``ts``.
        reference: ``"linear"`` or ``"mean"``.

    Returns:
        Scalar barrier, in the dtype of ``losses``.

    Raises:
        ValueError: ``ts`` and ``losses`` not both of shape ``(k,)``, unknown ``reference``,
            or (concrete; under ``jit`` through :func:`jaxrg.checked`) ``ts`` not strictly
            increasing from 0 to 1 (the end points are ``losses[0]`` and ``losses[-1]``).
    """
    losses = as_float_array(losses, "losses")
    ts = as_float_array(ts, "ts")
    if ts.ndim != 1 or ts.shape != losses.shape or ts.shape[0] < 2:
        raise ValueError(
            f"ts and losses must both be (k,) with k >= 2; got {ts.shape} and {losses.shape}"
        )
    value_check(
        (ts[0] == 0) & (ts[-1] == 1) & jnp.all(jnp.diff(ts) > 0),
        "ts must increase strictly from ts[0] = 0 to ts[-1] = 1 (the path end points); got "
        "ts[0] = {first}, ts[-1] = {last}. Sort ts and losses together, e.g. "
        "order = np.argsort(ts).",
        first=ts[0],
        last=ts[-1],
    )
    ts = ts.astype(losses.dtype)  # the losses' precision (strict promotion: no implicit mix)
    if reference == "linear":
        return jnp.max(losses - ((1.0 - ts) * losses[0] + ts * losses[-1]))
    if reference == "mean":
        return jnp.max(losses) - 0.5 * (losses[0] + losses[-1])
    raise ValueError(f"reference must be 'linear' or 'mean', got {reference!r}")
