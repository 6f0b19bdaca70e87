"""Laplacians, spectra, heat kernel and density matrix against closed forms and scipy."""

import functools

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest
import scipy.linalg
from graphs_zoo import ALL_CLOSED_FORMS, complete, joined_communities, random_graph, ring, star
from tolerances import tol

import jaxrg


@pytest.mark.parametrize("name", sorted(ALL_CLOSED_FORMS))
def test_laplacian_spectrum_matches_closed_form(name):
    adjacency, expected = ALL_CLOSED_FORMS[name]
    got = jaxrg.laplacian_spectrum(jnp.asarray(adjacency))
    np.testing.assert_allclose(got, np.sort(expected), rtol=1e-12, atol=1e-12)


def test_laplacian_is_degree_minus_adjacency_and_matches_networkx():
    rng = np.random.default_rng(0)
    a = random_graph(rng, 12, weighted=True)
    g = nx.from_numpy_array(a)
    np.testing.assert_allclose(jaxrg.laplacian(a), nx.laplacian_matrix(g).toarray(), **tol(float))
    np.testing.assert_allclose(
        jaxrg.laplacian(a, normalized=True),
        nx.normalized_laplacian_matrix(g).toarray(),
        **tol(float),
    )



@pytest.mark.parametrize("loop", [1.0, 1e16])
def test_self_loops_cancel_in_the_laplacian_whatever_their_weight(loop):
    """Self-loops cancel in L = D - A and count towards the normalised degree (networkx). The
    cancellation subtracted A_ii from a degree that held it: a loop 1e16 times the node's
    edges rounded them away (the path P3 with it gave the spectrum [0, 1, 2] for [0, 1, 3] and
    S(0.5) = 0.929 for 0.867). References: the closed-form path spectrum and networkx."""
    path = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    looped = path + np.diag([0.0, loop, 0.0])
    np.testing.assert_array_equal(jaxrg.laplacian(looped), jaxrg.laplacian(path))
    np.testing.assert_allclose(jaxrg.laplacian_spectrum(looped), [0.0, 1.0, 3.0], atol=1e-14)
    taus = jnp.array([0.5, 2.0])
    np.testing.assert_allclose(jaxrg.entropy_curves(jaxrg.laplacian_spectrum(looped), taus).entropy,
                               jaxrg.entropy_curves(jaxrg.laplacian_spectrum(path), taus).entropy,
                               rtol=1e-14)
    want = nx.normalized_laplacian_matrix(nx.from_numpy_array(looped)).toarray()
    np.testing.assert_allclose(jaxrg.laplacian(looped, normalized=True), want, rtol=1e-12,
                               atol=1e-15)

def test_normalized_laplacian_isolated_nodes_give_zero_rows_not_nan():
    a = np.zeros((4, 4))
    a[0, 1] = a[1, 0] = 2.0
    lap = jaxrg.laplacian(a, normalized=True)
    assert np.all(np.isfinite(lap))
    np.testing.assert_allclose(lap[2:], 0)
    np.testing.assert_allclose(
        jaxrg.laplacian_spectrum(a, normalized=True), [0, 0, 0, 2], atol=1e-12
    )
    grad = jax.grad(lambda x: jnp.sum(jaxrg.laplacian(x, normalized=True) ** 2))(jnp.asarray(a))
    assert np.all(np.isfinite(grad))


def test_zero_modes_are_exact_and_count_components():
    a = np.zeros((7, 7))
    for i, j in [(0, 1), (1, 2), (3, 4)]:
        a[i, j] = a[j, i] = 1.0
    ev = np.asarray(jaxrg.laplacian_spectrum(a))
    # components: {0,1,2}, {3,4}, {5}, {6}
    assert np.all(ev[:4] == 0.0) and np.all(ev[4:] > 0.5)


def test_padded_spectrum_is_the_real_spectrum_then_inf():
    small, expected = star(5)
    big = np.zeros((8, 8))
    big[:5, :5] = small
    mask = jnp.arange(8) < 5
    ev = jaxrg.laplacian_spectrum(jnp.asarray(big), mask)
    np.testing.assert_allclose(ev[:5], expected, atol=1e-12)
    assert np.all(np.isinf(ev[5:]))


