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
