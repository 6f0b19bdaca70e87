"""Feature-aware spectral entropy against closed forms, scipy's expm and finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from graphs_zoo import joined_communities, random_graph, ring, star, two_cliques
from tolerances import tol

import jaxrg

TAUS = jnp.logspace(-2, 2, 9)
F64 = tol(np.float64)


def _oracle_curves(a, x, taus, *, centre=True, normalize=True, normalized=False):
    """S_X, C_X from scipy's expm of the Laplacian and the KL form (no eigenvectors).

    Z_X(τ) = N Tr(Xᵀ e^{−τL} X) / ‖X‖² and the moments of λ under the feature measure,
    ⟨λ^k⟩ = Tr(Xᵀ L^k e^{−τL} X) / Tr(Xᵀ e^{−τL} X), give S = (log Z + τ⟨λ⟩) / log N and
    C = τ² (⟨λ²⟩ − ⟨λ⟩²) / log N. (Finite differences of log Z in τ, the earlier oracle, were
    off by up to 2e-5 relative at τ = 4 against a 40-digit mpmath reference.) ``normalized``:
    I − D^{−1/2} A D^{−1/2} (zero rows for isolated nodes) and centring along r = D^{1/2} 1
    (r_i = 1 where d_i = 0).
    """
    a = np.asarray(a, float)
    x = np.asarray(x, float).reshape(a.shape[0], -1)
    n = a.shape[0]
    degree = a.sum(1)
    lap = np.diag(degree) - a
    r = np.ones(n)
    if normalized:
        inv = np.where(degree > 0, 1 / np.sqrt(np.where(degree > 0, degree, 1)), 0)
        lap = inv[:, None] * lap * inv[None, :]
        r = np.where(degree > 0, np.sqrt(degree), 1.0)
    if centre:
        x = x - np.outer(r, r @ x) / (r @ r)
    if normalize:
        x = x / np.linalg.norm(x, axis=0)
    mass = np.sum(x**2)
    entropy, heat = [], []
    for tau in np.asarray(taus):
        smoothed = scipy.linalg.expm(-tau * lap) @ x
        z = np.trace(x.T @ smoothed)
        m1 = np.trace(x.T @ lap @ smoothed) / z
        m2 = np.trace(x.T @ lap @ lap @ smoothed) / z
        entropy.append((np.log(n * z / mass) + tau * m1) / np.log(n))
        heat.append(tau**2 * (m2 - m1**2) / np.log(n))
    return np.array(entropy), np.array(heat)


def test_identity_features_without_centring_give_the_structure_only_curves():
    rng = np.random.default_rng(0)
    a = random_graph(rng, 11, p=0.4, weighted=True)
    ev = jaxrg.laplacian_spectrum(a)
    spec = jaxrg.feature_spectrum(a, np.eye(11), centre=False)
    got, want = jaxrg.feature_entropy_curves(spec, TAUS), jaxrg.entropy_curves(ev, TAUS)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, **F64)
    got_s = jaxrg.feature_characteristic_scales(spec)
    want_s = jaxrg.characteristic_scales(ev)
    np.testing.assert_array_equal(got_s.valid, want_s.valid)
    np.testing.assert_allclose(got_s.taus, want_s.taus, rtol=1e-9)


def test_identity_features_give_the_dense_heat_trace_curvature_scales():
    rng = np.random.default_rng(2)
    a = random_graph(rng, 12, p=0.4, weighted=True)
    spec = jaxrg.feature_spectrum(a, np.eye(12), centre=False)
    got = jaxrg.feature_characteristic_scales(spec, formula="heat-trace-curvature")
    want = jaxrg.characteristic_scales(jaxrg.laplacian_spectrum(a), formula="heat-trace-curvature")
    np.testing.assert_array_equal(got.valid, want.valid)
    np.testing.assert_allclose(got.taus, want.taus, rtol=1e-9)
    np.testing.assert_allclose(got.heights, want.heights, rtol=1e-9)
    with pytest.raises(ValueError, match="formula must be one of"):
        jaxrg.feature_characteristic_scales(spec, formula="exact")


def test_identity_features_with_centring_remove_exactly_the_zero_mode():
    a, lam = ring(9)
    spec = jaxrg.feature_spectrum(a, np.eye(9))
    lam = lam[1:]  # closed-form ring spectrum without the zero mode, unit weights
    got = jaxrg.feature_entropy_curves(spec, TAUS).specific_heat
    for tau, c in zip(np.asarray(TAUS), np.asarray(got), strict=True):
        p = np.exp(-tau * (lam - lam.min()))
        p /= p.sum()
        var = np.sum(p * (lam - np.sum(p * lam)) ** 2)
        np.testing.assert_allclose(c, tau**2 * var / np.log(9), rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("mode", [1, 4])
def test_an_eigenvector_as_feature_gives_a_single_mode_measure(mode):
    a, _ = ring(10)
    lap = np.diag(a.sum(1)) - a
    _, vectors = np.linalg.eigh(lap)
    x = vectors[:, mode]  # ring modes come in degenerate pairs: still one eigenvalue
    spec = jaxrg.feature_spectrum(a, 3.0 * x)
    curves = jaxrg.feature_entropy_curves(spec, TAUS)
    np.testing.assert_allclose(curves.specific_heat, 0.0, atol=1e-12)
    np.testing.assert_allclose(curves.entropy, 1.0, rtol=1e-12)  # p(tau) = p(0): no KL
    assert not bool(jaxrg.feature_characteristic_scales(spec).valid.any())


def test_curves_match_the_heat_content_of_the_features_by_expm():
    rng = np.random.default_rng(1)
    a = random_graph(rng, 12, p=0.4, weighted=True)
    x = rng.normal(size=(12, 3)) + 2.0
    taus = jnp.array([0.05, 0.3, 1.0, 4.0])
    for centre, normalize in [(True, True), (False, False), (True, False)]:
        spec = jaxrg.feature_spectrum(a, x, centre=centre, normalize=normalize)
        curves = jaxrg.feature_entropy_curves(spec, taus)
        s, c = _oracle_curves(a, x, taus, centre=centre, normalize=normalize)
        np.testing.assert_allclose(curves.entropy, s, rtol=1e-10)
        np.testing.assert_allclose(curves.specific_heat, c, rtol=1e-9)



@pytest.mark.parametrize("centre", [False, True])
def test_normalised_laplacian_measure_matches_expm_on_irregular_disconnected_graphs(centre):
    """``normalized=True``: the zero modes of I − D^{−1/2}AD^{−1/2} are D^{1/2}1_c, not the
    component indicators of L = D − A. The closed-form zero-mode weight used the indicators:
    on a star with a feature on its hub, Z_X(50) was 1.33 for 2.00 and with centring
    4e-43 for 0.27 (and jax.grad of S_X disagreed with finite differences by 3 %). Now
    centring removes the projection on D^{1/2}1 (the normalised zero mode) and the zero modes'
    weight is Σ_c (v_cᵀX)²/‖v_c‖². Reference: scipy's expm (no eigenvectors), on a weighted
    irregular graph with two components, a self-loop and an isolated node."""
    rng = np.random.default_rng(5)
    a = np.zeros((11, 11))
    a[:6, :6] = random_graph(rng, 6, p=0.7, weighted=True)
    a[6, 7:10] = a[7:10, 6] = [1.0, 2.5, 0.3]  # a weighted star; node 10 isolated
    a[7, 7] = 0.7  # a self-loop: it counts towards the normalised degree
    x = rng.normal(size=(11, 2)) + 1.0
    taus = jnp.array([0.05, 0.5, 3.0, 50.0])
    for normalize in (True, False):
        spec = jaxrg.feature_spectrum(a, x, centre=centre, normalize=normalize, normalized=True)
        curves = jaxrg.feature_entropy_curves(spec, taus)
        s, c = _oracle_curves(a, x, taus, centre=centre, normalize=normalize, normalized=True)
        np.testing.assert_allclose(curves.entropy, s, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(curves.specific_heat, c, rtol=1e-8, atol=1e-12)
    star = np.zeros((4, 4))
    star[0, 1:] = star[1:, 0] = 1.0
    hub = np.array([1.0, 0.0, 0.0, 0.0])
    spec = jaxrg.feature_spectrum(star, hub, centre=False, normalize=False, normalized=True)
    got = jaxrg.feature_entropy_curves(spec, jnp.array([50.0])).heat_trace
    np.testing.assert_allclose(got, [2.0], rtol=1e-12)  # N (v_0ᵀx)² / (‖v_0‖² ‖x‖²) = 4 · 3/6
    # jax.grad through the normalised measure equals finite differences
    w = random_graph(np.random.default_rng(21), 6, p=0.6, weighted=True)
    feats = np.random.default_rng(22).normal(size=(6, 2))
    e = np.zeros((6, 6))
    i, j = np.argwhere(np.triu(w, 1))[0]
    e[i, j] = e[j, i] = 1.0

    def entropy(adj):
        spec = jaxrg.feature_spectrum(adj, feats, centre=centre, normalized=True)
        return jaxrg.feature_entropy_curves(spec, 0.7).entropy

    grad = float(jnp.sum(jax.grad(entropy)(jnp.asarray(w)) * e))
    h = 1e-4
    fd = float((-entropy(w + 2 * h * e) + 8 * entropy(w + h * e) - 8 * entropy(w - h * e)
                + entropy(w - 2 * h * e)) / (12 * h))
    np.testing.assert_allclose(grad, fd, rtol=1e-7)

def test_specific_heat_is_minus_the_log_derivative_of_the_entropy():
    rng = np.random.default_rng(2)
    a = random_graph(rng, 10, p=0.5)
    spec = jaxrg.feature_spectrum(a, rng.normal(size=(10, 4)))

    def entropy(log_tau):
        return jaxrg.feature_entropy_curves(spec, jnp.exp(log_tau)).entropy

    slope = jax.jit(jax.vmap(jax.grad(entropy)))(jnp.log(TAUS))  # compiled: not op by op
    np.testing.assert_allclose(
        -slope, jaxrg.feature_entropy_curves(spec, TAUS).specific_heat, rtol=1e-9, atol=1e-13
    )


def test_curves_are_invariant_under_node_permutation_and_feature_mixing():
    rng = np.random.default_rng(3)
    a = random_graph(rng, 12, p=0.4, weighted=True)
    x = rng.normal(size=(12, 3))
    perm = rng.permutation(12)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    for normalize in (True, False):
        base = jaxrg.feature_entropy_curves(jaxrg.feature_spectrum(a, x, normalize=normalize), TAUS)
        permuted = jaxrg.feature_spectrum(a[perm][:, perm], x[perm], normalize=normalize)
        np.testing.assert_allclose(
            jaxrg.feature_entropy_curves(permuted, TAUS).specific_heat, base.specific_heat, **F64
        )
    # normalize=False: the Gram matrix X X^T, so X -> X Q (orthogonal) and X -> 5 X change nothing
    base = jaxrg.feature_entropy_curves(jaxrg.feature_spectrum(a, x, normalize=False), TAUS)
    for y in (x @ q, 5.0 * x):
        mixed = jaxrg.feature_entropy_curves(jaxrg.feature_spectrum(a, y, normalize=False), TAUS)
        np.testing.assert_allclose(mixed.entropy, base.entropy, **F64)
        np.testing.assert_allclose(mixed.specific_heat, base.specific_heat, **F64)
    # normalize=True: every column counts once, whatever its units
    norm = jaxrg.feature_entropy_curves(jaxrg.feature_spectrum(a, x), TAUS)
    scaled = jaxrg.feature_entropy_curves(jaxrg.feature_spectrum(a, x * [1e-3, 1.0, 1e4]), TAUS)
    np.testing.assert_allclose(scaled.specific_heat, norm.specific_heat, **F64)


def test_centred_features_have_no_spurious_late_peak_from_round_off():
    # the constant mode carries exactly no mass after centring: no peak beyond the slowest
    # structural scale (round-off of u_1^T X would give one near 65 / lambda_2)
    rng = np.random.default_rng(4)
    a = two_cliques(6)
    spec = jaxrg.feature_spectrum(a, rng.normal(size=(12, 3)))
    assert float(jnp.exp(spec.log_weights[0])) == 0.0
    scales = jaxrg.feature_characteristic_scales(spec)
    lam = np.linalg.eigvalsh(np.diag(a.sum(1)) - a)
    assert np.all(np.asarray(scales.taus[scales.valid]) < 10 / lam[1])


def test_disconnected_graph_keeps_the_component_modes_of_centred_features():
    # two components: centring removes the global constant but not 1_A - 1_B
    a = np.zeros((7, 7))
    a[:4, :4] = 1 - np.eye(4)
    a[4:, 4:] = 1 - np.eye(3)
    x = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0])  # the component indicator
    spec = jaxrg.feature_spectrum(a, x)
    weights = np.exp(np.asarray(spec.log_weights))
    np.testing.assert_allclose(weights, [7.0, 0, 0, 0, 0, 0, 0], atol=1e-12)


def test_vmap_over_a_padded_batch_matches_single_graphs():
    rng = np.random.default_rng(5)
    graphs = [random_graph(rng, 7, p=0.6), random_graph(rng, 5, p=0.8, weighted=True)]
    feats = [rng.normal(size=(7, 2)), rng.normal(size=(5, 2))]
    batch = jaxrg.pad_adjacency(graphs)
    x = np.zeros((2, 7, 2))
    x[0], x[1, :5] = feats[0], feats[1]
    x[1, 5:] = 99.0  # padded rows are ignored

    @jax.jit
    @jax.vmap
    def curves(a, m, xx):
        spec = jaxrg.feature_spectrum(a, xx, m)
        return jaxrg.feature_entropy_curves(spec, TAUS), jaxrg.feature_characteristic_scales(spec)

    got_c, got_s = curves(batch.adjacency, batch.mask, jnp.asarray(x))
    for b, (g, f) in enumerate(zip(graphs, feats, strict=True)):
        spec = jaxrg.feature_spectrum(g, f)
        want = jaxrg.feature_entropy_curves(spec, TAUS)
        np.testing.assert_allclose(got_c.specific_heat[b], want.specific_heat, rtol=1e-9)
        np.testing.assert_allclose(got_c.entropy[b], want.entropy, rtol=1e-9, atol=1e-12)
        want_s = jaxrg.feature_characteristic_scales(spec)
        np.testing.assert_array_equal(got_s.valid[b], want_s.valid)
        np.testing.assert_allclose(got_s.taus[b], want_s.taus, rtol=1e-9)


def _grid_3x3():
    path = np.diag(np.ones(2), 1) + np.diag(np.ones(2), -1)
    return np.kron(path, np.eye(3)) + np.kron(np.eye(3), path)


def _five_point(f, x, h):
    return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h)


def test_grad_of_feature_scale_wrt_features_and_edge_weights_matches_finite_differences():
    rng = np.random.default_rng(6)
    a = jnp.asarray(random_graph(rng, 10, p=0.5, weighted=True))  # simple spectrum
    x = jnp.asarray(rng.normal(size=(10, 3)))
    dx, da = jnp.asarray(rng.normal(size=x.shape)), jnp.asarray(rng.normal(size=a.shape))
    da = jnp.where(a > 0, da + da.T, 0.0)

    @jax.jit  # one compilation for the eight finite-difference evaluations
    def tau_star(a, x):
        s = jaxrg.feature_characteristic_scales(jaxrg.feature_spectrum(a, x))
        return s.taus[0]

    assert bool(jnp.isfinite(tau_star(a, x)))
    ga, gx = jax.jit(jax.grad(tau_star, (0, 1)))(a, x)  # both gradients: one compiled program
    np.testing.assert_allclose(
        jnp.sum(gx * dx), _five_point(lambda t: tau_star(a, x + t * dx), 0.0, 1e-4), rtol=1e-6
    )
    np.testing.assert_allclose(
        jnp.sum(ga * da), _five_point(lambda t: tau_star(a + t * da, x), 0.0, 1e-4), rtol=1e-6
    )


@pytest.mark.parametrize(
    "name, adjacency",
    [
        ("ring", ring(8)[0]),  # eigenvalue pairs
        ("complete", np.ones((5, 5)) - np.eye(5)),  # one non-zero eigenvalue, 4 times
        ("star", star(6)[0]),  # eigenvalue 1 four times, split by round-off in eigh
        ("grid", _grid_3x3()),
        ("two cliques", two_cliques(3)),  # two zero modes, eigenvalues repeated across cliques
        ("random weighted", random_graph(np.random.default_rng(8), 9, p=0.5, weighted=True)),
    ],
)
def test_feature_curves_derivatives_are_exact_at_repeated_eigenvalues(name, adjacency):
    """d S_X, d C_X along edge weights and features against five-point finite differences.

    Through eigh's eigenvectors they were NaN on the ring, the complete graph, the grid and the
    two cliques, and finite but wrong (97 % off) on the star, whose repeated eigenvalue eigh
    splits by round-off.
    """
    rng = np.random.default_rng(1)
    a = jnp.asarray(adjacency, jnp.float64)
    n = a.shape[0]
    x = jnp.asarray(rng.normal(size=(n, 3)))
    upper = np.triu(rng.normal(size=(n, n)) * (np.asarray(a) > 0), 1)
    da, dx = jnp.asarray(upper + upper.T), jnp.asarray(rng.normal(size=x.shape))
    taus = jnp.array([0.3, 1.0, 3.0])

    @jax.jit
    def curves(a, x):
        c = jaxrg.feature_entropy_curves(jaxrg.feature_spectrum(a, x), taus)
        return jnp.concatenate([c.entropy, c.specific_heat])

    _, forward = jax.jvp(curves, (a, x), (da, dx))
    fd = _five_point(lambda t: curves(a + t * da, x + t * dx), 0.0, 1e-4)
    np.testing.assert_allclose(forward, fd, rtol=1e-6, atol=1e-9)
    weights = jnp.asarray(rng.normal(size=forward.shape))
    ga, gx = jax.grad(lambda a, x: jnp.sum(curves(a, x) * weights), (0, 1))(a, x)
    np.testing.assert_allclose(jnp.sum(ga * da) + jnp.sum(gx * dx), jnp.sum(fd * weights),
                               rtol=1e-6, atol=1e-9)


def test_bad_features_are_refused_with_the_argument_named():
    a = two_cliques(3)
    with pytest.raises(ValueError, match="features must have shape"):
        jaxrg.feature_spectrum(a, np.ones((5, 2)))
    with pytest.raises(ValueError, match="features must be finite"):
        jaxrg.feature_spectrum(a, np.full(6, np.nan))
    with pytest.raises(ValueError, match="no mass after centring"):
        jaxrg.feature_spectrum(a, np.ones((6, 2)))
    with pytest.raises(ValueError, match="sort_by"):
        jaxrg.feature_characteristic_scales(jaxrg.feature_spectrum(a, np.eye(6)), sort_by="x")
    # the options are checked as on the dense and SLQ routes (one door, jaxrg._peaks.user_grid)
    with pytest.raises(ValueError, match="max_peaks"):
        jaxrg.feature_characteristic_scales(jaxrg.feature_spectrum(a, np.eye(6)), max_peaks=0)
    with pytest.raises(ValueError, match="min_prominence"):
        jaxrg.feature_characteristic_scales(jaxrg.feature_spectrum(a, np.eye(6)),
                                            min_prominence=2.0)
    # under jit the constant features give NaN, not a number
    spec = jax.jit(jaxrg.feature_spectrum)(jnp.asarray(a), jnp.ones((6, 2)))
    assert bool(jnp.isnan(jaxrg.feature_entropy_curves(spec, 1.0).specific_heat))


def test_sparse_feature_quadrature_matches_the_dense_measure():
    import jaxrg.sparse as sp

    rng = np.random.default_rng(7)
    a = random_graph(rng, 30, p=0.15, weighted=True)  # possibly disconnected: zero modes exact
    x = rng.normal(size=(30, 3)) + 1.0
    exact = jaxrg.feature_spectrum(a, x)
    approx = sp.feature_quadrature(a, x, num_matvecs=30)  # k = N: exact up to round-off
    got = jaxrg.feature_entropy_curves(approx, TAUS)
    want = jaxrg.feature_entropy_curves(exact, TAUS)
    np.testing.assert_allclose(got.entropy, want.entropy, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got.specific_heat, want.specific_heat, rtol=1e-7, atol=1e-10)
    got_s, want_s = (
        jaxrg.feature_characteristic_scales(s, jaxrg.default_taus(exact.eigenvalues))
        for s in (approx, exact)
    )
    np.testing.assert_array_equal(got_s.valid, want_s.valid)
    np.testing.assert_allclose(got_s.taus, want_s.taus, rtol=1e-7)
    with pytest.raises(ValueError, match="features must have shape"):
        sp.feature_quadrature(a, x[:5])



def test_sparse_centred_features_leave_no_round_off_on_the_zero_mode():
    """On a connected graph the centred features have no zero-mode mass; the sparse route took
    the total from a second sum that rounds differently and left ~1e-31 at lambda = 0, which
    outlives every real mode once e^{-lambda_2 tau} falls below it: on weighted karate
    (lambda_2 = 1.19) S_X(84) was -20.1 for 0.076 and C_X had a spurious peak of height 358 at
    tau = 59.9 (the default grid reaches 100/lambda_2). References: the dense route (eigh, zero
    modes in closed form) at every tau, scipy's expm oracle at tau = 1 (at large tau the
    oracle's own round-off on the zero mode takes over, as the bug did)."""
    import networkx as nx

    import jaxrg.sparse as sp

    a = nx.to_numpy_array(nx.karate_club_graph())  # weights 1..7, connected
    x = np.random.default_rng(0).normal(size=(34, 3))
    approx = sp.feature_quadrature(a, x)
    taus = jnp.array([1.0, 30.0, 60.0, 84.0])
    got = jaxrg.feature_entropy_curves(approx, taus)
    want = jaxrg.feature_entropy_curves(jaxrg.feature_spectrum(a, x), taus)
    np.testing.assert_allclose(got.entropy, want.entropy, rtol=1e-8)
    np.testing.assert_allclose(got.specific_heat, want.specific_heat, rtol=1e-6, atol=1e-12)
    s, c = _oracle_curves(a, x, taus[:1])
    np.testing.assert_allclose(got.entropy[:1], s, rtol=1e-8)
    np.testing.assert_allclose(got.specific_heat[:1], c, rtol=1e-6)
    scales = jaxrg.feature_characteristic_scales(approx)
    assert np.all(np.asarray(scales.taus)[np.asarray(scales.valid)] < 10), scales.taus

