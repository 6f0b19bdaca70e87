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

from jaxrg._checks import as_float_array, check_int, host_array, is_concrete, value_check
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

    Ties in distance go to the lower training index (``lax.top_k``). Distances are sums of
    squared coordinate differences :math:`\\sum_f (q_f - x_f)^2` of the features divided by
    one power of two (exact), so two distances that are equal in the input (integer features,
    say) are equal in the computation and the tie rule holds. The features are rescaled on the
    host in float64 before the cast to JAX's float (float32 unless ``jax_enable_x64``), so
    k-NN's invariance to a global scale holds for float64 features beyond float32's range
    (1e-42 or 1e200).

    Args:
        train_x: ``(n, F)`` finite training features.
        train_y: ``(n,)`` integer labels in ``[0, num_classes)``.
        test_x: ``(m, F)`` finite query features.
        k: neighbours (``1 <= k <= n``).
        num_classes: number of classes (static).

    Returns:
        ``(m, num_classes)`` probabilities (multiples of ``1/k``).

    Raises:
        ValueError: shapes that do not match, ``k`` out of range, non-finite features, a
            label outside ``[0, num_classes)`` (its vote would be lost), or features whose
            magnitudes span more than JAX's float holds (a non-zero value that would become 0
            even after the rescaling: ``1e-40`` next to ``1`` in float32).
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
    a, b = _scaled_features({"train_x": a, "test_x": b})
    return np.asarray(_knn_proba(jnp.asarray(a), jnp.asarray(y), jnp.asarray(b), k, num_classes))


def _scaled_features(named: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Finite float64 host features divided by one power of two, so that JAX's float holds them.

    The ranking of Euclidean distances is invariant to a global scale, and dividing by
    :math:`2^e` (``max |x| / 2^e`` in ``[1/2, 1)``) is exact: done here in float64, *before* the
    cast to JAX's float, features of 1e-42 or 1e200 keep their values (cast first, float32 made
    them 0 or inf: every distance equal, and the first ``k`` training points won). A non-zero
    value that the cast would still make 0 or subnormal (XLA flushes those to 0) means the
    magnitudes span more than JAX's float holds: refused, as :func:`_checks.refuse_lossy_cast`
    refuses such casts elsewhere.

    Raises:
        ValueError: a non-zero feature below JAX float's smallest normal number once rescaled.
    """
    top = max(float(np.max(np.abs(x), initial=0.0)) for x in named.values())
    exponent = int(np.frexp(top)[1]) if top > 0 else 0
    target = np.dtype(jax.dtypes.canonicalize_dtype(float))
    tiny = float(np.finfo(target).tiny)
    out = []
    for name, x in named.items():
        x = np.ldexp(x, -exponent)  # exact: x / 2^e, no overflow of 2^e itself
        lost = (x != 0) & (np.abs(x) < tiny)
        if lost.any():
            small = float(np.abs(named[name][lost]).min())
            raise ValueError(
                f"{name} holds {small:.3g} next to features of {top:.3g}: a range of magnitudes "
                f"wider than {target.name} (k-NN's float) holds, even rescaled by a power of "
                f"two; the cast would make the small values 0 (their distances lost). Round such "
                f"values to 0 or drop them, or compute in float64 "
                f"(jax.config.update('jax_enable_x64', True) before any JAX call)."
            )
        out.append(x)
    return out


@jax.jit(static_argnums=(3, 4))
def _knn_proba(a, y, b, k, num_classes):
    # |b - a|^2 by direct differences of the features divided by one power of two: exact, so
    # equal distances in the input stay equal (the tie rule), and squares neither over- nor
    # underflow for device features near 1e±30 in float32 (knn_predict_proba's host features
    # come already rescaled: then s = 1). No centring: the Gram expansion's error
    # eps (|a|^2 + |b|^2) needed it, direct differences do not (a difference of close points is
    # exact), and subtracting a rounded mean made equal distances differ ([[0], [2], [4.1]]
    # queried at 1: index 1 won the tie)
    scale = power_of_two_scale(jnp.concatenate([a, b]))
    a, b = a / scale, b / scale  # first: a difference of features near ±3e38 overflows
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
        TypeError: ``num_folds`` not an integer (``2.5`` is refused, not truncated).
    """
    y = np.asarray(labels)
    num_folds = check_int(num_folds, "num_folds", minimum=2, meaning="folds")
    if not num_folds <= y.size:
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
    (sort and ``searchsorted``, ``O(n log n)``). Host scores (NumPy arrays, lists) with concrete
    labels are ranked on the host in float64, never cast to JAX's float: float32 would merge
    scores that differ below its resolution (``1e8 + [1, 2, 3, 4]``).

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
    s = _host_scores(scores) if is_concrete(y) else None
    xp = jnp if s is None else np  # host scores are ranked on the host, in float64
    s = as_float_array(scores, "scores") if s is None else s
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
        ~xp.any(xp.isnan(s)),
        "scores has NaN entries (not finite); a NaN cannot be ranked: drop those examples or "
        "fix the model that produced them.",
    )
    if xp is np:
        return float(_auc(np.asarray(y), s, np))
    auc = jnp.where(binary, _auc(y, s), jnp.nan)  # under jit: NaN, never a plausible number
    return float(auc) if is_concrete(auc) else auc


def _host_scores(scores) -> np.ndarray | None:
    """Host (NumPy, list) real scores as float64, to be ranked on the host; else None.

    Ranking needs no cast to JAX's float, whose float32 would merge scores that float64 tells
    apart (``1e8 + [1, 2, 3, 4]`` all became 1e8: AUC 0.5 for 1.0). JAX arrays, and input that
    is not real numbers (left to :func:`as_float_array`'s errors), give None.
    """
    if isinstance(scores, jax.Array):
        return None
    try:
        s = np.asarray(host_array(scores, "scores"))
    except ValueError:  # ragged: as_float_array says so
        return None
    return s.astype(np.float64) if s.dtype.kind in "biuf" else None


def _auc(y, s, xp=jnp):
    """The Mann–Whitney AUC of boolean ``y`` and scores ``s``; NaN for a NaN score or one class.

    ``xp`` is ``jnp`` (traceable) or ``np`` (host arrays, ranked in their own float64).
    """
    sorted_s = xp.sort(s)
    # 1-based mid-rank of each score: positions left+1..right share their mean
    left = xp.searchsorted(sorted_s, s, side="left")
    right = xp.searchsorted(sorted_s, s, side="right")
    ranks = (left + right + 1).astype(s.dtype) / 2
    n_pos = xp.sum(y).astype(s.dtype)
    n_neg = xp.asarray(y.size, s.dtype) - n_pos
    # one class: 0 / 0 = NaN, as documented
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (xp.sum(xp.where(y, ranks, 0)) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return xp.where(xp.any(xp.isnan(s)), xp.nan, auc)  # NaN in, NaN out


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
        return float(_auc(y == 1, p[:, 1], np))
    aucs = [float(_auc(y == c, p[:, c], np)) for c in range(p.shape[1])]
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
        ValueError: shapes, fewer than two classes, bad ``num_folds``, or features whose
            magnitudes span more than JAX's float holds (:func:`knn_predict_proba`).
        TypeError: ``num_folds`` not an integer.
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
    if not standardize:  # each fold's features are a subset: refused here, named as given
        _scaled_features({"features": x})
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
