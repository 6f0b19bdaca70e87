"""Characteristic scales: peaks of C(tau) against closed forms and scipy optimisation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize
from graphs_zoo import complete, random_graph, sbm, two_cliques

import jaxrg


def test_single_edge_peak_solves_x_tanh_half_x_equals_two():
    # K_2: C ∝ x^2 p(1-p) with x = 2 tau; dC/dx = 0  <=>  x tanh(x/2) = 2
    x_star = scipy.optimize.brentq(lambda x: x * np.tanh(x / 2) - 2, 0.1, 10)
    scales = jaxrg.characteristic_scales(jnp.array([0.0, 2.0]))
    assert int(scales.valid.sum()) == 1
    np.testing.assert_allclose(scales.taus[0], x_star / 2, rtol=1e-12)
    np.testing.assert_allclose(
        scales.heights[0], jaxrg.specific_heat(jnp.array([0.0, 2.0]), x_star / 2), rtol=1e-14
    )


def test_heat_trace_curvature_peak_of_single_edge_is_at_tau_one():
    # tau^2 * 4 e^{-2 tau} is maximal at tau = 1
    scales = jaxrg.characteristic_scales(jnp.array([0.0, 2.0]), formula="heat-trace-curvature")
    np.testing.assert_allclose(scales.taus[0], 1.0, rtol=1e-12)


def test_two_cliques_have_two_peaks_at_the_true_maxima():
    ev = jaxrg.laplacian_spectrum(two_cliques(8))
    scales = jaxrg.characteristic_scales(ev)
    assert int(scales.valid.sum()) == 2
    heat = jax.jit(lambda t: jaxrg.specific_heat(ev, t))  # one program for scipy's ~100 calls
    for tau in np.asarray(scales.taus[:2]):
        res = scipy.optimize.minimize_scalar(
            lambda lt: -float(heat(np.exp(lt))),
            bracket=(np.log(tau) - 0.05, np.log(tau), np.log(tau) + 0.05),
            tol=1e-12,
        )
        np.testing.assert_allclose(np.log(tau), res.x, atol=1e-6)
    assert bool(scales.heights[0] >= scales.heights[1])
    # the slope of C vanishes at every refined peak
    slope = jax.vmap(jax.grad(lambda lt: jaxrg.specific_heat(ev, jnp.exp(lt))))
    np.testing.assert_allclose(slope(jnp.log(scales.taus[:2])), 0.0, atol=1e-9)


def test_sbm_with_four_blocks_has_a_block_scale_peak():
    rng = np.random.default_rng(0)
    a, _ = sbm(rng, [50] * 4, 0.5, 0.01)
    ev = jaxrg.laplacian_spectrum(a)
    scales = jaxrg.characteristic_scales(ev, sort_by="tau")
    taus = np.asarray(scales.taus[scales.valid])
    assert len(taus) >= 2
    assert 0.5 < taus[-1] < 5  # the block scale (docs/design.md §2, issue: ~1.6 for this SBM)


def test_sort_by_tau_orders_valid_peaks_increasingly_and_puts_invalid_last():
    ev = jaxrg.laplacian_spectrum(two_cliques(6))
    scales = jaxrg.characteristic_scales(ev, sort_by="tau", max_peaks=5)
    valid = np.asarray(scales.valid)
    assert valid.tolist() == [True, True, False, False, False]
    assert scales.taus[0] < scales.taus[1]
    assert np.all(np.isnan(np.asarray(scales.taus)[~valid]))


def test_no_peaks_for_an_edgeless_graph():
    scales = jaxrg.characteristic_scales(jnp.zeros(5))
    assert not bool(scales.valid.any())


def test_jit_and_vmap_over_a_padded_batch_match_single_calls():
    rng = np.random.default_rng(1)
    graphs = [two_cliques(5), random_graph(rng, 9, p=0.5), complete(6)[0]]
    batch = jaxrg.pad_adjacency(graphs)

    @jax.jit
    @jax.vmap
    def peaks(a, m):
        return jaxrg.characteristic_scales(jaxrg.laplacian_spectrum(a, m), max_peaks=4)

    got = peaks(batch.adjacency, batch.mask)
    for b, g in enumerate(graphs):
        want = jaxrg.characteristic_scales(jaxrg.laplacian_spectrum(g), max_peaks=4)
        np.testing.assert_array_equal(got.valid[b], want.valid)
        np.testing.assert_allclose(got.taus[b], want.taus, rtol=1e-9)


def test_user_grid_is_validated():
    ev = jnp.array([0.0, 1.0, 3.0])
    with pytest.raises(ValueError, match="increasing"):
        jaxrg.characteristic_scales(ev, jnp.array([1.0, 0.5, 2.0]))
    with pytest.raises(ValueError, match="sort_by"):
        jaxrg.characteristic_scales(ev, sort_by="size")
    with pytest.raises(ValueError, match="heat-capacity.*heat-trace-curvature"):
        jaxrg.characteristic_scales(ev, formula="wrong")


@pytest.mark.parametrize("seed", [0, 1])
def test_hierarchical_sbm_has_one_peak_per_level(seed):
    # 4 blocks of 50 in 2 super-blocks: within-block, within-super-block and global mixing
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), 50)
    same_super = (labels[:, None] // 2) == (labels[None, :] // 2)
    prob = np.where(labels[:, None] == labels[None, :], 0.9, np.where(same_super, 0.02, 0.001))
    upper = np.triu(rng.random(prob.shape) < prob, 1).astype(float)
    a = upper + upper.T
    scales = jaxrg.characteristic_scales(jaxrg.laplacian_spectrum(a), sort_by="tau")
    taus = np.asarray(scales.taus[scales.valid])
    assert len(taus) == 3
    # oracle: numpy's spectrum; a gap of eigenvalues at level lambda gives a bump near 2.4/lambda
    lam = np.linalg.eigvalsh(np.diag(a.sum(1)) - a)
    np.testing.assert_allclose(taus[2], 2.4 / lam[1], rtol=0.5)  # super-blocks split
    np.testing.assert_allclose(taus[1], 2.4 / lam[2:4].mean(), rtol=0.5)  # blocks inside them
    # inside the blocks: set by the bulk of the spectrum, well below the block scale
    assert 1 / lam[-1] < taus[0] < 10 / lam[4] and taus[0] < taus[1] / 5


def _authors_code_reference(eigenvalues, grid):
    """Caso et al.'s pipeline written with the numpy/scipy calls their code makes."""
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import argrelextrema

    lam = np.asarray(eigenvalues, float)
    trace = np.round(np.array([np.sum(lam * np.exp(-t * lam)) for t in grid]), 6)
    heat = np.round(-(grid**2) * np.gradient(trace, grid), 6)
    return grid[argrelextrema(gaussian_filter1d(heat, sigma=1), np.greater)[0]]