@pytest.mark.parametrize("exponent", [-1000, -500, 500, 1000])
@pytest.mark.parametrize("normalize", [True, False])
def test_feature_measure_is_invariant_to_extreme_feature_scales(exponent, normalize):
    """S_X of c X equals S_X of X on both routes (the measure is scale-free; c = 2^e is exact).

    ``||u_i^T X||^2`` over- or underflowed for features near 1e±160: both routes refused such
    features as "no mass after centring", a wrong reason for a valid input.
    """
    import jaxrg.sparse as sp

    a = random_graph(np.random.default_rng(5), 14, p=0.4) + ring(14)[0]
    a = np.minimum(a, 1)
    x = np.random.default_rng(6).normal(size=(14, 3))
    c = 2.0**exponent
    for route in (lambda f: jaxrg.feature_spectrum(jnp.asarray(a), f, normalize=normalize),
                  lambda f: sp.feature_quadrature(a, f, normalize=normalize)):
        expected = jaxrg.feature_entropy_curves(route(x), TAUS)
        got = jaxrg.feature_entropy_curves(route(x * c), TAUS)
        for field in ("entropy", "specific_heat"):
            np.testing.assert_allclose(getattr(got, field), getattr(expected, field),
                                       rtol=1e-13, atol=1e-15, err_msg=field)


