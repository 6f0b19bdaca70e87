"""Tests of jaxrg.cumulants: closed forms, scipy, finite differences and Monte Carlo error bars."""

import argparse
import itertools
import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import scipy.special
import scipy.stats
from tolerances import tol

from jaxrg.cumulants import (
    activation_cumulants_mc,
    activation_cumulants_taylor,
    affine_cumulants,
    central_to_raw_moments,
    cgf_cumulant_tensors,
    cgf_cumulants,
    cumulant_generating_function,
    cumulant_tensors,
    cumulants_to_moments,
    k_statistics,
    moments_to_cumulants,
    raw_to_central_moments,
    sample_cumulants,
)

F64 = tol(np.float64)


def _double_factorial(k: int) -> int:
    return math.prod(range(k - 1, 0, -2)) if k % 2 == 0 else 0


def _stirling2(n: int, k: int) -> int:
    return sum((-1) ** i * math.comb(k, i) * (k - i) ** n for i in range(k + 1)) // math.factorial(
        k
    )


def _closed_forms():
    """(name, raw moments m_1..m_N, cumulants kappa_1..kappa_N) from textbook formulas."""
    mu, sigma = 0.7, 1.3
    normal_m = [
        sum(math.comb(n, k) * mu ** (n - k) * sigma**k * _double_factorial(k) for k in range(n + 1))
        for n in range(1, 9)
    ]
    normal_k = [mu, sigma**2] + [0.0] * 6
    lam = 2.0
    expo_m = [math.factorial(n) / lam**n for n in range(1, 11)]
    expo_k = [math.factorial(n - 1) / lam**n for n in range(1, 11)]
    rate = 1.7  # Poisson: Touchard polynomials m_n = sum_k S(n, k) rate^k; kappa_n = rate
    pois_m = [sum(_stirling2(n, k) * rate**k for k in range(n + 1)) for n in range(1, 11)]
    pois_k = [rate] * 10
    a, b = -0.5, 2.0  # uniform: kappa_n = B_n (b - a)^n / n for n >= 2
    unif_m = [(b ** (n + 1) - a ** (n + 1)) / ((n + 1) * (b - a)) for n in range(1, 9)]
    bern = scipy.special.bernoulli(8)
    unif_k = [(a + b) / 2] + [bern[n] * (b - a) ** n / n for n in range(2, 9)]
    p = 0.3  # Bernoulli: m_n = p
    q = 1 - p
    bern_k = [
        p,
        p * q,
        p * q * (1 - 2 * p),
        p * q * (1 - 6 * p * q),
        p * q * (1 - 2 * p) * (1 - 12 * p * q),
    ]
    return [
        ("normal", normal_m, normal_k),
        ("exponential", expo_m, expo_k),
        ("poisson", pois_m, pois_k),
        ("uniform", unif_m, unif_k),
        ("bernoulli", [p] * 5, bern_k),
    ]


@pytest.mark.parametrize(
    ("name", "moments", "cumulants"), _closed_forms(), ids=lambda v: str(v)[:12]
)
def test_moments_to_cumulants_matches_closed_forms(name, moments, cumulants):
    got = moments_to_cumulants(jnp.asarray(moments, dtype=jnp.float64))
    # Cancellation: kappa_n is a difference of moments of size max|m|, so the error scales with it.
    atol = 1e-13 * max(abs(m) for m in moments)
    np.testing.assert_allclose(got, cumulants, rtol=F64["rtol"], atol=max(atol, F64["atol"]))


@pytest.mark.parametrize(
    ("name", "moments", "cumulants"), _closed_forms(), ids=lambda v: str(v)[:12]
)
def test_cumulants_to_moments_matches_closed_forms(name, moments, cumulants):
    got = cumulants_to_moments(jnp.asarray(cumulants, dtype=jnp.float64))
    np.testing.assert_allclose(got, moments, **F64)


def test_moments_cumulants_round_trip_to_order_12_float64():
    kappa = jax.random.normal(jax.random.key(0), (5, 12), jnp.float64)
    moments = cumulants_to_moments(kappa)
    back = moments_to_cumulants(moments)
    # kappa_12 is a difference of terms of size |m_12| (up to ~1e7 here): round-off scales with it.
    scale = jnp.max(jnp.abs(moments), axis=1, keepdims=True)
    assert np.all(np.abs(np.asarray(back - kappa)) <= 1e-13 * np.asarray(scale))
    m = jnp.asarray([math.factorial(n) for n in range(1, 13)], jnp.float64)  # exponential(1)
    np.testing.assert_allclose(cumulants_to_moments(moments_to_cumulants(m)), m, **F64)


