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


def _two_clusters(centre, spread, n=50, dim=3, seed=0):
    r = np.random.default_rng(seed)
    return np.concatenate([r.normal(size=(n, dim)) * spread + centre,
                           r.normal(size=(n, dim)) * spread - centre]).astype(np.float32)


@pytest.mark.parametrize(("centre", "spread", "sigma"),
                         [(500.0, 0.1, 0.2), (500.0, 0.1, 0.1), (1e4, 1.0, 1.0)])
def test_dse_of_two_far_apart_clusters_in_float32_matches_the_float64_reference(
    centre, spread, sigma
):
    """Before: |x_i - x_j|^2 by the Gram expansion |x_i|^2 + |x_j|^2 - 2 x_i.x_j, whose error
    eps (|x_i|^2 + |x_j|^2) survives centring (it removes a common offset, not the distance
    between clusters): 0.2 against within-cluster distances of 0.05 at ±500, so float32 gave
    3.8606 for 2.3796 (σ = 0.2), 4.0288 for 3.5916 (σ = 0.1), 3.6465 for 3.5917 (±1e4)."""
    pts = _two_clusters(centre, spread)
    expected = _ref_dse(pts.astype(np.float64), sigma, 1.0)  # the same float32-rounded points
    with jax.enable_x64(False):
        got = diffusion_spectral_entropy(jnp.asarray(pts), sigma=sigma)
        assert got.dtype == jnp.float32
    assert float(got) == pytest.approx(expected, rel=tol(np.float32)["rtol"])


def test_dse_of_a_large_padded_cloud_is_computed_in_blocks_under_vmap():
    """700 points in 9 dimensions pass the 2^22 differences held at once: the distances are taken
    in row blocks (lax.map); padding and vmap as for a small cloud. Before (Gram expansion,
    float32): 5.9468 for 3.7291."""
    pts = _two_clusters(500.0, 0.1, n=350, dim=9, seed=1)
    padded = np.stack([pts, np.where(np.arange(700)[:, None] < 350, pts, 7.0)])
    mask = np.stack([np.ones(700, bool), np.arange(700) < 350])
    expected = [_ref_dse(pts.astype(np.float64), 0.3, 1.0),
                _ref_dse(pts[:350].astype(np.float64), 0.3, 1.0)]
    with jax.enable_x64(False):
        batch = jax.jit(jax.vmap(lambda p, m: diffusion_spectral_entropy(p, m, sigma=0.3)))(
            jnp.asarray(padded), jnp.asarray(mask))
    np.testing.assert_allclose(np.asarray(batch), expected, rtol=tol(np.float32)["rtol"])


@pytest.mark.parametrize(("dtype", "n"), [(np.float32, 200), (np.float32, 1000),
                                          (np.float32, 2000), (np.float64, 200)])
def test_dse_of_identical_points_is_exactly_zero(dtype, n):
    """W = J, so P = J/n has the eigenvalues 1, 0, ..., 0 and DSE = 0 exactly. Before, every
    |1 - mu| > 0 was kept and eigh's round-off zeros (1-2 eps) added n log(1/eps) eps nats:
    4.0e-4, 2.0e-3, 4.0e-3 at n = 200, 1000, 2000 in float32, 4.4e-12 in float64."""
    with jax.enable_x64(dtype == np.float64):
        got = diffusion_spectral_entropy(jnp.ones((n, 3), dtype))
        jitted = jax.jit(diffusion_spectral_entropy)(jnp.ones((n, 3), dtype))
    assert float(got) == 0.0 and float(jitted) == 0.0