# ---- float32: a weak link below eigh's resolution (twenty-first session) ---------------------


def _offset_features() -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5)).astype(np.float32)
    x[:30] += 1  # one community's features offset: the bridge's mode carries most of the mass
    return x


@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("bridge", [1e-5, 1e-6])
def test_float32_feature_measure_of_weakly_joined_communities_matches_float64(bridge, normalized):
    """The feature measure used eigh's pairs: in float32 λ₂ came out 28x too large (1.85e-6 for
    6.7e-8) and its weight 9.2 for 16.4 (the vector mixed with the zero mode): S_X and C_X
    0.14 and 0.10 off, τ*_X 20 % off. Now the small eigenpairs are refined as in
    ``laplacian_spectrum``, the zero modes exact."""
    a, x = joined_communities(bridge), _offset_features()
    taus = np.logspace(-2, 10, 121)
    out = []
    for x64, dtype in ((False, jnp.float32), (True, jnp.float64)):
        with jax.enable_x64(x64):
            spectrum = jaxrg.feature_spectrum(jnp.asarray(a, dtype), jnp.asarray(x, dtype),
                                              normalized=normalized)
            curves = jaxrg.feature_entropy_curves(spectrum, jnp.asarray(taus, dtype))
            scales = jaxrg.feature_characteristic_scales(spectrum)
            out.append([np.asarray(v, np.float64) for v in (
                spectrum.eigenvalues[1], jnp.exp(spectrum.log_weights[1]), curves.entropy,
                curves.specific_heat, jnp.sort(jnp.where(scales.valid, scales.taus, jnp.inf)))])
    (lam32, w32, s32, c32, t32), (lam64, w64, s64, c64, t64) = out
    np.testing.assert_allclose(lam32, lam64, rtol=1e-4)
    np.testing.assert_allclose(w32, w64, rtol=1e-4)
    np.testing.assert_allclose(s32, s64, rtol=0, atol=1e-5)
    np.testing.assert_allclose(c32, c64, rtol=0, atol=1e-5)
    np.testing.assert_allclose(t32, t64, rtol=1e-4)