@pytest.mark.parametrize("seed", range(4))
def test_authors_pipeline_equals_their_numpy_scipy_code(seed):
    from jaxrg.scales import authors_pipeline_scales

    rng = np.random.default_rng(seed)
    graph = sbm(rng, [8, 12, 20], 0.9, 0.05)[0] if seed % 2 else random_graph(rng, 30, 0.2)
    lam = np.asarray(jaxrg.laplacian_spectrum(graph))
    grid = np.logspace(-2, 4, 100)
    expected = _authors_code_reference(lam, grid)
    scales = authors_pipeline_scales(jnp.asarray(lam))
    got = np.asarray(scales.taus)[np.asarray(scales.valid)]
    np.testing.assert_array_equal(got, expected[: got.size])
    assert got.size == min(8, expected.size) and got.size >= 1
    assert set(got.tolist()) <= set(grid.tolist())  # always grid points


def test_authors_pipeline_differs_from_the_analytic_peak_only_by_the_grid():
    from jaxrg.scales import authors_pipeline_scales

    lam = jnp.asarray(np.asarray(jaxrg.laplacian_spectrum(two_cliques(7))))
    grid = np.logspace(-2, 4, 100)
    pipeline = float(authors_pipeline_scales(lam).taus[0])
    analytic = float(jaxrg.characteristic_scales(lam, grid, sort_by="tau",
                                                 formula="heat-trace-curvature").taus[0])
    step = grid[1] / grid[0]
    assert analytic / step**2 <= pipeline <= analytic * step**2


