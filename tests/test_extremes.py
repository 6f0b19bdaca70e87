"""Numerical extremes: tau 1e-8 ... 1e8, eigenvalues 1e-6 ... 1e6, alpha 0 ... 1e3, logits of
magnitude 1e4, in float32 and float64 — no NaN or inf, accuracy as documented, finite gradients.

References: 60-digit mpmath evaluated on the same (dtype-rounded) inputs, so the tolerances
measure jaxrg's own error. Documented accuracy (docs/bad_inputs.md, "Numerical range"):

=====================================  ===============  ==================================
quantity                               float64 (abs.)   float32 (abs.)
=====================================  ===============  ==================================
S(tau), C(tau) (normalised, <= 1)      1e-12            1e-6
heat kernel, density matrix entries    1e-12            1e-5
Rényi entropy, any alpha in [0, inf]   1e-12            1e-6 (+ eps |z|max for z ~ 1e4)
KL divergence                          1e-12 (rel.)     4 eps * max|z| (1e-2 at |z| ~ 1e4)
=====================================  ===============  ==================================
"""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import jaxrg
from jaxrg import info

mpmath.mp.dps = 60
DTYPES = [jnp.float32, jnp.float64]
TAUS = np.logspace(-8, 8, 33)
SPECTRUM = np.concatenate([[0.0], np.logspace(-6, 6, 13)])  # eigenvalues spanning 1e-6 ... 1e6
ALPHAS = np.array([0.0, 1e-6, 0.5, 1 - 1e-6, 1.0, 1 + 1e-6, 2.0, 10.0, 100.0, 1e3, np.inf])
ATOL = {jnp.float32: 1e-6, jnp.float64: 1e-12}


def _logits(dtype):
    """Rows of scale 1, of scale 1e4, and nearly equal values of size 1e4."""
    rng = np.random.default_rng(0)
    z = np.concatenate(
        [
            rng.normal(size=(1, 40)),
            1e4 * rng.normal(size=(2, 40)),
            1e4 * rng.uniform(0.999, 1.0, (1, 40)),
        ]
    )
    return z.astype(dtype)


def _mp(values):
    return [mpmath.mpf(float(v)) for v in values]


def mp_curves(eigenvalues, tau):
    lam, tau = _mp(eigenvalues), mpmath.mpf(float(tau))
    w = [mpmath.e ** (-tau * x) for x in lam]
    p = [wi / mpmath.fsum(w) for wi in w]
    s = -mpmath.fsum(pi * mpmath.log(pi) for pi in p if pi > 0)
    mean = mpmath.fsum(pi * x for pi, x in zip(p, lam, strict=True))
    var = mpmath.fsum(pi * (x - mean) ** 2 for pi, x in zip(p, lam, strict=True))
    log_n = mpmath.log(len(lam))
    return float(s / log_n), float(tau**2 * var / log_n)


def mp_log_probs(z):
    z = _mp(z)
    m = max(z)
    log_z = m + mpmath.log(mpmath.fsum(mpmath.e ** (x - m) for x in z))
    return [x - log_z for x in z]


def mp_renyi(z, alpha):
    p = [mpmath.e**x for x in mp_log_probs(z)]
    if alpha == 0:
        return float(mpmath.log(len(p)))
    if alpha == 1:
        return float(-mpmath.fsum(x * mpmath.log(x) for x in p))
    if np.isinf(alpha):
        return float(-mpmath.log(max(p)))
    a = mpmath.mpf(float(alpha))
    return float(mpmath.log(mpmath.fsum(x**a for x in p)) / (1 - a))


def mp_kl(zp, zq):
    lp, lq = mp_log_probs(zp), mp_log_probs(zq)
    return float(mpmath.fsum(mpmath.e**a * (a - b) for a, b in zip(lp, lq, strict=True)))


def _all_finite(*arrays):
    return all(bool(jnp.all(jnp.isfinite(a))) for a in arrays)