@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("quantity", ["entropy", "scale"])
def test_float32_feature_gradients_of_weakly_joined_communities_match_float64(
    quantity, normalized
):
    """Gradients in the edge weights and the features: through eigh's pairs they were 15-70 %
    off (relative to the largest entry); through refined pairs with eigh's zero-mode column
    (λ₂ mixed in, coupling every mode to it) still 14 %. Now 1e-5."""
    a, x = joined_communities(1e-6), _offset_features()

    def fn(adjacency, features):
        spectrum = jaxrg.feature_spectrum(adjacency, features, normalized=normalized)
        if quantity == "entropy":
            taus = jnp.asarray([0.3], adjacency.dtype)
            return jaxrg.feature_entropy_curves(spectrum, taus).entropy[0]
        scales = jaxrg.feature_characteristic_scales(spectrum)
        return jnp.max(jnp.where(scales.valid, scales.taus, 0))

    out = []
    for x64, dtype in ((False, jnp.float32), (True, jnp.float64)):
        with jax.enable_x64(x64):
            grads = jax.grad(fn, argnums=(0, 1))(jnp.asarray(a, dtype), jnp.asarray(x, dtype))
            out.append([np.asarray(g, np.float64) for g in grads])
    (da32, dx32), (da64, dx64) = out
    edges = a > 0
    both32, both64 = (da32 + da32.T)[edges], (da64 + da64.T)[edges]
    np.testing.assert_allclose(both32, both64, rtol=0, atol=2e-4 * np.abs(both64).max())
    np.testing.assert_allclose(dx32, dx64, rtol=0, atol=2e-4 * np.abs(dx64).max())


