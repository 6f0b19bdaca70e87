"""Tests of jaxrg.maxent, jaxrg.studies.maxent.train, jaxrg.studies.maxent.experiment and
``jaxrg study maxent`` (and its old spelling ``jaxrg maxent``).

Oracles: hand-written targets, scipy's KL/entropy/softmax, the closed-form gradient
(softmax(z/t) − ỹ)/t, numpy argsort for magnitude pruning, the formula q = 1 − (1 − p)^{1/n}.
"""

import dataclasses
import json
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats
from flax import nnx

import jaxrg
from jaxrg import maxent
from jaxrg.studies.maxent import train as tm
from jaxrg.studies.maxent.subnetworks import MLP, make_model

R4 = np.array([True, False, True, False])


# ------------------------------------------------------------------------------- targets
def _hand_targets(labels, rewarded, c, kind):
    out = np.zeros((len(labels), c))
    for i, y in enumerate(labels):
        if rewarded[y]:
            out[i, y] = 1.0
        elif kind == "me":
            out[i] = 1.0 / c
        elif kind == "qme":
            out[i, ~rewarded] = 1.0 / np.sum(~rewarded)
    return out


@pytest.mark.parametrize("kind", ["me", "qme", "xe"])
def test_targets_match_hand_written_definition(kind):
    labels = np.array([0, 1, 2, 3, 1])
    got = maxent.targets(jnp.asarray(labels), jnp.asarray(R4), 4, kind=kind)
    np.testing.assert_array_equal(np.asarray(got), _hand_targets(labels, R4, 4, kind))


def test_targets_specific_values():
    t = maxent.targets(jnp.array([1, 0]), jnp.asarray(R4), 4, kind="qme")
    np.testing.assert_array_equal(np.asarray(t), [[0, 0.5, 0, 0.5], [1, 0, 0, 0]])
    t = maxent.targets(jnp.array([3]), jnp.asarray(R4), 4, kind="me")
    np.testing.assert_array_equal(np.asarray(t), [[0.25] * 4])
    t = maxent.targets(jnp.array([3]), jnp.asarray(R4), 4, kind="xe")
    np.testing.assert_array_equal(np.asarray(t), [[0.0] * 4])


def test_targets_vmap_over_rewarded_subsets_matches_loop():
    labels = jnp.array([0, 1, 2, 3, 2, 0])
    subsets = jnp.array([[True, True, False, False], [False, False, True, True],
                         [True, False, False, False]])
    batched = jax.vmap(lambda r: maxent.targets(labels, r, 4, kind="qme"))(subsets)
    for i in range(3):
        np.testing.assert_array_equal(
            np.asarray(batched[i]), _hand_targets(np.asarray(labels), np.asarray(subsets[i]), 4,
                                                  "qme"))


def test_targets_errors():
    labels = jnp.array([0, 1])
    with pytest.raises(ValueError, match="rewarded"):
        maxent.targets(labels, jnp.array([True, False]), 4)
    with pytest.raises(TypeError, match="boolean"):
        maxent.targets(labels, jnp.array([1, 0, 1, 0]), 4)
    with pytest.raises(ValueError, match="labels must lie"):
        maxent.targets(jnp.array([0, 4]), jnp.asarray(R4), 4)
    with pytest.raises(ValueError, match="labels must lie"):
        maxent.targets(jnp.array([-1, 0]), jnp.asarray(R4), 4)
    with pytest.raises(ValueError, match="kind"):
        maxent.targets(labels, jnp.asarray(R4), 4, kind="ce")


# ------------------------------------------------------------------------------------- KL
def test_kl_matches_scipy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 5)) * 4
    tgt = rng.dirichlet(np.ones(5), size=6)
    tgt[0] = [1, 0, 0, 0, 0]
    for t in (1.0, 5.0, 0.3):
        got = np.asarray(maxent.kl_loss(jnp.asarray(logits), jnp.asarray(tgt), temperature=t))
        q = scipy.special.softmax(logits / t, axis=1)
        want = [scipy.stats.entropy(tgt[i], q[i]) for i in range(6)]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_kl_gradient_is_softmax_minus_target_over_t():
    rng = np.random.default_rng(1)
    z = jnp.asarray(rng.normal(size=(3, 4)))
    y = jnp.asarray(rng.dirichlet(np.ones(4), size=3))
    g = jax.grad(lambda z: jnp.sum(maxent.kl_loss(z, y, temperature=5.0)))(z)
    want = (scipy.special.softmax(np.asarray(z) / 5.0, axis=1) - np.asarray(y)) / 5.0
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-9, atol=1e-12)


def test_uniform_target_kl_is_minimal_at_uniform_softmax():
    u = jnp.full((1, 10), 0.1)
    flat = maxent.kl_loss(jnp.full((1, 10), 3.7), u)
    assert abs(float(flat[0])) < 1e-12
    g = jax.grad(lambda z: maxent.kl_loss(z, u)[0])(jnp.full((1, 10), -2.0))
    np.testing.assert_allclose(np.asarray(g), 0.0, atol=1e-12)
    rng = np.random.default_rng(2)
    others = maxent.kl_loss(jnp.asarray(rng.normal(size=(50, 10))), jnp.tile(u, (50, 1)))
    assert np.all(np.asarray(others) > 0)