@pytest.mark.parametrize("dtype", DTYPES)
def test_curves_for_eigenvalues_1e_6_to_1e6_and_tau_1e_8_to_1e8(dtype):
    ev, taus = SPECTRUM.astype(dtype), TAUS.astype(dtype)
    curves = jax.jit(jaxrg.entropy_curves)(jnp.asarray(ev), jnp.asarray(taus))
    assert _all_finite(*curves) and curves.entropy.dtype == dtype
    ref = np.array([mp_curves(ev, t) for t in taus])
    np.testing.assert_allclose(np.asarray(curves.entropy, float), ref[:, 0], atol=ATOL[dtype])
    np.testing.assert_allclose(np.asarray(curves.specific_heat, float), ref[:, 1], atol=ATOL[dtype])
    # C = -dS/dlog(tau): the gradient exists and is finite over the whole range
    minus_c = jax.jit(jax.vmap(jax.grad(lambda lt: jaxrg.spectral_entropy(ev, jnp.exp(lt)))))
    grad = minus_c(jnp.log(jnp.asarray(taus)))
    assert _all_finite(grad)
    np.testing.assert_allclose(np.asarray(-grad, float), ref[:, 1], atol=100 * ATOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_heat_kernel_and_density_matrix_for_tau_1e_8_to_1e8(dtype):
    two_paths = np.kron(np.eye(2), [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    lap = jaxrg.laplacian(jnp.asarray(two_paths, dtype))
    taus = jnp.asarray(TAUS, dtype)
    kernel, rho = jax.jit(lambda lap, t: (jaxrg.heat_kernel(lap, t), jaxrg.density_matrix(lap, t)))(
        lap, taus
    )
    assert _all_finite(kernel, rho) and kernel.dtype == rho.dtype == dtype
    lam, u = np.linalg.eigh(np.asarray(lap, np.float64))
    lam = np.round(lam, 12)  # the zero modes exactly 0 in the reference
    atol = 1e-5 if dtype == jnp.float32 else 1e-12
    for t, k, r in zip(TAUS.astype(dtype).astype(float), kernel, rho, strict=True):
        w = np.exp(-t * lam)
        np.testing.assert_allclose(np.asarray(k, float), (u * w) @ u.T, atol=atol)
        np.testing.assert_allclose(np.asarray(r, float), (u * (w / w.sum())) @ u.T, atol=atol)
        assert abs(float(jnp.trace(r)) - 1) <= 10 * atol
    # gradient of the entropy with respect to the edge weights at both ends of the range
    grad_s = jax.jit(jax.grad(lambda a, t: jaxrg.spectral_entropy(jaxrg.laplacian_spectrum(a), t)))
    for tau in (1e-8, 1e8):
        assert _all_finite(grad_s(jnp.asarray(two_paths, dtype), jnp.asarray(tau, dtype)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_renyi_for_alpha_0_to_1e3_and_logits_of_magnitude_1e4(dtype):
    z = _logits(dtype)
    alphas = jnp.asarray(ALPHAS, dtype)
    got = jax.jit(info.renyi_entropy)(jnp.asarray(z), alphas)
    assert _all_finite(got) and got.dtype == dtype
    ref = np.array([[mp_renyi(row, a) for row in z] for a in ALPHAS])
    eps = float(jnp.finfo(dtype).eps)
    atol = ATOL[dtype] + eps * np.abs(z).max(axis=1)  # per row: the logits' own rounding scale
    assert np.all(np.abs(np.asarray(got, float) - ref) <= atol)
    # Tsallis shares the statistics; Shannon = alpha -> 1
    assert _all_finite(info.tsallis_entropy(jnp.asarray(z), alphas))
    np.testing.assert_allclose(
        np.asarray(info.shannon_entropy(jnp.asarray(z)), float), ref[4], atol=atol.max()
    )
    # gradients in the logits, at every alpha, and in alpha itself
    grad_z = jax.jit(jax.grad(lambda x: jnp.sum(info.renyi_entropy(x, alphas))))(jnp.asarray(z))
    grad_a = jax.jit(jax.vmap(jax.grad(lambda a: jnp.sum(info.renyi_entropy(jnp.asarray(z), a)))))(
        alphas[1:-1]
    )
    assert _all_finite(grad_z, grad_a)


@pytest.mark.parametrize("dtype", DTYPES)
def test_divergences_for_logits_of_magnitude_1e4(dtype):
    z = _logits(dtype)
    eps = float(jnp.finfo(dtype).eps)
    grads = [jax.jit(jax.grad(fn)) for fn in (info.kl_divergence, info.js_divergence)]
    divergences = jax.jit(
        lambda p, q: (info.kl_divergence(p, q), info.js_divergence(p, q), info.cross_entropy(p, q))
    )
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 1)]:
        p, q = jnp.asarray(z[i]), jnp.asarray(z[j])
        kl, js, ce = divergences(p, q)
        assert _all_finite(kl, js, ce)
        ref = mp_kl(z[i], z[j])
        tol = 1e-12 * abs(ref) if dtype == jnp.float64 else 4 * eps * np.abs(z[[i, j]]).max()
        assert abs(float(kl) - ref) <= max(tol, ATOL[dtype])
        assert -ATOL[dtype] <= float(js) <= np.log(2) + ATOL[dtype]
        assert _all_finite(*(grad(p, q) for grad in grads))


# ---- finite in, finite out; NaN in, NaN out (issue 17) ------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from jaxrg import cumulants  # noqa: E402

_curves_jit = jax.jit(jaxrg.entropy_curves)
_grad_c = jax.jit(jax.grad(lambda ev, t: jaxrg.specific_heat(ev, t), argnums=1))


@settings(max_examples=30, deadline=None)
@given(
    log_tau=st.floats(-300, 307.5),
    log_weight=st.floats(-300, 300),
    seed=st.integers(0, 2**16),
)
def test_curves_and_gradient_are_finite_for_every_finite_tau_and_weight(log_tau, log_weight, seed):
    """Any finite tau > 0 and weights scaled by up to 1e300: S, C, d_S, Z and dC/dtau finite.

    Before: C was NaN for tau >= 1e154 (tau^2 overflowed) and for weights of 1e200 (the
    variance overflowed). Reference for the scale: C depends on tau * lambda only.
    """
    rng = np.random.default_rng(seed)
    a = np.triu(rng.random((6, 6)) < 0.6, 1).astype(float)
    a = (a + a.T) * 10.0**log_weight
    ev = jaxrg.laplacian_spectrum(a)
    tau = 10.0**log_tau
    curves = _curves_jit(ev, jnp.array([tau]))
    for field in curves:
        assert np.all(np.isfinite(np.asarray(field))), (field, tau)
    assert np.isfinite(float(_grad_c(ev, tau)))
    # scale invariance: C(tau; s L) = C(s tau; L), checked where both sides are representable
    if abs(log_weight + log_tau) < 3:
        unit = jaxrg.laplacian_spectrum(a / 10.0**log_weight)
        np.testing.assert_allclose(
            curves.specific_heat,
            jaxrg.specific_heat(unit, jnp.array([tau * 10.0**log_weight])),
            rtol=1e-9,
            atol=1e-12,
        )


def test_specific_heat_at_huge_tau_is_zero_with_zero_gradient():
    """Closed form: C = tau^2 Var(lambda) -> 0 (connected graph); also for the authors' C."""
    ev = jnp.array([0.0, 1.0, 3.0])
    for tau in (1e154, 1e200, 1e308):
        assert float(jaxrg.specific_heat(ev, tau)) == 0.0
        assert float(jaxrg.specific_heat(ev, tau, formula="heat-trace-curvature")) == 0.0
        assert float(_grad_c(ev, tau)) == 0.0
        assert float(jaxrg.thermo.specific_heat_slope_sign(ev, tau)) == 0.0


NAN_IN = {
    "shannon": (info.shannon_entropy, (jnp.array([0.0, 0.0, jnp.nan]),)),
    "renyi": (info.renyi_entropy, (jnp.array([0.0, 0.0, jnp.nan]), 2.0)),
    "renyi_inf": (info.renyi_entropy, (jnp.array([0.0, 0.0, jnp.nan]), jnp.inf)),
    "tsallis": (info.tsallis_entropy, (jnp.array([0.0, jnp.nan, 1.0]), 0.5)),
    "kl": (info.kl_divergence, (jnp.array([0.0, 0.0, jnp.nan]), jnp.zeros(3))),
    "kl_q": (info.kl_divergence, (jnp.zeros(3), jnp.array([0.0, 0.0, jnp.nan]))),
    "cross_entropy": (info.cross_entropy, (jnp.array([0.0, jnp.nan]), jnp.zeros(2))),
    "js": (info.js_divergence, (jnp.array([0.0, jnp.nan]), jnp.zeros(2))),
    "shannon_probs": (info.shannon_entropy_from_probs, (jnp.array([0.5, 0.5, jnp.nan]),)),
    "renyi_probs": (info.renyi_entropy_from_probs, (jnp.array([0.5, jnp.nan]), 2.0)),
    "spectral_entropy": (jaxrg.spectral_entropy, (jnp.array([0.0, jnp.nan, 2.0]), 1.0)),
    "specific_heat": (jaxrg.specific_heat, (jnp.array([0.0, jnp.nan, 2.0]), 1.0)),
    "heat_trace": (jaxrg.heat_trace, (jnp.array([0.0, jnp.nan, 2.0]), 1.0)),
    "spectrum": (jaxrg.laplacian_spectrum, (jnp.array([[0.0, jnp.nan], [jnp.nan, 0.0]]),)),
    "sample_cumulants": (lambda x: cumulants.sample_cumulants(x, 3), (jnp.array([1.0, jnp.nan]),)),
}


@pytest.mark.parametrize("kind", sorted(NAN_IN))
def test_nan_input_gives_nan_output_under_jit(kind):
    """Under jit no value check runs: a NaN in must come out as NaN, never a plausible number."""
    fn, args = NAN_IN[kind]
    out = np.asarray(jax.jit(fn)(*args))
    assert np.any(np.isnan(out)), out


@settings(max_examples=20, deadline=None)
@given(position=st.integers(0, 4), scale=st.floats(-3, 3), seed=st.integers(0, 2**16))
def test_one_nan_logit_anywhere_makes_every_entropy_nan_under_jit(position, scale, seed):
    z = np.random.default_rng(seed).normal(size=5) * 10.0**scale
    z[position] = np.nan
    z = jnp.asarray(z)
    for value in (
        jax.jit(info.shannon_entropy)(z),
        jax.jit(info.renyi_entropy)(z, jnp.array([0.0, 0.5, 1.0, 2.0, jnp.inf])),
        jax.jit(info.kl_divergence)(z, jnp.zeros(5)),
    ):
        assert np.all(np.isnan(np.asarray(value)))


def test_sample_cumulants_of_huge_values_are_exact_or_refused_never_inf_or_nan():
    """kappa_r(s y) = s^r kappa_r(y): references from scipy on unscaled data."""
    import scipy.stats

    y = np.array([1.0, -1.0, 3.0, 0.5, 2.0])
    s = 1e60  # s^4 = 1e240 still representable: compare exactly scaled values
    ks = cumulants.k_statistics(jnp.asarray(y * s), 4)
    expected = [scipy.stats.kstat(y, r) * s**r for r in range(1, 5)]
    np.testing.assert_allclose(ks, expected, rtol=1e-12)
    # at 1e200 the true order-2 value (~1e400) exceeds float64: a clear error, not inf
    for fn, order in (
        (cumulants.sample_cumulants, 4),
        (cumulants.k_statistics, 4),
        (cumulants.cgf_cumulants, 3),
        (cumulants.sample_central_moments, 4),
    ):
        with pytest.raises(ValueError, match=r"overflow float64 from order 2 on.*order=1.*divide"):
            fn(jnp.asarray(y * 1e200), order)
    # the order the error allows is exact
    for fn in (cumulants.sample_cumulants, cumulants.k_statistics, cumulants.cgf_cumulants):
        np.testing.assert_allclose(fn(jnp.asarray(y * 1e200), 1)[0], np.mean(y) * 1e200,
                                   rtol=1e-12)


def test_sample_cumulants_of_high_order_are_finite_or_refused_never_inf_or_nan():
    # the probes' cases: order 200 of normal samples gave NaN entries, then inf entries
    x = jnp.asarray(np.random.default_rng(1).normal(size=200) * 2 + 1)
    with pytest.raises(ValueError, match=r"overflow float64 from order \d+ on") as err:
        cumulants.sample_cumulants(x, 200)
    last = int(str(err.value).split("order=")[1].split(")")[0])
    kappa = np.asarray(cumulants.sample_cumulants(x, last))  # the suggested order works
    assert np.all(np.isfinite(kappa)) and last >= 100
    np.testing.assert_allclose(kappa[:4], cumulants.sample_cumulants(x, 4), rtol=1e-12)
    # under jaxrg.checked, a jitted call raises the same error (a cheap order-2 overflow)
    with pytest.raises(Exception, match="overflow float64 from order 2"):
        jaxrg.checked(jax.jit(cumulants.sample_cumulants, static_argnums=1))(x * 1e200, 2)

