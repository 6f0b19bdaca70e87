"""Tests of jaxrg.studies.maxent.merging: identities every merge must satisfy."""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxrg.studies.maxent import train as tm
from jaxrg.studies.maxent.merging import METHODS, compare_merges, merged_params
from jaxrg.studies.maxent.subnetworks import make_model


def _model(seed):
    model = make_model("shallow", 4, 6, seed=seed, dropout=0.0, hidden=(8,))
    return nnx.split(model, nnx.Param)


def _data():
    rng = np.random.default_rng(0)
    return jnp.asarray(rng.normal(size=(60, 4)).astype(np.float32)), jnp.asarray(
        np.arange(60) % 6)


def test_one_module_from_a_zero_start_is_returned_by_every_method():
    graphdef, params = _model(0)
    zero = jax.tree.map(jnp.zeros_like, params)
    masks = [tm.full_masks(params)]
    merged = merged_params(zero, [params], masks, scale=1.0, density=1.0)
    for method in METHODS:
        for a, b in zip(jax.tree.leaves(merged[method]), jax.tree.leaves(params), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    x, y = _data()
    rows = compare_merges(graphdef, zero, [params], masks, x, y, [(0, 1, 2)], 6, points=3,
                          density=1.0)
    accs = {r["method"]: r["union_accuracy"] for r in rows}
    assert len(set(accs.values())) == 1  # the same model three times
    assert all(abs(r["barrier"]) < 1e-5 for r in rows)  # a constant path has no barrier


def test_three_modules_give_a_row_per_method_with_nonnegative_barriers():
    graphdef, init = _model(1)
    modules = [_model(s)[1] for s in (2, 3, 4)]
    masks = [tm.full_masks(init)] * 3
    x, y = _data()
    rows = compare_merges(graphdef, init, modules, masks, x, y, [(0, 1), (2, 3), (4, 5)], 6,
                          points=3)
    assert [r["method"] for r in rows] == list(METHODS)
    for r in rows:
        assert r["modules"] == 3 and len(r["module_r_acc"]) == 3 and len(r["barriers"]) == 3
        assert 0.0 <= r["union_accuracy"] <= 1.0
        assert min(r["barriers"]) >= -1e-6  # the sampled end points bound the linear reference


def test_lambda_is_the_grid_point_of_best_validation_union_accuracy():
    graphdef, init = _model(1)
    modules = [_model(s)[1] for s in (2, 3)]
    masks = [tm.full_masks(init)] * 2
    x, y = _data()
    xv, yv = x[::-1] * 0.5, y[::-1]
    grid = (0.25, 0.5, 1.0, 1.5)
    rows = compare_merges(graphdef, init, modules, masks, x, y, [(0, 1), (2, 3)], 6, points=3,
                          scales=grid, x_val=xv, labels_val=yv)
    by = {r["method"]: r for r in rows}
    assert by["maxent"]["scale"] is None
    for method in ("task_arithmetic", "ties"):
        # each candidate on its own, evaluated on the validation data as the test data
        val = [compare_merges(graphdef, init, modules, masks, xv, yv, [(0, 1), (2, 3)], 6,
                              points=2, scale=lam)
               for lam in grid]
        accs = [next(r for r in v if r["method"] == method)["union_accuracy"] for v in val]
        best = grid[int(np.argmax(accs))]  # first of the grid on ties, as documented
        assert by[method]["scale"] == best
        assert by[method]["val_union_accuracy"] == max(accs)
        # and the test numbers are those of the merge at that lambda
        alone = compare_merges(graphdef, init, modules, masks, x, y, [(0, 1), (2, 3)], 6,
                               points=3, scale=best)
        mine = next(r for r in alone if r["method"] == method)
        assert mine["union_accuracy"] == by[method]["union_accuracy"]
        np.testing.assert_allclose(mine["barriers"], by[method]["barriers"], rtol=1e-6)


def test_a_lambda_grid_without_validation_data_is_an_error_naming_it():
    import pytest

    graphdef, init = _model(1)
    x, y = _data()
    with pytest.raises(ValueError, match="x_val and labels_val"):
        compare_merges(graphdef, init, [init], [tm.full_masks(init)], x, y, [(0,)], 6,
                       scales=(0.5, 1.0))
    with pytest.raises(ValueError, match="at least one candidate"):
        compare_merges(graphdef, init, [init], [tm.full_masks(init)], x, y, [(0,)], 6,
                       scales=(), x_val=x, labels_val=y)


def test_task_arithmetic_at_one_over_n_predicts_as_the_paper_merge():
    """λ = 1/n removes θ₀: the merge is the sum / n, and a ReLU MLP with a bias-free head only
    rescales its logits (by 1/n², one hidden layer), so every prediction stays the same."""
    graphdef, init = _model(5)
    modules = [_model(s)[1] for s in (6, 7, 8)]
    masks = [tm.full_masks(init)] * 3
    x, y = _data()
    groups = [(0, 1), (2, 3), (4, 5)]
    rows = {r["method"]: r for r in compare_merges(graphdef, init, modules, masks, x, y, groups,
                                                   6, points=2, scale=1.0 / 3.0)}
    assert rows["task_arithmetic"]["union_accuracy"] == rows["maxent"]["union_accuracy"]
    assert rows["task_arithmetic"]["module_r_acc"] == rows["maxent"]["module_r_acc"]
    merged = merged_params(init, modules, masks, scale=1.0 / 3.0)
    logits_sum = tm.logits_of(graphdef, merged["maxent"], x)
    logits_ta = tm.logits_of(graphdef, merged["task_arithmetic"], x)
    np.testing.assert_allclose(logits_ta, logits_sum / 9.0, rtol=2e-5, atol=1e-6)
    # at another lambda theta_0 comes back and the logits are no longer a multiple
    other = merged_params(init, modules, masks, scale=0.5)["task_arithmetic"]
    assert not np.allclose(tm.logits_of(graphdef, other, x), logits_sum / 4.0, rtol=1e-3)
