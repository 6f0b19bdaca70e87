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


def _path(weight: float) -> np.ndarray:
    """A 3-node path with both weights ``weight`` (float32): spectrum 0, w, 3w (closed form)."""
    return np.array([[0, weight, 0], [weight, 0, weight], [0, weight, 0]], np.float32)


def test_float32_small_normal_weights_survive_the_symmetrisation_under_jit():
    """``M / 2 + M^T / 2`` made weights of 2e-38 (normal in float32) subnormal halves, which
    XLA on the CPU flushes to 0: under ``jit`` and ``vmap`` the connected path read
    [0, 0, 4e-38] for [0, 2e-38, 6e-38] (the eager NumPy call was right). Symmetrised at a
    power-of-two scale (``_numerics.symmetrised``), every route gives the closed form."""
    import jaxrg

    a = _path(2e-38)
    with jax.enable_x64(False):
        batch = jaxrg.pad_adjacency([a, a])
        routes = (jax.jit(jaxrg.laplacian_spectrum)(jnp.asarray(a)),
                  jax.vmap(jaxrg.laplacian_spectrum)(*batch)[0],
                  jax.jit(eigvalsh)(jaxrg.laplacian(a)), jaxrg.laplacian_spectrum(a))
        for got in routes:
            np.testing.assert_allclose(np.asarray(got, np.float64), [0, 2e-38, 6e-38],
                                       rtol=1e-6, atol=1e-44)


def test_float32_weights_of_1e38_keep_their_gradient_and_heat_kernel():
    """Round fourteen fixed the value only: eigh's own ``(M + M^T) / 2`` still overflowed in
    the derivative (dλ₃/d(A₀₁ + A₁₀) 0.0 for 1.5) and the heat kernel ("not positive
    semi-definite (smallest eigenvalue nan)"), and a power-of-two scale of 2^127 was divided by
    its subnormal reciprocal (0). The closed form λ₃ = 3w gives the derivative 1.5 for each
    direction of an edge; the heat kernel is expm of the Laplacian in units of w."""
    import jaxrg

    with jax.enable_x64(False):
        for weight in (1e37, 1e38):
            a = jnp.asarray(_path(weight))
            grad = np.asarray(jax.grad(lambda m: jaxrg.laplacian_spectrum(m)[2])(a))
            np.testing.assert_allclose(grad[0, 1] + grad[1, 0], 1.5, rtol=1e-5)
            np.testing.assert_allclose(grad[1, 0] + grad[1, 2], 2.0, rtol=1e-5)  # node 1's row
        tau = 2e-38
        got = np.asarray(jaxrg.heat_kernel(jaxrg.laplacian(_path(1e38)), jnp.float32(tau)))
    unit = np.array([[1, -1, 0], [-1, 2, -1], [0, -1, 1]], np.float64)
    np.testing.assert_allclose(got, scipy.linalg.expm(-tau * 1e38 * unit), rtol=0, atol=1e-6)