def test_moments_cumulants_round_trip_float32():
    kappa = jnp.asarray([0.3, 1.0, -0.5, 2.0, 0.1, -1.0], jnp.float32)
    back = moments_to_cumulants(cumulants_to_moments(kappa))
    assert back.dtype == jnp.float32
    np.testing.assert_allclose(back, kappa, rtol=tol(np.float32)["rtol"], atol=5e-5)


def test_raw_central_moments_match_exponential_closed_form():
    m = jnp.asarray([math.factorial(n) for n in range(1, 8)], jnp.float64)
    # Central moments of exponential(1) are the subfactorials !n.
    np.testing.assert_allclose(raw_to_central_moments(m), [0, 1, 2, 9, 44, 265, 1854], **F64)
    np.testing.assert_allclose(central_to_raw_moments(raw_to_central_moments(m), m[0]), m, **F64)


def test_sample_cumulants_equal_numpy_plug_in_formulas_with_a_large_mean():
    x = np.random.default_rng(0).gamma(2.0, size=500) + 1e4
    c = x - x.mean()
    expected = [x.mean(), np.mean(c**2), np.mean(c**3), np.mean(c**4) - 3 * np.mean(c**2) ** 2]
    np.testing.assert_allclose(sample_cumulants(jnp.asarray(x), 4), expected, rtol=1e-9)


def test_cgf_derivatives_by_jacfwd_equal_sample_cumulants():
    x = jax.random.gamma(jax.random.key(1), 2.0, (300,), jnp.float64)
    np.testing.assert_allclose(cgf_cumulants(x, 5), sample_cumulants(x, 5), rtol=1e-9, atol=1e-10)


def _mpmath_cumulant_tensors(y: np.ndarray, order: int) -> list[np.ndarray]:
    """Plug-in cumulant tensors of the float samples ``y`` (n, d) in 60-digit mpmath.

    Mean, then the centred moments <c_a c_b>, <c_a c_b c_c> and, for order 4,
    <c_a c_b c_c c_e> - k_ab k_ce - k_ac k_be - k_ae k_bc: the empirical law's cumulants.
    """
    with mpmath.workdps(60):
        n, d = y.shape
        cols = [[mpmath.mpf(float(v)) for v in y[:, a]] for a in range(d)]
        mean = [mpmath.fsum(col) / n for col in cols]
        c = [[v - mean[a] for v in cols[a]] for a in range(d)]

        def moment(*idx):
            return mpmath.fsum(math.prod((c[a][i] for a in idx), start=1) for i in range(n)) / n

        out = [np.array([float(v) for v in mean])]
        for r in range(2, order + 1):
            tensor = np.zeros((d,) * r)
            for idx in itertools.product(range(d), repeat=r):
                value = moment(*idx)
                if r == 4:
                    a, b, k, e = idx
                    value -= (moment(a, b) * moment(k, e) + moment(a, k) * moment(b, e)
                              + moment(a, e) * moment(b, k))
                tensor[idx] = float(value)
            out.append(tensor)
        return out


@pytest.mark.parametrize("offset", [0.0, 1e4, 1e6])
def test_cgf_cumulants_equal_mpmath_plug_in_cumulants_whatever_the_mean(offset):
    # kappa_{r>=2} do not depend on the offset; the old route differentiated log<e^{jy}> of the
    # raw data and cancelled catastrophically (kappa_4 = -10.99 for 9.056 at offset 1e4)
    x = np.random.default_rng(0).exponential(size=50) + offset
    want = [float(t.ravel()[0]) for t in _mpmath_cumulant_tensors(x[:, None], 4)]
    np.testing.assert_allclose(cgf_cumulants(jnp.asarray(x), 4), want, rtol=1e-12, atol=0)
    jitted = jax.jit(lambda s: cgf_cumulants(s, 4))(jnp.asarray(x))
    np.testing.assert_allclose(jitted, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("offset", [0.0, 1e4, 1e6])
def test_cgf_cumulant_tensors_equal_mpmath_plug_in_tensors_whatever_the_mean(offset):
    base = np.random.default_rng(1).exponential(size=(40, 2)) @ np.array([[1.0, 0.4], [0.0, 2.0]])
    y = base + np.array([offset, -offset / 2])
    want = _mpmath_cumulant_tensors(y, 4)
    got = cgf_cumulant_tensors(jnp.asarray(y), 4)
    for r, (g, w) in enumerate(zip(got, want, strict=True), start=1):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14 * np.max(np.abs(w)),
                                   err_msg=f"order {r}")



