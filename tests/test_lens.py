"""Tests of jaxrg.lens (entropy profiles, features) and jaxrg.knn (k-NN, folds, scores)."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats
from flax import nnx
from tolerances import tol

import jaxrg
from jaxrg import knn
from jaxrg.lens import (
    analyse_profiles,
    depth_normalise,
    entropy_profile,
    logit_profiles,
    profile_features,
    window_average,
)
from jaxrg.studies.entropy_lens.transformer import Transformer, TransformerConfig


def _ref_renyi(logits, alpha):
    p = scipy.special.softmax(np.asarray(logits, np.float64), axis=-1)
    if alpha == 1:
        return scipy.stats.entropy(p, axis=-1)
    return np.log(np.sum(p**alpha, axis=-1)) / (1 - alpha)


@pytest.fixture(scope="module")
def lens_inputs():
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(3, 4, 6))  # (L, T, d)
    w = rng.normal(size=(6, 50))
    b = rng.normal(size=(50,))
    return hidden, w, b


# ----------------------------------------------------------------------------- profiles


@pytest.mark.parametrize("chunk_size", [None, 7, 16, 50])
def test_streamed_profile_matches_the_full_logits(lens_inputs, chunk_size):
    hidden, w, b = lens_inputs
    norm = lambda h: h / jnp.linalg.norm(h, axis=-1, keepdims=True)  # noqa: E731
    alphas = np.array([0.5, 1.0, 5.0])
    prof = entropy_profile(hidden, w, jnp.asarray(alphas), norm=norm, bias=b, chunk_size=chunk_size)
    logits = np.asarray(norm(hidden)) @ w + b
    ref = np.stack([_ref_renyi(logits, a) for a in alphas])
    assert prof.shape == (3, 3, 4)
    np.testing.assert_allclose(prof, ref, **tol(np.float64))


def test_callable_unembedding_gives_the_same_profile(lens_inputs):
    hidden, w, b = lens_inputs
    alphas = jnp.asarray([0.5, 1.0])
    direct = entropy_profile(hidden, w, alphas, bias=b, chunk_size=9)
    via_fn = entropy_profile(
        hidden, lambda h: h @ w + b.reshape((1,) * (h.ndim - 1) + (-1,)), alphas
    )
    np.testing.assert_allclose(via_fn, direct, **tol(np.float64))
    assert entropy_profile(hidden[0, 0], w).shape == ()


def test_last_layer_lens_is_the_entropy_of_the_model_output():
    cfg = TransformerConfig(vocab_size=13, max_len=6, num_layers=2, d_model=8, num_heads=2)
    model = Transformer(cfg, rngs=nnx.Rngs(1))
    tokens = jnp.array([[1, 2, 3, 4, 5, 6]]) % 13

    @nnx.jit
    def lens_and_output(m, t):
        hidden = m.hidden_states(t)[:, 0]  # (L, T, d)
        prof = entropy_profile(hidden, m.unembedding, 1.0, norm=m.final_norm, chunk_size=5)
        return prof, m(t)[0]

    prof, logits = lens_and_output(model, tokens)
    ref = _ref_renyi(np.asarray(logits, np.float64), 1.0)
    np.testing.assert_allclose(prof[-1], ref, **tol(np.float32))


def test_bfloat16_hidden_states_give_float32_profiles(lens_inputs):
    hidden, w, _ = lens_inputs
    prof = entropy_profile(
        jnp.asarray(hidden, jnp.bfloat16), jnp.asarray(w, jnp.bfloat16), 1.0, chunk_size=16
    )
    assert prof.dtype == jnp.float32
    ref = _ref_renyi(
        np.asarray(jnp.asarray(hidden, jnp.bfloat16) @ jnp.asarray(w, jnp.bfloat16), np.float64),
        1.0,
    )
    np.testing.assert_allclose(prof, ref, rtol=1e-5, atol=1e-5)  # float32 reduction of bf16 logits


def test_profile_rejects_mismatched_shapes_and_nan(lens_inputs):
    hidden, w, _ = lens_inputs
    with pytest.raises(ValueError, match="unembedding must be a"):
        entropy_profile(hidden, w.T)
    with pytest.raises(ValueError, match="bias must have shape"):
        entropy_profile(hidden, w, bias=np.zeros(3))
    with pytest.raises(ValueError, match="hidden_states contains NaN"):
        entropy_profile(np.full((2, 6), np.nan), w)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        entropy_profile(hidden, w, -1.0)


def test_profile_names_a_nan_unembedding_or_bias_not_the_logits(lens_inputs):
    hidden, w, _ = lens_inputs
    bad_w = np.array(w, dtype=float)
    bad_w[0, 0] = np.nan
    with pytest.raises(ValueError, match="^unembedding contains NaN or inf"):
        entropy_profile(hidden, bad_w)
    bad_b = np.zeros(np.shape(w)[1])
    bad_b[1] = np.nan
    with pytest.raises(ValueError, match="^bias contains NaN or \\+inf"):
        entropy_profile(hidden, w, bias=bad_b)
    # under jit a NaN weight gives NaN out
    out = jax.jit(lambda u: entropy_profile(jnp.asarray(hidden), u))(jnp.asarray(bad_w))
    assert np.isnan(np.asarray(out)).any()
    # a -inf bias entry is probability 0: the same as dropping that column (scipy reference)
    ninf = np.zeros(np.shape(w)[1])
    ninf[0] = -np.inf
    logits = np.asarray(hidden, float) @ np.asarray(w, float)[:, 1:]
    np.testing.assert_allclose(entropy_profile(hidden, w, bias=ninf),
                               scipy.stats.entropy(scipy.special.softmax(logits, axis=-1),
                                                   axis=-1), rtol=1e-10)


# ----------------------------------------------------------------------------- features


def test_window_average_matches_manual_means():
    p = np.arange(2 * 3 * 6, dtype=float).reshape(2, 3, 6)
    np.testing.assert_allclose(window_average(p, 3), (p[..., ::2] + p[..., 1::2]) / 2)
    np.testing.assert_allclose(window_average(p, 1)[..., 0], p.mean(-1))
    uneven = window_average(p[..., :5], 2)  # windows of 3 and 2 tokens
    np.testing.assert_allclose(uneven[..., 1], p[..., 3:5].mean(-1))
    with pytest.raises(ValueError, match="num_windows"):
        window_average(p, 7)


@pytest.mark.parametrize("num_layers", [2, 3, 7])
def test_depth_normalisation_preserves_profiles_linear_in_depth(num_layers):
    depth = np.linspace(0, 1, num_layers)
    prof = np.stack([2.0 + 3.0 * depth, 1.0 - depth])[:, :, None]  # (2, L, 1)
    out = depth_normalise(prof, 5)
    grid = np.linspace(0, 1, 5)
    np.testing.assert_allclose(out[:, :, 0], np.stack([2.0 + 3.0 * grid, 1.0 - grid]), rtol=1e-14)
    np.testing.assert_allclose(depth_normalise(prof, num_layers), prof, rtol=1e-14)


def test_profile_features_select_thirds_and_differences():
    prof = np.arange(4 * 9 * 2, dtype=float).reshape(4, 9, 2)  # 4 samples, 9 layers, 2 tokens
    last = profile_features(prof, depth_range=(2 / 3, 1.0))
    np.testing.assert_allclose(last, prof[:, 6:, :].mean(-1))  # layers 7, 8, 9
    diff = profile_features(prof, differences=True)
    np.testing.assert_allclose(diff, np.diff(prof.mean(-1), axis=1))
    with pytest.raises(ValueError, match="selects none"):
        profile_features(prof[:, :2], depth_range=(0.4, 0.6))


# ----------------------------------------------------------------------------- k-NN


def _brute_knn(xtr, ytr, xte, k, c):
    out = np.zeros((len(xte), c))
    for i, q in enumerate(xte):
        d = np.linalg.norm(xtr - q, axis=1)
        nn = np.argsort(d, kind="stable")[:k]
        out[i] = np.bincount(ytr[nn], minlength=c) / k
    return out


@pytest.mark.parametrize("k", [1, 5, 29])
def test_knn_proba_matches_a_brute_force_loop(k):
    rng = np.random.default_rng(1)
    xtr, xte = rng.normal(size=(60, 4)), rng.normal(size=(25, 4))
    ytr = rng.integers(0, 3, 60)
    np.testing.assert_allclose(
        knn.knn_predict_proba(xtr, ytr, xte, k=k, num_classes=3),
        _brute_knn(xtr, ytr, xte, k, 3),
        rtol=1e-14,
    )


@pytest.mark.parametrize("dtype, shift, scale", [
    (np.float64, 1e8, 1.0), (np.float64, 0.0, 1e-300), (np.float64, 0.0, 1e300),
    (np.float32, 1e3, 1.0), (np.float32, 1e4, 1.0), (np.float32, 0.0, 1e-30),
    (np.float32, 0.0, 1e30),
])
def test_knn_is_invariant_to_a_shift_and_a_scale_of_the_features(dtype, shift, scale):
    """Euclidean k-NN of c x + s is that of x. The Gram expansion |b|^2 + |a|^2 - 2 b.a cancelled
    catastrophically far from the origin (float32 at an offset of 1e3: 52 % of the votes of
    200 points differed) and over- or underflowed near 1e±160 (every distance 0 or inf)."""
    rng = np.random.default_rng(7)
    xtr, xte = rng.normal(size=(150, 5)), rng.normal(size=(50, 5))
    ytr = rng.integers(0, 3, 150)
    moved = [jnp.asarray(x * scale + shift, dtype) for x in (xtr, xte)]  # float32 under x64 too
    got = knn._knn_proba(moved[0], jnp.asarray(ytr), moved[1], 5, 3)
    # the reference: brute force (direct differences) in float64 on the very same rounded
    # points, brought back to unit scale so that numpy's norm neither overflows nor underflows
    back = [np.asarray(m, np.float64) / scale for m in moved]
    expected = _brute_knn(back[0], ytr, back[1], 5, 3)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6)


def test_float32_knn_of_two_far_apart_clusters_matches_direct_differences():
    """Centring removes a common offset, not the spread between clusters: at ±500 with a
    spread of 0.1 the Gram expansion's error (eps |x|^2 ~ 0.03) swamped the within-cluster
    distances, and 73 of 100 float32 queries voted by the wrong neighbours. Reference: brute
    force in float64 on the same float32 points."""
    rng = np.random.default_rng(0)

    def clusters(n):
        return np.concatenate([rng.normal(size=(n, 3)) * 0.1 + 500,
                               rng.normal(size=(n, 3)) * 0.1 - 500]).astype(np.float32)

    xtr, ytr, xte = clusters(100), rng.integers(0, 2, 200), clusters(50)
    with jax.enable_x64(False):
        got = np.asarray(knn.knn_predict_proba(xtr, ytr, xte, k=5, num_classes=2))
    expected = _brute_knn(xtr.astype(np.float64), ytr, xte.astype(np.float64), 5, 2)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("standardize", [False, True])
def test_cross_validation_scores_do_not_change_with_the_features_scale(standardize):
    """z-scoring took the std of features near 1e300 as inf (every feature became 0)."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(60, 4)) * [1.0, 10.0, 0.1, 1.0]
    y = (x[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(int)
    expected = knn.cross_validate_knn(x, y, k=5, standardize=standardize).model
    for scale in (2.0**-1000, 2.0**1000):
        got = knn.cross_validate_knn(x * scale, y, k=5, standardize=standardize).model
        for field, want in zip(got, expected, strict=True):
            np.testing.assert_array_equal(field, want)


def test_stratified_folds_partition_and_balance_classes():
    y = np.repeat([0, 1, 2], [23, 10, 7])
    folds = knn.stratified_folds(y, 5, seed=3)
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(y.size))
    for train, test in folds:
        assert set(train).isdisjoint(test) and len(train) + len(test) == y.size
    counts = np.array([[np.sum(y[te] == c) for c in range(3)] for _, te in folds])
    assert np.all(counts.max(0) - counts.min(0) <= 1)
    sizes = [len(te) for _, te in folds]
    assert max(sizes) - min(sizes) <= 1


def test_roc_auc_equals_the_pairwise_count_with_ties():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 40).astype(bool)
    s = rng.integers(0, 5, 40).astype(float)  # many ties
    pairs = [(1.0 if a > b else 0.5 if a == b else 0.0) for a, b in itertools.product(s[y], s[~y])]
    assert knn.roc_auc(y, s) == pytest.approx(np.mean(pairs), rel=1e-14)
    # under jit too (sort and searchsorted), as a 0-d array
    assert float(jax.jit(knn.roc_auc)(y, s)) == pytest.approx(np.mean(pairs), rel=1e-14)
    # 0/1 integer labels and integer scores are the same input
    assert knn.roc_auc(y.astype(int), s.astype(int)) == pytest.approx(np.mean(pairs), rel=1e-14)


