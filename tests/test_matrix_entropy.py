"""Tests of jaxrg.matrix_entropy against numpy/scipy spectra, closed forms and the Vendi checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from tolerances import tol

import jaxrg
from jaxrg.matrix_entropy import (
    diffusion_spectral_entropy,
    log_spectrum,
    matrix_renyi_entropy,
    vendi_score,
    von_neumann_entropy,
)


def _random_psd(rng, n, rank):
    x = rng.normal(size=(n, rank))
    return x @ x.T


def _ref_dse(points, sigma, t):
    """The authors' recipe (Liao et al. 2023) in numpy, natural log and no epsilon."""
    d2 = np.sum((points[:, None, :] - points[None, :, :]) ** 2, axis=-1)
    g = np.exp(-d2 / (2 * sigma**2))
    deg = 1 / np.sqrt(g.sum(1))
    lam = np.abs(np.linalg.eigvalsh(deg[:, None] * g * deg[None, :])) ** t
    eta = lam / lam.sum()
    return scipy.stats.entropy(eta)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_von_neumann_of_a_rank_one_matrix_is_zero(dtype):
    v = np.random.default_rng(0).normal(size=(7, 1))
    k = jnp.asarray(v @ v.T, dtype)
    assert float(von_neumann_entropy(k)) == pytest.approx(0.0, abs=tol(dtype)["atol"])
    assert float(matrix_renyi_entropy(k, 0.0)) == pytest.approx(0.0, abs=1e-12)  # log rank


def test_von_neumann_is_the_shannon_entropy_of_the_rotated_spectrum():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(6))
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    k = 3.0 * q @ np.diag(p) @ q.T
    k = (k + k.T) / 2
    assert float(von_neumann_entropy(k)) == pytest.approx(scipy.stats.entropy(p), rel=1e-10)
    assert float(von_neumann_entropy(np.eye(9))) == pytest.approx(np.log(9), rel=1e-12)


def test_matrix_renyi_matches_numpy_eigenvalues():
    k = _random_psd(np.random.default_rng(2), 8, 5)  # rank 5
    lam = np.clip(np.linalg.eigvalsh(k), 0, None)
    lam = lam[lam > 1e-10 * lam.max()] / lam[lam > 1e-10 * lam.max()].sum()
    alphas = np.array([0.0, 0.5, 2.0, 5.0, np.inf])
    ref = [
        np.log(lam.size),
        *(np.log(np.sum(lam**a)) / (1 - a) for a in alphas[1:-1]),
        -np.log(lam.max()),
    ]
    np.testing.assert_allclose(matrix_renyi_entropy(k, jnp.asarray(alphas)), ref, rtol=1e-9)


def test_vendi_of_identical_samples_is_one_and_of_orthogonal_samples_is_n():
    rng = np.random.default_rng(3)
    x = np.tile(rng.normal(size=(1, 4)), (6, 1))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert float(vendi_score(x @ x.T)) == pytest.approx(1.0, abs=1e-12)
    orth, _ = np.linalg.qr(rng.normal(size=(10, 6)))  # 6 orthonormal samples in R^10
    k = orth.T @ orth
    np.testing.assert_allclose(
        vendi_score(k, q=jnp.asarray([0.5, 1.0, 2.0, jnp.inf])), 6.0, rtol=1e-10
    )


def test_vendi_score_of_three_pairs_is_about_three():
    x = np.array([0.0, 0.0, 10.0, 10.0, 20.0, 20.0])
    k = np.exp(-np.abs(x[:, None] - x[None, :]))
    ref = np.exp(scipy.stats.entropy(np.clip(np.linalg.eigvalsh(k / 6), 0, None)))
    assert float(vendi_score(k)) == pytest.approx(ref, rel=1e-10)
    assert float(vendi_score(k)) == pytest.approx(3.0, abs=1e-3)  # Friedman & Dieng's example


@pytest.mark.parametrize(("sigma", "t"), [(1.0, 1.0), (2.5, 3.0)])
def test_diffusion_spectral_entropy_matches_the_authors_recipe(sigma, t):
    pts = np.random.default_rng(4).normal(size=(30, 3))
    assert float(diffusion_spectral_entropy(pts, sigma=sigma, t=t)) == pytest.approx(
        _ref_dse(pts, sigma, t), rel=1e-9
    )


def test_diffusion_spectral_entropy_ignores_padding_and_vmaps():
    rng = np.random.default_rng(5)
    clouds = [rng.normal(size=(n, 2)) for n in (12, 7)]
    padded = np.zeros((2, 12, 2))
    mask = np.zeros((2, 12), bool)
    for i, c in enumerate(clouds):
        padded[i, : len(c)] = c
        mask[i, : len(c)] = True
    padded[1, 7:] = 99.0  # junk in the padding must not matter
    batch = jax.vmap(lambda p, m: diffusion_spectral_entropy(p, m, sigma=1.0))(padded, mask)
    np.testing.assert_allclose(batch, [_ref_dse(c, 1.0, 1.0) for c in clouds], rtol=1e-9)