def test_float32_feature_measure_does_not_depend_on_the_order_of_the_nodes():
    """Karate plus a copy weighted 1e-5, nodes shuffled (features with them): eigh with the
    components interleaved gave the weak one's eigenvalues the strong one's round-off. The
    feature measure is now computed in block order: the shuffled graph's curves equal the
    blocked graph's and float64's."""
    import networkx as nx

    karate = nx.to_numpy_array(nx.karate_club_graph()).astype(np.float32)
    union = np.zeros((68, 68), np.float32)
    union[:34, :34], union[34:, 34:] = karate, karate * np.float32(1e-5)
    x = np.random.default_rng(1).normal(size=(68, 3)).astype(np.float32)
    order = np.random.default_rng(0).permutation(68)
    taus = np.logspace(-1, 7, 81)
    curves = []
    for x64, a, f in ((False, union, x), (False, union[np.ix_(order, order)], x[order]),
                      (True, union, x)):
        dtype = jnp.float64 if x64 else jnp.float32
        with jax.enable_x64(x64):
            spectrum = jaxrg.feature_spectrum(jnp.asarray(a, dtype), jnp.asarray(f, dtype))
            c = jaxrg.feature_entropy_curves(spectrum, jnp.asarray(taus, dtype))
            curves.append(np.asarray(c.entropy, np.float64))
    blocked, shuffled, want = curves
    np.testing.assert_allclose(shuffled, blocked, rtol=0, atol=1e-6)
    np.testing.assert_allclose(shuffled, want, rtol=0, atol=1e-5)


