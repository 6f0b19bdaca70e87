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