@pytest.mark.parametrize("offset", [0.0, 1e4, 1e6, 1e8])
def test_plug_in_cumulants_are_exact_to_round_off_whatever_the_mean(offset):
    """The centred data inherited the rounding of the mean (ulp(1e6) = 1.2e-10), and kappa_3,
    kappa_4 with it: sample_cumulants was 1.3e-10 off at a mean of 1e6 and 1.3e-8 at 1e8,
    cumulant_tensors 3e-11 at 1e6. The residual mean is now removed in a second pass (one
    helper for every route). Reference: 60-digit mpmath plug-in cumulants of the same floats."""
    x = np.random.default_rng(3).exponential(size=200) + offset
    want = [float(np.ravel(w)[0]) for w in _mpmath_cumulant_tensors(x[:, None], 4)]
    for route in (sample_cumulants, cgf_cumulants):
        np.testing.assert_allclose(route(jnp.asarray(x), 4), want, rtol=2e-14, atol=0,
                                   err_msg=route.__name__)
    base = np.random.default_rng(1).exponential(size=(40, 2)) @ np.array([[1.0, 0.4], [0.0, 2.0]])
    y = base + np.array([offset, -offset / 2])
    for r, (g, w) in enumerate(zip(cumulant_tensors(jnp.asarray(y), 4),
                                   _mpmath_cumulant_tensors(y, 4), strict=True), start=1):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-14 * np.max(np.abs(w)),
                                   err_msg=f"order {r}")

def test_cgf_is_stable_where_the_naive_formula_overflows():
    x = jnp.asarray([1000.0, 999.0], jnp.float64)
    w = cumulant_generating_function(x, 1.0)
    assert np.isclose(float(w), 1000.0 + np.log((1 + np.exp(-1.0)) / 2), **F64)


@pytest.mark.parametrize("n", [5, 17, 200])
def test_k_statistics_equal_scipy_kstat(n):
    x = np.random.default_rng(n).standard_t(5, size=n) * 2.0 + 0.3
    expected = [scipy.stats.kstat(x, r) for r in (1, 2, 3, 4)]
    np.testing.assert_allclose(k_statistics(jnp.asarray(x), 4), expected, rtol=1e-9, atol=1e-12)


def test_k_statistics_are_unbiased_while_plug_in_variance_is_not():
    n, reps = 8, 40_000
    x = jax.random.exponential(jax.random.key(2), (reps, n), jnp.float64)  # kappa = 1, 1, 2, 6
    k = jax.jit(jax.vmap(lambda s: k_statistics(s, 4)))(x)
    mean, se = jnp.mean(k, 0), jnp.std(k, 0) / math.sqrt(reps)
    assert np.all(np.abs(np.asarray(mean) - [1.0, 1.0, 2.0, 6.0]) < 4 * np.asarray(se))
    plug = jax.jit(jax.vmap(lambda s: sample_cumulants(s, 2)))(x)[:, 1]
    bias = float(jnp.mean(plug)) - 1.0  # expected -(1/n)
    assert abs(bias + 1 / n) < 4 * float(jnp.std(plug)) / math.sqrt(reps) < abs(bias)