def test_kl_extreme_logits_are_finite():
    z = jnp.array([[1e30, -1e30, 0.0], [-1e300, 1e300, 5.0]])
    y = jnp.array([[0.0, 1.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    value = maxent.kl_loss(z, y)
    grad = jax.grad(lambda z: jnp.sum(maxent.kl_loss(z, y)))(z)
    assert np.all(np.isfinite(np.asarray(value))) and np.all(np.isfinite(np.asarray(grad)))
    assert float(value[0]) == pytest.approx(2e30 / 5.0, rel=1e-12)
    z32 = jnp.array([[3e38, -3e38]], dtype=jnp.float32)
    y32 = jnp.array([[0.0, 1.0]], dtype=jnp.float32)
    assert np.isfinite(float(maxent.kl_loss(z32, y32)[0]))


def test_zero_target_row_gives_zero_and_weighted_mean_ignores_it():
    z = jnp.array([[9.0, -4.0, 0.0], [1.0, 2.0, 3.0]])
    y = jnp.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    kl = maxent.kl_loss(z, y)
    assert float(kl[0]) == 0.0
    mean = maxent.weighted_mean(kl, maxent.sample_weights(y))
    want = -math.log(scipy.special.softmax(np.array([1.0, 2.0, 3.0]) / 5.0)[1])
    assert float(mean) == pytest.approx(want, rel=1e-12)


def test_kl_errors():
    with pytest.raises(ValueError, match="temperature"):
        maxent.kl_loss(jnp.zeros((2, 3)), jnp.zeros((2, 3)), temperature=0.0)
    with pytest.raises(ValueError, match="temperature"):
        maxent.kl_loss(jnp.zeros((2, 3)), jnp.zeros((2, 3)), temperature=-1.0)
    with pytest.raises(ValueError, match="logits and targets"):
        maxent.kl_loss(jnp.zeros((2, 3)), jnp.zeros((2, 4)))


def test_kl_under_jit_does_not_retrace_on_temperature():
    traces = []

    @jax.jit
    def f(z, y, t):
        traces.append(1)
        return maxent.kl_loss(z, y, temperature=t)

    z, y = jnp.ones((2, 3)), jnp.full((2, 3), 1 / 3)
    f(z, y, 1.0)
    f(z, y, 7.0)
    assert len(traces) == 1


# -------------------------------------------------------------------------------- metrics
def test_entropy_matches_scipy_and_is_log_c_at_uniform():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(5, 10)) * 3
    got = np.asarray(maxent.prediction_entropy(jnp.asarray(z), temperature=2.0))
    want = scipy.stats.entropy(scipy.special.softmax(z / 2.0, axis=1), axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    flat = maxent.prediction_entropy(jnp.zeros((1, 10)))
    assert float(flat[0]) == pytest.approx(math.log(10), rel=1e-12)
    assert np.isfinite(float(maxent.prediction_entropy(jnp.array([[1e300, -1e300]]))[0]))


def test_entropy_of_a_confident_prediction_keeps_its_relative_precision():
    """log_softmax lost the maximum's share of a tiny entropy (the log of 1 + s below epsilon) and
    gave NaN for a -inf logit (0 * -inf). Reference: the closed form for three classes,
    H = log(1 + s) - (e^{d1} d1 + e^{d2} d2)/(1 + s), s = e^{d1} + e^{d2}, in 60-digit mpmath."""
    import mpmath

    with mpmath.workdps(60):
        d1, d2 = mpmath.mpf(-40), mpmath.mpf(-45)
        s = mpmath.exp(d1) + mpmath.exp(d2)
        want = float(mpmath.log1p(s) - (mpmath.exp(d1) * d1 + mpmath.exp(d2) * d2) / (1 + s))
    got = maxent.prediction_entropy(jnp.array([[0.0, -40.0, -45.0]]), temperature=1.0)
    np.testing.assert_allclose(got, [want], rtol=1e-13, atol=0)  # was 2.4 % low
    masked = maxent.prediction_entropy(jnp.array([[0.0, 0.0, -jnp.inf]]), temperature=1.0)
    np.testing.assert_allclose(masked, [math.log(2)], rtol=1e-14)  # was NaN


def test_rewarded_accuracy_by_hand():
    z = jnp.array([[5.0, 0, 0, 0], [0, 0, 5.0, 0], [0, 5.0, 0, 0], [0, 0, 0, 5.0],
                   [5.0, 0, 0, 0]])
    labels = jnp.array([0, 0, 2, 3, 1])  # in R = {0, 2}: rows 0 (right), 1 (wrong), 2 (wrong)
    assert float(maxent.rewarded_accuracy(z, labels, jnp.asarray(R4))) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="rewarded"):
        maxent.rewarded_accuracy(z, labels, jnp.array([True, False]))


# -------------------------------------------------------------------------------- pruning
def test_round_ratio_formula():
    for p, n in ((0.99, 2), (0.6, 2), (0.9, 3), (0.5, 1)):
        q = maxent.round_ratio(p, n)
        assert (1 - q) ** n == pytest.approx(1 - p, rel=1e-12)
    with pytest.raises(ValueError):
        maxent.round_ratio(1.0, 2)
    with pytest.raises(ValueError):
        maxent.round_ratio(0.5, 0)


def _numpy_prune(w, m, r):
    alive = np.flatnonzero(m.ravel())
    k = int(np.round(r * alive.size))
    order = alive[np.argsort(np.abs(w.ravel()[alive]), kind="stable")]
    out = m.ravel().copy()
    out[order[:k]] = False
    return out.reshape(m.shape)


def test_magnitude_prune_matches_numpy_and_formula_counts():
    rng = np.random.default_rng(4)
    params = {"hidden": {"kernel": rng.normal(size=(30, 20)), "bias": rng.normal(size=(20,))},
              "head": {"kernel": rng.normal(size=(20, 7))}}
    q = maxent.round_ratio(0.99, 2)
    ratios = tm.head_ratios(params, q)
    assert ratios["head"]["kernel"] == pytest.approx(q / 2)
    assert ratios["hidden"]["kernel"] == pytest.approx(q)
    masks = jax.tree.map(lambda w: np.ones(w.shape, bool), params)
    prune = jax.jit(maxent.magnitude_prune)
    for _ in range(2):
        new = prune(jax.tree.map(jnp.asarray, params), masks, ratios)
        want = jax.tree.map(_numpy_prune, params, masks, ratios)
        for a, b in zip(jax.tree.leaves(new), jax.tree.leaves(want), strict=True):
            np.testing.assert_array_equal(np.asarray(a), b)
        masks = jax.tree.map(np.asarray, new)
    # counts: n → n − round(q n) → …; hidden kernel 600 → 60 → 6 (exactly 1 − p of 600).
    assert int(masks["hidden"]["kernel"].sum()) == 6
    n = 140
    for _ in range(2):
        n -= round(q / 2 * n)
    assert int(masks["head"]["kernel"].sum()) == n


def test_magnitude_prune_vmaps_over_models():
    rng = np.random.default_rng(5)
    w = jnp.asarray(rng.normal(size=(3, 40)))
    m = jnp.ones((3, 40), bool)
    out = jax.vmap(lambda w, m: maxent.magnitude_prune(w, m, 0.25))(w, m)
    for i in range(3):
        np.testing.assert_array_equal(np.asarray(out[i]),
                                      _numpy_prune(np.asarray(w[i]), np.ones(40, bool), 0.25))


def test_magnitude_prune_refuses_a_ratio_outside_the_unit_interval():
    params, masks = {"w": jnp.arange(4.0)}, {"w": jnp.ones(4, bool)}
    for bad in (1.5, -0.25, float("nan"), np.float32(2.0)):
        with pytest.raises(ValueError, match="ratios must lie in \\[0, 1\\]"):
            maxent.magnitude_prune(params, masks, bad)  # 1.5 pruned everything
    with pytest.raises(ValueError, match="ratios must lie in \\[0, 1\\].*got 1.5"):
        maxent.magnitude_prune(params, masks, {"w": 1.5})
    # a traced ratio: a checked (checkify) error under jit
    with pytest.raises(ValueError, match="ratios must lie in \\[0, 1\\]"):
        jaxrg.checked(jax.jit(maxent.magnitude_prune))(params, masks, jnp.float64(1.5))
    # the end points are fine: round(0.5 * 4) = 2 smallest removed; NumPy scalars are scalars
    out = maxent.magnitude_prune(params, masks, np.float64(0.5))
    np.testing.assert_array_equal(out["w"], [False, False, True, True])
    np.testing.assert_array_equal(maxent.magnitude_prune(params, masks, 1.0)["w"], [False] * 4)


# ------------------------------------------------------------------- merging / connectivity
def test_merge_of_disjoint_masks():
    a = {"w": jnp.arange(1.0, 7.0)}
    b = {"w": -jnp.arange(1.0, 7.0)}
    ma = {"w": jnp.array([True, True, False, False, False, False])}
    mb = {"w": jnp.array([False, False, False, True, True, False])}
    merged, union = maxent.merge([a, b], [ma, mb])
    np.testing.assert_array_equal(np.asarray(merged["w"]), [1, 2, 0, -4, -5, 0])
    np.testing.assert_array_equal(np.asarray(union["w"]), [1, 1, 0, 1, 1, 0])
    both = {"w": jnp.ones(6, bool)}
    summed, _ = maxent.merge([a, b], [both, both])
    np.testing.assert_array_equal(np.asarray(summed["w"]), np.zeros(6))


def test_connectivity_path_end_points_and_midpoint():
    p1, p2 = {"w": jnp.array([1.0, 0.0])}, {"w": jnp.array([0.0, 3.0])}
    at = {t: maxent.connectivity_path(p1, p2, t)["w"] for t in (0.0, 0.25, 0.5, 0.75, 1.0)}
    np.testing.assert_allclose(np.asarray(at[0.0]), [1, 0])
    np.testing.assert_allclose(np.asarray(at[0.25]), [1, 1.5])
    np.testing.assert_allclose(np.asarray(at[0.5]), [1, 3])
    np.testing.assert_allclose(np.asarray(at[0.75]), [0.5, 3])
    np.testing.assert_allclose(np.asarray(at[1.0]), [0, 3])
    lin = maxent.connectivity_path(p1, p2, 0.25, kind="linear")["w"]
    np.testing.assert_allclose(np.asarray(lin), [0.75, 0.75])


def test_loss_barrier_hand_values_and_identical_end_points():
    ts = jnp.array([0.0, 0.5, 1.0])
    assert float(maxent.loss_barrier(ts, jnp.array([1.0, 3.0, 2.0]))) == pytest.approx(1.5)
    assert float(maxent.loss_barrier(ts, jnp.array([1.0, 2.0, 3.0]))) == pytest.approx(0.0)
    assert float(maxent.loss_barrier(ts, jnp.array([1.0, 2.0, 3.0]),
                                     reference="mean")) == pytest.approx(1.0)
    # identical end points: the linear path is constant, so the barrier is exactly 0
    model = MLP((3, 5, 2), rngs=nnx.Rngs(0))
    graphdef, params = nnx.split(model, nnx.Param)
    x = jnp.asarray(np.random.default_rng(6).normal(size=(8, 3)), dtype=jnp.float32)
    y = jnp.full((8, 2), 0.5, dtype=jnp.float32)
    grid = jnp.linspace(0.0, 1.0, 5)
    losses = jnp.stack([jnp.mean(maxent.kl_loss(nnx.merge(graphdef, maxent.connectivity_path(
        params, params, t, kind="linear"))(x), y)) for t in grid])
    assert float(maxent.loss_barrier(grid, losses)) == pytest.approx(0.0, abs=1e-6)


# ------------------------------------------------------------------------------ training
def _blobs(n_per=60, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[3.0, 0.0], [0.0, 3.0], [-3.0, 0.0], [0.0, -3.0]])
    x = np.concatenate([c + 0.5 * rng.normal(size=(n_per, 2)) for c in centres])
    y = np.repeat(np.arange(4), n_per)
    return x.astype(np.float32), y.astype(np.int32)


def _tiny(seed=0):
    model = MLP((2, 16, 4), dropout=0.0, rngs=nnx.Rngs(seed))
    return nnx.split(model, nnx.Param)


def test_fit_me_learns_rewarded_and_stays_uncertain_outside():
    x, y = _blobs()
    graphdef, params = _tiny()
    rewarded = jnp.array([True, True, False, False])
    stacked = jax.tree.map(lambda w: jnp.stack([w, w]), params)
    tg = jnp.stack([maxent.targets(jnp.asarray(y), rewarded, 4, kind=k)
                    for k in ("me", "xe")]).astype(jnp.float32)
    out, _ = tm.fit_many(graphdef, stacked, tm.full_masks(stacked), jnp.asarray(x), tg,
                         jax.random.split(jax.random.key(0), 2), learning_rate=0.01,
                         temperature=1.0, epochs=25, batch_size=16)
    got = []
    for i in range(2):
        p = jax.tree.map(lambda w, i=i: w[i], out)
        got.append(tm.evaluate(graphdef, p, jnp.asarray(x), jnp.asarray(y), rewarded, tg[i],
                               1.0))
    me, xe = got
    assert float(me.r_acc) > 0.95 and float(xe.r_acc) > 0.95
    assert float(me.entropy_out) > 0.95 * math.log(4)
    assert float(xe.entropy_out) < float(me.entropy_out) - 0.2


def test_fit_xe_ignores_non_rewarded_samples_and_keeps_pruned_entries_zero():
    x, y = _blobs(20)
    graphdef, params = _tiny()
    rewarded = jnp.array([True, False, True, False])
    tg = maxent.targets(jnp.asarray(y), rewarded, 4, kind="xe").astype(jnp.float32)
    masks = maxent.magnitude_prune(params, tm.full_masks(params), 0.5)
    x2 = x.copy()
    x2[~np.asarray(rewarded)[y]] = 100.0  # change only the non-rewarded inputs
    key = jax.random.key(3)
    a, _ = tm.fit(graphdef, params, masks, jnp.asarray(x), tg, key, 0.01, epochs=3,
                  batch_size=8)
    b, _ = tm.fit(graphdef, params, masks, jnp.asarray(x2), tg, key, 0.01, epochs=3,
                  batch_size=8)
    for u, v, m, w0 in zip(jax.tree.leaves(a), jax.tree.leaves(b), jax.tree.leaves(masks),
                           jax.tree.leaves(params), strict=True):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
        assert np.all(np.asarray(u)[~np.asarray(m)] == 0)
        assert not np.allclose(np.asarray(u)[np.asarray(m)], np.asarray(w0)[np.asarray(m)])
    # with ME targets the same change does alter training (the test can fail)
    tme = maxent.targets(jnp.asarray(y), rewarded, 4, kind="me").astype(jnp.float32)
    c, _ = tm.fit(graphdef, params, masks, jnp.asarray(x), tme, key, 0.01, epochs=3, batch_size=8)
    d, _ = tm.fit(graphdef, params, masks, jnp.asarray(x2), tme, key, 0.01, epochs=3,
                  batch_size=8)
    assert not np.allclose(np.asarray(jax.tree.leaves(c)[0]), np.asarray(jax.tree.leaves(d)[0]))


def test_imp_rewinds_to_initial_weights_and_reaches_the_sparsity(monkeypatch):
    x, y = _blobs(20)
    graphdef, init = _tiny(1)  # the architecture and static arguments of the test above: no
    # new compilation
    tg = maxent.targets(jnp.asarray(y), jnp.array([True, True, False, False]), 4).astype(
        jnp.float32)
    seen, trained = [], []
    real_fit = tm.fit

    def spy(graphdef, params, masks, *args, **kwargs):
        seen.append((params, masks))
        out = real_fit(graphdef, params, masks, *args, **kwargs)
        trained.append(out[0])
        return out

    monkeypatch.setattr(tm, "fit", spy)
    final, masks = tm.imp(graphdef, init, jnp.asarray(x), tg, jax.random.key(0), sparsity=0.9,
                          rounds=2, epochs=3, learning_rate=0.01, batch_size=8)
    assert len(seen) == 3
    q = maxent.round_ratio(0.9, 2)
    for r in (1, 2):
        start, m = seen[r]
        want_masks = jax.tree.map(_numpy_prune, jax.tree.map(np.asarray, trained[r - 1]),
                                  jax.tree.map(np.asarray, seen[r - 1][1]),
                                  tm.head_ratios(init, q))
        for got_m, want_m in zip(jax.tree.leaves(m), jax.tree.leaves(want_masks), strict=True):
            np.testing.assert_array_equal(np.asarray(got_m), want_m)
        for s, w0, mk, tr in zip(jax.tree.leaves(start), jax.tree.leaves(init),
                                 jax.tree.leaves(m), jax.tree.leaves(trained[r - 1]),
                                 strict=True):
            s, w0, mk, tr = map(np.asarray, (s, w0, mk, tr))
            np.testing.assert_array_equal(s[mk], w0[mk])  # rewound, not the trained values
            assert np.all(s[~mk] == 0)
            assert not np.array_equal(s[mk], tr[mk])
    hidden = int(np.asarray(masks["hidden"][0]["kernel"]).sum())
    n = 32
    for _ in range(2):
        n -= round(q * n)
    assert hidden == n


def test_model_shapes_and_bias_free_head():
    for name in ("shallow", "deep"):
        m = make_model(name, 12, 3, seed=0)
        assert m.head.bias is None
        assert m(jnp.ones((2, 12), jnp.float32)).shape == (2, 3)
    assert len(make_model("deep", 12, 3, seed=0).hidden) == 2
    with pytest.raises(ValueError, match="image"):
        make_model("cnn", 12, 3, seed=0)


def _kernels_and_biases(model):
    """(kernel, bias or None) of every Linear/Conv layer of a subnetwork model."""
    layers = [*getattr(model, "hidden", []), *(getattr(model, n) for n in ("conv", "fc1", "fc2")
                                               if hasattr(model, n)), model.head]
    return [(np.asarray(la.kernel[...]), None if la.bias is None else np.asarray(la.bias[...]))
            for la in layers]


@pytest.mark.parametrize("name", ["shallow", "deep", "cnn"])
def test_torch_init_draws_every_layer_from_pytorchs_uniform_bound(name):
    # PyTorch's nn.Linear / nn.Conv2d default: kaiming_uniform(a=sqrt 5) on the weight, which is
    # U(+-1/sqrt(fan_in)), and the same bound on the bias; fan_in = C_in * k_h * k_w for a conv.
    model = make_model(name, 144, 3, seed=0, image_shape=(12, 12), init="torch")
    for kernel, bias in _kernels_and_biases(model):
        fan_in = int(np.prod(kernel.shape[:-1]))
        bound = 1.0 / math.sqrt(fan_in)
        assert np.abs(kernel).max() <= bound
        if kernel.size >= 1000:  # a uniform on (-b, b) has standard deviation b / sqrt 3
            assert kernel.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
            assert np.abs(kernel).max() > 0.95 * bound  # not a narrower law
        if bias is not None:
            assert np.abs(bias).max() <= bound and np.any(bias != 0)


@pytest.mark.parametrize("name", ["shallow", "deep", "cnn"])
def test_flax_init_is_the_default_and_unchanged(name):
    # "flax" must draw exactly what the models drew before the option existed (the recorded
    # runs): LeCun-normal kernels, zero biases, the same parameters for the same seed.
    default = make_model(name, 144, 3, seed=4, image_shape=(12, 12))
    named = make_model(name, 144, 3, seed=4, image_shape=(12, 12), init="flax")
    torch = make_model(name, 144, 3, seed=4, image_shape=(12, 12), init="torch")
    for (k1, b1), (k2, b2), (k3, _) in zip(_kernels_and_biases(default),
                                           _kernels_and_biases(named),
                                           _kernels_and_biases(torch), strict=True):
        np.testing.assert_array_equal(k1, k2)
        assert not np.array_equal(k1, k3)
        if b1 is not None:
            np.testing.assert_array_equal(b1, b2)
            assert not np.any(b1)
    kernel = _kernels_and_biases(default)[0][0]
    fan_in = int(np.prod(kernel.shape[:-1]))
    if kernel.size >= 2000:  # LeCun normal: std 1/sqrt(fan_in), sqrt 3 times the torch spread
        assert kernel.std() == pytest.approx(1 / math.sqrt(fan_in), rel=0.1)


def test_unknown_init_is_refused_by_name():
    from jaxrg.studies.maxent.experiment import MaxEntConfig

    with pytest.raises(ValueError, match="init must be one of"):
        make_model("shallow", 4, 2, seed=0, init="kaiming")
    with pytest.raises(ValueError, match="init must be one of.*nn.Conv2d"):  # the conv layer
        make_model("cnn", 64, 2, seed=0, image_shape=(8, 8), init="kaiming")
    with pytest.raises(ValueError, match=r"--init"):
        MaxEntConfig(dataset="yeast", init="kaiming").resolved()


def test_torch_init_runs_are_separate_units_and_rows_beside_the_flax_ones(tmp_path):
    from jaxrg.studies.maxent.experiment import (
        MaxEntConfig,
        _latest,
        run_table,
        summary_table,
        table_rows,
    )

    data = _prepared()
    config = MaxEntConfig(dataset="yeast", seeds=(0,), losses=("me",), rewarded=(0, 1), epochs=1)
    flax_records = run_table(tmp_path, config, progress=False, data=data)
    torch_config = dataclasses.replace(config, init="torch")
    torch_records = run_table(tmp_path, torch_config, progress=False, data=data)
    assert [r["init"] for r in flax_records] == ["flax"]
    assert [r["init"] for r in torch_records] == ["torch"]  # trained, not taken as finished
    assert torch_records[0]["r_acc"] != flax_records[0]["r_acc"] or (
        torch_records[0]["train_loss"] != flax_records[0]["train_loss"])
    path = tmp_path / "results.jsonl"
    # a file written before the field existed: its records count as Flax's init, are not redone
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "init"}) + "\n"
                            if r["init"] == "flax" else json.dumps(r) + "\n" for r in lines))
    assert len(run_table(tmp_path, config, progress=False, data=data)) == 1
    assert len(path.read_text().splitlines()) == 2
    records_now = [json.loads(line) for line in path.read_text().splitlines()]
    text = summary_table(records_now)
    assert "| yeast | shallow | 0-1 | ME | 1 |" in text
    assert "| yeast | shallow (torch init) | 0-1 | ME | 1 |" in text
    published = "0.995 (0.009)"  # Table 1's Yeast shallow MLP cell, beside both rows
    assert all(published in line for line in text.splitlines() if "| yeast | shallow" in line)
    # the figure's rows (plot_all hands table_rows records it has already read once)
    labels = [row["label"] for row in table_rows(_latest(records_now))]
    assert labels == ["yeast shallow\nR-Acc, R = {0,1}",
                      "yeast shallow (torch init)\nR-Acc, R = {0,1}"]


