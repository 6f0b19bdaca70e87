r"""k-nearest-neighbour classification with stratified k-fold cross-validation, in JAX and numpy.

The protocol of Entropy-Lens (Ali et al. 2025, after their code): a k-NN classifier (uniform
votes, Euclidean distance, ``k = 29``) under 10-fold stratified cross-validation, scored by
accuracy, macro F1 and ROC-AUC (binary, or one-vs-rest macro average), against a *stratified
dummy* that draws each prediction from the training class frequencies; the fold AUCs of model and
dummy are compared with a paired t-test. No scikit-learn needed: distances and neighbour votes run
in JAX, folds and scores in numpy.

Example:
    >>> import numpy as np
    >>> from jaxrg.knn import cross_validate_knn
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(0, 1, (40, 2)), rng.normal(4, 1, (40, 2))])
    >>> y = np.repeat([0, 1], 40)
    >>> cv = cross_validate_knn(x, y, k=5, num_folds=5)
    >>> float(cv.summary()["accuracy"]) > 0.95, float(cv.summary()["dummy_roc_auc"]) < 0.7
    (True, True)
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betainc

from jaxrg._checks import as_float_array, check_int, is_concrete, value_check
from jaxrg._numerics import pairwise_sq_distances, power_of_two_scale

__all__ = [
    "CrossValidation",
    "Scores",
    "cross_validate_knn",
    "knn_predict_proba",
    "macro_f1",
    "multiclass_roc_auc",
    "paired_t_pvalue",
    "roc_auc",
    "stratified_folds",
]


def knn_predict_proba(train_x, train_y, test_x, *, k: int, num_classes: int) -> np.ndarray:
    """Class frequencies among the ``k`` nearest training points (Euclidean, uniform votes).

    Ties in distance go to the lower training index (``lax.top_k``).

    Args:
        train_x: ``(n, F)`` finite training features.
        train_y: ``(n,)`` integer labels in ``[0, num_classes)``.
        test_x: ``(m, F)`` finite query features.
        k: neighbours (``1 <= k <= n``).
        num_classes: number of classes (static).

    Returns:
        ``(m, num_classes)`` probabilities (multiples of ``1/k``).

    Raises:
        ValueError: shapes that do not match, ``k`` out of range, non-finite features, or a
            label outside ``[0, num_classes)`` (its vote would be lost).
        TypeError: ``k`` or ``num_classes`` not an integer, or labels that are not integers.
    """
    a, b = np.asarray(train_x, dtype=float), np.asarray(test_x, dtype=float)
    y = np.asarray(train_y)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or y.shape != (a.shape[0],):
        raise ValueError(
            "need train_x (n, F), train_y (n,), test_x (m, F); "
            f"got {a.shape}, {y.shape}, {b.shape}."
        )
    k = check_int(k, "k", meaning="neighbours")
    num_classes = check_int(num_classes, "num_classes", meaning="number of classes")
    if not k <= a.shape[0]:
        raise ValueError(f"k must be in [1, {a.shape[0]}] (training points); got {k}.")
    if y.dtype.kind not in "biu":
        raise TypeError(
            f"train_y must hold integer class labels 0..num_classes-1; got dtype {y.dtype}. "
            "Map them with np.unique(train_y, return_inverse=True)."
        )
    if y.size and not (y.min() >= 0 and y.max() < num_classes):
        raise ValueError(
            f"train_y holds labels in [{int(y.min())}, {int(y.max())}] but num_classes="
            f"{num_classes} allows only 0..{num_classes - 1}; pass num_classes={int(y.max()) + 1} "
            "or map the labels with np.unique(train_y, return_inverse=True)."
        )
    y = y.astype(int)
    for name, x in (("train_x", a), ("test_x", b)):
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} has NaN or inf entries; drop or impute those rows first.")
    return np.asarray(_knn_proba(jnp.asarray(a), jnp.asarray(y), jnp.asarray(b), k, num_classes))


@jax.jit(static_argnums=(3, 4))
def _knn_proba(a, y, b, k, num_classes):
    # The ranking of Euclidean distances is invariant to a common shift and a global scale, and
    # the Gram expansion below is not robust to either: points far from the origin cancel
    # catastrophically (|b|^2 + |a|^2 ~ 1e16 against differences ~ 1), and features near
    # 1e±160 over- or underflow (every distance 0 or inf: the first k training points won).
    # So: divide by a power of two (exact), centre on the training mean, divide again.
    first = power_of_two_scale(jnp.concatenate([a, b]))
    a, b = a / first, b / first
    centre = jnp.mean(a, axis=0, keepdims=True)
    a, b = a - centre, b - centre
    scale = power_of_two_scale(jnp.concatenate([a, b]))
    a, b = a / scale, b / scale
    # |b - a|^2 by direct differences: the Gram expansion's error is eps (|a|^2 + |b|^2), which
    # centring does not remove from two far-apart clusters (at ±500, spread 0.1: 73 of 100
    # float32 queries voted by wrong neighbours)
    d2 = pairwise_sq_distances(b, a, jnp.ones((), a.dtype))
    _, idx = jax.lax.top_k(-d2, k)
    votes = jax.nn.one_hot(y[idx], num_classes, dtype=a.dtype)  # (m, k, C)
    return jnp.mean(votes, axis=1)


def stratified_folds(
    labels, num_folds: int, *, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold split: each class spread over the folds as evenly as possible.

    Members of each class are shuffled (``seed``) and dealt round-robin, the dealing continuing
    across classes, so class counts per fold differ by at most one and fold sizes too.

    Returns:
        ``num_folds`` pairs ``(train_index, test_index)``.

    Raises:
        ValueError: ``num_folds`` < 2 or more folds than samples.
    """
    y = np.asarray(labels)
    if not 2 <= int(num_folds) <= y.size:
        raise ValueError(f"num_folds must be in [2, {y.size}] (samples); got {num_folds}.")
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)])
    fold = np.empty(y.size, dtype=int)
    fold[order] = np.arange(y.size) % int(num_folds)
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(int(num_folds))]


