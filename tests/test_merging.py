"""Tests of jaxrg.merging against numpy loops written from the papers' definitions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tolerances import tol

from jaxrg.maxent import merge
from jaxrg.merging import task_arithmetic, task_vectors, ties_merge


def _tree(rng, n=None):
    shape = (n,) if n else ()
    return {"a": rng.normal(size=shape + (3, 4)), "b": rng.normal(size=shape + (5,))}


def _np_ties(base, modules, density, scale):
    """Oracle: flatten, trim each task vector to its top entries, elect, disjoint mean (loops)."""
    flat0 = np.concatenate([base["a"].ravel(), base["b"].ravel()])
    taus = [np.concatenate([m["a"].ravel(), m["b"].ravel()]) - flat0 for m in modules]
    keep = max(1, round(density * flat0.size))
    trimmed = []
    for t in taus:
        thr = np.sort(np.abs(t))[::-1][keep - 1]
        trimmed.append(np.where(np.abs(t) >= thr, t, 0.0))
    out = np.zeros_like(flat0)
    for j in range(flat0.size):
        gamma = np.sign(sum(t[j] for t in trimmed))
        vals = [t[j] for t in trimmed if t[j] != 0 and np.sign(t[j]) == gamma]
        out[j] = np.mean(vals) if vals else 0.0
    merged = flat0 + scale * out
    return {"a": merged[:12].reshape(3, 4), "b": merged[12:]}


@pytest.mark.parametrize("num_modules", [2, 3, 5])
@pytest.mark.parametrize("density", [0.2, 0.5, 1.0])
def test_ties_matches_the_loop_definition(num_modules, density):
    rng = np.random.default_rng(num_modules)
    base = _tree(rng)
    modules = [_tree(rng) for _ in range(num_modules)]
    got = ties_merge(base, modules, density=density, scale=0.7)
    want = _np_ties(base, modules, density, 0.7)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], **tol(np.float64))


@pytest.mark.parametrize("num_modules", [2, 3, 5])
def test_task_arithmetic_is_the_scaled_sum_of_task_vectors(num_modules):
    rng = np.random.default_rng(10 + num_modules)
    base = _tree(rng)
    stacked = _tree(rng, num_modules)  # one pytree with a leading module axis
    got = task_arithmetic(base, stacked, scale=0.5)
    for k in base:
        want = base[k] + 0.5 * sum(stacked[k][i] - base[k] for i in range(num_modules))
        np.testing.assert_allclose(got[k], want, **tol(np.float64))
    # lambda = 1 from a zero base on disjoint supports is the paper's masked-sum merge
    zero = jax.tree.map(np.zeros_like, base)
    masks = [jax.tree.map(lambda x, i=i: (np.arange(x.size).reshape(x.shape) % num_modules) == i,
                          base) for i in range(num_modules)]
    masked = [jax.tree.map(lambda x, m: np.where(m, x, 0.0), base, m) for m in masks]
    summed, _ = merge(masked, masks)
    arith = task_arithmetic(zero, masked, scale=1.0)
    for k in base:
        np.testing.assert_allclose(arith[k], summed[k], **tol(np.float64))


def test_ties_resolves_sign_conflicts_and_works_under_jit():
    base = {"w": jnp.zeros(4)}
    mods = [{"w": jnp.array([1.0, 2.0, -1.0, 0.0])}, {"w": jnp.array([3.0, -1.0, -3.0, 0.0])}]
    out = jax.jit(lambda b, m: ties_merge(b, m, density=1.0, scale=1.0))(base, mods)
    # entry 1: signs disagree, the sum (+1) elects +, only module 0 counts -> 2; entry 3: none
    np.testing.assert_allclose(out["w"], [2.0, 2.0, -2.0, 0.0], **tol(np.float64))


@pytest.mark.parametrize("density", [0.5, 1.0])
def test_a_nan_in_a_module_gives_a_nan_merge_not_a_finite_one(density):
    base = {"w": jnp.zeros(3), "b": jnp.zeros(2)}
    mods = [{"w": jnp.array([1.0, jnp.nan, 0.0]), "b": jnp.ones(2)},
            {"w": jnp.ones(3), "b": jnp.ones(2)}]
    # before: the trim dropped the NaN and the merge read [1, 1, 1], a plausible answer
    for merge_fn in (ties_merge, jax.jit(ties_merge, static_argnames="density")):
        out = merge_fn(base, mods, density=density)
        assert all(np.isnan(leaf).all() for leaf in jax.tree.leaves(out))
    assert np.isnan(task_arithmetic(base, mods)["w"][1])  # entry-wise, as the arithmetic is
    clean = [jax.tree.map(jnp.nan_to_num, m) for m in mods]
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(ties_merge(base, clean)))


def test_bad_inputs_raise():
    base = {"w": jnp.zeros(3)}
    with pytest.raises(ValueError, match="density"):
        ties_merge(base, [base], density=0.0)
    with pytest.raises(ValueError, match="at least one"):
        task_arithmetic(base, [])
    with pytest.raises(ValueError, match="shape"):
        task_vectors(base, [{"w": jnp.zeros(4)}])


def test_integer_leaves_are_promoted_to_float_not_truncated():
    base, mods = {"w": jnp.array([1, 2])}, [{"w": jnp.array([2, 2])}]
    # 1 + 0.5 * (2 - 1) = 1.5 (was the int 1)
    out = task_arithmetic(base, mods, scale=0.5)
    assert jnp.issubdtype(out["w"].dtype, jnp.floating)
    np.testing.assert_allclose(out["w"], [1.5, 2.0], **tol(np.float64))
    # TIES of one module at density 1 is task arithmetic: the same 1.5
    np.testing.assert_allclose(
        ties_merge(base, mods, density=1.0, scale=0.5)["w"], [1.5, 2.0], **tol(np.float64)
    )
    assert jnp.issubdtype(task_vectors(base, mods)["w"].dtype, jnp.floating)
    # an integer module next to a float32 base takes the base's dtype
    out32 = task_arithmetic({"w": jnp.array([1.0, 2.0], jnp.float32)}, mods, scale=0.5)
    assert out32["w"].dtype == jnp.float32
    np.testing.assert_allclose(out32["w"], [1.5, 2.0], **tol(np.float32))


def test_boolean_leaves_are_promoted_like_integer_leaves_in_ties():
    """Probe 4: a bool leaf raised JAX's raw "sub does not accept dtype bool"."""
    base = {"m": jnp.array([True, False, True])}
    mods = [{"m": jnp.array([False, False, True])}, {"m": jnp.array([True, True, True])}]
    # by hand: tau = (-1, 0, 0) and (0, 1, 0); elected signs (-1, 1, 0); disjoint means
    # (-1, 1, 0); base + 0.5 * that = (0.5, 0.5, 1)
    out = ties_merge(base, mods, density=1.0, scale=0.5)["m"]
    assert jnp.issubdtype(out.dtype, jnp.floating)
    np.testing.assert_allclose(out, [0.5, 0.5, 1.0], **tol(np.float64))
    np.testing.assert_allclose(task_arithmetic(base, mods, scale=0.5)["m"], [0.5, 0.5, 1.0],
                               **tol(np.float64))