def test_authors_pipeline_under_jit_and_its_bad_arguments():
    from jaxrg.scales import authors_pipeline_scales

    lam = jnp.array([0.0, 2.0])
    jitted = jax.jit(authors_pipeline_scales)(lam)
    assert float(jitted.taus[0]) == 1.0 and int(jitted.valid.sum()) == 1
    raw = authors_pipeline_scales(lam, sigma=0, decimals=None)
    assert float(raw.taus[0]) == 1.0
    with pytest.raises(ValueError, match="max_peaks"):
        authors_pipeline_scales(lam, max_peaks=0)
    with pytest.raises(ValueError, match="sigma"):
        authors_pipeline_scales(lam, sigma=-1.0)
    with pytest.raises(ValueError, match="at least 3"):
        authors_pipeline_scales(lam, jnp.array([0.1, 1.0]))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_authors_pipeline_gives_their_published_tau_on_cora_and_citeseer(name, data_dir):
    import jaxrg.datasets as ds
    from jaxrg.studies.node_classification.experiment import characteristic_tau

    data = ds.load(name, data_dir=data_dir, largest_component=True, features=False)
    tau = characteristic_tau(data.adjacency, "authors")
    assert round(tau, 2) == 0.57  # Caso et al. report 0.57 for both (grid point 29: 0.5722)
    assert tau == pytest.approx(np.logspace(-2, 4, 100)[29], rel=1e-12)


# --- derivatives of tau* by the implicit function theorem -------------------------------------


def _five_point(f, x, h):
    """Central finite difference of order h^4 (an independent oracle for the custom JVP)."""
    return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h)


def _bridged_cliques(w, k=8):
    a = jnp.asarray(two_cliques(k)).at[k - 1, k].set(w).at[k, k - 1].set(w)
    return a


@pytest.mark.parametrize("peak", [0, 1])
def test_grad_of_peak_tau_wrt_bridge_weight_matches_finite_differences(peak):
    def tau_star(w):
        ev = jaxrg.laplacian_spectrum(_bridged_cliques(w))
        return jaxrg.characteristic_scales(ev, sort_by="tau").taus[peak]

    w = 0.7
    grad = jax.grad(tau_star)(w)  # eager once; the rest compiled (one program each, fast)
    fd = _five_point(jax.jit(tau_star), w, 1e-3)
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(jax.grad(tau_star))(w), grad, rtol=1e-12)


@pytest.mark.parametrize("formula", ["heat-capacity", "heat-trace-curvature"])
def test_jvp_of_peak_taus_on_a_weighted_ring_matches_finite_differences(formula):
    rng = np.random.default_rng(3)
    n = 12
    ring_edges = (np.arange(n), (np.arange(n) + 1) % n)
    weights = jnp.asarray(rng.uniform(0.5, 2.0, n))
    direction = jnp.asarray(rng.normal(size=n))

    def peaks(w):
        a = jnp.zeros((n, n)).at[ring_edges].set(w)
        ev = jaxrg.laplacian_spectrum(a + a.T)
        s = jaxrg.characteristic_scales(ev, sort_by="tau", formula=formula)
        return jnp.where(s.valid, s.taus, 0.0)

    _, jvp = jax.jit(lambda w, d: jax.jvp(peaks, (w,), (d,)))(weights, direction)
    fd = _five_point(jax.jit(lambda t: peaks(weights + t * direction)), 0.0, 1e-3)
    assert bool(peaks(weights)[0] > 0)
    np.testing.assert_allclose(jvp, fd, rtol=1e-6, atol=1e-12)