def _three_chained_communities() -> tuple[np.ndarray, np.ndarray]:
    """Three G(20, 0.4) communities (each with a path through it) chained by bridges: the
    first, at nodes 19-20, left for the caller to set, the second 3e-5; features offset per
    community."""
    rng = np.random.default_rng(0)
    a = np.zeros((60, 60))
    for c in range(3):
        block = np.triu((rng.random((20, 20)) < 0.4).astype(float), 1)
        block = block + block.T
        for i in range(19):
            block[i, i + 1] = block[i + 1, i] = 1.0
        a[20 * c:20 * c + 20, 20 * c:20 * c + 20] = block
    a[39, 40] = a[40, 39] = 3e-5
    offsets = np.repeat([[0, 0], [3, 1], [-1, 4]], 20, axis=0)
    return a, (rng.normal(size=(60, 2)) + offsets).astype(np.float32)


@pytest.mark.parametrize("normalized", [False, True])
def test_float32_feature_gradient_with_two_small_refined_eigenvalues_matches_float64(normalized):
    """Bridges of 1e-5 and 3e-5: λ₂ = 6.8e-7 and λ₃ = 3.3e-6, both refined, were one eigenspace
    for the derivative (gap under sqrt(eps) max|L| = 4.5e-3): the weights' derivative between
    them was dropped, and in float32 dS_X/db at τ = 1.5e6 came out 319.17 for float64's 4481.63
    (central differences 4481.61; normalised Laplacian 14.36 for 51.80). Refined eigenvalues
    are now apart beyond a relative gap: 4481.63 and 51.801."""
    a, x = _three_chained_communities()
    grads = []
    for x64, dtype in ((False, jnp.float32), (True, jnp.float64)):
        with jax.enable_x64(x64):
            base, features = jnp.asarray(a, dtype), jnp.asarray(x, dtype)

            def entropy(bridge, base=base, features=features):
                adjacency = base.at[19, 20].set(bridge).at[20, 19].set(bridge)
                spectrum = jaxrg.feature_spectrum(adjacency, features, normalized=normalized)
                return jaxrg.feature_entropy_curves(spectrum, 1.5e6).entropy

            grads.append(float(jax.grad(entropy)(jnp.asarray(1e-5, dtype))))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-3)