# ------------------------------------------------------------------- runner, resume, CLI
def _prepared():
    from jaxrg.studies.maxent.experiment import Prepared

    x, y = _blobs(40, seed=1)
    xt, yt = _blobs(20, seed=2)
    x = np.concatenate([x, np.zeros((len(x), 6), np.float32)], axis=1)
    xt = np.concatenate([xt, np.zeros((len(xt), 6), np.float32)], axis=1)
    return Prepared(x, y, x[:8], y[:8], xt, yt, 4, None, "yeast")


def test_run_table_resumes_after_a_truncated_results_file(tmp_path):
    from jaxrg.studies.maxent.experiment import MaxEntConfig, report, run_table

    config = MaxEntConfig(dataset="yeast", seeds=(0, 1, 2), losses=("me",), rewarded=(0, 1),
                          epochs=1)
    data = _prepared()
    records = run_table(tmp_path, config, progress=False, data=data)
    assert len(records) == 3
    path = tmp_path / "results.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # killed mid-write
    records = run_table(tmp_path, config, progress=False, data=data)
    assert len(records) == 3
    assert sorted(r["seed"] for r in records) == [0, 1, 2]
    assert all(set(json.loads(line)) >= {"r_acc", "entropy_out", "kl"}
               for line in path.read_text().splitlines())
    assert len(path.read_text().splitlines()) == 3  # the cut line removed, the record redone
    text = report(tmp_path, figures=False)
    assert "| yeast | shallow | 0-1 | ME | 3 |" in text