def test_cumulant_tensors_equal_cgf_jacfwd_tensors_and_univariate_cumulants():
    y = jax.random.gamma(jax.random.key(3), 1.5, (400, 3), jnp.float64)
    y = y @ jnp.asarray([[1.0, 0.2, 0.0], [0.0, 1.0, -0.5], [0.3, 0.0, 1.0]])
    direct, by_cgf = cumulant_tensors(y, 4), cgf_cumulant_tensors(y, 4)
    for a, b in zip(direct, by_cgf, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(direct[3], jnp.transpose(direct[3], (2, 0, 3, 1)), **F64)
    diag = [direct[0][1], direct[1][1, 1], direct[2][1, 1, 1], direct[3][1, 1, 1, 1]]
    np.testing.assert_allclose(diag, sample_cumulants(y[:, 1], 4), **F64)


def test_affine_cumulants_are_exact_for_the_empirical_distribution():
    y = jax.random.laplace(jax.random.key(4), (300, 3), jnp.float64)
    w = jnp.asarray([[1.0, -2.0, 0.5], [0.3, 0.0, 1.0]])
    b = jnp.asarray([5.0, -1.0])
    propagated = affine_cumulants(cumulant_tensors(y, 4), w, b)
    direct = cumulant_tensors(y @ w.T + b[None, :], 4)
    for a, c in zip(propagated, direct, strict=True):
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-9)


def test_affine_cumulants_match_monte_carlo_within_error_bars():
    # y: independent exponential(1) components, population cumulant tensors diagonal (r-1)!.
    d, batches, per = 2, 20, 25_000
    pop = [jnp.ones(d)] + [math.factorial(r - 1) * _diag(d, r) for r in (2, 3, 4)]
    w = jnp.asarray([[1.0, 0.5], [-0.7, 1.2], [0.2, 0.1]])
    predicted = affine_cumulants(pop, w, jnp.asarray([0.0, 1.0, -2.0]))
    y = jax.random.exponential(jax.random.key(5), (batches, per, d), jnp.float64)
    z = jnp.einsum("bnd,pd->bnp", y, w) + jnp.asarray([0.0, 1.0, -2.0])[None, None, :]
    est = jax.jit(jax.vmap(lambda s: cumulant_tensors(s, 4)))(z)
    for r in range(4):
        mean = jnp.mean(est[r], 0)
        se = jnp.std(est[r], 0) / math.sqrt(batches)
        assert np.all(np.abs(np.asarray(mean - predicted[r])) < 5 * np.asarray(se) + 1e-9), r


def _diag(d: int, r: int) -> jax.Array:
    out = jnp.zeros((d,) * r)
    idx = jnp.arange(d)
    return out.at[(idx,) * r].set(1.0)


def test_taylor_activation_is_exact_for_quadratic_phi_on_gaussian_input():
    mu, s2, alpha = 0.4, 0.8, 0.6
    kappa_in = jnp.asarray([mu, s2] + [0.0] * 6, jnp.float64)
    got = activation_cumulants_taylor(lambda h: h + alpha * h**2, kappa_in, order=4, taylor_order=2)
    # y = const + b u + c u^2, u ~ N(0, s2): c (u + b/2c)^2 is s2 c * noncentral chi2(1, lam).
    b, c = 1 + 2 * alpha * mu, alpha
    lam = (b / (2 * c)) ** 2 / s2
    expected = [mu + alpha * (mu**2 + s2)] + [
        c**r * s2**r * 2 ** (r - 1) * math.factorial(r - 1) * (1 + r * lam) for r in (2, 3, 4)
    ]
    np.testing.assert_allclose(got, expected, **F64)


def test_taylor_and_monte_carlo_agree_for_small_spread_and_disagree_for_large():
    h = jax.random.normal(jax.random.key(6), (400_000,), jnp.float64)
    mc_cumulants = jax.jit(jax.vmap(lambda s: activation_cumulants_mc(jnp.tanh, s, order=3)))
    for sigma, should_agree in ((0.1, True), (1.5, False)):
        kappa_in = jnp.asarray([0.2, sigma**2] + [0.0] * 10, jnp.float64)
        taylor = activation_cumulants_taylor(jnp.tanh, kappa_in, order=3, taylor_order=4)
        mc_draws = jnp.reshape(0.2 + sigma * h, (40, -1))
        mc = mc_cumulants(mc_draws)
        diff = np.abs(np.asarray(taylor - jnp.mean(mc, 0)))
        se = np.asarray(jnp.std(mc, 0)) / math.sqrt(40)
        assert np.all(diff < 5 * se) == should_agree, (sigma, diff, se)