def test_padded_batch_through_vmap_equals_per_graph():
    rng = np.random.default_rng(1)
    graphs = [random_graph(rng, n, weighted=True) for n in (5, 9, 7)]
    batch = jaxrg.pad_adjacency(graphs)
    spectra = jax.vmap(jaxrg.laplacian_spectrum)(batch.adjacency, batch.mask)
    for b, g in enumerate(graphs):
        n = g.shape[0]
        np.testing.assert_allclose(
            spectra[b, :n], np.linalg.eigvalsh(np.diag(g.sum(1)) - g), atol=1e-10
        )
        assert np.all(np.isinf(spectra[b, n:]))


@pytest.mark.parametrize("tau", [1e-3, 0.37, 5.0])
def test_heat_kernel_matches_scipy_expm(tau):
    rng = np.random.default_rng(2)
    lap = np.asarray(jaxrg.laplacian(random_graph(rng, 15, weighted=True)))
    np.testing.assert_allclose(
        jaxrg.heat_kernel(lap, tau), scipy.linalg.expm(-tau * lap), atol=1e-12
    )


def test_heat_kernel_vector_tau_stacks_and_is_symmetric_psd_stochastic():
    lap = jaxrg.laplacian(ring(10)[0])
    taus = jnp.array([0.1, 1.0, 10.0])
    k = jaxrg.heat_kernel(lap, taus)
    assert k.shape == (3, 10, 10)
    for t in range(3):
        np.testing.assert_allclose(k[t], jaxrg.heat_kernel(lap, taus[t]), atol=1e-14)
        np.testing.assert_allclose(k[t], k[t].T, atol=1e-14)
        np.testing.assert_allclose(k[t].sum(1), 1.0, atol=1e-12)
        assert np.linalg.eigvalsh(np.asarray(k[t])).min() > -1e-12


def test_heat_kernel_semigroup():
    rng = np.random.default_rng(3)
    lap = jaxrg.laplacian(random_graph(rng, 11))
    ks, kt, kst = (jaxrg.heat_kernel(lap, t) for t in (0.3, 0.9, 1.2))
    np.testing.assert_allclose(ks @ kt, kst, atol=1e-12)


@pytest.mark.parametrize("tau", [1e20, 1e300])
def test_heat_kernel_at_huge_tau_is_the_projector_on_the_null_space(tau):
    # e^{-tau L} -> sum over components of 1_c 1_c^T / |c|: J/3 on the path, blocks on 2+1 nodes
    a = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float)
    np.testing.assert_allclose(jaxrg.heat_kernel(jaxrg.laplacian(a), tau), np.full((3, 3), 1 / 3),
                               atol=1e-12)
    b = np.array([[0, 2, 0], [2, 0, 0], [0, 0, 0]], float)
    expected = np.array([[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 1]])
    np.testing.assert_allclose(jaxrg.heat_kernel(jaxrg.laplacian(b), tau), expected, atol=1e-12)


@pytest.mark.parametrize("tau", [1e-8, 1.0, 1e8])
def test_density_matrix_has_unit_trace_and_matches_normalised_expm(tau):
    lap = np.asarray(jaxrg.laplacian(star(6)[0]))
    rho = jaxrg.density_matrix(lap, tau)
    assert np.all(np.isfinite(rho))
    np.testing.assert_allclose(np.trace(rho), 1.0, atol=1e-12)
    if tau < 1e3:
        k = scipy.linalg.expm(-tau * lap)
        np.testing.assert_allclose(rho, k / np.trace(k), atol=1e-12)
    else:  # projector on the zero mode, 1/N everywhere
        np.testing.assert_allclose(rho, np.full((6, 6), 1 / 6), atol=1e-12)


def _two_triangles():
    return scipy.linalg.block_diag(complete(3)[0], complete(3)[0])