def test_report_draws_the_accuracy_table(tmp_path):
    from jaxrg.studies.maxent.experiment import MaxEntConfig, report, run_table, table_rows

    config = MaxEntConfig(dataset="yeast", seeds=(0, 1), losses=("me", "xe"), rewarded=(0, 1),
                          epochs=1)
    records = run_table(tmp_path, config, progress=False, data=_prepared())
    report(tmp_path)
    assert (tmp_path / "table.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "entropy_vs_racc.png").stat().st_size > 1000
    (row,) = table_rows(records)
    assert row["label"] == "yeast shallow\nR-Acc, R = {0,1}" and set(row["cells"]) == {"ME", "XE"}
    for loss in ("me", "xe"):
        values = 100 * np.array([r["r_acc"] for r in records if r["loss"] == loss])
        (cell,) = row["cells"][loss.upper()]
        assert cell["mean"] == pytest.approx(values.mean()) and cell["std"] == pytest.approx(
            values.std(ddof=1))


def test_cli_errors_are_one_line(capsys, tmp_path):
    from jaxrg.cli import main

    assert main(["maxent", "run", "--dataset", "cifar", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown dataset" in err and len(err.splitlines()) == 1
    assert main(["maxent", "run", "--dataset", "mnist", "--data-dir", str(tmp_path / "none"),
                 "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "train-images-idx3-ubyte.gz" in err and len(err.splitlines()) == 1
    assert main(["maxent", "run", "--rewarded", "3-1", "--out", str(tmp_path)]) == 2
    assert "bad class list" in capsys.readouterr().err
    assert main(["maxent", "report", "--out", str(tmp_path / "empty")]) == 2
    assert "no results" in capsys.readouterr().err
    assert main(["maxent", "run", "--temperature", "0", "--out", str(tmp_path)]) == 2
    assert "temperature" in capsys.readouterr().err


def test_report_covers_merge_and_path_records(tmp_path):
    """Every table section and figure from hand-made merge/path records (values checked)."""
    from jaxrg.studies.maxent.experiment import report, table_rows

    curve = {"ts": [0.0, 0.5, 1.0], "losses": [1.0, 0.4, 1.2], "accuracies": [0.5, 0.9, 0.5],
             "barrier": 0.0, "barrier_mean": 0.1}
    records = []
    for seed, (me, xe) in enumerate([(0.94, 0.80), (0.92, 0.84)]):
        for loss, acc in (("me", me), ("xe", xe)):
            base = {"dataset": "mnist", "model": "shallow", "loss": loss, "seed": seed}
            records.append({**base, "experiment": "merge", "stage": "merge2", "modules": 2,
                            "rewarded": "0-1-2-3-4-5-6-7-8-9", "union_accuracy": acc,
                            "module_r_acc": [acc + 0.01, acc - 0.01]})
            records.append({**base, "experiment": "path", "stage": "path",
                            "rewarded": "0-1-2-3-4|5-6-7-8-9", "merge": curve, "linear": curve})
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    text = report(tmp_path)
    assert "| mnist | shallow | ME | 2 | 0-1-2-3-4-5-6-7-8-9 | 2 | 0.9300 (0.0141) |" in text
    path_row = "| mnist | shallow | XE | 2 | 0.0000 (0.0000) | 0.0000 (0.0000) | 0.9000 (0.0000) |"
    assert path_row in text
    for name in ("table.png", "connectivity.png", "merge_accuracy.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
    (row,) = table_rows(records)
    assert row["label"] == "mnist shallow\n2 modules merged,\nunion accuracy"
    assert row["cells"]["ME"][0]["mean"] == pytest.approx(93.0)
    assert row["cells"]["XE"][0]["std"] == pytest.approx(100 * np.std([0.80, 0.84], ddof=1))


def test_kl_loss_of_integer_logits_equals_that_of_float_logits_at_a_fractional_temperature():
    """Integer logits with temperature 0.5: the temperature was cast to int (0) before."""
    logits = jnp.array([[1, 2, 0], [3, 0, 0]])
    targets = jnp.array([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])
    z = np.asarray(logits, float) / 0.5
    log_q = z - scipy.special.logsumexp(z, axis=1, keepdims=True)
    t = np.asarray(targets)
    expected = np.sum(scipy.special.xlogy(t, t) - np.where(t > 0, t * log_q, 0), axis=1)
    np.testing.assert_allclose(maxent.kl_loss(logits, targets, temperature=0.5), expected,
                               rtol=1e-12)


def test_rewarded_accuracy_does_not_count_unlabelled_samples():
    """Label -1 = unlabelled: before, it indexed the mask from the end (the last class)."""
    logits = jnp.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    labels = jnp.array([-1, 0, 1])
    rewarded = jnp.array([False, True])  # only class 1 rewarded; -1 would wrap to class 1
    # by hand: samples with label in R = {1}: only sample 2, predicted 1 -> 1/1
    assert float(maxent.rewarded_accuracy(logits, labels, rewarded)) == 1.0
    assert float(jax.jit(maxent.rewarded_accuracy)(logits, labels, rewarded)) == 1.0


# ------------------------------------------------------------- issue 17, probe 4: bad inputs
def test_round_ratio_refuses_a_fractional_number_of_rounds():
    with pytest.raises(TypeError, match="rounds must be an int"):
        maxent.round_ratio(0.5, 2.5)
    with pytest.raises(TypeError, match="rounds"):
        maxent.round_ratio(0.5, True)
    assert maxent.round_ratio(0.75, np.int64(2)) == pytest.approx(0.5, rel=1e-12)


def test_loss_barrier_refuses_ts_not_increasing_from_0_to_1():
    for ts in ([0.0, 1.0, 0.5], [0.2, 0.5, 1.0], [0.0, 0.5, 0.8], [0.0, 0.5, 0.5, 1.0]):
        with pytest.raises(ValueError, match="ts must increase strictly"):
            maxent.loss_barrier(jnp.asarray(ts), jnp.arange(len(ts), dtype=float))
    with pytest.raises(ValueError, match="ts must increase strictly"):
        jaxrg.checked(jax.jit(maxent.loss_barrier))(jnp.array([0.0, 1.0, 0.5]),
                                                    jnp.array([1.0, 3.0, 2.0]))
    # sorted, the same samples give the hand value: L = 1, 2, 3 at t = 0, .5, 1 -> 0
    assert float(maxent.loss_barrier([0.0, 0.5, 1.0], [1.0, 2.0, 3.0])) == 0.0
    nan_ts = jnp.array([0.0, np.nan, 1.0])
    assert np.isnan(float(jax.jit(maxent.loss_barrier)(nan_ts, jnp.array([1.0, 3.0, 2.0]))))


def test_merge_refuses_fewer_masks_than_modules():
    a, m = {"w": jnp.ones(3)}, {"w": jnp.ones(3, bool)}
    with pytest.raises(ValueError, match="2 modules but masks_list has 1"):
        maxent.merge([a, a], [m])
    with pytest.raises(ValueError, match="leading module axis"):
        maxent.merge({"w": jnp.ones((2, 3))}, {"w": jnp.ones((1, 3), bool)})
    with pytest.raises(ValueError, match="empty"):
        maxent.merge([], [])


def test_weighted_mean_refuses_negative_weights():
    with pytest.raises(ValueError, match="weights must be non-negative"):
        maxent.weighted_mean(jnp.array([1.0, 2.0]), jnp.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="weights must be non-negative"):
        jaxrg.checked(jax.jit(maxent.weighted_mean))(jnp.array([1.0, 2.0]),
                                                     jnp.array([1.0, -1.0]))
    # numpy reference; all-zero weights give 0 as documented
    v, w = np.array([1.0, 2.0, 4.0]), np.array([0.5, 0.0, 2.0])
    assert float(maxent.weighted_mean(jnp.asarray(v), jnp.asarray(w))) == pytest.approx(
        np.average(v, weights=w), rel=1e-12)
    assert float(maxent.weighted_mean(jnp.asarray(v), jnp.zeros(3))) == 0.0
    nan_w = jnp.array([1.0, np.nan, 1.0])
    assert np.isnan(float(jax.jit(maxent.weighted_mean)(jnp.asarray(v), nan_w)))


def test_kl_loss_refuses_targets_that_are_not_distributions():
    for bad in ([[1.0, 1.0]], [[1.5, -0.5]], [[0.3, 0.3]]):
        with pytest.raises(ValueError, match="targets must be non-negative rows summing to 1"):
            maxent.kl_loss(jnp.zeros((1, 2)), jnp.asarray(bad))
    with pytest.raises(ValueError, match="targets must be"):
        jaxrg.checked(jax.jit(maxent.kl_loss))(jnp.zeros((1, 2)), jnp.array([[1.0, 1.0]]))
    # a row of 1/7 sums to 1 only up to rounding, in float32 too: accepted, KL = 0 at uniform
    y = jnp.full((1, 7), 1 / 7, dtype=jnp.float32)
    assert abs(float(maxent.kl_loss(jnp.zeros((1, 7), jnp.float32), y)[0])) < 1e-5


def test_rewarded_accuracy_without_a_rewarded_label_is_an_error_naming_rewarded():
    logits, labels = jnp.eye(3), jnp.arange(3)
    with pytest.raises(ValueError, match="rewarded marks no class"):
        maxent.rewarded_accuracy(logits, labels, jnp.zeros(3, bool))
    with pytest.raises(ValueError, match="rewarded marks no class"):
        jaxrg.checked(jax.jit(maxent.rewarded_accuracy))(logits, labels, jnp.zeros(3, bool))
    assert np.isnan(float(jax.jit(maxent.rewarded_accuracy)(logits, labels, jnp.zeros(3, bool))))


def test_runs_with_one_rewarded_class_each_are_pooled_beside_table_1():
    from jaxrg.studies.maxent.experiment import summary_table

    rng = np.random.default_rng(0)
    records, pooled = [], {"r_acc": [], "entropy_out": []}
    for rewarded in ("0", "1", "2"):
        for seed in range(2):
            r = {"experiment": "table", "dataset": "yeast", "model": "shallow", "loss": "me",
                 "rewarded": rewarded, "seed": seed, "stage": None,
                 "r_acc": float(rng.uniform(0.9, 1)), "accuracy": 0.3,
                 "entropy_out": float(rng.uniform(1.1, 1.4)), "entropy_in": 1.0}
            records.append(r)
            pooled["r_acc"].append(r["r_acc"])
            pooled["entropy_out"].append(r["entropy_out"])
    records.append({**records[0], "rewarded": "0-1"})  # a two-class set is not pooled
    row = next(line for line in summary_table(records).splitlines() if "pooled" in line)
    cells = [c.strip() for c in row.split("|")]
    assert cells[3] == "each of {0,1,2}, pooled" and cells[5] == "6"
    for column, name in ((6, "r_acc"), (8, "entropy_out")):
        values = np.array(pooled[name])
        assert cells[column] == f"{values.mean():.4f} ({values.std(ddof=1):.4f})"
    assert "Table 1: R-Acc 0.995 (0.009), H_out 1.298 (0.062)" in row


def test_imp_stages_with_one_rewarded_class_each_are_pooled_per_stage():
    from jaxrg.studies.maxent.experiment import summary_table

    records = [{"experiment": "imp", "dataset": "yeast", "model": "deep", "loss": "me",
                "rewarded": rw, "seed": 0, "stage": stage, "sparsity": 0.5 * k,
                "r_acc": 1.0, "entropy_out": h + k}
               for rw, h in (("0", 1.0), ("1", 2.0)) for k, stage in enumerate(("imp0", "imp1"))]
    rows = [line for line in summary_table(records).splitlines() if "pooled" in line]
    assert [row.split("|")[5].strip() for row in rows] == ["imp0", "imp1"]
    assert [row.split("|")[9].strip() for row in rows] == [
        f"{np.mean([1.0, 2.0]):.4f} ({np.std([1.0, 2.0], ddof=1):.4f})",
        f"{np.mean([2.0, 3.0]):.4f} ({np.std([2.0, 3.0], ddof=1):.4f})"]


def test_run_merge_compares_three_merges_and_resumes(tmp_path):
    """IMP on three groups, merges of 2 and 3 modules by every method; a re-run adds nothing."""
    from jaxrg.studies.maxent.experiment import MaxEntConfig, report, run_merge, table_rows

    config = MaxEntConfig(dataset="yeast", seeds=(0,), losses=("me",), epochs=1, rounds=1,
                          sparsity=0.5, groups=((0,), (1,), (2, 3)), path_points=3,
                          merge_scales=(0.5, 1.0))
    records = run_merge(tmp_path, config, progress=False, data=_prepared())
    methods = [r for r in records if r["experiment"] == "methods"]
    assert sorted((r["modules"], r["method"]) for r in methods) == sorted(
        (j, m) for j in (2, 3) for m in ("maxent", "task_arithmetic", "ties"))
    merges = {r["modules"]: r for r in records if r["experiment"] == "merge"}
    for r in methods:
        assert r["rewarded"] == merges[r["modules"]]["rewarded"]
        assert len(r["barriers"]) == r["modules"] and r["barrier"] == max(r["barriers"])
        if r["method"] == "maxent":  # the paper's merge, evaluated twice: the same number
            assert r["union_accuracy"] == merges[r["modules"]]["union_accuracy"]
            assert r["scale"] is None
        else:
            assert r["scale"] in (0.5, 1.0)
    before = (tmp_path / "results.jsonl").read_bytes()
    run_merge(tmp_path, config, progress=False, data=_prepared())
    assert (tmp_path / "results.jsonl").read_bytes() == before
    text = report(tmp_path)
    assert "## Three merges of the same modules" in text
    assert "| yeast | shallow | ME | 3 | 0-1-2-3 | 1 |" in text
    assert (tmp_path / "merge_methods.png").stat().st_size > 1000
    labels = [row["label"] for row in table_rows(records)]
    assert "yeast shallow, groups 0|1|2-3\n3 modules merged,\nunion accuracy" in labels


def test_merge_settings_are_checked():
    from jaxrg.studies.maxent.experiment import MaxEntConfig

    with pytest.raises(ValueError, match="ties_density"):
        MaxEntConfig(ties_density=0.0).resolved()
    with pytest.raises(ValueError, match="merge_scales"):
        MaxEntConfig(merge_scales=(0.5, -1.0)).resolved()


def test_run_table_gives_the_cli_numbers_whatever_the_callers_x64_setting(tmp_path):
    # The CLI runs with jax_enable_x64 on; a Python session usually has it off. The same
    # configuration and seed must record the same numbers either way (bit for bit).
    from jaxrg.studies.maxent.experiment import MaxEntConfig, run_table

    config = MaxEntConfig(dataset="yeast", seeds=(0,), losses=("me", "xe"), rewarded=(0, 1),
                          epochs=2)
    runs = []
    for x64 in (False, True):
        with jax.enable_x64(x64):
            runs.append(run_table(tmp_path / str(x64), config, progress=False, data=_prepared()))
            assert jax.config.jax_enable_x64 is x64  # the caller's setting is restored
    fields = ("r_acc", "entropy_out", "kl", "train_loss")
    assert [[r[f] for f in fields] for r in runs[0]] == [[r[f] for f in fields] for r in runs[1]]


def test_cli_collect_adds_the_records_of_another_folder(capsys, tmp_path):
    """`jaxrg study maxent collect`: new keys are appended, held keys (an old record without
    ``init`` is Flax's) keep their record, the table reads the union."""
    from jaxrg import _io
    from jaxrg.cli import main
    from jaxrg.studies.maxent.experiment import KEY_FIELDS

    base = {"experiment": "table", "dataset": "yeast", "model": "shallow", "loss": "me",
            "rewarded": "0", "stage": "dense", "r_acc": 0.99, "accuracy": 0.4,
            "entropy_out": 1.2}
    _io.append_jsonl(tmp_path / "here" / "results.jsonl", base | {"seed": 0})
    for seed in (0, 1):
        _io.append_jsonl(tmp_path / "there" / "results.jsonl",
                         base | {"seed": seed, "init": "flax", "r_acc": 0.5 + seed})
    assert main(["study", "maxent", "collect", str(tmp_path / "there"), "--out",
                 str(tmp_path / "here")]) == 0
    assert "1 new record(s), 1 already there (1 with another" in capsys.readouterr().out
    records = _io.read_jsonl(tmp_path / "here" / "results.jsonl")
    assert [(r["seed"], r["r_acc"]) for r in records] == [(0, 0.99), (1, 1.5)]
    assert "init" in KEY_FIELDS


def test_connectivity_figure_draws_the_seed_mean_per_setting_with_a_four_line_legend(
        tmp_path, monkeypatch):
    """Two settings x 3 seeds x ME/XE: a (loss, accuracy) pair of panels per setting, each line
    the mean over seeds (band min-max), and one legend of loss x path kind (not one per seed)."""
    import jaxrg.plots._common as common
    from jaxrg.studies.maxent.experiment import plot_all

    figures = {}
    real_save = common.save

    def capture(fig, path, **kw):
        figures[pathlib.Path(path).name] = (fig.axes, [t.get_text() for leg in fig.legends
                                                       for t in leg.get_texts()])
        return real_save(fig, path, **kw)

    monkeypatch.setattr(common, "save", capture)
    records = []
    for rewarded in ("0-1-2-3-4|5-6-7-8-9", "0|1|2|3|4"):
        for seed in range(3):
            for loss in ("me", "xe"):
                shift = seed + (10 if loss == "xe" else 0)
                merge = {"ts": [0.0, 0.5, 1.0], "losses": [1.0 + shift, 0.4, 1.2],
                         "accuracies": [0.5, 0.9 - 0.01 * seed, 0.5]}
                linear = {**merge, "losses": [2.0, 2.0 + shift, 2.0]}
                records.append({"experiment": "path", "dataset": "mnist", "model": "shallow",
                                "loss": loss, "seed": seed, "stage": "path",
                                "rewarded": rewarded, "merge": merge, "linear": linear})
    plot_all(tmp_path, records)
    axes, legend = figures["connectivity.png"]
    panels = [ax for ax in axes if ax.get_visible()]
    assert len(panels) == 4
    assert legend == ["ME, merge path", "ME, linear path", "XE, merge path", "XE, linear path"]
    loss_panel = panels[0]
    assert "0-1-2-3-4|5-6-7-8-9 (3 seeds)" in loss_panel.get_title()
    ys = [list(line.get_ydata()) for line in loss_panel.lines]
    # ME merge: mean of 1 + seed over seeds 0..2 = 2 at t = 0; XE linear: mean 2 + 10 + seed
    assert ys[0] == pytest.approx([2.0, 0.4, 1.2])
    assert ys[3] == pytest.approx([2.0, 13.0, 2.0])
    assert len(loss_panel.collections) == 4  # one min-max band per line


# -------------------------------------------- round sixteen: NaN, tolerances, paths (sweep)
def test_rewarded_accuracy_refuses_nan_logits_and_is_nan_under_jit():
    """argmax ranks NaN highest: a NaN row counted as predicting its NaN's class (0.667 for
    an undefined accuracy). Reference: the count by hand over the valid rows."""
    nan, inf = np.nan, np.inf
    labels, every = jnp.array([2, 1, 0]), jnp.ones(3, bool)
    for bad in ([[nan, 0, 1], [0, 2, 1], [3, 0, 0]], [[nan, nan, nan], [0, 2, 1], [3, 0, 0]],
                [[0, inf, 1], [0, 2, 1], [3, 0, 0]], [[-inf, -inf, -inf], [0, 2, 1], [3, 0, 0]]):
        z = jnp.asarray(bad)
        with pytest.raises(ValueError, match="logits"):
            maxent.rewarded_accuracy(z, labels, every)
        if not np.isneginf(bad[0]).all():  # checkify checks NaN and +inf (as jaxrg.info does)
            with pytest.raises(ValueError, match="logits contain"):
                jaxrg.checked(jax.jit(maxent.rewarded_accuracy))(z, labels, every)
        assert np.isnan(float(jax.jit(maxent.rewarded_accuracy)(z, labels, every))), bad
    # a NaN row whose label is not rewarded is not counted: rows 1, 2 both right -> 1.0
    z = jnp.array([[nan, 0, 1], [0, 2, 1], [3, 0, 0]])
    only = jnp.array([True, True, False])
    assert float(jax.jit(maxent.rewarded_accuracy)(z, labels, only)) == 1.0
    # the training metrics' plain accuracy (argmax over all classes) is NaN too, not 2/3
    targets = maxent.targets(labels, every, 3)
    metrics = jax.jit(tm.metrics_from_logits)(z, labels, every, targets)
    assert np.isnan(float(metrics.accuracy)) and np.isnan(float(metrics.r_acc))
    finite = tm.metrics_from_logits(jnp.nan_to_num(z), labels, every, targets)
    assert float(finite.accuracy) == 1.0  # NaN -> 0: argmaxes 2, 1, 0 = labels


def test_kl_loss_row_sum_tolerance_is_a_sum_round_off_not_sqrt_eps_times_c():
    """The tolerance was sqrt(eps) c: 0.69 at c = 2000 in float32, so a row summing to 1.5 gave
    a KL (0.608); 1.003 passed at c = 10. Genuine targets (uniform 1/c up to c = 1e5, QME, a
    float64 row cast to float32) still pass with KL(u || u) = 0 at zero logits."""
    with jax.enable_x64(False):
        for c, total in ((2000, 1.5), (10, 1.003), (10, 0.998)):
            with pytest.raises(ValueError, match="targets must be non-negative rows summing"):
                maxent.kl_loss(jnp.zeros((1, c)), jnp.full((1, c), total / c))
        for c in (3, 7, 10, 1000, 10**5):
            for kind in ("me", "qme"):
                rewarded = jnp.zeros(c, bool).at[0].set(True)
                t = maxent.targets(jnp.array([c - 1]), rewarded, c, kind=kind)
                assert t.dtype == jnp.float32
                kl = float(maxent.kl_loss(jnp.zeros((1, c)), t)[0])
                # closed form: KL(t || uniform) = log c - H(t), H(t) = log c or log(c - 1)
                want = 0.0 if kind == "me" else math.log(c) - math.log(c - 1)
                assert kl == pytest.approx(want, abs=1e-5), (c, kind)
            cast = jnp.asarray(np.full((1, c), 1.0 / c), jnp.float32)  # float64 1/c, rounded
            assert abs(float(maxent.kl_loss(jnp.zeros((1, c)), cast)[0])) < 1e-5


def test_magnitude_prune_refuses_nan_weights_and_never_keeps_them_under_jit():
    """argsort put NaN last: [nan, .1, .2, .3] at ratio 0.5 kept the NaN as "the largest"."""
    masks = {"w": jnp.ones(4, bool)}
    for bad in ([np.nan, 0.1, 0.2, 0.3], [0.1, np.inf, 0.2, 0.3]):
        with pytest.raises(ValueError, match=r"params\['w'\] holds 1 NaN or inf"):
            maxent.magnitude_prune({"w": jnp.asarray(bad)}, masks, 0.5)
        with pytest.raises(ValueError, match=r"params\['w'\] holds 1 NaN or inf"):
            jaxrg.checked(jax.jit(maxent.magnitude_prune))({"w": jnp.asarray(bad)}, masks, 0.5)
    params = {"w": jnp.array([np.nan, 0.1, 0.2, 0.3])}
    prune = jax.jit(maxent.magnitude_prune)
    # k = round(0.5 * 4) = 2 removed: the NaN, then the smallest, 0.1
    assert np.asarray(prune(params, masks, 0.5)["w"]).tolist() == [False, False, True, True]
    # k = 0: nothing ranks below, yet the NaN is removed
    assert np.asarray(prune(params, masks, 0.0)["w"]).tolist() == [False, True, True, True]
    # finite weights: unchanged (numpy stable argsort reference)
    w = np.array([0.3, -0.1, 0.2, 0.05])
    got = np.asarray(prune({"w": jnp.asarray(w)}, masks, 0.5)["w"])
    want = np.ones(4, bool)
    want[np.argsort(np.abs(w), kind="stable")[:2]] = False
    assert got.tolist() == want.tolist()


def test_connectivity_path_promotes_integer_leaves_and_refuses_t_outside_the_unit_interval():
    """Integer leaves: a.astype(int) truncated (1 - t) to 0, so the linear path at t = 0.25 was
    [0, 0]; t = 2 extrapolated silently. By hand: 0.75 [1, 2] + 0.25 [3, 4] = [1.5, 2.5]; merge
    path at 0.25: [1, 2] + 0.5 [3, 4] = [2.5, 4]."""
    p1, p2 = {"w": jnp.array([1, 2])}, {"w": jnp.array([3, 4])}
    lin = maxent.connectivity_path(p1, p2, 0.25, kind="linear")["w"]
    assert jnp.issubdtype(lin.dtype, jnp.floating)
    np.testing.assert_allclose(np.asarray(lin), [1.5, 2.5], rtol=1e-15)
    np.testing.assert_allclose(np.asarray(maxent.connectivity_path(p1, p2, 0.25)["w"]),
                               [2.5, 4.0], rtol=1e-15)
    f1, f2 = {"w": jnp.array([1.0])}, {"w": jnp.array([3.0])}
    for t in (2.0, -0.1, np.nan):
        with pytest.raises(ValueError, match="t must lie in \\[0, 1\\]"):
            maxent.connectivity_path(f1, f2, t, kind="linear")
    with pytest.raises(ValueError, match="t must lie in \\[0, 1\\]"):
        jaxrg.checked(jax.jit(maxent.connectivity_path))(f1, f2, 2.0)
    for kind in ("merge", "linear"):
        out = jax.jit(maxent.connectivity_path, static_argnames="kind")(f1, f2, 2.0, kind=kind)
        assert np.isnan(np.asarray(out["w"])).all(), kind
    # a traced grid inside [0, 1] (vmap) is the loop of eager calls
    grid = jnp.linspace(0.0, 1.0, 5)
    batched = jax.vmap(lambda t: maxent.connectivity_path(f1, f2, t)["w"])(grid)
    looped = jnp.stack([maxent.connectivity_path(f1, f2, t)["w"] for t in grid])
    np.testing.assert_array_equal(np.asarray(batched), np.asarray(looped))


def test_prediction_entropy_validates_logits_as_the_info_entropies_do():
    """A row of only -inf gave -inf (range [0, log c]); +inf and NaN gave NaN silently.
    Valid rows beside an invalid one under jit: scipy's entropy."""
    inf, nan = np.inf, np.nan
    for bad, message in (([[-inf, -inf]], "every entry is -inf"), ([[0.0, inf]], r"\+inf"),
                         ([[0.0, nan]], "NaN")):
        with pytest.raises(ValueError, match=message):
            maxent.prediction_entropy(jnp.asarray(bad))
        with pytest.raises(ValueError, match="logits"):
            jaxrg.info.shannon_entropy(jnp.asarray(bad))  # the same refusal
        z = jnp.concatenate([jnp.asarray(bad), jnp.array([[0.0, 1.0]])])
        got = np.asarray(jax.jit(maxent.prediction_entropy)(z, temperature=1.0))
        assert np.isnan(got[0]), bad
        assert got[1] == pytest.approx(scipy.stats.entropy(scipy.special.softmax([0.0, 1.0])),
                                       rel=1e-12)
    with pytest.raises(ValueError, match="logits contain NaN"):
        jaxrg.checked(jax.jit(maxent.prediction_entropy))(jnp.array([[0.0, nan]]))