# ---- float32: round-off splits of one eigenvalue (twenty-fourth session) ----------------------


def _numpy_feature_curves(a, x, taus):
    """S_X, C_X from numpy's float64 eigh, centred unit columns, stable at any τ (λ shifted by
    its smallest atom)."""
    a = np.asarray(a, float)
    n = a.shape[0]
    lam, u = np.linalg.eigh(np.diag(a.sum(1)) - a)
    x = np.asarray(x, float) - np.asarray(x, float).mean(0)
    x = x / np.linalg.norm(x, axis=0)
    w = np.sum((u.T @ x) ** 2, axis=1)
    w[0] = 0.0  # the constant mode carries nothing after centring (connected graph)
    keep = w > 0
    lam, log_w = lam[keep], np.log(w[keep]) + np.log(n / w.sum())
    shifted = lam - lam.min()  # log Z + τ<λ> without cancelling two terms of size τλ
    entropy, heat = [], []
    for tau in np.asarray(taus, float):
        logits = log_w - tau * shifted
        log_z = np.logaddexp.reduce(logits)
        p = np.exp(logits - log_z)
        mean = p @ lam
        entropy.append((log_z + tau * (p @ shifted)) / np.log(n))
        heat.append(tau**2 * (p @ (lam - mean) ** 2) / np.log(n))
    return np.array(entropy), np.array(heat)


def _reference_peaks(a, x):
    """The local maxima of the float64 C_X on a fine grid (no peak is within 1 % of another)."""
    fine = np.logspace(-2, 8, 20001)
    heat = _numpy_feature_curves(a, x, fine)[1]
    inner = (heat[1:-1] > heat[:-2]) & (heat[1:-1] >= heat[2:]) & (heat[1:-1] > 1e-3 * heat.max())
    return fine[1:-1][inner]


def _split_cases():
    import networkx as nx

    grid = nx.to_numpy_array(nx.grid_2d_graph(12, 12))  # λ₂ = λ₃: eigh splits it by 4e-7
    karate = nx.to_numpy_array(nx.karate_club_graph())  # the runs' Ritz copies of 1.187
    return {
        "dense-grid": (grid, np.random.default_rng(0).normal(size=(144, 4)), None),
        "sparse-karate": (karate, np.random.default_rng(12).normal(size=(34, 3)), 34),
    }


@pytest.mark.parametrize("case", ["dense-grid", "sparse-karate"])
def test_float32_round_off_splits_of_one_eigenvalue_give_no_spurious_late_peak(case):
    """With centring nothing sits at λ = 0, so a split δ of the slowest eigenvalue made
    C_X ≈ τ²δ²/4 grow until τ ≈ 1/δ (x64 off). A 12 x 12 grid (eigh split its double λ₂ into
    0.06814815 / 0.06814855): τ*_X = [1.49, 10.0, **5.3e6**], C_X(5e6) = 0.025 for 5e-18.
    Karate by one Lanczos run per feature (Ritz copies 1.187104, 1.1871047, 1.1871085):
    τ*_X = [2.13, **3.7e6**], S_X(1e6) −0.412 for −0.3716. Now the atoms within round-off
    are one: the peaks and S_X, C_X up to τ = 1e8 are float64's (numpy) to float32's
    tolerance, eager and under jit."""
    import jaxrg.sparse as sp

    a, x, num_matvecs = _split_cases()[case]
    f32 = tol(np.float32)
    grid = np.logspace(-2, 8, 400)
    late = np.logspace(3, 8, 11)
    want_s, want_c = _numpy_feature_curves(a, x, late)
    want_peaks = _reference_peaks(a, x)
    with jax.enable_x64(False):
        if num_matvecs is None:
            spectra = [jaxrg.feature_spectrum(a, x), jax.jit(jaxrg.feature_spectrum)(a, x)]
        else:
            spectra = [sp.feature_quadrature(a, x, num_matvecs=num_matvecs)]
        for spectrum in spectra:
            assert spectrum.eigenvalues.dtype == jnp.float32
            scales = jaxrg.feature_characteristic_scales(
                spectrum, jnp.asarray(grid, jnp.float32), sort_by="tau")
            taus = np.asarray(scales.taus)[np.asarray(scales.valid)]
            np.testing.assert_allclose(taus, want_peaks, rtol=2e-3)
            curves = jaxrg.feature_entropy_curves(spectrum, jnp.asarray(late, jnp.float32))
            np.testing.assert_allclose(curves.entropy, want_s, rtol=0, atol=f32["atol"])
            np.testing.assert_allclose(curves.specific_heat, want_c, rtol=0, atol=f32["atol"])