def test_public_functions_under_jit_vmap_and_grad():
    m = jax.random.normal(jax.random.key(7), (4, 6), jnp.float64)
    np.testing.assert_allclose(jax.jit(moments_to_cumulants)(m), moments_to_cumulants(m), **F64)
    rows = jnp.stack([moments_to_cumulants(r) for r in m])
    np.testing.assert_allclose(jax.vmap(moments_to_cumulants)(m), rows, **F64)
    # d kappa_2 / d m_1 = -2 m_1 (kappa_2 = m_2 - m_1^2).
    g = jax.grad(lambda v: moments_to_cumulants(v)[1])(m[0])
    np.testing.assert_allclose(g[:2], [-2 * m[0, 0], 1.0], **F64)
    x = jax.random.normal(jax.random.key(8), (50,), jnp.float64)
    f = jax.jit(lambda s: k_statistics(s, 4)[3])
    v = jax.random.normal(jax.random.key(9), (50,), jnp.float64)
    fd = (f(x + 1e-6 * v) - f(x - 1e-6 * v)) / 2e-6
    np.testing.assert_allclose(jnp.dot(jax.grad(f)(x), v), fd, rtol=1e-6)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="order must be at most 4"):
        k_statistics(jnp.ones(10), 5)
    with pytest.raises(ValueError, match="at least 4 samples"):
        k_statistics(jnp.ones(3), 4)
    with pytest.raises(TypeError, match="must be real"):
        moments_to_cumulants(jnp.ones(3, jnp.complex64))
    with pytest.raises(ValueError, match="non-empty last axis"):
        cumulants_to_moments(jnp.ones((2, 0)))
    with pytest.raises(ValueError, match="must have shape"):
        affine_cumulants((jnp.zeros(2), jnp.eye(3)), jnp.ones((1, 2)))
    with pytest.raises(ValueError, match="order\\*taylor_order"):
        activation_cumulants_taylor(jnp.tanh, jnp.ones(3), order=2, taylor_order=2)
    with pytest.raises(ValueError, match="shape \\(n,\\)"):
        sample_cumulants(jnp.ones((3, 2)), 2)


def _run_cli(argv):
    from jaxrg.cli import _cumulants

    parser = argparse.ArgumentParser()
    _cumulants.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_cumulants_prints_scipy_k_statistics(tmp_path, capsys):
    x = np.random.default_rng(3).normal(2.0, 1.5, size=40)
    path = tmp_path / "data.csv"
    path.write_text("# value,other\n" + "\n".join(f"{float(v)!r},7" for v in x) + "\n")
    assert _run_cli(["cumulants", str(path), "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(
        out["k_statistics"], [scipy.stats.kstat(x, r) for r in range(1, 5)], rtol=1e-9
    )
    assert out["n"] == 40


def test_cli_cumulants_reports_user_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        _run_cli(["cumulants", str(tmp_path / "missing.txt")])
    bad = tmp_path / "bad.txt"
    bad.write_text("1.0\nabc\n")
    with pytest.raises(ValueError, match="not a number"):
        _run_cli(["cumulants", str(bad)])


def test_plug_in_cumulant_tensors_at_extreme_scales_are_homogeneous_or_refused():
    """kappa_r(c y) = c^r kappa_r(y): bit for bit for c = 2^230, to round-off for 1e70 (order-4
    entries near 1e280); where the true order-4 tensor exceeds float64 (1e100: 1e400) the call
    is refused as cgf_cumulant_tensors refuses it. Before: products of the data at 1e100
    overflowed inside the einsums and the order-4 tensor came back with 16 NaNs (inf - inf)."""
    y = np.random.default_rng(0).normal(size=(50, 2))
    base = cumulant_tensors(y, 4)
    for r, (k, big) in enumerate(zip(base, cumulant_tensors(y * 2.0**230, 4), strict=True), 1):
        np.testing.assert_array_equal(np.asarray(k) * 2.0 ** (230 * r), big)
    for r, (k, big) in enumerate(zip(base, cumulant_tensors(y * 1e70, 4), strict=True), 1):
        np.testing.assert_allclose(np.asarray(k) * 1e70**r, big, rtol=1e-13)
    with pytest.raises(ValueError, match="cumulant tensors overflow float64"):
        cumulant_tensors(y * 1e100, 4)
    with pytest.raises(ValueError, match="cumulant tensors overflow float64"):
        cgf_cumulant_tensors(y * 1e100, 4)
    assert all(np.all(np.isfinite(k)) for k in cumulant_tensors(y * 1e100, 3))