def test_roc_auc_of_a_single_class_is_an_error_not_nan():
    for labels in (np.ones(5, int), np.zeros(5, bool)):
        with pytest.raises(ValueError, match="labels hold a single class.*both classes"):
            knn.roc_auc(labels, [0.1, 0.4, 0.35, 0.8, 0.4])
        assert np.isnan(jax.jit(knn.roc_auc)(labels, np.array([0.1, 0.4, 0.35, 0.8, 0.4])))


def test_roc_auc_of_a_nan_score_is_an_error_and_nan_under_jit():
    y = np.array([0, 0, 1, 1, 1])
    s = np.array([0.1, 0.4, np.nan, 0.8, 0.4])  # was 0.9167: the NaN ranked as the largest
    with pytest.raises(ValueError, match="scores has NaN"):
        knn.roc_auc(y, s)
    assert np.isnan(jax.jit(knn.roc_auc)(y, s))
    # a label that is not 0/1 under jit: NaN too, not the AUC of labels != 0
    assert np.isnan(jax.jit(knn.roc_auc)(np.array([0, 2, 1, 1, 1]), np.nan_to_num(s)))
    with pytest.raises(ValueError, match="scores has NaN"):
        jaxrg.checked(jax.jit(knn.roc_auc))(y, s)
    # infinite scores are ranked, not refused: +inf beats every negative, as 1e9 would
    s_inf = np.array([0.1, 0.4, np.inf, 0.8, 0.4])
    assert knn.roc_auc(y, s_inf) == knn.roc_auc(y, np.where(np.isinf(s_inf), 1e9, s_inf))