def test_float32_feature_gradient_at_a_split_eigenvalue_matches_float64():
    """jax.grad of S_X(τ = 1e6) in the features on the 12 x 12 grid (its double λ₂ split by
    eigh in float32): the merged atom's weight and position are differentiated; float32 within
    1e-3 of float64 (central differences in float64 agree with float64's gradient)."""
    a, x, _ = _split_cases()["dense-grid"]
    grads = []
    for x64, dtype in ((False, jnp.float32), (True, jnp.float64)):
        with jax.enable_x64(x64):

            def entropy(features, a=a, dtype=dtype):
                spectrum = jaxrg.feature_spectrum(jnp.asarray(a, dtype), features)
                return jaxrg.feature_entropy_curves(spectrum, jnp.asarray(1e6, dtype)).entropy

            features = jnp.asarray(x, dtype)
            grads.append(np.asarray(jax.jit(jax.grad(entropy))(features), np.float64))
            if x64:
                step = np.zeros_like(x)
                step[5, 1] = 1e-6
                fd = (entropy(features + step) - entropy(features - step)) / 2e-6
                np.testing.assert_allclose(grads[1][5, 1], float(fd), rtol=1e-6, atol=1e-9)
    scale = np.max(np.abs(grads[1]))
    np.testing.assert_allclose(grads[0], grads[1], rtol=0, atol=1e-3 * scale)


def test_merged_atoms_keep_shapes_and_round_off_only():
    """The merge moves atoms, never drops them: same shape, ascending order kept, ``+inf``
    padding and weightless atoms untouched, real gaps kept (a relative gap above √ε), under
    vmap; float64 eigenvalues within 1e-12 of numpy's on a degenerate spectrum (the grid)."""
    from jaxrg._numerics import merged_atoms

    values = jnp.asarray([0.0, 1.0, 1.0 + 1e-12, 2.0, 2.0 + 1e-3, 3.0, jnp.inf])
    log_w = jnp.log(jnp.asarray([0.0, 1.0, 3.0, 1.0, 1.0, 0.0, 0.0]))
    got = np.asarray(merged_atoms(values, log_w, 1e-2))  # float64: tied below 1.5e-8 λ
    np.testing.assert_allclose(got[1:3], 1.0 + 0.75e-12, rtol=1e-15)
    np.testing.assert_array_equal(got[[0, 3, 4, 5, 6]], [0.0, 2.0, 2.0 + 1e-3, 3.0, np.inf])
    batch = jax.vmap(merged_atoms, in_axes=(0, 0, None))(
        jnp.stack([values, values[::-1]]), jnp.stack([log_w, log_w[::-1]]), 1e-2)
    np.testing.assert_allclose(batch[1], batch[0][::-1], rtol=1e-15)
    a, x, _ = _split_cases()["dense-grid"]
    spectrum = jaxrg.feature_spectrum(a, x)
    lam = np.linalg.eigvalsh(np.diag(a.sum(1)) - a)
    np.testing.assert_allclose(spectrum.eigenvalues[1:], lam[1:], rtol=0, atol=1e-12)


def test_merged_atoms_leave_a_chain_of_small_gaps_between_distinct_eigenvalues_apart():
    """Each gap of 1, 1 + 1e-9, 1 + 2e-9, ... 1 + 9e-9 is under the bound 5e-9, but the chain
    spans 9e-9: ten distinct eigenvalues, not one (a dense float32 bulk would collapse to its
    mean). A pair 1e-12 apart beside them still merges."""
    from jaxrg._numerics import merged_atoms

    chain = 1.0 + 1e-9 * np.arange(10)
    values = jnp.asarray(np.r_[chain, 3.0, 3.0 + 1e-12])
    got = np.asarray(merged_atoms(values, jnp.zeros(12), 5e-9))
    np.testing.assert_array_equal(got[:10], chain)
    np.testing.assert_allclose(got[10:], 3.0 + 0.5e-12, rtol=1e-15)