def _same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Two 1-D arrays of one length (one entry per example), else ValueError."""
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must be 1-D with one entry per example; got shapes "
            f"{a.shape} and {b.shape}."
        )


def roc_auc(labels, scores) -> float | jax.Array:
    """Binary ROC-AUC: :math:`P(s_+ > s_-) + \\tfrac12 P(s_+ = s_-)` (Mann–Whitney, mid-ranks).

    With mid-ranks :math:`r_i` of the scores (tied scores share the mean of their positions),
    :math:`\\mathrm{AUC} = (\\sum_{y_i = 1} r_i - n_+(n_+ + 1)/2) / (n_+ n_-)`. Runs under ``jit``
    (sort and ``searchsorted``, ``O(n log n)``).

    Args:
        labels: ``(n,)`` binary labels (bool, or numbers 0/1); both classes present.
        scores: ``(n,)`` real scores, higher meaning class 1 (``±inf`` rank as such).

    Returns:
        The AUC in ``[0, 1]``: a Python float for concrete input, a 0-d array under ``jit``
        (NaN there if a score is NaN, a label is not 0/1 or a class is absent).

    Raises:
        ValueError: shapes that differ, labels that are not binary, a single class (the AUC
            needs positives and negatives), or a NaN score (concrete input; under ``jit`` these
            value checks are ``jaxrg.checked`` checks and the result is NaN).
        TypeError: labels that are not numbers or booleans.
    """
    if not isinstance(labels, jax.Array) and np.asarray(labels).dtype.kind not in "biuf":
        raise TypeError(
            f"labels must be binary (bool or 0/1); got dtype {np.asarray(labels).dtype}. Pass "
            "labels == positive_class."
        )
    y = jnp.asarray(labels)
    s = as_float_array(scores, "scores")
    _same_length(y, s, "labels", "scores")
    binary = jnp.ones((), bool)
    if y.dtype != jnp.bool_:
        fix = "For several classes use multiclass_roc_auc, or pass labels == positive_class."
        binary = jnp.all((y == 0) | (y == 1))
        if is_concrete(binary) and not bool(binary):
            values = np.unique(np.asarray(y))[:5].tolist()
            raise ValueError(f"labels must be binary (bool or 0/1); got values {values}. {fix}")
        value_check(binary, f"labels must be binary (bool or 0/1). {fix}")
    y = y.astype(bool)
    value_check(
        jnp.any(y) & jnp.any(~y),
        "labels hold a single class: ROC-AUC needs both classes (positives and negatives); "
        "score a split that has both, or report accuracy instead.",
    )
    value_check(
        ~jnp.any(jnp.isnan(s)),
        "scores has NaN entries (not finite); a NaN cannot be ranked: drop those examples or "
        "fix the model that produced them.",
    )
    auc = jnp.where(binary, _auc(y, s), jnp.nan)  # under jit: NaN, never a plausible number
    return float(auc) if is_concrete(auc) else auc


def _auc(y: jax.Array, s: jax.Array) -> jax.Array:
    """The Mann–Whitney AUC of boolean ``y`` and scores ``s``; NaN for a NaN score or one class."""
    sorted_s = jnp.sort(s)
    # 1-based mid-rank of each score: positions left+1..right share their mean
    left = jnp.searchsorted(sorted_s, s, side="left")
    right = jnp.searchsorted(sorted_s, s, side="right")
    ranks = (left + right + 1).astype(s.dtype) / 2
    n_pos = jnp.sum(y).astype(s.dtype)
    n_neg = jnp.asarray(y.size, s.dtype) - n_pos
    # one class: 0 / 0 = NaN, as documented
    auc = (jnp.sum(jnp.where(y, ranks, 0)) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return jnp.where(jnp.any(jnp.isnan(s)), jnp.nan, auc)  # NaN in, NaN out


def multiclass_roc_auc(labels, proba) -> float:
    """ROC-AUC: binary (score of class 1) for two classes, else one-vs-rest macro average.

    Classes absent from ``labels`` are skipped.

    Args:
        labels: ``(n,)`` integer class labels in ``[0, C)``.
        proba: ``(n, C)`` finite class scores (e.g. :func:`knn_predict_proba`), ``C >= 2``.

    Returns:
        The AUC (Python float).

    Raises:
        ValueError: shapes that do not match, a label outside ``[0, C)`` (``proba`` has no
            column for it), non-finite ``proba``, or no class with both positives and
            negatives (a single class).
        TypeError: labels that are not integers.
    """
    y, p = np.asarray(labels), np.asarray(proba, dtype=float)
    if y.ndim != 1 or p.ndim != 2 or p.shape[0] != y.shape[0] or p.shape[1] < 2:
        raise ValueError(
            "need labels (n,) and proba (n, C) with one column per class, C >= 2; got shapes "
            f"{y.shape} and {p.shape}."
        )
    if y.dtype.kind not in "biu":
        raise TypeError(
            f"labels must be integer classes 0..C-1; got dtype {y.dtype}. Map them with "
            "np.unique(labels, return_inverse=True)."
        )
    if y.size and not (y.min() >= 0 and y.max() < p.shape[1]):
        fix = (
            "map the labels to 0..C-1 with np.unique(labels, return_inverse=True)."
            if y.min() < 0
            else f"pass proba of shape ({y.size}, {int(y.max()) + 1}), one column per class."
        )
        raise ValueError(
            f"labels hold classes in [{int(y.min())}, {int(y.max())}] but proba has "
            f"{p.shape[1]} columns (classes 0..{p.shape[1] - 1}); {fix}"
        )
    if not np.all(np.isfinite(p)):
        raise ValueError("proba has NaN or inf entries (not finite); scores must be finite.")
    auc = _ovr_auc(y, p)
    if np.isnan(auc):
        raise ValueError(
            "no class of labels has both positives and negatives (a single class, or none): "
            "ROC-AUC needs both classes; score a split that has both."
        )
    return auc


def _ovr_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Binary or one-vs-rest macro AUC of checked input; NaN if no class has both kinds."""
    if p.shape[1] == 2:
        return float(_auc(jnp.asarray(y == 1), jnp.asarray(p[:, 1])))
    aucs = [float(_auc(jnp.asarray(y == c), jnp.asarray(p[:, c]))) for c in range(p.shape[1])]
    aucs = [a for a in aucs if not np.isnan(a)]
    return float(np.mean(aucs)) if aucs else float("nan")