def test_dse_far_above_the_spread_in_float32_matches_the_float64_reference():
    """σ = 1e3 on 200 standard normal points in 10 dimensions: the 10 non-trivial eigenvalues of
    P are about 1e-6 (8 eps), DSE 1.47e-4. Before: 3.23e-4 (+120 %), the 189 round-off zeros
    counted as modes; the docstring's float32 bound at this σ is 10 %."""
    pts = np.random.default_rng(0).normal(size=(200, 10)).astype(np.float32)
    expected = _ref_dse(pts.astype(np.float64), 1e3, 1.0)
    with jax.enable_x64(False):
        got = diffusion_spectral_entropy(jnp.asarray(pts), sigma=1e3)
    assert float(got) == pytest.approx(expected, rel=0.1)
    # and σ = 100: resolved eigenvalues, no mode dropped that the reference counts
    with jax.enable_x64(False):
        got = diffusion_spectral_entropy(jnp.asarray(pts), sigma=100.0)
    assert float(got) == pytest.approx(_ref_dse(pts.astype(np.float64), 100.0, 1.0), rel=5e-3)


@pytest.mark.parametrize(("dtype", "scale"), [(np.float32, 1e-20), (np.float32, 1e20),
                                              (np.float64, 1e-200), (np.float64, 1e200)])