def test_multiclass_auc_is_the_one_vs_rest_mean():
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1, 2], 10)
    p = rng.dirichlet(np.ones(3), size=30)
    ref = np.mean([knn.roc_auc(y == c, p[:, c]) for c in range(3)])
    assert knn.multiclass_roc_auc(y, p) == pytest.approx(ref)
    assert knn.multiclass_roc_auc(y[:20] % 2, p[:20, :2]) == pytest.approx(
        knn.roc_auc(y[:20] % 2 == 1, p[:20, 1])
    )


def test_multiclass_auc_refuses_labels_without_a_proba_column():
    y = np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match=r"proba has 2 columns.*shape \(6, 3\)"):
        knn.multiclass_roc_auc(y, np.full((6, 2), 0.5))  # was 0.5: class 2 ignored
    with pytest.raises(ValueError, match="labels hold classes in \\[-1, 1\\].*np.unique"):
        knn.multiclass_roc_auc(y - 1, np.full((6, 3), 0.5))
    with pytest.raises(ValueError, match="need labels \\(n,\\) and proba \\(n, C\\)"):
        knn.multiclass_roc_auc(y, np.full((5, 3), 0.5))
    with pytest.raises(ValueError, match="proba has NaN"):
        knn.multiclass_roc_auc(y, np.where(np.eye(6, 3) > 0, np.nan, 0.5))
    with pytest.raises(ValueError, match="no class of labels has both"):
        knn.multiclass_roc_auc(np.zeros(6, int), np.full((6, 3), 0.5))


