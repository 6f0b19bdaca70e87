"""Values-only eigvalsh: against numpy/scipy, under jit and vmap, gradients against eigh."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from tolerances import tol

from jaxrg.eigenvalues import eigvalsh


def sym(rng, *shape):
    a = rng.standard_normal(shape)
    return (a + np.swapaxes(a, -1, -2)) / 2


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_scipy_values_only_driver(dtype):
    a = sym(np.random.default_rng(0), 40, 40).astype(dtype)
    expected = scipy.linalg.eigvalsh(a.astype(np.float64), driver="evd")
    got = jax.jit(eigvalsh)(jnp.asarray(a))
    assert got.dtype == dtype
    # float32: eigenvalues of a unit-scale 40x40 matrix carry ~N eps absolute error
    np.testing.assert_allclose(
        got, expected, **(tol(dtype) if dtype == "float64" else {"rtol": 1e-4, "atol": 1e-4})
    )


def test_vmap_over_a_batch_equals_one_at_a_time():
    a = jnp.asarray(sym(np.random.default_rng(1), 5, 12, 12))
    batched = jax.jit(jax.vmap(eigvalsh))(a)
    for b in range(5):
        np.testing.assert_allclose(
            batched[b], np.linalg.eigvalsh(np.asarray(a[b])), **tol("float64")
        )


def test_gradient_equals_eigh_gradient():
    a = jnp.asarray(sym(np.random.default_rng(2), 8, 8))
    weights = jnp.arange(8.0)

    def ours(m):
        return jnp.sum(weights * eigvalsh(m))

    def reference(m):
        return jnp.sum(weights * jnp.linalg.eigh(m)[0])

    np.testing.assert_allclose(jax.grad(ours)(a), jax.grad(reference)(a), **tol("float64"))


def test_non_square_raises():
    with pytest.raises(ValueError, match="N, N"):
        eigvalsh(jnp.zeros((3, 4)))


def test_half_precision_matrices_are_solved_in_float32():
    from jaxrg.eigenvalues import eigvalsh

    a = np.array([[2.0, -1.0], [-1.0, 2.0]])
    out = eigvalsh(jnp.asarray(a, jnp.float16))
    assert out.dtype == jnp.float16
    np.testing.assert_allclose(np.asarray(out, float), [1.0, 3.0], rtol=1e-3)


def test_eager_cpu_call_goes_to_numpy_without_compiling_a_callback_program(monkeypatch):
    import jaxrg.eigenvalues as module

    def no_callback(matrix):
        raise AssertionError("the callback program was built")

    monkeypatch.setattr(module, "_cpu", no_callback)
    a = sym(np.random.default_rng(3), 2, 9, 9)  # a batch, unsymmetrised input symmetrised too
    a[0, 0, 1] += 0.5
    got = eigvalsh(jnp.asarray(a))
    expected = np.linalg.eigvalsh((a + np.swapaxes(a, -1, -2)) / 2)
    assert isinstance(got, jax.Array) and got.dtype == jnp.float64
    np.testing.assert_allclose(got, expected, **tol("float64"))
    with pytest.raises(AssertionError, match="callback program"):  # traced calls still use it
        jax.jit(eigvalsh)(jnp.asarray(a))


def test_eager_and_jitted_calls_agree_and_nan_in_gives_nan_out():
    a = sym(np.random.default_rng(4), 3, 6, 6)
    a[1, 2, 3] = a[1, 3, 2] = np.nan
    eager, jitted = eigvalsh(jnp.asarray(a)), jax.jit(eigvalsh)(jnp.asarray(a))
    np.testing.assert_array_equal(np.isnan(eager), [[False] * 6, [True] * 6, [False] * 6])
    np.testing.assert_allclose(eager, jitted, **tol("float64"))


def test_float32_entries_above_half_the_largest_float_do_not_overflow_the_symmetrisation():
    """(M + M^T) / 2 overflowed for entries above 1.7e38 in float32: a path with weights 1e38
    (degrees 2e38, accepted) gave NaN for the spectrum 0, 1e38, 3e38 (closed form)."""
    import jaxrg

    a = np.array([[0, 1e38, 0], [1e38, 0, 1e38], [0, 1e38, 0]], np.float32)
    with jax.enable_x64(False):
        lap = jaxrg.laplacian(a)
        for got in (eigvalsh(lap), jax.jit(eigvalsh)(lap), jaxrg.laplacian_spectrum(a),
                    jax.jit(jaxrg.laplacian_spectrum)(jnp.asarray(a))):
            np.testing.assert_allclose(np.asarray(got, np.float64), [0, 1e38, 3e38], rtol=1e-6,
                                       atol=1e32)