def test_dse_is_invariant_to_a_joint_rescaling_of_points_and_sigma(dtype, scale):
    """DSE(cX, cσ) = DSE(X, σ). Before: σ^2 or |x|^2 under- or overflowed in d2 / (2σ^2) and the
    call raised "adjacency has NaN or inf entries" (an argument the caller never passed) at
    c = 1e±20 in float32 and 1e±200 in float64. Now points and σ are divided by a power of two."""
    pts = np.random.default_rng(0).normal(size=(50, 4)).astype(dtype)
    expected = _ref_dse(pts.astype(np.float64), 1.0, 1.0)
    rtol = tol(dtype)["rtol"]
    with jax.enable_x64(dtype == np.float64):
        got = diffusion_spectral_entropy(jnp.asarray(pts * dtype(scale)), sigma=scale)
        jitted = jax.jit(lambda p, s: diffusion_spectral_entropy(p, sigma=s))(
            jnp.asarray(pts * dtype(scale)), jnp.asarray(scale, dtype))
    assert float(got) == pytest.approx(expected, rel=rtol)
    assert float(jitted) == pytest.approx(expected, rel=rtol)
    if dtype == np.float64:  # homogeneity of the gradient: d/dσ DSE(cX, σ) at cσ is g(1) / c
        def at(c):
            x = jnp.asarray(pts * c)
            return jax.grad(lambda s: diffusion_spectral_entropy(x, sigma=s))(jnp.asarray(c))

        g1 = float(at(1.0))
        assert np.isfinite(g1) and g1 != 0
        assert float(at(scale)) * scale == pytest.approx(g1, rel=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dse_at_extreme_bandwidths_is_log_n_or_zero_without_an_adjacency_error(dtype):
    """σ far below every distance: n isolated points, DSE = log n; σ far above: W = J, DSE = 0.
    Before: σ^2 underflowed to 0 (d2 / 0 = NaN on the diagonal), and DSE raised about an
    "adjacency"; σ^2 overflowed to inf, W = J, and the round-off floor of P's zeros remained."""
    pts = np.random.default_rng(3).normal(size=(40, 3)).astype(dtype)
    tiny, huge = (1e-30, 1e30) if dtype == np.float32 else (1e-300, 1e300)
    with jax.enable_x64(dtype == np.float64):
        isolated = diffusion_spectral_entropy(jnp.asarray(pts), sigma=tiny)
        merged = diffusion_spectral_entropy(jnp.asarray(pts), sigma=huge)
    assert float(isolated) == pytest.approx(np.log(40), rel=tol(dtype)["rtol"])
    assert float(merged) == 0.0


def test_dse_on_the_checked_path_reports_only_its_own_arguments():
    """Before: a traced σ far below the distances (σ^2 underflowed, d2 / 0 = NaN) made
    jaxrg.checked report "adjacency has NaN or inf entries", an argument DSE has not. Now that
    gives log n, and a NaN point is reported as "points" (the affinity is kept finite)."""
    pts = np.random.default_rng(7).normal(size=(9, 2))
    dse = jaxrg.checked(jax.jit(lambda p, s: diffusion_spectral_entropy(p, sigma=s)))
    assert float(dse(jnp.asarray(pts), 1e-300)) == pytest.approx(np.log(9), rel=1e-12)
    pts[3, 1] = np.nan
    with pytest.raises(ValueError, match="points has NaN or inf") as info:
        dse(jnp.asarray(pts), 1.0)
    assert "adjacency" not in str(info.value)


@pytest.mark.parametrize("scale", [1e-40, 2.0**-140, 1e-300, 1e39, 1e300])
def test_float32_dse_of_numpy_points_float32_cannot_hold_is_scale_invariant(scale):
    """x64 off: DSE(c X, c σ) = DSE(X, σ) for NumPy float64 points that float32 cannot hold.
    Before: the cast made points at 1e-40 subnormal (flushed to 0 by XLA), DSE = 0.0 for 1.81;
    σ = 1e-300 was refused as "sigma must be > 0; got 0.0". Now both are divided by a power of
    two on the host, in float64, before the cast."""
    pts = np.random.default_rng(0).normal(size=(12, 3))
    expected = _ref_dse(pts, 1.0, 1.0)
    with jax.enable_x64(False):
        got = diffusion_spectral_entropy(pts * scale, sigma=scale)
    assert got.dtype == np.float32
    assert float(got) == pytest.approx(expected, rel=tol(np.float32)["rtol"])


def test_float32_dse_at_a_sigma_float32_cannot_hold_is_the_limit_not_an_error():
    """σ = 1e-300 (x64 off): n isolated points, DSE = log n; σ = 1e300: DSE = 0 (float32 has no
    room for the true 1e-599). Before: "sigma must be > 0; got 0.0" and a refusal as too large."""
    pts = np.random.default_rng(1).normal(size=(12, 3))
    with jax.enable_x64(False):
        assert float(diffusion_spectral_entropy(pts, sigma=1e-300)) == pytest.approx(
            np.log(12), rel=tol(np.float32)["rtol"])
        assert float(diffusion_spectral_entropy(pts, sigma=1e300)) == 0.0


def test_float32_dse_of_numpy_points_out_of_range_with_a_traced_sigma_is_refused():
    """The host cannot rescale a traced σ with the points: say so, not DSE = 0."""
    pts = np.random.default_rng(0).normal(size=(12, 3)) * 1e-40
    with jax.enable_x64(False), pytest.raises(ValueError, match="sigma is traced"):
        jax.jit(lambda s: diffusion_spectral_entropy(pts, sigma=s))(1e-40)


@pytest.mark.parametrize("scale", [1e-40, 1e-300, 1e39, 1e300])
def test_float32_matrix_entropies_of_a_numpy_matrix_float32_cannot_hold(scale):
    """x64 off: the entropies of K / Tr K do not depend on the scale of a NumPy float64 K.
    Before: diag(1e-40, 2e-40, 3e-40) was refused as "no positive eigenvalue (zero trace)"
    (the cast flushed it to 0); 1e39 as "too large for float32". Now K is divided by a power
    of two on the host; log_spectrum shifts the logits back by its log."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3))
    k = x @ x.T + np.diag([1.0, 2.0, 3.0, 0.5, 0.25, 4.0])
    lam = np.linalg.eigvalsh(k)
    p = lam / lam.sum()
    rtol = tol(np.float32)["rtol"]
    with jax.enable_x64(False):
        assert float(von_neumann_entropy(k * scale)) == pytest.approx(
            scipy.stats.entropy(p), rel=rtol)
        assert float(matrix_renyi_entropy(k * scale, 2.0)) == pytest.approx(
            -np.log(np.sum(p**2)), rel=rtol)
        assert float(vendi_score(k * scale)) == pytest.approx(
            np.exp(scipy.stats.entropy(p)), rel=rtol)
        logits = np.asarray(log_spectrum(k * scale), np.float64)
    np.testing.assert_allclose(logits, np.log(lam * scale), rtol=1e-5)
    with jax.enable_x64(False):
        assert float(von_neumann_entropy(np.diag([1e-40, 2e-40, 3e-40]))) == pytest.approx(
            scipy.stats.entropy([1, 2, 3]), rel=rtol)