def test_knn_proba_refuses_labels_outside_num_classes():
    x = np.eye(3)
    with pytest.raises(ValueError, match="num_classes=1 allows only 0..0; pass num_classes=2"):
        knn.knn_predict_proba(x, np.array([0, 1, 1]), x[:1], k=2, num_classes=1)  # was [[0.5]]
    with pytest.raises(ValueError, match="train_y holds labels in \\[-1, 1\\]"):
        knn.knn_predict_proba(x, np.array([-1, 1, 1]), x[:1], k=2, num_classes=2)
    with pytest.raises(TypeError, match="train_y must hold integer class labels"):
        knn.knn_predict_proba(x, np.array([0.0, 1.5, 1.0]), x[:1], k=2, num_classes=2)
    with pytest.raises(TypeError, match="k must be an int >= 1"):
        knn.knn_predict_proba(x, np.array([0, 1, 1]), x[:1], k=2.5, num_classes=2)
    with pytest.raises(ValueError, match="test_x has NaN"):
        knn.knn_predict_proba(x, np.array([0, 1, 1]), np.full((1, 3), np.nan), k=2, num_classes=2)
    with pytest.raises(ValueError, match="train_x has NaN"):  # probe 4: was [[0.5, 0.5]]
        knn.knn_predict_proba(np.array([[0.0], [np.nan], [2.0], [3.0]]), np.array([0, 0, 1, 1]),
                              np.array([[0.5]]), k=2, num_classes=2)
    # votes sum to one once every label has a column (NumPy integers are counts too)
    p = knn.knn_predict_proba(x, np.array([0, 1, 1]), x[:1], k=np.int64(3), num_classes=2)
    np.testing.assert_allclose(p, [[1 / 3, 2 / 3]], rtol=1e-15)


def test_paired_t_test_needs_two_pairs_of_one_length():
    with pytest.raises(ValueError, match="a and b must be 1-D.*\\(2,\\) and \\(3,\\)"):
        knn.paired_t_pvalue([1.0, 2.0], [1.0, 2.0, 3.0])
    for a, b in (([1.0], [2.0]), ([1.0, np.nan], [2.0, 3.0])):
        with pytest.raises(ValueError, match="at least 2 pairs without NaN"):
            knn.paired_t_pvalue(a, b)  # was NaN
    with pytest.raises(ValueError, match="must be finite"):
        knn.paired_t_pvalue([1.0, np.inf, 2.0], [0.0, 1.0, 1.0])


def test_paired_t_test_drops_a_pair_with_nan_as_documented_like_scipy_omit():
    # documented contract (issue 17 round 3): NaN marks a missing pair; scipy's 'omit' agrees
    a, b = [1.0, 2.0, np.nan, 5.0], [1.0, 3.0, 4.0, 4.5]
    want = scipy.stats.ttest_rel(a, b, nan_policy="omit").pvalue
    assert knn.paired_t_pvalue(a, b) == pytest.approx(want, rel=1e-12)
    # two pairs left, d = (0, -1): t = -1 on 1 degree of freedom, p = 1/2 exactly
    assert knn.paired_t_pvalue([1.0, 2.0, np.nan], [1.0, 3.0, 4.0]) == pytest.approx(0.5)


def test_paired_t_test_of_zero_variance_is_the_limit_of_scipy():
    # scipy gives NaN at zero variance; the documented answer is the limit of vanishing noise
    noise = np.array([-1.0, 1.0, -2.0, 2.0])  # mean 0: the t statistic is 0 at any scale
    b = np.array([0.25, 0.5, 0.75, 1.0])  # dyadic: the differences are exactly 0.125
    assert knn.paired_t_pvalue(b + 0.125, b) == 0.0
    assert scipy.stats.ttest_rel(b + 0.125 + 1e-9 * noise, b).pvalue < 1e-6
    assert knn.paired_t_pvalue(b, b) == 1.0
    assert scipy.stats.ttest_rel(b + 1e-9 * noise, b).pvalue == pytest.approx(1.0, abs=1e-6)


def test_macro_f1_and_paired_t_test_match_hand_and_scipy():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    yhat = np.array([0, 1, 1, 1, 2, 0, 2])
    # per class F1 = 2TP / (2TP + FP + FN): class 0: 2/(2+1+1), class 1: 4/(4+1), class 2: 4/(4+1)
    assert knn.macro_f1(y, yhat) == pytest.approx((0.5 + 0.8 + 0.8) / 3)
    a, b = np.array([0.9, 0.8, 0.85, 0.95, 0.7]), np.array([0.5, 0.55, 0.4, 0.6, 0.52])
    assert knn.paired_t_pvalue(a, b) == pytest.approx(scipy.stats.ttest_rel(a, b).pvalue, rel=1e-8)