def test_modules_stacked_on_a_leading_axis_are_accepted_when_base_is_a_tuple():
    """The documented stacked form of ``modules`` (one pytree of ``base``'s structure, leaves
    with a leading module axis) was taken for a list of modules when ``base`` is itself a tuple
    ("modules must have the tree structure of base"). Reference: the list form, and the sum
    written out."""
    base = (jnp.zeros(2), jnp.zeros(1))
    listed = [(jnp.array([1.0, 2.0]), jnp.array([3.0])), (jnp.array([3.0, 4.0]), jnp.array([5.0]))]
    stacked = (jnp.array([[1.0, 2.0], [3.0, 4.0]]), jnp.array([[3.0], [5.0]]))
    for modules in (stacked, listed):
        merged = task_arithmetic(base, modules, scale=0.5)
        np.testing.assert_allclose(merged[0], [2.0, 3.0], rtol=1e-6)
        np.testing.assert_allclose(merged[1], [4.0], rtol=1e-6)
    tied = ties_merge(base, stacked, density=1.0, scale=1.0)
    reference = ties_merge(base, listed, density=1.0, scale=1.0)
    for a, b in zip(tied, reference, strict=True):
        np.testing.assert_array_equal(a, b)
    assert task_vectors(base, stacked)[0].shape == (2, 2)
