"""The shared training engine (jaxrg/studies/_common/engine.py) against optax and closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxrg.studies._common.engine import (
    map_seeds,
    optimizer_step,
    tree_where,
    warmup_cosine,
    with_x64,
)


@pytest.mark.parametrize("floor", [0.0, 0.01, 0.05])
def test_cosine_without_warmup_equals_optax_cosine_decay(floor):
    steps = 37
    ours = warmup_cosine(0.3, steps, floor=floor, dtype=jnp.float64)
    ref = optax.cosine_decay_schedule(0.3, steps, alpha=floor)
    counts = np.arange(0, 2 * steps)
    with jax.numpy_dtype_promotion("standard"):
        want = np.array([float(ref(c)) for c in counts])
    got = np.array([float(ours(jnp.asarray(c, jnp.int32))) for c in counts])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)


def test_warmup_is_a_linear_ramp_times_the_cosine():
    steps, warm, floor = 100, 10, 0.05
    s = warmup_cosine(2.0, steps, floor=floor, warmup=warm, dtype=jnp.float64)
    c = np.arange(0, 150)
    want = 2.0 * np.minimum(c / warm, 1) * (
        floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * np.minimum(c / steps, 1))))
    got = np.array([float(s(jnp.asarray(k, jnp.int32))) for k in c])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ValueError, match="steps"):
        warmup_cosine(1.0, 0, floor=0.1)


def test_optimizer_step_equals_optax_update_and_apply_under_strict_promotion():
    params = {"w": jnp.arange(3.0), "b": jnp.ones(())}
    grads = {"w": jnp.array([0.1, -0.2, 0.3]), "b": jnp.array(0.5)}
    opt = optax.adam(1e-2)
    state = opt.init(params)
    got, got_state = optimizer_step(opt, grads, state, params)  # strict promotion in tests
    got, got_state = optimizer_step(opt, grads, got_state, got)
    with jax.numpy_dtype_promotion("standard"):
        want, want_state = params, state
        for _ in range(2):
            updates, want_state = opt.update(grads, want_state, want)
            want = optax.apply_updates(want, updates)
    for k in params:
        np.testing.assert_array_equal(got[k], want[k])
    assert int(got_state[0].count) == 2


def test_blocks_of_seeds_give_the_same_numbers_as_one_vmap():
    x = jax.random.normal(jax.random.key(0), (5, 4, 3))

    def fn(a):
        return jnp.tanh(a @ a.T).sum(axis=0)

    whole = map_seeds(fn, x)
    for batch in (1, 2, 5, 9):
        np.testing.assert_allclose(map_seeds(fn, x, batch=batch), whole, rtol=1e-12)
    np.testing.assert_allclose(whole, np.stack([fn(a) for a in x]), rtol=1e-12)


def test_tree_where_picks_whole_trees():
    new, old = {"a": jnp.ones(2), "b": jnp.ones(())}, {"a": jnp.zeros(2), "b": jnp.zeros(())}
    assert tree_where(jnp.array(True), new, old)["a"].tolist() == [1.0, 1.0]
    picked = jax.jit(tree_where)(jnp.array(False), new, old)
    assert picked["a"].tolist() == [0.0, 0.0] and float(picked["b"]) == 0.0


@pytest.mark.parametrize("caller", [False, True])
def test_with_x64_turns_x64_on_inside_and_restores_the_callers_setting(caller):
    def inner(fail):
        assert jax.config.jax_enable_x64 is True
        if fail:
            raise RuntimeError("boom")
        return jnp.zeros(()).dtype

    wrapped = with_x64(inner)
    assert wrapped.__name__ == "inner"
    with jax.enable_x64(caller):
        assert wrapped(False) == jnp.float64
        assert jax.config.jax_enable_x64 is caller
        with pytest.raises(RuntimeError, match="boom"):
            wrapped(True)
        assert jax.config.jax_enable_x64 is caller  # restored after an exception too