def test_diffusion_spectral_entropy_of_a_nan_point_is_an_error_eagerly_and_nan_under_jit():
    pts = np.random.default_rng(7).normal(size=(9, 2))
    bad = pts.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="points has NaN or inf"):
        diffusion_spectral_entropy(bad)
    # before: the NaN modes were dropped as if they were padding, a finite, plausible entropy
    assert np.isnan(jax.jit(diffusion_spectral_entropy)(bad))
    batch = jax.vmap(diffusion_spectral_entropy)(np.stack([bad, pts]))
    assert np.isnan(batch[0]) and float(batch[1]) == pytest.approx(_ref_dse(pts, 10.0, 1.0),
                                                                   rel=1e-9)
    # a NaN in a masked-out (padding) point is ignored, as any padding value is
    mask = np.arange(9) != 3
    ref = _ref_dse(pts[mask], 1.0, 1.0)
    assert float(diffusion_spectral_entropy(bad, mask, sigma=1.0)) == pytest.approx(ref, rel=1e-9)
    jitted = jax.jit(lambda p, m: diffusion_spectral_entropy(p, m, sigma=1.0))
    assert float(jitted(bad, mask)) == pytest.approx(ref, rel=1e-9)


def test_matrix_entropies_vmap_over_a_batch():
    rng = np.random.default_rng(6)
    ks = np.stack([_random_psd(rng, 5, 5) for _ in range(3)])
    got = jax.vmap(von_neumann_entropy)(ks)
    ref = [scipy.stats.entropy(np.linalg.eigvalsh(k) / np.trace(k)) for k in ks]
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    np.testing.assert_allclose(
        jax.vmap(lambda k: vendi_score(k, q=2.0))(ks),
        [1 / np.sum((np.linalg.eigvalsh(k) / np.trace(k)) ** 2) for k in ks],
        rtol=1e-10,
    )


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 4))
    k0 = x @ x.T + 0.1 * np.eye(6)
    direction = rng.normal(size=(6, 6))
    direction = (direction + direction.T) / 2
    f = jax.jit(lambda s: von_neumann_entropy(k0 + s * direction))
    g = jax.grad(f)(0.0)
    fd = (float(f(1e-6)) - float(f(-1e-6))) / 2e-6
    assert float(g) == pytest.approx(fd, rel=1e-6)
    pts = rng.normal(size=(10, 2))
    step = rng.normal(size=(10, 2))
    h = jax.jit(lambda s: diffusion_spectral_entropy(pts + s * step, sigma=1.0, t=2.0))
    g = jax.grad(h)(0.0)
    fd = (float(h(1e-6)) - float(h(-1e-6))) / 2e-6
    assert np.isfinite(g) and float(g) == pytest.approx(fd, rel=1e-5)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: von_neumann_entropy(np.ones((2, 3))), "square"),
        (lambda: von_neumann_entropy(np.array([[1.0, 0.5], [0.0, 1.0]])), "not symmetric"),
        (lambda: von_neumann_entropy(np.diag([1.0, -1.0])), "not positive semi-definite"),
        (lambda: von_neumann_entropy(np.zeros((3, 3))), "no positive eigenvalue"),
        (lambda: vendi_score(np.array([[1.0, np.nan], [np.nan, 1.0]])), "kernel_matrix has NaN"),
        (lambda: matrix_renyi_entropy(np.eye(2), -1.0), "alpha must be >= 0"),
        (lambda: diffusion_spectral_entropy(np.zeros(4)), "2-D"),
        (lambda: diffusion_spectral_entropy(np.zeros((3, 2)), sigma=0.0), "sigma must be > 0"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_log_spectrum_marks_round_off_zeros_as_minus_inf():
    v = np.array([[1.0], [2.0], [3.0]])
    logits = np.asarray(log_spectrum(v @ v.T))
    assert np.sum(np.isfinite(logits)) == 1 and logits[-1] == pytest.approx(np.log(14.0))


@pytest.mark.parametrize("dtype, shift, rtol", [(jnp.float64, 1e8, 1e-8),
                                                (jnp.float32, 1e3, 1e-5),
                                                (jnp.float32, 1e4, 1e-4)])
def test_dse_is_invariant_to_a_shift_of_the_points(dtype, shift, rtol):
    """DSE depends on distances only. The Gram expansion of |x_i - x_j|^2 cancelled
    catastrophically far from the origin: +2 % at an offset of 1e8 in float64, +14 % at 1e4
    in float32 (2.67 against 2.34); the points are now centred first."""
    points = np.random.default_rng(0).normal(size=(40, 3)) * 8
    expected = float(diffusion_spectral_entropy(jnp.asarray(points)))
    moved = diffusion_spectral_entropy(jnp.asarray(points + shift, dtype))
    np.testing.assert_allclose(float(moved), expected, rtol=rtol)
    # padding stays out of the centring: masked far-away rows change nothing
    padded = jnp.asarray(np.vstack([points + shift, np.full((3, 3), -1e6)]), dtype)
    mask = jnp.arange(43) < 40
    np.testing.assert_allclose(float(diffusion_spectral_entropy(padded, mask)), expected,
                               rtol=rtol)


_INVALID_MATRICES = [
    (np.array([[1.0, 2.0], [2.0, 1.0]]), "not positive semi-definite"),  # eigenvalues -1, 3
    (np.array([[1.0, 0.5], [0.0, 1.0]]), "not symmetric"),
    (np.zeros((3, 3)), "no positive eigenvalue"),
    (-np.eye(3), "no positive eigenvalue"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "has NaN or inf"),
]


@pytest.mark.parametrize(("matrix", "match"), _INVALID_MATRICES)
@pytest.mark.parametrize(
    "entropy",
    [von_neumann_entropy, lambda k: matrix_renyi_entropy(k, 2.0), vendi_score],
    ids=["von_neumann", "renyi_2", "vendi"],
)
def test_matrix_refused_eagerly_is_refused_on_the_checked_path_and_is_nan_under_jit(
    matrix, match, entropy
):
    """Before: the checks ran only eagerly; under jit (checked or not) [[1, 2], [2, 1]] gave a
    von Neumann entropy of 0.0, the zero matrix -inf, the asymmetric one 0.66."""
    with pytest.raises(ValueError, match=match):
        entropy(matrix)
    with pytest.raises(ValueError, match=match):
        jaxrg.checked(jax.jit(entropy))(jnp.asarray(matrix))
    assert np.isnan(jax.jit(entropy)(jnp.asarray(matrix)))


def test_valid_matrices_pass_the_checked_path_with_the_scipy_entropy():
    k = _random_psd(np.random.default_rng(11), 6, 4)  # rank 4: round-off zeros are not refused
    lam = np.clip(np.linalg.eigvalsh(k), 0, None)
    p = lam / lam.sum()
    got = jaxrg.checked(jax.jit(von_neumann_entropy))(jnp.asarray(k))
    assert float(got) == pytest.approx(scipy.stats.entropy(p), rel=1e-10)
    got = jaxrg.checked(jax.jit(lambda m: vendi_score(m, q=2.0)))(jnp.asarray(k))
    assert float(got) == pytest.approx(1 / np.sum(p**2), rel=1e-10)
    batch = jaxrg.checked(jax.jit(jax.vmap(von_neumann_entropy)))(jnp.stack([k, np.eye(6)]))
    np.testing.assert_allclose(batch, [scipy.stats.entropy(p), np.log(6)], rtol=1e-10)


@pytest.mark.parametrize(
    ("sigma", "t", "match"),
    [
        (-1.0, 1.0, "sigma must be"),
        (0.0, 1.0, "sigma must be"),
        (np.nan, 1.0, "sigma must be"),
        (1.0, -1.0, "t must be"),
        (1.0, 0.0, "t must be"),
        (1.0, np.nan, "t must be"),
    ],
)
def test_dse_refuses_a_bad_sigma_or_t_on_the_checked_path_and_is_nan_under_jit(sigma, t, match):
    """Before: sigma and t were checked only when concrete; under jit sigma = -1 gave the entropy
    of sigma = 1, t = -1 a finite number and sigma = NaN 0.0."""
    pts = jnp.asarray(np.random.default_rng(1).normal(size=(7, 3)))

    def dse(s, tt):
        return diffusion_spectral_entropy(pts, sigma=s, t=tt)

    with pytest.raises(ValueError, match=match):
        dse(sigma, t)
    with pytest.raises(ValueError, match=match):
        jaxrg.checked(jax.jit(dse))(sigma, t)
    assert np.isnan(jax.jit(dse)(sigma, t))
    good = jaxrg.checked(jax.jit(dse))(1.5, 2.0)
    assert float(good) == pytest.approx(_ref_dse(np.asarray(pts), 1.5, 2.0), rel=1e-9)


@pytest.mark.parametrize(("sigma", "t", "name"), [
    (1.0, np.inf, "t"), (np.inf, 1.0, "sigma"), (np.nan, 1.0, "sigma"), (1.0, np.nan, "t")])
def test_dse_refuses_an_infinite_sigma_or_t_on_concrete_input_naming_it(sigma, t, name):
    # before: t = inf passed the "t > 0" check and failed later with "logits contain NaN"
    pts = np.random.default_rng(1).normal(size=(7, 3))
    with pytest.raises(ValueError, match=rf"^{name} must be > 0 and finite; got (inf|nan)"):
        diffusion_spectral_entropy(pts, sigma=sigma, t=t)