def test_cross_validation_separates_clusters_and_not_noise():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(c, 0.3, (30, 3)) for c in (0.0, 3.0, 6.0)])
    y = np.repeat(["a", "b", "c"], 30)
    cv = knn.cross_validate_knn(x, y, k=5, num_folds=5, seed=1).summary()
    assert cv["accuracy"] == 1.0 and cv["roc_auc"] == 1.0 and cv["dummy_roc_auc"] < 0.75
    noise = knn.cross_validate_knn(rng.normal(size=(90, 3)), y, k=9, num_folds=5).summary()
    assert 0.3 < noise["roc_auc"] < 0.7
    with pytest.raises(ValueError, match="at least two classes"):
        knn.cross_validate_knn(x, np.zeros(90), k=5)
    with pytest.raises(ValueError, match="k must be in"):
        knn.knn_predict_proba(x[:3], [0, 1, 0], x[:2], k=4, num_classes=2)
    # a fold without a class has no AUC: skipped in the means, and in the paired test
    one = knn.cross_validate_knn(x[:31], np.r_[np.zeros(30, int), 1], k=3, num_folds=5)
    assert np.isnan(one.model.roc_auc).sum() == 4


def test_knn_runs_under_vmap_free_jit_on_float32_features():
    x = np.random.default_rng(5).normal(size=(20, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    p = knn.knn_predict_proba(x, y, x, k=1, num_classes=2)
    np.testing.assert_array_equal(np.argmax(p, 1), y)  # every point is its own neighbour
    assert jax.numpy.asarray(p).shape == (20, 2)


def test_float32_knn_of_float64_features_beyond_float32s_range_keeps_its_answer():
    """k-NN is scale invariant, but float64 features went to float32 (x64 off) before the
    rescaling: at 1e-40 they were flushed to 0, at 1e39 they became inf, every distance was equal
    and the first k training points won ([[1, 0], [1, 0]] for [[0, 1], [1, 0]]); cross-validation
    of two separated clusters scored accuracy 0.5. Reference: the answer at unit scale, and
    brute force in float64."""
    x, y = np.array([[0.0], [1.0], [10.0], [11.0]]), np.array([0, 0, 1, 1])
    q = np.array([[10.4], [0.3]])
    rng = np.random.default_rng(11)
    xtr, xte, ytr = rng.normal(size=(80, 3)), rng.normal(size=(30, 3)), rng.integers(0, 3, 80)
    cx = np.concatenate([rng.normal(0, 1, (20, 2)), rng.normal(8, 1, (20, 2))])
    cy = np.repeat([0, 1], 20)
    with jax.enable_x64(False):
        for s in (1.0, 1e-40, 1e-45, 1e-300, 1e39, 1e300):
            got = knn.knn_predict_proba(x * s, y, q * s, k=2, num_classes=2)
            np.testing.assert_array_equal(got, _brute_knn(x, y, q, 2, 2))  # [[0, 1], [1, 0]]
        unit = knn.knn_predict_proba(xtr, ytr, xte, k=5, num_classes=3)
        for s in (2.0**-140, 2.0**-1000, 2.0**130, 2.0**1000):  # exact scalings: bit for bit
            np.testing.assert_array_equal(
                knn.knn_predict_proba(xtr * s, ytr, xte * s, k=5, num_classes=3), unit
            )
        for s in (1e-42, 1e200):
            assert knn.cross_validate_knn(cx * s, cy, k=5, num_folds=4).summary()["accuracy"] == 1.0
        # Entropy-Lens profiles go the same way
        flat, rising = rng.normal(1, 0.1, (30, 4, 6)), rng.normal(0, 0.1, (30, 4, 6))
        rising += np.linspace(0, 3, 4)[:, None]
        for s in (1e-42, 1e200):
            cv = analyse_profiles([flat * s, rising * s], ["a", "b"], k=5, num_folds=5)
            assert cv.summary()["f1"] == 1.0
    np.testing.assert_allclose(unit, _brute_knn(xtr, ytr, xte, 5, 3), rtol=1e-7)  # float32 1/5


def test_float32_knn_refuses_features_whose_magnitudes_span_more_than_float32():
    """Rescaled by a power of two, 1e-40 next to 1 is still below float32's smallest normal
    number: the cast would make it 0 and the query at 1e-40 would tie with the point at 0 (index
    0 won, class 0 for class 1). Refused, naming the argument; float64 gets it right."""
    x, y, q = np.array([[0.0], [1e-40], [1.0]]), np.array([0, 1, 0]), np.array([[1e-40]])
    with jax.enable_x64(False):
        with pytest.raises(ValueError, match=r"train_x holds 1e-40 next to features of 1: a "
                                             r"range of magnitudes wider than float32"):
            knn.knn_predict_proba(x, y, q, k=1, num_classes=2)
        with pytest.raises(ValueError, match=r"test_x holds 1e-40 next to.*jax_enable_x64"):
            knn.knn_predict_proba(np.array([[0.0], [1.0]]), y[:2], q, k=1, num_classes=2)
        with pytest.raises(ValueError, match=r"features holds 1e-40 next to features of 1"):
            knn.cross_validate_knn(np.r_[x, x, x], np.r_[y, y, y], k=1, num_folds=2)
    np.testing.assert_array_equal(knn.knn_predict_proba(x, y, q, k=1, num_classes=2), [[0, 1]])


@pytest.mark.parametrize("x64", [True, False])
def test_knn_ties_in_distance_go_to_the_lower_training_index(x64):
    """The documented tie rule. Centring on the (inexact) training mean rounded two equal
    distances differently: [[0], [2], [4.1]] queried at 1 voted for index 1; 25 of 200 random
    integer ties in float64 (28 in float32) went to the higher index. Reference: exact integer
    squared distances, stable order."""
    rng = np.random.default_rng(12)
    with jax.enable_x64(x64):
        p = knn.knn_predict_proba([[0.0], [2.0], [4.1]], [0, 1, 2], [[1.0]], k=1, num_classes=3)
        np.testing.assert_array_equal(p, [[1, 0, 0]])
        for trial in range(200):
            dim = 1 + trial % 3
            q = rng.integers(-50, 50, dim)
            v = rng.integers(-20, 21, dim)
            v[0] = v[0] or 1
            w = rng.permutation(v) * rng.choice([-1, 1], dim)  # |w| = |v|: an exact tie
            far = rng.integers(-60, 60, (4, dim))
            far[:, 0] = rng.choice([-1, 1], 4) * rng.integers(40, 60, 4)  # |far|^2 > |v|^2
            xtr = rng.permutation(np.concatenate([q + far[:2], [q + v, q + w], q + far[2:]]))
            ytr = np.arange(6)  # one class per point: the winner's index is visible
            d2 = np.sum((xtr - q) ** 2, axis=1)  # exact integers
            want = np.eye(6)[np.argsort(d2, kind="stable")[:1]]
            got = knn.knn_predict_proba(xtr.astype(float), ytr, q[None].astype(float), k=1,
                                        num_classes=6)
            np.testing.assert_array_equal(got, want, err_msg=f"trial {trial}")


def test_roc_auc_of_float64_scores_closer_than_float32_resolution():
    """1e8 + [1, 2, 3, 4] are four scores in float64 and one in float32: under x64 off the cast
    made every rank tie (AUC 0.5 for 1.0). Host scores are ranked in float64. Reference: the
    Mann–Whitney pair count (1 for a win, 1/2 for a tie)."""
    rng = np.random.default_rng(13)
    y = rng.integers(0, 2, 60)
    s = 1e8 + rng.integers(0, 6, 60)  # many ties, each distinct value apart in float64 only

    def pairs(labels, scores):
        pos, neg = scores[labels == 1], scores[labels != 1]
        return np.mean([1.0 if a > b else 0.5 if a == b else 0.0
                        for a, b in itertools.product(pos, neg)])

    proba = np.stack([1e8 - s, s, 2e8 + rng.integers(0, 3, 60)], axis=1)
    y3 = rng.integers(0, 3, 60)
    with jax.enable_x64(False):
        assert knn.roc_auc([0, 0, 1, 1], 1e8 + np.array([1.0, 2.0, 3.0, 4.0])) == 1.0
        assert knn.roc_auc(y, s) == pytest.approx(pairs(y, s), rel=1e-14)
        assert knn.roc_auc(y == 1, list(s)) == pytest.approx(pairs(y, s), rel=1e-14)
        assert knn.multiclass_roc_auc(y, proba[:, :2]) == pytest.approx(pairs(y, s), rel=1e-14)
        want = np.mean([pairs((y3 == c).astype(int), proba[:, c]) for c in range(3)])
        assert knn.multiclass_roc_auc(y3, proba) == pytest.approx(want, rel=1e-14)
        # the traced path stays a traced path (float32 there: a 0-d array)
        assert isinstance(jax.jit(knn.roc_auc)(y, s.astype(np.float32)), jax.Array)


def test_num_folds_must_be_a_whole_number():
    """num_folds=2.5 silently ran 2 folds (int()); NumPy integers stay accepted."""
    y = np.arange(12) % 2
    x = np.random.default_rng(14).normal(size=(12, 2))
    for call in (lambda: knn.stratified_folds(y, 2.5),
                 lambda: knn.cross_validate_knn(x, y, k=3, num_folds=2.5)):
        with pytest.raises(TypeError, match=r"num_folds must be an int >= 2 \(folds\); got 2\.5"):
            call()
    with pytest.raises(ValueError, match="num_folds must be an int >= 2"):
        knn.stratified_folds(y, 1)
    with pytest.raises(ValueError, match=r"num_folds must be in \[2, 12\]"):
        knn.stratified_folds(y, 13)
    assert len(knn.stratified_folds(y, np.int64(3))) == 3
    assert knn.cross_validate_knn(x, y, k=3, num_folds=np.int32(3)).model.accuracy.shape == (3,)


# ----------------------------------------------------------------------------- the reproduction


def test_reproduction_analysis_resumes_without_duplicating_records(tmp_path):
    from jaxrg import _io
    from jaxrg.studies.entropy_lens.experiment import LensConfig, analyse
    from jaxrg.studies.entropy_lens.report import report

    config = LensConfig.quick()
    rng = np.random.default_rng(6)
    data, meta = {}, {}
    for name, family, size, cfg in config.models():
        n, a, layers = 24, len(config.alphas), cfg.num_layers
        task = np.repeat(np.arange(4), n // 4)
        data[name] = {  # shapes of evaluate_model's output, task-dependent levels
            "task_profiles": rng.normal(size=(n, a, layers, 6)) + 3.0 * task[:, None, None, None],
            "task": task,
            "arith_profiles": rng.normal(size=(n, a, layers, 1)),
            "arith_correct": np.arange(n) % 2 == 0,
            "bos_profiles": rng.normal(size=(12, a, layers, 15)),
        }
        meta[name] = {"model": name, "family": family, "size": size, "add_accuracy": 0.5}
    first = analyse(data, meta, config, tmp_path)
    again = analyse(data, meta, config, tmp_path)  # a restart: everything is already finished
    assert len(again) == len(first) == len(_io.read_jsonl(tmp_path / "results.jsonl"))
    kinds = {(r["analysis"], r["features"]) for r in first}
    assert {("task", "all"), ("task", "last"), ("correct", "all"), ("family", "middle")} <= kinds
    task_rows = [r for r in first if r["analysis"] == "task" and r["features"] == "all"]
    assert min(r["accuracy"] for r in task_rows) > 0.9  # the planted task levels are found
    training = [
        {
            **m,
            "layers": 2,
            "width": 16,
            "params": 0,
            "final_loss": 0.0,
            "task_accuracy": dict.fromkeys(("copy", "sort", "count", "add"), 1.0),
        }
        for m in meta.values()
    ]
    text = report({"results": first, "training": training, "published": {"x": "y"}})
    assert "## Task type" in text and "| gpt2-s | 1.0 | all |" in text


# ----------------------------------------------------------------------------- user arrays


def test_logit_profiles_equal_scipy_entropy_of_softmax_for_every_axis_layout():
    rng = np.random.default_rng(4)
    logits = rng.normal(scale=3.0, size=(2, 3, 4, 5, 17))  # (models, prompts, L, T, V)
    logits[0, 0, 0, 0, :5] = -np.inf  # masked vocabulary: probability 0
    for alpha in (0.5, 1.0, 5.0):
        want = _ref_renyi(logits, alpha)
        got = logit_profiles(jnp.asarray(logits), alpha)
        assert got.shape == (2, 3, 4, 5)
        np.testing.assert_allclose(got, want, **tol(np.float64))
        np.testing.assert_allclose(logit_profiles(logits, alpha, chunk_size=4), want,
                                   **tol(np.float64))
    both = logit_profiles(logits, jnp.array([0.5, 1.0]))
    np.testing.assert_allclose(both[1], _ref_renyi(logits, 1.0), **tol(np.float64))


def test_logit_profiles_of_projected_hidden_states_match_entropy_profile(lens_inputs):
    hidden, w, b = lens_inputs
    np.testing.assert_allclose(
        logit_profiles(hidden[None] @ w + b), entropy_profile(hidden[None], w, bias=b),
        **tol(np.float64),
    )


def test_logit_profiles_errors_and_nan_under_jit():
    with pytest.raises(ValueError, match="layers, tokens, vocab"):
        logit_profiles(np.zeros((4, 10)))
    bad = np.zeros((2, 3, 10))
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError):
        logit_profiles(bad)
    out = jax.jit(logit_profiles)(jnp.asarray(bad))
    assert np.isnan(out[0, 0]) and np.all(np.isfinite(np.asarray(out).ravel()[1:]))


def _two_families(rng, n=40, layers=(4, 4)):
    """Family a: flat profiles at 2 nats; family b: rising from 0 to 3 nats (known answer)."""
    a = rng.normal(2.0, 0.05, (n, layers[0], 6))
    b = rng.normal(0.0, 0.05, (n, layers[1], 6)) + np.linspace(0, 3, layers[1])[:, None]
    return a, b


def test_separable_families_give_macro_f1_one_and_noise_gives_chance():
    rng = np.random.default_rng(5)
    a, b = _two_families(rng)
    cv = analyse_profiles(np.concatenate([a, b]), np.repeat(["a", "b"], 40), k=29)
    s = cv.summary()
    assert s["f1"] == 1.0 and s["accuracy"] == 1.0 and s["roc_auc"] == 1.0
    assert len(cv.model.f1) == 10  # the paper's 10 folds
    noise = rng.normal(size=(80, 4, 6))
    chance = analyse_profiles(noise, np.repeat([0, 1], 40), k=29).summary()
    assert 0.2 < chance["f1"] < 0.8


def test_analyse_profiles_takes_per_model_labels_and_different_depths():
    rng = np.random.default_rng(6)
    a, b = _two_families(rng, n=30, layers=(3, 7))  # models of different depth
    with pytest.raises(ValueError, match="depth_points"):
        analyse_profiles([a, b], ["a", "b"])
    cv = analyse_profiles([a, b], ["a", "b"], depth_points=5, k=9, num_folds=5)
    assert cv.summary()["f1"] == 1.0
    # (models, prompts, L, T) with one label per model == the flattened form
    stacked = np.stack(_two_families(np.random.default_rng(7), n=30))
    per_model = analyse_profiles(stacked, ["a", "b"], k=9, num_folds=5)
    flat = analyse_profiles(stacked.reshape(60, 4, 6), np.repeat(["a", "b"], 30), k=9,
                            num_folds=5)
    np.testing.assert_array_equal(per_model.model.f1, flat.model.f1)
    with pytest.raises(ValueError, match="one label per profile"):
        analyse_profiles(stacked, ["a", "b", "c"])


def test_training_gives_the_cli_numbers_whatever_the_callers_x64_setting():
    # The CLI turns jax_enable_x64 on, a Python session usually has it off: the same seed must
    # train the same model either way (AdamW's bias correction follows the default float).
    from flax import nnx

    from jaxrg.studies.entropy_lens.experiment import LensConfig, train_model

    config = LensConfig.quick()
    name, _, _, cfg = config.models()[0]
    runs = []
    for x64 in (False, True):
        with jax.enable_x64(x64):
            model, loss = train_model(cfg, config, seed=3, desc=name)
            assert jax.config.jax_enable_x64 is x64  # the caller's setting is restored
        runs.append((loss, jax.tree.map(np.asarray, nnx.state(model, nnx.Param))))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(jax.tree.leaves(runs[0][1]), jax.tree.leaves(runs[1][1]), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("num_windows", [2.7, 2.0, "2", True])
def test_window_average_refuses_a_window_count_that_is_not_an_integer(num_windows):
    # before: int(2.7) silently averaged 2 windows
    with pytest.raises(TypeError, match=r"num_windows must be an int >= 1 .*int\("):
        window_average(np.arange(10.0)[None], num_windows)
    np.testing.assert_allclose(window_average(np.arange(10.0)[None], np.int64(2)), [[2.0, 7.0]])


@pytest.mark.parametrize("num_points", [1, 0, -1])
def test_depth_normalise_refuses_fewer_than_two_depths_naming_the_argument(num_points):
    # before: 0 gave an empty array, -1 numpy's "Number of samples, -1, must be non-negative"
    with pytest.raises(ValueError, match=rf"num_points must be an int >= 2 .*got {num_points}"):
        depth_normalise(np.ones((2, 3, 4)), num_points)
    with pytest.raises(ValueError, match=rf"depth_points must be an int >= 2 .*got {num_points}"):
        profile_features(np.ones((2, 3, 4)), depth_points=num_points)
    with pytest.raises(TypeError, match="num_points must be an int"):
        depth_normalise(np.ones((2, 3, 4)), 2.5)
    # two depths are the first and the last layer
    p = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(depth_normalise(p, 2), p[:, [0, 2]])


def test_depth_normalise_refuses_profiles_without_a_layer_axis_or_layers():
    """A 1-D array raised a raw IndexError; L = 0 layers returned an empty array silently."""
    with pytest.raises(ValueError, match="layer axis"):
        depth_normalise(np.ones(5), 3)
    with pytest.raises(ValueError, match="no layer"):
        depth_normalise(np.ones((2, 0, 4)), 3)
    # one layer is still repeated, as documented
    np.testing.assert_array_equal(depth_normalise(np.ones((1, 4)), 3), np.ones((3, 4)))


def test_an_overflowing_projection_is_named_in_every_chunk_and_nan_under_jit():
    """h @ W overflowing float32: in the first chunk the error blamed "logits" the caller never
    passed; in a later chunk the profile was NaN, silently, eagerly too (only chunk 0 was
    checked). A bias of only -inf (no class left) gave NaN with no error. Now every chunk is
    checked and the message names the projection; under jit the profile is NaN."""
    with jax.enable_x64(False):
        h = jnp.ones((1, 2), jnp.float32)
        w = jnp.array([[1.0, 1.0, 3e38, 3e38]] * 2, jnp.float32)
        for chunk_size in (2, 4):  # the overflow in chunk 1 of 2, or in chunk 0 of 1
            with pytest.raises(ValueError, match="projection overflowed"):
                entropy_profile(h, w, chunk_size=chunk_size)
        profile = jax.jit(lambda h, w: entropy_profile(h, w, chunk_size=2))(h, w)
        assert np.isnan(np.asarray(profile)).all()
        with pytest.raises(ValueError, match="every entry of every chunk is -inf"):
            entropy_profile(h, jnp.ones((2, 4), jnp.float32), bias=jnp.full(4, -jnp.inf))
        # finite projections are unchanged: the reference is scipy's entropy of the softmax
        w_ok = jnp.asarray(np.random.default_rng(0).normal(size=(2, 6)), jnp.float32)
        expected = scipy.stats.entropy(scipy.special.softmax(np.asarray(h @ w_ok, np.float64)[0]))
        np.testing.assert_allclose(entropy_profile(h, w_ok, chunk_size=4)[0], expected, rtol=1e-5)