@pytest.mark.parametrize(
    "name, adjacency",
    [
        ("ring", ring(8)[0]),  # eigenvalue pairs
        ("complete", complete(5)[0]),  # one eigenvalue 4 times
        ("star", star(6)[0]),  # eigenvalue 1 four times, up to round-off in eigh
        ("grid", nx.to_numpy_array(nx.grid_2d_graph(3, 3))),
        ("two triangles", _two_triangles()),  # two zero modes, 3 twice twice
        ("random weighted", random_graph(np.random.default_rng(7), 9, p=0.5, weighted=True)),
    ],
)
@pytest.mark.parametrize("normalise", [False, True], ids=["heat_kernel", "density_matrix"])
def test_heat_kernel_derivative_is_exact_at_repeated_eigenvalues(name, adjacency, normalise):
    """d e^{-tau L} against scipy's exact Frechet derivative of expm, forward and reverse.

    Through eigh's eigenvectors the derivative divides by lambda_i - lambda_j: NaN on the ring,
    the complete graph, the grid and the two triangles, and 21 % off (finite) on the star.
    """
    rng = np.random.default_rng(0)
    a = jnp.asarray(adjacency)
    upper = np.triu(rng.normal(size=a.shape) * (np.asarray(a) > 0), 1)
    direction = jnp.asarray(upper + upper.T)  # any symmetric change of the edge weights
    tau = 0.7
    f = jaxrg.density_matrix if normalise else jaxrg.heat_kernel

    def kernel(x):
        return f(jaxrg.laplacian(x), tau)

    lap = np.asarray(jaxrg.laplacian(a))
    d_lap = np.diag(np.asarray(direction).sum(axis=1)) - np.asarray(direction)  # L is linear in A
    k, d_k = scipy.linalg.expm_frechet(-tau * lap, -tau * d_lap)
    expected = d_k
    if normalise:
        z = np.trace(k)
        expected = d_k / z - k * np.trace(d_k) / z**2
    _, forward = jax.jvp(kernel, (a,), (direction,))
    np.testing.assert_allclose(forward, expected, rtol=0, atol=1e-11)
    weights = jnp.asarray(rng.normal(size=a.shape))
    reverse = jax.grad(lambda x: jnp.sum(kernel(x) * weights))(a)
    np.testing.assert_allclose(jnp.sum(reverse * direction), np.sum(expected * weights),
                               rtol=1e-10)


def test_heat_kernel_derivative_in_tau_is_the_closed_form():
    lap = np.asarray(jaxrg.laplacian(ring(6)[0]))
    taus = jnp.array([1e-3, 0.7, 30.0])
    jac = jax.jacfwd(lambda t: jaxrg.heat_kernel(lap, t))(taus)  # (T, N, N, T)
    rho_jac = jax.jacrev(lambda t: jaxrg.density_matrix(lap, t))(taus)
    for i, t in enumerate(np.asarray(taus)):
        k = scipy.linalg.expm(-t * lap)
        np.testing.assert_allclose(jac[i, :, :, i], -lap @ k, atol=1e-12)
        rho = k / np.trace(k)
        mean = np.trace(lap @ rho)
        np.testing.assert_allclose(rho_jac[i, :, :, i], rho * mean - lap @ rho, atol=1e-12)


def test_heat_trace_of_hypercube_is_closed_form():
    d = 4
    from graphs_zoo import hypercube

    ev = jaxrg.laplacian_spectrum(hypercube(d)[0])
    taus = jnp.logspace(-3, 2, 20)
    np.testing.assert_allclose(jaxrg.heat_trace(ev, taus), (1 + np.exp(-2 * taus)) ** d, rtol=1e-12)
    np.testing.assert_allclose(
        jaxrg.log_heat_trace(ev, taus), d * np.log1p(np.exp(-2 * taus)), rtol=1e-12
    )