def test_grad_of_sbm_peak_wrt_eigenvalues_matches_finite_differences():
    rng = np.random.default_rng(0)
    a, _ = sbm(rng, [20] * 3, 0.6, 0.03)
    ev = jaxrg.laplacian_spectrum(a)
    direction = jnp.asarray(rng.normal(size=ev.shape[0])).at[0].set(0.0)

    def largest_scale(e):
        s = jaxrg.characteristic_scales(e, sort_by="tau")
        return jnp.max(jnp.where(s.valid, s.taus, 0.0))

    grad = jax.jit(jax.grad(largest_scale))(ev)
    fd = _five_point(jax.jit(lambda t: largest_scale(ev + t * direction)), 0.0, 1e-4)
    np.testing.assert_allclose(grad @ direction, fd, rtol=1e-6)


def test_grad_of_peak_taus_obeys_shift_and_scale_identities():
    # C is invariant under lambda -> lambda + s and tau*(c lambda) = tau*/c, so
    # sum_i d tau*/d lambda_i = 0 and sum_i lambda_i d tau*/d lambda_i = -tau* (exactly)
    ev = jaxrg.laplacian_spectrum(two_cliques(6))
    for peak in range(2):
        grad = jax.jit(jax.grad(lambda e, p=peak: jaxrg.characteristic_scales(e).taus[p]))(ev)
        tau = jaxrg.characteristic_scales(ev).taus[peak]
        np.testing.assert_allclose(jnp.sum(grad), 0.0, atol=1e-10 * tau)
        np.testing.assert_allclose(grad @ ev, -tau, rtol=1e-9)


def test_grad_is_finite_at_degenerate_eigenvalues_padding_and_invalid_slots():
    ev = jnp.array([0.0, 1.0, 3.0, 3.0, 3.0, 7.0, jnp.inf, jnp.inf])  # degenerate + padded

    def total(e):
        s = jaxrg.characteristic_scales(e, max_peaks=6)
        return jnp.sum(jnp.where(s.valid, s.taus + s.heights, 0.0))

    grad = jax.jit(jax.grad(total))(ev)
    assert bool(jnp.all(jnp.isfinite(grad)))
    np.testing.assert_array_equal(grad[-2:], 0.0)  # padding carries no derivative
    # the three copies of 3 enter symmetrically
    np.testing.assert_allclose(grad[2:5], grad[2], rtol=1e-12)
    # an invalid slot (NaN value) gets a zero derivative, not NaN
    last_slot = jax.grad(lambda e: jnp.nan_to_num(jaxrg.characteristic_scales(e).taus[-1]))
    last = jax.jit(last_slot)(ev)
    np.testing.assert_array_equal(last, 0.0)
    # the edgeless graph: no peak at all, zero gradient
    none = jax.jit(jax.grad(lambda e: jnp.nansum(jaxrg.characteristic_scales(e).taus)))(
        jnp.zeros(4))
    np.testing.assert_array_equal(none, 0.0)


def test_grad_under_vmap_over_a_padded_batch_matches_single_graphs():
    graphs = [two_cliques(5), two_cliques(4)]
    batch = jaxrg.pad_adjacency(graphs)

    def first_peak(a, m):
        s = jaxrg.characteristic_scales(jaxrg.laplacian_spectrum(a, m), sort_by="tau")
        return s.taus[0]

    grads = jax.jit(jax.vmap(jax.grad(first_peak)))(batch.adjacency, batch.mask)
    for b, g in enumerate(graphs):
        n = g.shape[0]
        want = jax.jit(jax.grad(lambda a, n=n: first_peak(a, jnp.ones(n, bool))))(jnp.asarray(g))
        np.testing.assert_allclose(grads[b][:n, :n], want, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(grads[b][n:], 0.0)
