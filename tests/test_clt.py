"""Tests of jaxrg.clt: the CLT RG step on densities, cumulants and samples, against each other
and against closed forms."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tolerances import tol

from jaxrg.clt import (
    FAMILIES,
    clt_cumulant_flow,
    clt_cumulant_step,
    clt_flow,
    clt_rg_step,
    clt_sample_step,
    density_cumulants,
    distance_to_gaussian,
    family_cumulants,
    family_density,
    family_moments,
    family_sample,
)
from jaxrg.cumulants import moments_to_cumulants, sample_cumulants

F64 = tol(np.float64)
GRID = jnp.linspace(-30.0, 30.0, 1024)  # wide enough for the exponential tail over 3 steps
# One compilation each, shared by the tests (eager calls re-dispatch every op).
step = jax.jit(clt_rg_step, static_argnames="conserve")
flow = jax.jit(clt_flow, static_argnames=("steps", "conserve"))
cumulants = jax.jit(density_cumulants, static_argnums=2)
DENSITY_FAMILIES = ("gaussian", "uniform", "exponential", "laplace", "mixture")


def test_cumulant_step_factors_are_two_to_one_minus_r_over_two():
    got = clt_cumulant_step(jnp.ones(6, jnp.float64))
    expected = [math.sqrt(2), 1.0, 1 / math.sqrt(2), 0.5, 2**-1.5, 0.25]
    np.testing.assert_allclose(got, expected, **F64)


def test_cumulant_step_equals_cumulants_of_the_rescaled_sum_from_moments():
    # Independent route: E[((X1+X2)/sqrt2)^n] = 2^(-n/2) sum_k C(n,k) m_k m_(n-k) for i.i.d. X.
    for name in ("exponential", "uniform", "mixture"):
        m = np.concatenate([[1.0], np.asarray(family_moments(name, 8)) + 0.3 * (name == "mixture")])
        sums = [
            2 ** (-n / 2) * sum(math.comb(n, k) * m[k] * m[n - k] for k in range(n + 1))
            for n in range(1, 9)
        ]
        expected = moments_to_cumulants(jnp.asarray(sums))
        got = clt_cumulant_step(moments_to_cumulants(jnp.asarray(m[1:])))
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_cumulant_flow_is_the_iterated_step():
    k = family_cumulants("laplace", 6)
    flow = clt_cumulant_flow(k, steps=3)
    np.testing.assert_allclose(
        flow[3], clt_cumulant_step(clt_cumulant_step(clt_cumulant_step(k))), **F64
    )


@pytest.mark.parametrize("name", DENSITY_FAMILIES)
def test_density_step_preserves_mass_and_follows_the_cumulant_recursion(name):
    p = family_density(name, GRID) * 3.0  # any mass is preserved
    for _ in range(3):
        q = step(p, GRID)
        assert abs(float(jnp.sum(q) / jnp.sum(p)) - 1) < 1e-12
        before, after = cumulants(p, GRID, 4), cumulants(q, GRID, 4)
        np.testing.assert_allclose(after, clt_cumulant_step(before), rtol=0, atol=1e-6)
        p = q


@pytest.mark.parametrize("name", ("gaussian", "laplace", "mixture"))
def test_density_step_keeps_smooth_densities_accurate_without_moment_correction(name):
    # conserve=0 only rescales the mass: the recursion then holds to interpolation accuracy.
    grid = jnp.linspace(-30.0, 30.0, 2048)
    p = family_density(name, grid)
    q = step(p, grid, conserve=0)
    np.testing.assert_allclose(
        cumulants(q, grid, 4), clt_cumulant_step(cumulants(p, grid, 4)), atol=1e-6
    )


@pytest.mark.parametrize("name", ("laplace", "mixture", "uniform"))
def test_symmetric_densities_keep_mean_zero(name):
    q = flow(family_density(name, GRID), GRID, steps=3)
    means = jax.vmap(lambda p: density_cumulants(p, GRID, 1)[0])(q)
    # Round-off of sums of |x| <= 30 over the grid and of the moment solve: ~1e-11, not 0.
    np.testing.assert_allclose(means, 0.0, atol=1e-10)


def test_gaussian_is_the_fixed_point_pointwise():
    p = family_density("gaussian", GRID)
    np.testing.assert_allclose(step(p, GRID), p, atol=1e-6)  # cubic: O(dx^4), dx = 0.06


def test_uniform_maps_to_the_triangle_density():
    # (U1 + U2)/sqrt2 for U ~ uniform(-sqrt3, sqrt3): triangle on |x| <= sqrt6, peak 1/sqrt6.
    grid = jnp.linspace(-8.0, 8.0, 4096)
    q = step(family_density("uniform", grid), grid)
    triangle = jnp.maximum(math.sqrt(6) - jnp.abs(grid), 0.0) / 6
    # Discretising the jumps of the uniform costs O(dx) = 0.004 near the corners.
    np.testing.assert_allclose(q, triangle, atol=5e-3)
    assert float(jnp.mean(jnp.abs(q - triangle))) < 1e-4


@pytest.mark.parametrize("name", ("uniform", "exponential"))
def test_flow_converges_to_the_gaussian(name):
    tv = jax.vmap(distance_to_gaussian, in_axes=(0, None))(
        flow(family_density(name, GRID), GRID, steps=6), GRID
    )
    assert np.all(np.diff(np.asarray(tv)) < 0)
    assert float(tv[-1]) < 0.3 * float(tv[0])


def test_monte_carlo_pairs_follow_the_recursion_within_error_bars():
    x = family_sample("exponential", jax.random.key(0), (2**21,), dtype=jnp.float64)
    for _ in range(3):
        x = clt_sample_step(x)
    blocks = jax.vmap(lambda s: sample_cumulants(s, 4))(x.reshape(32, -1))
    mean, se = jnp.mean(blocks, 0), jnp.std(blocks, 0) / math.sqrt(32)
    exact = clt_cumulant_flow(family_cumulants("exponential", 4), steps=3)[3]
    assert np.all(np.abs(np.asarray(mean - exact)) < 5 * np.asarray(se))


def test_density_and_exact_recursion_agree_from_a_smooth_start():
    path = flow(family_density("mixture", GRID), GRID, steps=6)
    grid_k = jax.vmap(lambda p: density_cumulants(p, GRID, 4))(path)
    exact = clt_cumulant_flow(family_cumulants("mixture", 4), steps=6)
    np.testing.assert_allclose(grid_k, exact, atol=1e-8)


def test_family_cumulants_match_closed_forms():
    # uniform on [-a, a]: kappa_n = B_n (2a)^n / n; Laplace(b): kappa_2k = 2 (2k-1)! b^2k;
    # mixture = 0.9 * spin + s * normal: kappa_r = 0.9^r kappa_r(spin) for r >= 3.
    a2, b2 = 12.0, 0.5  # (2a)^2 with a = sqrt3; b^2 with b = 1/sqrt2
    closed = {
        "gaussian": [0, 1, 0, 0, 0, 0],
        "uniform": [0, 1, 0, -(a2**2) / 30 / 4, 0, a2**3 / 42 / 6],
        "exponential": [0, 1, 2, 6, 24, 120],
        "laplace": [0, 1, 0, 2 * 6 * b2**2, 0, 2 * 120 * b2**3],
        "spins": [0, 1, 0, -2, 0, 16],
        "mixture": [0, 1, 0, -2 * 0.9**4, 0, 16 * 0.9**6],
    }
    for name in FAMILIES:
        np.testing.assert_allclose(
            family_cumulants(name, 6), closed[name], rtol=1e-12, atol=1e-12, err_msg=name
        )


@pytest.mark.parametrize("name", DENSITY_FAMILIES)
def test_family_densities_and_samplers_are_standardised(name):
    grid = jnp.linspace(-30.0, 30.0, 20001)
    k = density_cumulants(family_density(name, grid), grid, 2)
    mass = jnp.sum(family_density(name, grid)) * (grid[1] - grid[0])
    np.testing.assert_allclose([mass, k[0], k[1]], [1.0, 0.0, 1.0], atol=2e-3)  # O(dx) jumps
    x = family_sample(name, jax.random.key(1), (200_000,), dtype=jnp.float64)
    np.testing.assert_allclose(sample_cumulants(x, 2), [0.0, 1.0], atol=0.02)  # ~5 s.e.


def test_clt_rg_step_under_jit_vmap_and_grad():
    p = family_density("laplace", GRID)
    batch = jnp.stack([p, family_density("mixture", GRID)])
    rows = jnp.stack([step(b, GRID) for b in batch])
    batched = jax.jit(jax.vmap(clt_rg_step, in_axes=(0, None)))(batch, GRID)
    np.testing.assert_allclose(batched, rows, **F64)

    grid = jnp.linspace(-10.0, 10.0, 512)  # Laplace tails stay > 0: no clipping kinks for FD
    p = family_density("laplace", grid)

    def kappa4(dens):
        return density_cumulants(clt_rg_step(dens, grid), grid, 4)[3]

    v = jax.random.normal(jax.random.key(2), p.shape, jnp.float64) * p
    k4 = jax.jit(kappa4)
    fd = (k4(p + 1e-4 * v) - k4(p - 1e-4 * v)) / 2e-4
    np.testing.assert_allclose(jnp.dot(jax.jit(jax.grad(kappa4))(p), v), fd, rtol=1e-6)


def test_clt_rg_step_float32_preserves_mass():
    grid = GRID.astype(jnp.float32)
    p = family_density("mixture", grid)
    q = step(p, grid)
    assert q.dtype == jnp.float32
    np.testing.assert_allclose(jnp.sum(q), jnp.sum(p), rtol=tol(np.float32)["rtol"])
    np.testing.assert_allclose(density_cumulants(q, grid, 2)[1], 1.0, rtol=1e-3)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="uniformly spaced"):
        clt_rg_step(jnp.ones(4), jnp.asarray([0.0, 1.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match="grid's shape"):
        clt_rg_step(jnp.ones(3), jnp.linspace(0, 1, 4))
    with pytest.raises(ValueError, match="conserve"):
        clt_rg_step(jnp.ones(4), jnp.linspace(0, 1, 4), conserve=9)
    with pytest.raises(ValueError, match="no density"):
        family_density("spins", GRID)
    with pytest.raises(ValueError, match="unknown family"):
        family_moments("cauchy", 2)
    with pytest.raises(ValueError, match="even"):
        clt_sample_step(jnp.ones(3))


def test_negative_steps_and_a_point_mass_are_refused():
    import jaxrg
    from jaxrg import clt

    with pytest.raises(ValueError, match="steps must be"):
        clt.clt_cumulant_flow(jnp.array([0.0, 1.0, 0.0, 0.5]), steps=-1)
    grid = jnp.linspace(-3, 3, 61)
    point = jnp.zeros(61).at[30].set(1.0)
    with pytest.raises(ValueError, match="positive variance"):
        jaxrg.checked(clt.distance_to_gaussian)(point, grid)



@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_a_density_on_too_few_grid_points_is_refused_not_nan(dtype):
    """A valid density on one or two grid points makes the moment system singular: clt_rg_step
    returned all NaN with no error (one point: conserve >= 1; two points 24 apart: conserve=4),
    and on a few more points (conserve above their count) a finite density with the wrong mass
    and negative values. A concrete density now raises a ValueError naming ``density`` and the
    fix; under jit the step gives NaN out (an error through jaxrg.checked); conserve=0, and a
    density spread enough for the order asked, are unaffected. A grid of fewer than
    conserve + 1 points is refused from its shape."""
    import jaxrg

    x = jnp.linspace(-12.0, 12.0, 1024, dtype=dtype)
    one = jnp.zeros(1024, dtype).at[512].set(1.0)
    two = jnp.zeros(1024, dtype).at[jnp.asarray([500, 524])].set(1.0)
    three = jnp.zeros(1024, dtype).at[jnp.asarray([500, 501, 502])].set(1.0)
    jitted = jax.jit(clt_rg_step, static_argnames="conserve")
    for p, conserve in ((one, 1), (one, 2), (one, 4), (two, 4), (three, 4)):
        with pytest.raises(ValueError, match=f"density must be .* for conserve={conserve} "):
            clt_rg_step(p, x, conserve=conserve)
        assert np.isnan(np.asarray(jitted(p, x, conserve=conserve))).all()
    with pytest.raises(ValueError, match=r"\(got 2 and 3\).*conserve <= 2"):
        jaxrg.checked(jax.jit(lambda p: clt_rg_step(p, x, conserve=4)))(two)
    for p, conserve in ((one, 0), (two, 0), (two, 2), (three, 3)):
        q = np.asarray(clt_rg_step(p, x, conserve=conserve))
        assert np.isfinite(q).all()
        np.testing.assert_allclose(q.sum(), float(jnp.sum(p)), rtol=1e-5)  # mass preserved
    with pytest.raises(ValueError, match=r"grid must have at least conserve \+ 1 = 5 points"):
        clt_rg_step(jnp.ones(4), jnp.linspace(0.0, 1.0, 4), conserve=4)


def _np_lattice_cumulants(density, grid):
    """Reference: kappa_1..kappa_4 of w_i = p_i / sum p in numpy float64 (central moments)."""
    x, w = np.asarray(grid, np.float64), np.asarray(density, np.float64)
    w = w / w.sum()
    mean = np.sum(w * x)
    mu2, mu3, mu4 = (np.sum(w * (x - mean) ** r) for r in (2, 3, 4))
    return np.array([mean, mu2, mu3, mu4 - 3 * mu2**2])


# max|q - p| / max p at the Gaussian fixed point: float32 as documented in clt_rg_step (the FFT
# floor); float64 the cubic interpolation, O(dx^4) (2.2e-8 at dx = 0.023)
FIXED_POINT_TOL = {("float32", 0): 1e-5, ("float32", 4): 5e-5, ("float64", 0): 5e-8,
                   ("float64", 4): 5e-8}


@pytest.mark.parametrize("conserve", (0, 4))
@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("lo, hi, n", [(-12.0, 12.0, 1024), (-30.0, 30.0, 8193),
                                       (-40.0, 40.0, 20001)])
def test_gaussian_is_the_fixed_point_in_float32_and_float64(lo, hi, n, dtype, conserve):
    # The FFT's float32 round-off in the far tails, weighted by u^4, once set the moment targets
    # (conserve=4: 1.7e-3 and 8.6e-2 of the peak); a step x[1] - x[0] off by 5e-4 relative
    # shifted the n = 20001 grid by 11 cells (1.9e-2, and 0.9 with conserve=4).
    with jax.enable_x64(dtype == "float64"):
        grid = jnp.linspace(lo, hi, n, dtype=dtype)
        p = jnp.exp(-(grid**2) / 2) / math.sqrt(2 * math.pi)
        q = step(p, grid, conserve=conserve)
        assert q.dtype == grid.dtype
        err = float(jnp.max(jnp.abs(q - p)) / jnp.max(p))
    assert err < FIXED_POINT_TOL[dtype, conserve], err


@pytest.mark.parametrize("dtype, atol", [("float32", 1e-5), ("float64", 1e-10)])
def test_kappa4_follows_the_exact_recursion_over_one_and_six_steps(dtype, atol):
    # The docstring's grid; the reference is the input's own lattice kappa_4 (numpy float64)
    # times 2^(-s). Before: 3.9e-3 off after one float32 step and 1.6e-3 (8.6 %) after six.
    with jax.enable_x64(dtype == "float64"):
        grid = jnp.linspace(-12.0, 12.0, 1024, dtype=dtype)
        p = family_density("uniform", grid)
        path = flow(p, grid, steps=6)
    k4 = np.array([_np_lattice_cumulants(row, grid)[3] for row in np.asarray(path)])
    exact = k4[0] * 2.0 ** -np.arange(7)  # kappa_4 -> 2^(1 - 4/2) kappa_4
    np.testing.assert_allclose(k4[1], exact[1], rtol=0, atol=atol)
    np.testing.assert_allclose(k4[6], exact[6], rtol=0, atol=atol)
    np.testing.assert_allclose(k4, exact, rtol=0, atol=atol)


@pytest.mark.parametrize("lo, hi, n", [(-40.0, 40.0, 20001), (990.0, 1010.0, 2001),
                                       (9990.0, 10010.0, 2001)])
def test_float32_distance_to_gaussian_matches_a_float64_riemann_sum(lo, hi, n):
    # Reference: the float64 Riemann sum on the same float32 points with the mean spacing
    # (x[-1] - x[0]) / (n - 1). Before, dx = x[1] - x[0] (0.00977 for 0.01 at x = 1e4) gave
    # 2.75e-4, 4.9e-4 and 1.17e-2 for 2.4e-8, 2.8e-6 and 1.3e-5.
    with jax.enable_x64(False):
        grid = jnp.linspace(lo, hi, n)
        p = jnp.exp(-((grid - (lo + hi) / 2) ** 2) / 2)
        got = float(distance_to_gaussian(p, grid))
    x, w = np.asarray(grid, np.float64), np.asarray(p, np.float64)
    dx = (x[-1] - x[0]) / (n - 1)
    w = w / w.sum()
    mean = np.sum(w * x)
    var = np.sum(w * (x - mean) ** 2)
    gauss = np.exp(-((x - mean) ** 2) / (2 * var)) / np.sqrt(2 * np.pi * var)
    want = 0.5 * np.sum(np.abs(w / dx - gauss)) * dx
    assert abs(got - want) < 1e-6, (got, want)


@pytest.mark.parametrize("centre", (1000.3, 10000.3))
def test_float32_density_cumulants_on_an_offset_grid_match_numpy(centre):
    # A skewed bump 1e3 or 1e4 away from 0: moments are summed about the middle grid point, so
    # the large offset never enters a rounded sum (before: kappa_3 off by 2e-4 and 3e-3).
    with jax.enable_x64(False):
        grid = jnp.linspace(round(centre) - 10.0, round(centre) + 10.0, 2001)
        p = jnp.exp(-((grid - centre) ** 2) / 2) * (1 + 0.3 * jnp.tanh(grid - centre))
        got = np.asarray(density_cumulants(p, grid, 4), np.float64)
    want = _np_lattice_cumulants(p, grid)
    np.testing.assert_allclose(got[1:], want[1:], rtol=0, atol=1e-5)
    assert abs(got[0] - want[0]) <= np.spacing(np.float32(centre))  # the mean: one float32 ulp