def test_spectrum_is_differentiable_and_matches_finite_differences():
    rng = np.random.default_rng(4)
    a = jnp.asarray(random_graph(rng, 8, weighted=True))
    direction = jnp.asarray(random_graph(rng, 8, p=0.5)) * (a > 0).astype(
        a.dtype
    )  # keep weights >= 0

    def f(x):
        return jnp.sum(jaxrg.laplacian_spectrum(x) ** 2)

    grad = jax.grad(f)(a)
    eps = 1e-6
    fd = (f(a + eps * direction) - f(a - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(jnp.sum(grad * direction), fd, rtol=1e-6)


def test_spectrum_float32_within_documented_tolerance():
    rng = np.random.default_rng(5)
    a = random_graph(rng, 30, weighted=True)
    ev64 = np.asarray(jaxrg.laplacian_spectrum(jnp.asarray(a)))
    ev32 = jaxrg.laplacian_spectrum(jnp.asarray(a, jnp.float32))
    assert ev32.dtype == jnp.float32
    # float32 eigenvalues: absolute error ~ eps32 * lambda_max
    np.testing.assert_allclose(np.asarray(ev32, float), ev64, atol=2e-5 * ev64.max())


def test_spectrum_does_not_retrace_when_values_change():
    traces = []

    @jax.jit
    def f(a):
        traces.append(1)
        return jaxrg.laplacian_spectrum(a)

    f(jnp.asarray(ring(6)[0]))
    f(jnp.asarray(star(6)[0]))
    assert len(traces) == 1


def _graded_path():
    """A path with weights 1e-6, 1 and 4e5: eigenvalues from 1.3e-6 to 8e5 (probe 5)."""
    a = np.zeros((4, 4))
    a[0, 1] = a[1, 0] = 1e-6
    a[1, 2] = a[2, 1] = 1.0
    a[2, 3] = a[3, 2] = 4e5
    return a


@pytest.mark.parametrize(("dtype", "atol"), [(jnp.float32, 1e-5), (jnp.float64, 1e-9)])
def test_heat_kernel_keeps_a_weak_link_that_is_below_the_eigh_roundoff_bound(dtype, atol):
    # the eigenvalue 1.3e-6 lies below N eps max|L| (38 in float32): it must not be taken for a
    # zero mode (that cut node 0 off: K[1, 1] = 1.0 instead of 0.482 in float32)
    a = _graded_path()
    lap = np.diag(a.sum(1)) - a
    got = jaxrg.heat_kernel(jaxrg.laplacian(jnp.asarray(a, dtype)), jnp.array([0.5, 1.0, 30.0]))
    want = np.stack([scipy.linalg.expm(-t * lap) for t in (0.5, 1.0, 30.0)])
    np.testing.assert_allclose(got, want, rtol=0, atol=atol)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_heat_kernel_equilibrates_to_the_exact_null_space_projector(dtype):
    # at huge tau only the zero modes survive: e^{-tau L} -> the block projector onto the
    # component indicators, even where eigh mixes them with a tiny eigenvalue (weights 1e-6..4e5)
    a = scipy.linalg.block_diag(_graded_path(), np.ones((3, 3)) - np.eye(3), np.zeros((1, 1)))
    sizes = [4, 3, 1]
    want = scipy.linalg.block_diag(*[np.full((k, k), 1.0 / k) for k in sizes])
    lap = jaxrg.laplacian(jnp.asarray(a, dtype))
    for fn in (jaxrg.heat_kernel, jax.jit(jaxrg.heat_kernel)):
        np.testing.assert_allclose(fn(lap, 1e20), want, rtol=0, atol=10 * np.finfo(dtype).eps)
    rho = jaxrg.density_matrix(lap, 1e20)
    np.testing.assert_allclose(rho, want / 3, rtol=0, atol=10 * np.finfo(dtype).eps)


# ---- float32: eigenvalues below eigh's resolution (round thirteen) ---------------------------


def _float64_spectrum(a: np.ndarray, normalized: bool) -> np.ndarray:
    """numpy's float64 eigenvalues of the same float32 weights (error ~1e-14 << lambda_2)."""
    a = a.astype(np.float64)
    lap = np.diag(a.sum(1)) - a
    if normalized:
        degree = a.sum(1)
        scale = np.where(degree > 0, 1 / np.sqrt(np.where(degree > 0, degree, 1)), 0)
        lap = scale[:, None] * lap * scale[None, :]
    values = np.linalg.eigvalsh(lap)
    values[: nx.number_connected_components(nx.from_numpy_array(a))] = 0.0
    return values


@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize(("bridge", "isolated"), [(1e-5, 0), (1e-6, 0), (1e-6, 3)])
def test_float32_eigenvalues_below_eighs_resolution_keep_their_relative_accuracy(
    bridge, isolated, normalized
):
    """λ₂ of two communities joined by a weak edge lies below float32 eigh's absolute error.

    Before: λ₂ half its value (1e-5, normalised), negative (1e-6), the community scale τ* 85 %
    off or lost, S(1e8) 0.017 for 0.0007. Now a Rayleigh–Ritz pass through the edges (Jacobi
    on the projected matrix) gives λ₂ to 4e-5 relative or better, and S, τ* with it. With
    isolated nodes eigh spread the small mode over the zero-mode columns (a window that left
    them out lost it: 0.84 in its place).
    """
    a = joined_communities(bridge, isolated)
    want = _float64_spectrum(a, normalized)
    with jax.enable_x64(False):
        got = np.asarray(jaxrg.laplacian_spectrum(a, normalized=normalized), np.float64)
        jitted = np.asarray(jax.jit(functools.partial(jaxrg.laplacian_spectrum,
                                                      normalized=normalized))(jnp.asarray(a)))
        taus = jnp.logspace(-2, 10, 241, dtype=jnp.float32)
        entropy = np.asarray(jaxrg.spectral_entropy(jnp.asarray(got, jnp.float32), taus))
        scales = jaxrg.characteristic_scales(jnp.asarray(got, jnp.float32))
    assert np.all(got >= 0) and np.all(np.diff(got) >= 0)
    first = 1 + isolated  # the first non-zero eigenvalue, the bridge's
    np.testing.assert_allclose(got[first], want[first], rtol=1e-4)
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6 * want.max())
    np.testing.assert_allclose(jitted, got, rtol=1e-6, atol=1e-7)
    with jax.enable_x64(True):
        want_entropy = np.asarray(jaxrg.spectral_entropy(jnp.asarray(want),
                                                         jnp.asarray(taus, jnp.float64)))
        want_scales = jaxrg.characteristic_scales(jnp.asarray(want))
    # S at τ ~ 1/λ₂ moves with λ₂'s remaining relative error (4e-5 at most here): 1e-5
    np.testing.assert_allclose(entropy, want_entropy, rtol=0, atol=1e-5)
    found = np.sort(np.asarray(scales.taus)[np.asarray(scales.valid)])
    expected = np.sort(np.asarray(want_scales.taus)[np.asarray(want_scales.valid)])
    np.testing.assert_allclose(found, expected, rtol=1e-3)


@pytest.mark.parametrize("normalized", [False, True])
def test_float32_refinement_on_a_large_sparse_graph_corrects_eighs_vectors(normalized):
    """Rayleigh–Ritz alone is limited by eigh's eigenvectors, whose error (N eps max|L| / gap
    along the other modes) enters the Rayleigh quotient squared but summed over every edge:
    two G(500, 0.02) joined by an edge of 1e-6 had λ₂ 2.4e-3 (normalised 5.5e-4) off. One
    Newton step on the window from eigh's own decomposition (residuals through the edges)
    brings the eight eigenvalues after the zero modes (isolated nodes among them) to 1e-4."""
    n = 1000
    half = nx.to_numpy_array(nx.gnp_random_graph(n // 2, 10 / (n // 2), seed=1))
    a = np.zeros((n, n), np.float32)
    a[: n // 2, : n // 2] = a[n // 2 :, n // 2 :] = half
    a[0, n // 2] = a[n // 2, 0] = 1e-6
    want = _float64_spectrum(a, normalized)
    count = int(jaxrg.connected_components(a).count)
    with jax.enable_x64(False):
        got = np.asarray(jaxrg.laplacian_spectrum(a, normalized=normalized), np.float64)
    assert want[count] < 1e-8  # the bridge's mode, far below eigh's resolution (6e-5 max|L|)
    np.testing.assert_allclose(got[count : count + 8], want[count : count + 8], rtol=1e-4)
    np.testing.assert_array_equal(got[:count], 0)


def _float32_and_float64(fn, *args):
    """``(value, gradient)`` of ``fn`` in float32 (x64 off) and in float64, as float64 arrays."""
    out = []
    for x64, dtype in ((False, jnp.float32), (True, jnp.float64)):
        with jax.enable_x64(x64):
            cast = [jnp.asarray(x, dtype) for x in args]
            value, grads = jax.value_and_grad(fn, argnums=tuple(range(len(args))))(*cast)
            out.append((float(value), [np.asarray(g, np.float64) for g in grads]))
    return out


def _largest_scale(spectrum):
    scales = jaxrg.characteristic_scales(spectrum)
    return jnp.max(jnp.where(scales.valid, scales.taus, 0))


@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("quantity", ["lambda_2", "entropy", "scale"])
def test_float32_derivatives_of_refined_eigenvalues_match_float64(quantity, normalized):
    """A refined eigenvalue's derivative is q^T dL q on its refined vector: through eigh's
    vectors (one mixed with the zero mode) dλ₂/d(bridge) was half its value, the gradient of
    S(τ ~ 1/λ₂) 1e-28 for -5.5e4 and that of the community τ* 1000x too small. Under
    ``jax.grad`` the value itself was wrong: the JVP's eigh put the zero mode (+1.2e-6) above
    the refined λ₂ (6.7e-8), and the sort swapped them (λ₂ read 1.2e-6)."""
    a = joined_communities(1e-6)

    def fn(x):
        spectrum = jaxrg.laplacian_spectrum(x, normalized=normalized)
        if quantity == "lambda_2":
            return spectrum[1]
        if quantity == "entropy":
            return jaxrg.spectral_entropy(spectrum, jnp.asarray(1 / 1.5e-8, spectrum.dtype))
        return _largest_scale(spectrum)

    (value32, (grad32,)), (value64, (grad64,)) = _float32_and_float64(fn, a)
    np.testing.assert_allclose(value32, value64, rtol=1e-4)
    edges = a > 0
    both32, both64 = (grad32 + grad32.T)[edges], (grad64 + grad64.T)[edges]
    np.testing.assert_allclose(both32, both64, rtol=0, atol=1e-4 * np.abs(both64).max())


def _shuffled_union(weak: float):
    """Weighted karate plus a copy weighted ``weak`` (two components, float32), its nodes in a
    fixed random order, and that order."""
    karate = nx.to_numpy_array(nx.karate_club_graph()).astype(np.float32)
    union = np.zeros((68, 68), np.float32)
    union[:34, :34], union[34:, 34:] = karate, karate * np.float32(weak)
    order = np.random.default_rng(0).permutation(68)
    return union[np.ix_(order, order)], order


@pytest.mark.parametrize("normalized", [False, True])
def test_float32_spectrum_does_not_depend_on_the_order_of_weak_components_nodes(normalized):
    """With the nodes of a component weighted 1e-5 interleaved with a strong one's, eigh gave
    every eigenvalue the strong component's round-off: λ₃..λ₁₆ 14 % off and S 5e-3 where the
    same graph with its components in blocks gave 3e-7. Now the nodes are grouped by
    component before eigh: the same answer for every labelling, the weak component's
    eigenvalues to its own scale's round-off."""
    a, _ = _shuffled_union(1e-5)
    want = _float64_spectrum(a, normalized)
    with jax.enable_x64(False):
        got = np.asarray(jaxrg.laplacian_spectrum(a, normalized=normalized), np.float64)
        jitted = np.asarray(jax.jit(functools.partial(
            jaxrg.laplacian_spectrum, normalized=normalized))(jnp.asarray(a)), np.float64)
    np.testing.assert_array_equal(got[:2], 0)
    np.testing.assert_allclose(got[2:], want[2:], rtol=1e-5)
    np.testing.assert_allclose(jitted, got, rtol=1e-6)


def test_float32_heat_kernel_does_not_depend_on_the_order_of_weak_components_nodes():
    """The heat kernel of the shuffled union is the permuted heat kernel of the blocked one and
    matches expm of the weak component at its own scale (it was 1e-2 off at τ = 1e5)."""
    a, order = _shuffled_union(1e-5)
    blocked = np.empty_like(a)
    blocked[np.ix_(order, order)] = a
    weak = blocked[34:, 34:].astype(np.float64)
    tau = 1e5
    want = scipy.linalg.expm(-tau * (np.diag(weak.sum(1)) - weak))
    with jax.enable_x64(False):
        got = np.asarray(jaxrg.heat_kernel(jaxrg.laplacian(a), jnp.float32(tau)), np.float64)
    unshuffled = np.empty_like(got)
    unshuffled[np.ix_(order, order)] = got
    np.testing.assert_allclose(unshuffled[34:, 34:], want, rtol=0, atol=2e-6)
    np.testing.assert_allclose(unshuffled[:34, 34:], 0, atol=1e-9)  # no cross-component heat


def _clique_chain(cliques: int, size: int, bridge: float) -> np.ndarray:
    """``cliques`` complete graphs of ``size`` nodes in a chain, each joined to the next by one
    edge of weight ``bridge`` (float32): ``cliques - 1`` eigenvalues of order bridge / size."""
    n = cliques * size
    a = np.zeros((n, n), np.float32)
    for c in range(cliques):
        a[c * size : (c + 1) * size, c * size : (c + 1) * size] = 1 - np.eye(size)
    for c in range(cliques - 1):
        i, j = c * size + size - 1, (c + 1) * size
        a[i, j] = a[j, i] = bridge
    return a


@pytest.mark.parametrize(("chain", "taus", "atol"), [(False, [1e3, 1e4, 1e6], 1e-6),
                                                      (True, [1e6, 1e7, 1e8], 2e-6)])
def test_float32_heat_kernel_of_weakly_joined_communities_matches_expm(chain, taus, atol):
    """The heat kernel's λ₂ was eigh's 1.85e-6 for 6.7e-8: K off by 1.3e-2 at τ = 1e6. A chain
    of 24 cliques joined by 1e-6 (23 bridge modes: the window of 64) was wrong at τ = 1e7 by
    the 30-170 % errors of those modes under the fixed window of 16."""
    a = _clique_chain(24, 6, 1e-6) if chain else joined_communities(1e-6)
    lap = np.diag(a.astype(np.float64).sum(1)) - a.astype(np.float64)
    want = np.stack([scipy.linalg.expm(-t * lap) for t in taus])
    with jax.enable_x64(False):
        got = np.asarray(jaxrg.heat_kernel(jaxrg.laplacian(a), jnp.asarray(taus, jnp.float32)))
    np.testing.assert_allclose(got, want, rtol=0, atol=atol)


def test_float32_refinement_is_the_same_in_a_padded_vmapped_batch():
    """Batched, the refinement runs for the batch when one member needs it (unbatched test),
    with the window the largest any member needs (one unbatched ``lax.switch``): every
    member's spectrum equals its own unbatched one, small graphs included, and the chain's 23
    bridge modes (the window of 64) are refined whole."""
    graphs = [joined_communities(1e-6), nx.to_numpy_array(nx.karate_club_graph()),
              nx.to_numpy_array(nx.path_graph(5)), _clique_chain(24, 6, 1e-6)]
    with jax.enable_x64(False):
        alone = [np.asarray(jaxrg.laplacian_spectrum(g)) for g in graphs]
        adjacency, mask = jaxrg.pad_adjacency(graphs)
        batch = np.asarray(jax.vmap(jaxrg.laplacian_spectrum)(adjacency.astype(jnp.float32),
                                                               mask))
    for k, values in enumerate(alone):
        np.testing.assert_allclose(batch[k, : len(values)], values, rtol=1e-5,
                                   atol=1e-6 * values.max())
    np.testing.assert_allclose(batch[0, 1], _float64_spectrum(graphs[0], False)[1], rtol=1e-4)
    np.testing.assert_allclose(batch[3, 1:24], _float64_spectrum(graphs[3], False)[1:24],
                               rtol=1e-4)


@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize(("cliques", "size"), [(24, 6), (40, 3)])
def test_float32_a_cluster_of_small_eigenvalues_wider_than_the_window_is_refined_whole(
    cliques, size, normalized
):
    """24 cliques chained by bridges of 1e-6 have 23 eigenvalues below float32 eigh's
    resolution. The window of 16 cut that cluster, and eigh mixes the cluster's vectors among
    themselves, so even the eigenvalues inside the window were wrong: λ₂ 170 % off, λ₃..λ₁₆
    30-120 %, S(τ = 1e8) 0.175 for 0.233. The window now holds the whole cluster (64: up to
    about 63 such eigenvalues; 40 cliques of 3 have 39)."""
    a = _clique_chain(cliques, size, 1e-6)
    want = _float64_spectrum(a, normalized)
    taus = np.logspace(4, 9, 11)
    with jax.enable_x64(False):
        got = np.asarray(jaxrg.laplacian_spectrum(a, normalized=normalized), np.float64)
        entropy = np.asarray(jaxrg.spectral_entropy(jnp.asarray(got, jnp.float32),
                                                    jnp.asarray(taus, jnp.float32)))
    assert want[cliques - 1] < 1e-5 * want.max()  # the whole cluster is below eigh's resolution
    np.testing.assert_array_equal(got[0], 0)
    np.testing.assert_allclose(got[1:cliques], want[1:cliques], rtol=1e-4)
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6 * want.max())
    with jax.enable_x64(True):
        want_entropy = np.asarray(jaxrg.spectral_entropy(jnp.asarray(want), jnp.asarray(taus)))
    np.testing.assert_allclose(entropy, want_entropy, rtol=0, atol=1e-5)



def test_float32_a_padded_graph_smaller_than_the_window_is_refined_like_the_unpadded_one():
    """Two 7-cliques of weight 1e3 joined by 1e-3: unpadded, λ₂ was refined (1.5e-8); padded to
    16 nodes (a mask, or a ``pad_adjacency`` batch) the window of 16 reached past the 14 real
    nodes and the graph was left as eigh gives it: λ₂ 1.2 % off, the feature measure's 76 %.
    The window's padding columns are now left out instead."""
    k = np.float32(1e3) * (1 - np.eye(7, dtype=np.float32))
    a = np.zeros((14, 14), np.float32)
    a[:7, :7] = a[7:, 7:] = k
    a[6, 7] = a[7, 6] = 1e-3
    want = _float64_spectrum(a, False)[1]
    padded = np.zeros((16, 16), np.float32)
    padded[:14, :14] = a
    mask = np.arange(16) < 14
    with jax.enable_x64(False):
        batch = jaxrg.pad_adjacency([a, np.ones((16, 16), np.float32) - np.eye(16)])
        got = [jaxrg.laplacian_spectrum(a)[1], jaxrg.laplacian_spectrum(padded, mask)[1],
               jax.vmap(jaxrg.laplacian_spectrum)(*batch)[0, 1],
               jaxrg.feature_spectrum(padded, np.arange(16.0, dtype=np.float32),
                                      mask).eigenvalues[1]]
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-5)


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_half_precision_graphs_are_solved_in_float32(dtype):
    """A float16 / bfloat16 adjacency raised NotImplementedError ('Unsupported dtype float16')
    from the refinement branch's eigh, which ``lax.cond`` traces for every graph; ``eigvalsh``
    already solved half precision in float32. Now every route does, and returns ``dtype``."""
    a = jnp.asarray(nx.to_numpy_array(nx.cycle_graph(5)), dtype)
    want = 2 - 2 * np.cos(2 * np.pi * np.arange(5) / 5)  # the 5-ring's closed form
    spectrum = jaxrg.laplacian_spectrum(a)
    kernel = jaxrg.heat_kernel(jaxrg.laplacian(a), jnp.asarray(0.5, dtype))
    features = jaxrg.feature_spectrum(a, jnp.arange(5, dtype=dtype))
    assert spectrum.dtype == kernel.dtype == dtype
    np.testing.assert_allclose(np.asarray(spectrum, np.float64), np.sort(want), atol=2e-2)
    np.testing.assert_allclose(np.asarray(features.eigenvalues, np.float64), np.sort(want),
                               atol=2e-2)
    lap = np.diag([2.0] * 5) - nx.to_numpy_array(nx.cycle_graph(5))
    np.testing.assert_allclose(np.asarray(kernel, np.float64), scipy.linalg.expm(-0.5 * lap),
                               atol=2e-2)