def macro_f1(labels, predictions) -> float:
    """Unweighted mean of per-class F1 = 2TP/(2TP + FP + FN) over the classes seen in either."""
    y, yhat = np.asarray(labels), np.asarray(predictions)
    _same_length(y, yhat, "labels", "predictions")
    scores = []
    for c in np.union1d(y, yhat):
        tp = np.sum((y == c) & (yhat == c))
        denom = 2 * tp + np.sum((y != c) & (yhat == c)) + np.sum((y == c) & (yhat != c))
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))


def paired_t_pvalue(a, b) -> float:
    """Two-sided p-value of the paired t-test of ``a`` against ``b`` (NaN pairs dropped).

    With differences :math:`d_i = a_i - b_i`, :math:`t = \\bar d / (s_d / \\sqrt n)` on
    :math:`n - 1` degrees of freedom. Zero variance of the differences (scipy returns NaN) is
    the limit of the test: identical non-zero differences are a certain effect, ``p = 0``;
    all-zero differences show none, ``p = 1``.

    Args:
        a: ``(n,)`` paired values (NaN marks a missing pair).
        b: ``(n,)`` their partners.

    Returns:
        The p-value in ``[0, 1]`` (Python float).

    Raises:
        ValueError: ``a`` and ``b`` not 1-D of one length, an infinite value, or fewer than 2
            pairs without NaN (no variance to estimate).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    _same_length(a, b, "a", "b")
    if np.isinf(a).any() or np.isinf(b).any():
        raise ValueError("a and b must be finite (NaN marks a missing pair); got inf.")
    ok = ~(np.isnan(a) | np.isnan(b))
    if ok.sum() < 2:
        raise ValueError(
            f"the paired t-test needs at least 2 pairs without NaN (a variance to estimate); "
            f"a and b have {int(ok.sum())}."
        )
    return _paired_t(a[ok] - b[ok])


def _paired_t(d: np.ndarray) -> float:
    """The p-value of differences ``d``; NaN for fewer than 2 (a cross-validation's lost folds)."""
    n = d.size
    if n < 2:
        return float("nan")
    sd = d.std(ddof=1)
    if sd == 0:
        return 0.0 if d.mean() != 0 else 1.0
    t = d.mean() / (sd / np.sqrt(n))
    df = n - 1.0
    # Student t tail through the regularised incomplete beta function
    return float(betainc(df / 2, 0.5, df / (df + t * t)))


class Scores(NamedTuple):
    """Per-fold scores, each ``(num_folds,)``."""

    accuracy: np.ndarray
    f1: np.ndarray
    roc_auc: np.ndarray


class CrossValidation(NamedTuple):
    """Cross-validated k-NN against the stratified dummy.

    Attributes:
        model: :class:`Scores` of the k-NN classifier.
        dummy: :class:`Scores` of the stratified dummy.
        p_value: paired t-test of the fold AUCs, model vs dummy.
    """

    model: Scores
    dummy: Scores
    p_value: float

    def summary(self) -> dict[str, float]:
        """Means over folds (NaN folds skipped) and the p-value, as a flat dict."""
        out = {}
        for prefix, scores in (("", self.model), ("dummy_", self.dummy)):
            for name, values in scores._asdict().items():
                out[prefix + name] = float(np.nanmean(values))
                out[prefix + name + "_std"] = float(np.nanstd(values))
        out["p_value"] = self.p_value
        return out


def cross_validate_knn(
    features, labels, *, k: int = 29, num_folds: int = 10, seed: int = 0, standardize: bool = False
) -> CrossValidation:
    """k-NN (uniform votes, Euclidean) under stratified k-fold cross-validation vs a dummy.

    Args:
        features: ``(N, F)``.
        labels: ``(N,)`` class labels (any hashable values; mapped to ``0..C-1``).
        k: neighbours (the authors' 29; capped at the training-fold size).
        num_folds: folds (the authors' 10).
        seed: seed of the fold assignment and of the dummy's draws.
        standardize: z-score the features with the training fold's mean and std first.

    Returns:
        :class:`CrossValidation`.

    Raises:
        ValueError: shapes, fewer than two classes, bad ``num_folds``.
    """
    x = np.asarray(features, dtype=float)
    classes, y = np.unique(np.asarray(labels), return_inverse=True)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(
            f"features must be (N, F) and labels (N,); got {x.shape} and {np.shape(labels)}."
        )
    if classes.size < 2:
        raise ValueError("labels must contain at least two classes.")
    if not np.all(np.isfinite(x)):
        raise ValueError("features contain NaN or inf.")
    c = classes.size
    rng = np.random.default_rng(seed)
    rows = {"model": [], "dummy": []}
    for train, test in stratified_folds(y, num_folds, seed=seed):
        xtr, xte = x[train], x[test]
        if standardize:
            # z-scores are invariant to a per-column scale: divide each column by a power of
            # two first (exact), so that its mean and std neither overflow nor underflow
            column = 2.0 ** np.frexp(np.max(np.abs(xtr), axis=0, initial=0.0))[1]
            xtr, xte = xtr / column, xte / column
            mu, sd = xtr.mean(0), xtr.std(0)
            sd = np.where(sd > 0, sd, 1.0)
            xtr, xte = (xtr - mu) / sd, (xte - mu) / sd
        proba = knn_predict_proba(xtr, y[train], xte, k=min(k, train.size), num_classes=c)
        prior = np.bincount(y[train], minlength=c) / train.size
        draws = rng.choice(c, size=test.size, p=prior)
        dummy = np.eye(c)[draws]
        for name, p in (("model", proba), ("dummy", dummy)):
            pred = np.argmax(p, axis=1)
            rows[name].append(
                (np.mean(pred == y[test]), macro_f1(y[test], pred), _ovr_auc(y[test], p))
            )
    model, dummy = (
        Scores(*map(np.asarray, zip(*rows[n], strict=True))) for n in ("model", "dummy")
    )
    ok = ~(np.isnan(model.roc_auc) | np.isnan(dummy.roc_auc))  # folds lacking a class
    return CrossValidation(model, dummy, _paired_t(model.roc_auc[ok] - dummy.roc_auc[ok]))
