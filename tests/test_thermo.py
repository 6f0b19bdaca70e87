"""Spectral entropy, specific heat and spectral dimension against closed forms and oracles.

Oracles: closed-form spectra (graphs_zoo), 50-digit mpmath for extreme tau, jax.grad and finite
differences for C = -dS/dlog(tau), networkx for permutations and disjoint unions.
"""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import scipy.optimize
from graphs_zoo import ALL_CLOSED_FORMS, cartesian_product, complete, path, random_graph, ring
from hypothesis import given, settings
from hypothesis import strategies as st
from tolerances import tol

import jaxrg

mpmath.mp.dps = 50


def mp_curves(eigenvalues, tau):
    """S and C (normalised) in 50-digit arithmetic from a closed-form spectrum."""
    lam = [mpmath.mpf(float(x)) for x in eigenvalues]
    tau = mpmath.mpf(tau)
    w = [mpmath.e ** (-tau * x) for x in lam]
    z = mpmath.fsum(w)
    p = [wi / z for wi in w]
    s = -mpmath.fsum(pi * mpmath.log(pi) for pi in p if pi > 0)
    mean = mpmath.fsum(pi * x for pi, x in zip(p, lam, strict=True))
    var = mpmath.fsum(pi * (x - mean) ** 2 for pi, x in zip(p, lam, strict=True))
    log_n = mpmath.log(len(lam))
    return float(s / log_n), float(tau**2 * var / log_n), float(z)


def test_complete_graph_specific_heat_closed_form():
    n = 9
    _, ev = complete(n)
    taus = jnp.logspace(-3, 1, 50)
    z = 1 + (n - 1) * np.exp(-n * taus)
    p = (n - 1) * np.exp(-n * taus) / z
    expected = (n * taus) ** 2 * p * (1 - p) / np.log(n)
    np.testing.assert_allclose(jaxrg.specific_heat(jnp.asarray(ev), taus), expected, rtol=1e-11)


@pytest.mark.parametrize("name", sorted(ALL_CLOSED_FORMS))
@pytest.mark.parametrize("tau", [1e-8, 1e-3, 0.5, 3.0, 40.0, 1e4, 1e8])
def test_entropy_and_heat_match_50_digit_reference(name, tau):
    adjacency, closed = ALL_CLOSED_FORMS[name]
    ev = jaxrg.laplacian_spectrum(jnp.asarray(adjacency))
    s_ref, c_ref, z_ref = mp_curves(closed, tau)
    curves = jaxrg.entropy_curves(ev, tau)
    # eigenvalues from eigh carry ~1e-15 relative error; S and C inherit it
    np.testing.assert_allclose(curves.entropy, s_ref, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(curves.specific_heat, c_ref, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(curves.heat_trace, z_ref, rtol=1e-10)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_extreme_taus_give_finite_curves_with_documented_accuracy(dtype):
    adjacency, closed = ALL_CLOSED_FORMS["path8"]
    ev = jaxrg.laplacian_spectrum(jnp.asarray(adjacency, dtype))
    taus = jnp.logspace(-8, 8, 33, dtype=dtype)
    curves = jaxrg.entropy_curves(ev, taus)
    for field in curves:
        assert field.dtype == dtype and bool(jnp.all(jnp.isfinite(field)))
    ref = np.array([mp_curves(closed, float(t))[:2] for t in np.asarray(taus)])
    # float32: S and C good to ~1e-5 absolute (eigenvalue round-off times tau * lambda)
    atol = 1e-12 if dtype == jnp.float64 else 2e-5
    np.testing.assert_allclose(np.asarray(curves.entropy, float), ref[:, 0], atol=atol)
    np.testing.assert_allclose(np.asarray(curves.specific_heat, float), ref[:, 1], atol=atol)


@pytest.mark.parametrize("name", sorted(ALL_CLOSED_FORMS))
def test_specific_heat_is_minus_grad_of_entropy_in_log_tau(name):
    ev = jaxrg.laplacian_spectrum(jnp.asarray(ALL_CLOSED_FORMS[name][0]))
    log_taus = jnp.linspace(-6, 6, 25)
    # compiled: eagerly, each op of the vmapped backward pass compiles alone
    minus_slope = jax.vmap(jax.grad(lambda lt, e: -jaxrg.spectral_entropy(e, jnp.exp(lt))),
                           (0, None))
    grad = jax.jit(minus_slope)(log_taus, ev)
    np.testing.assert_allclose(grad, jaxrg.specific_heat(ev, jnp.exp(log_taus)), atol=1e-6 * 1e-3)


def test_specific_heat_matches_finite_differences_of_entropy():
    rng = np.random.default_rng(0)
    ev = jaxrg.laplacian_spectrum(random_graph(rng, 20, weighted=True))
    log_taus = np.linspace(-3, 3, 13)
    h = 1e-5
    s_plus = jaxrg.spectral_entropy(ev, jnp.exp(log_taus + h))
    s_minus = jaxrg.spectral_entropy(ev, jnp.exp(log_taus - h))
    np.testing.assert_allclose(
        jaxrg.specific_heat(ev, jnp.exp(log_taus)), -(s_plus - s_minus) / (2 * h), atol=1e-8
    )


def test_spectral_dimension_is_minus_two_dlogz_dlogtau():
    ev = jaxrg.laplacian_spectrum(ring(12)[0])
    log_taus = jnp.linspace(-4, 4, 17)
    slope = jax.vmap(jax.grad(lambda lt, e: -2 * jaxrg.log_heat_trace(e, jnp.exp(lt))), (0, None))
    grad = jax.jit(slope)(log_taus, ev)
    np.testing.assert_allclose(jaxrg.spectral_dimension(ev, jnp.exp(log_taus)), grad, atol=1e-12)


def test_cartesian_product_unnormalised_specific_heat_adds():
    a1, a2 = path(5)[0], ring(6)[0]
    taus = jnp.logspace(-2, 2, 30)

    def unnormalised(a):
        ev = jaxrg.laplacian_spectrum(a)
        return jaxrg.specific_heat(ev, taus) * np.log(a.shape[0])

    np.testing.assert_allclose(
        unnormalised(cartesian_product(a1, a2)), unnormalised(a1) + unnormalised(a2), rtol=1e-9
    )


def test_entropy_limits_connected_and_disconnected():
    connected = jaxrg.laplacian_spectrum(path(6)[0])
    two = np.zeros((6, 6))
    two[:3, :3] = complete(3)[0]
    two[3:, 3:] = complete(3)[0]
    disconnected = jaxrg.laplacian_spectrum(two)
    np.testing.assert_allclose(jaxrg.spectral_entropy(connected, 1e-8), 1.0, atol=1e-7)
    np.testing.assert_allclose(jaxrg.spectral_entropy(connected, 1e8), 0.0, atol=1e-12)
    np.testing.assert_allclose(jaxrg.spectral_entropy(disconnected, 1e8), np.log(2) / np.log(6))


def test_padding_does_not_change_any_curve():
    rng = np.random.default_rng(1)
    graphs = [random_graph(rng, n, weighted=True) for n in (4, 10, 7)]
    batch = jaxrg.pad_adjacency(graphs, num_nodes=12)
    taus = jnp.logspace(-2, 2, 9)

    def curves(a, m):
        return jaxrg.entropy_curves(jaxrg.laplacian_spectrum(a, m), taus)

    batched = jax.jit(jax.vmap(curves))(batch.adjacency, batch.mask)
    for b, g in enumerate(graphs):
        single = jaxrg.entropy_curves(jaxrg.laplacian_spectrum(g), taus)
        for got, want in zip(batched, single, strict=True):
            np.testing.assert_allclose(got[b], want, rtol=1e-10, atol=1e-13)


def test_gradient_through_padded_batch_is_finite_and_matches_unpadded():
    rng = np.random.default_rng(2)
    g = jnp.asarray(random_graph(rng, 6, weighted=True))
    batch = jaxrg.pad_adjacency([g], num_nodes=9)

    def s_pad(a):
        return jaxrg.spectral_entropy(jaxrg.laplacian_spectrum(a, batch.mask[0]), 0.7)

    # compiled (as a padded batch is used); eagerly, each op of the backward pass compiles alone
    grad_pad = jax.jit(jax.grad(s_pad))(batch.adjacency[0])
    grad = jax.jit(jax.grad(lambda a: jaxrg.spectral_entropy(jaxrg.laplacian_spectrum(a), 0.7)))(g)
    assert bool(jnp.all(jnp.isfinite(grad_pad)))
    np.testing.assert_allclose(grad_pad[:6, :6], grad, atol=1e-12)


def test_heat_trace_curvature_is_the_authors_unnormalised_formula():
    ev = jaxrg.laplacian_spectrum(path(7)[0])
    taus = jnp.logspace(-2, 2, 11)
    lam = np.asarray(ev)
    expected = [t**2 * np.sum(lam**2 * np.exp(-t * lam)) for t in np.asarray(taus)]
    np.testing.assert_allclose(
        jaxrg.specific_heat(ev, taus, formula="heat-trace-curvature"), expected, rtol=1e-12
    )


def test_single_node_gives_zero_not_nan():
    curves = jaxrg.entropy_curves(jnp.array([0.0]), jnp.array([0.1, 10.0]))
    np.testing.assert_array_equal(curves.entropy, 0.0)
    np.testing.assert_array_equal(curves.specific_heat, 0.0)


def test_no_retrace_when_only_taus_change():
    traces = []

    @jax.jit
    def f(ev, taus):
        traces.append(1)
        return jaxrg.entropy_curves(ev, taus)

    ev = jnp.asarray(ring(8)[1])
    f(ev, jnp.logspace(-1, 1, 5))
    f(ev, jnp.logspace(-3, 3, 5))
    assert len(traces) == 1


def test_float32_curves_within_documented_tolerance():
    rng = np.random.default_rng(3)
    a = random_graph(rng, 40)
    taus = jnp.logspace(-3, 3, 40)
    c64 = jaxrg.entropy_curves(jaxrg.laplacian_spectrum(a), taus)
    c32 = jaxrg.entropy_curves(
        jaxrg.laplacian_spectrum(jnp.asarray(a, jnp.float32)), taus.astype(jnp.float32)
    )
    for got, want in zip(c32, c64, strict=True):
        np.testing.assert_allclose(np.asarray(got, float), want, **tol(jnp.float32))


# ---- property-based invariants -------------------------------------------------------------

graph_seeds = st.integers(0, 2**31 - 1)
PAD = 16  # every random graph is padded to 16 nodes: one compilation serves all examples


@jax.jit
def padded_curves(adjacency, mask, tau):
    return jaxrg.entropy_curves(jaxrg.laplacian_spectrum(adjacency, mask), tau)


def curves_of(a, tau):
    batch = jaxrg.pad_adjacency([a], num_nodes=PAD)
    return padded_curves(batch.adjacency[0], batch.mask[0], tau)


@settings(max_examples=25, deadline=None)
@given(seed=graph_seeds, n=st.integers(2, 14), log_tau=st.floats(-6, 6))
def test_invariants_on_random_graphs(seed, n, log_tau):
    rng = np.random.default_rng(seed)
    a = random_graph(rng, n, p=0.4, weighted=bool(seed % 2))
    tau = float(np.exp(log_tau))
    curves = curves_of(a, tau)
    assert -1e-12 <= float(curves.entropy) <= 1 + 1e-12
    assert float(curves.specific_heat) >= 0
    # permutation invariance
    perm = rng.permutation(n)
    perm_curves = curves_of(a[np.ix_(perm, perm)], tau)
    np.testing.assert_allclose(perm_curves.entropy, curves.entropy, atol=1e-10)
    np.testing.assert_allclose(perm_curves.specific_heat, curves.specific_heat, atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(seed=graph_seeds, n1=st.integers(2, 8), n2=st.integers(2, 8), log_tau=st.floats(-3, 3))
def test_disjoint_union_from_parts(seed, n1, n2, log_tau):
    """Z adds over a disjoint union; S follows from the parts' Z and <lambda>."""
    rng = np.random.default_rng(seed)
    a1, a2 = random_graph(rng, n1, weighted=True), random_graph(rng, n2, weighted=True)
    union = np.zeros((n1 + n2, n1 + n2))
    union[:n1, :n1], union[n1:, n1:] = a1, a2
    tau = float(np.exp(log_tau))
    parts = [curves_of(a, tau) for a in (a1, a2)]
    whole = curves_of(union, tau)
    z = sum(float(p.heat_trace) for p in parts)
    np.testing.assert_allclose(whole.heat_trace, z, rtol=1e-12)
    # <lambda> of the union = Z-weighted mean of the parts' <lambda> (= d_S / 2 tau)
    mean = sum(float(p.heat_trace) * float(p.spectral_dimension) for p in parts) / (2 * tau * z)
    expected_s = (np.log(z) + tau * mean) / np.log(n1 + n2)
    np.testing.assert_allclose(whole.entropy, expected_s, rtol=1e-10)


# ---- one spectral measure: exact eigenvalues are its unit-weight case ----------------------


def test_unit_weights_reproduce_the_dense_entropy_curves_bitwise():
    rng = np.random.default_rng(0)
    eigenvalues = jnp.asarray(np.sort(np.r_[0.0, rng.uniform(0.1, 9.0, 40)]))
    taus = jnp.logspace(-3, 3, 40)
    explicit = jaxrg.thermo.measure_curves(eigenvalues, None, taus, jnp.log(41.0))
    dense = jaxrg.entropy_curves(eigenvalues, taus)
    for a, b in zip(explicit, dense, strict=True):
        np.testing.assert_array_equal(a, b)


def test_zero_log_weights_give_the_unit_measure_to_round_off():
    rng = np.random.default_rng(1)
    eigenvalues = jnp.asarray(np.sort(np.r_[0.0, rng.uniform(0.1, 9.0, 20), np.inf]))
    log_w = jnp.where(jnp.isfinite(eigenvalues), 0.0, -jnp.inf)
    taus = jnp.logspace(-3, 3, 30)
    weighted = jaxrg.thermo.measure_curves(eigenvalues, log_w, taus, jnp.log(21.0))
    for a, b in zip(weighted, jaxrg.entropy_curves(eigenvalues, taus), strict=True):
        np.testing.assert_allclose(a, b, **tol("float64"))


def test_an_atom_of_weight_m_equals_m_repeated_eigenvalues():
    repeated = jnp.array([0.0, 1.0, 1.0, 1.0, 4.0, 4.0])
    taus = jnp.array([0.01, 0.7, 30.0])
    dense = jaxrg.entropy_curves(repeated, taus)
    merged = jaxrg.thermo.measure_curves(
        jnp.array([0.0, 1.0, 4.0]), jnp.log(jnp.array([1.0, 3.0, 2.0])), taus, jnp.log(6.0)
    )
    for a, b in zip(merged, dense, strict=True):
        np.testing.assert_allclose(a, b, **tol("float64"))


def test_absent_atoms_are_ignored_even_at_extreme_nodes():
    taus = jnp.array([0.5, 50.0])
    with_absent = jaxrg.thermo.measure_moments(
        jnp.array([-7.0, 0.0, 2.0, 1e6]), jnp.array([-jnp.inf, 0.0, 0.0, -jnp.inf]), taus
    )
    without = jaxrg.thermo.measure_moments(jnp.array([0.0, 2.0]), jnp.zeros(2), taus)
    for a, b in zip(with_absent, without, strict=True):
        np.testing.assert_allclose(a, b, **tol("float64"))
    assert np.all(np.isfinite(np.asarray(with_absent.log_z)))


def test_measure_slope_sign_changes_sign_at_the_peak_of_c():
    # two atoms 0 and 2: C = 4 p(1-p) tau^2-ish peaks at tau* = 2.3994 / 2 (x e^x... closed form)
    x = scipy.optimize.brentq(lambda x: x * np.tanh(x / 2) - 2, 0.5, 5.0)  # d/dx [x^2 p(1-p)] = 0
    below = jaxrg.thermo.measure_slope_sign(jnp.array([0.0, 2.0]), None, 0.99 * x / 2)
    above = jaxrg.thermo.measure_slope_sign(jnp.array([0.0, 2.0]), None, 1.01 * x / 2)
    assert float(below) > 0 > float(above)


def test_single_atom_measure_gives_zero_entropy_and_heat():
    curves = jaxrg.thermo.measure_curves(jnp.array([0.0]), jnp.zeros(1), jnp.array([1.0]), 0.0)
    assert float(curves.entropy[0]) == 0.0 and float(curves.specific_heat[0]) == 0.0


# ---- formula names; the deprecated variant= alias ------------------------------------------


@pytest.mark.parametrize(
    ("variant", "formula"), [("exact", "heat-capacity"), ("authors", "heat-trace-curvature")]
)
def test_deprecated_variant_warns_and_gives_the_named_formula_bitwise(variant, formula):
    ev = jaxrg.laplacian_spectrum(path(9)[0])
    taus = jnp.logspace(-2, 2, 17)
    for fn in (jaxrg.specific_heat, jaxrg.thermo.specific_heat_slope_sign):
        with pytest.warns(DeprecationWarning, match=f"formula='{formula}'"):
            old = fn(ev, taus, variant=variant)
        np.testing.assert_array_equal(old, fn(ev, taus, formula=formula))
    with pytest.warns(DeprecationWarning, match=formula):
        old = jaxrg.characteristic_scales(ev, variant=variant)
    for a, b in zip(old, jaxrg.characteristic_scales(ev, formula=formula), strict=True):
        np.testing.assert_array_equal(a, b)


def test_unknown_formula_or_variant_is_refused_with_the_valid_names():
    ev = jnp.array([0.0, 2.0])
    with pytest.raises(ValueError, match="formula must be one of.*heat-capacity.*heat-trace"):
        jaxrg.specific_heat(ev, 1.0, formula="authors")
    with pytest.raises(ValueError, match="'exact', 'authors'.*heat-capacity"):
        jaxrg.specific_heat(ev, 1.0, variant="heat")
    with pytest.raises(ValueError, match="disagree"):
        jaxrg.specific_heat(ev, 1.0, formula="heat-trace-curvature", variant="exact")
    # an explicit formula equal to the default is no longer mistaken for "not given"
    with pytest.raises(ValueError, match="formula='heat-capacity' and variant='authors' disagree"):
        jaxrg.specific_heat(ev, 1.0, formula="heat-capacity", variant="authors")
    with pytest.raises(ValueError, match="disagree"):
        jaxrg.characteristic_scales(ev, formula="heat-capacity", variant="authors")
    with pytest.warns(DeprecationWarning, match="use formula='heat-trace-curvature'"):
        by_variant = jaxrg.specific_heat(ev, 1.0, variant="authors")
    assert by_variant == jaxrg.specific_heat(ev, 1.0, formula="heat-trace-curvature")
    assert jaxrg.specific_heat(ev, 1.0, formula=None) == jaxrg.specific_heat(ev, 1.0)


# ---- the heat-trace curvature of a weighted measure (formula="heat-trace-curvature") -------


def test_weighted_heat_trace_curvature_is_tau_squared_times_the_second_derivative_of_z():
    # tau^2 Z''(tau) against a numpy sum and central differences of Z(tau) = sum w e^{-t theta}
    rng = np.random.default_rng(3)
    nodes = np.r_[0.0, rng.uniform(0.05, 12.0, 25), 1e6]
    weights = np.r_[2.0, rng.uniform(0.1, 3.0, 25), 0.0]  # the last atom absent (weight 0)
    log_w = jnp.asarray(np.log(weights, where=weights > 0, out=np.full(27, -np.inf)))
    taus = np.logspace(-2, 2, 17)
    got = jaxrg.thermo.measure_heat_trace_curvature(jnp.asarray(nodes), log_w, jnp.asarray(taus))
    live = weights > 0
    direct = [t**2 * np.sum(weights[live] * nodes[live] ** 2 * np.exp(-t * nodes[live]))
              for t in taus]
    np.testing.assert_allclose(got, direct, rtol=1e-12, atol=1e-300)

    def z(t):
        return np.sum(weights[live] * np.exp(-t * nodes[live]))

    fd = [t**2 * (z(t * (1 + 1e-3)) - 2 * z(t) + z(t * (1 - 1e-3))) / (t * 1e-3) ** 2
          for t in taus]
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-9)


def test_unit_weights_give_the_dense_heat_trace_curvature_bitwise():
    rng = np.random.default_rng(4)
    eigenvalues = jnp.asarray(np.sort(np.r_[0.0, rng.uniform(0.1, 9.0, 30), np.inf]))
    taus = jnp.logspace(-3, 3, 40)
    dense = jaxrg.specific_heat(eigenvalues, taus, formula="heat-trace-curvature")
    unit = jaxrg.thermo.measure_heat_trace_curvature(eigenvalues, None, taus)
    np.testing.assert_array_equal(unit, dense)
    zero = jnp.where(jnp.isfinite(eigenvalues), 0.0, -jnp.inf)  # log w = 0 is the same measure
    np.testing.assert_array_equal(
        jaxrg.thermo.measure_heat_trace_curvature(eigenvalues, zero, taus), dense
    )


def test_weighted_curvature_slope_sign_is_the_sign_of_its_log_tau_derivative():
    nodes = jnp.array([0.0, 0.3, 2.0, 7.0])
    log_w = jnp.log(jnp.array([1.0, 2.0, 0.5, 4.0]))
    log_taus = jnp.linspace(-3.0, 3.0, 61)

    def curve(lt):
        return jaxrg.thermo.measure_heat_trace_curvature(nodes, log_w, jnp.exp(lt))

    slope = jax.vmap(jax.grad(curve))(log_taus)
    sign = jaxrg.thermo.measure_slope_sign(
        nodes, log_w, jnp.exp(log_taus), formula="heat-trace-curvature"
    )
    clear = np.abs(np.asarray(slope)) > 1e-9
    assert clear.sum() > 50
    np.testing.assert_array_equal(np.sign(sign)[clear], np.sign(slope)[clear])


def test_weighted_curvature_is_finite_at_extreme_taus_and_nan_in_gives_nan_out():
    nodes, log_w = jnp.array([0.0, 1e-8, 3.0, 1e8]), jnp.log(jnp.array([1.0, 2.0, 3.0, 4.0]))
    out = jaxrg.thermo.measure_heat_trace_curvature(nodes, log_w, jnp.array([1e-300, 1e300]))
    assert np.all(np.isfinite(out))
    bad = jax.jit(jaxrg.thermo.measure_heat_trace_curvature)(
        nodes.at[2].set(jnp.nan), log_w, jnp.array([0.5])
    )
    assert np.isnan(bad).all()


# ---- NaN in, NaN out under jit; a spectrum without a real node ---------------------------------


def test_single_node_at_a_nan_tau_gives_nan_under_jit_not_zero():
    """Before: S = C = 0 for one node whatever tau, so tau = NaN gave 0.0 (Z was already NaN)."""
    taus = jnp.array([1.0, jnp.nan])
    curves = jax.jit(jaxrg.entropy_curves)(jnp.array([0.0]), taus)
    for field in curves:
        assert np.isnan(field[1])
    assert float(curves.entropy[0]) == 0.0 and float(curves.specific_heat[0]) == 0.0
    assert float(curves.heat_trace[0]) == 1.0 and float(curves.spectral_dimension[0]) == 0.0
    assert np.isnan(jax.jit(jaxrg.spectral_entropy)(jnp.array([0.0]), jnp.nan))
    assert np.isnan(jax.jit(jaxrg.specific_heat)(jnp.array([0.0]), jnp.nan))
    curvature = jax.jit(lambda ev, t: jaxrg.specific_heat(ev, t, formula="heat-trace-curvature"))
    assert np.isnan(curvature(jnp.array([0.0]), jnp.nan))


def test_a_nan_self_loop_on_an_edgeless_graph_gives_nan_eigenvalues_and_entropy_under_jit():
    """Before: the exact-zero-mode step overwrote the NaN eigenvalues with exact zeros (three
    isolated nodes), so the spectrum was [0, 0, 0] and S = 1."""
    a = jnp.zeros((3, 3)).at[1, 1].set(jnp.nan)
    spectrum = jax.jit(jaxrg.laplacian_spectrum)(a)
    assert np.isnan(spectrum).all()
    s = jax.jit(lambda x: jaxrg.spectral_entropy(jaxrg.laplacian_spectrum(x), 1.0))(a)
    assert np.isnan(s)
    padded = jax.jit(jaxrg.laplacian_spectrum)(jnp.pad(a, ((0, 1), (0, 1))), jnp.arange(4) < 3)
    assert np.isnan(padded[:3]).all() and padded[3] == np.inf
    # a finite edgeless graph keeps its exact zero modes
    np.testing.assert_array_equal(jax.jit(jaxrg.laplacian_spectrum)(jnp.zeros((3, 3))), 0.0)


def test_a_spectrum_without_a_real_node_gives_nan_curves_under_jit_like_batch_curves():
    """docs/bad_inputs.md: a graph without a real node is refused eagerly and has NaN curves
    under jit (batch_curves). Before: the spectral functions gave S = C = d_S = 0 there."""
    from jaxrg import batch

    padding = jnp.array([jnp.inf, jnp.inf, jnp.inf])
    taus = jnp.array([0.5, 2.0])
    with pytest.raises(ValueError, match="padding only"):
        jaxrg.spectral_entropy(padding, taus)
    for f in (jaxrg.spectral_entropy, jaxrg.specific_heat, jaxrg.spectral_dimension,
              jaxrg.heat_trace,
              lambda ev, t: jaxrg.specific_heat(ev, t, formula="heat-trace-curvature")):
        assert np.isnan(jax.jit(f)(padding, taus)).all()
    assert all(np.isnan(field).all() for field in jax.jit(jaxrg.entropy_curves)(padding, taus))
    empty = jaxrg.PaddedBatch(jnp.zeros((1, 3, 3)), jnp.zeros((1, 3), bool))
    routed = jax.jit(batch.batch_curves)(empty, taus)
    assert all(np.isnan(field).all() for field in routed)


@pytest.mark.parametrize("log_weights", [[0.0, np.inf], [-np.inf, -np.inf]])
def test_measure_log_weights_of_inf_or_no_atom_are_refused_or_nan(log_weights):
    """+inf or only -inf log masses gave inf/NaN moments eagerly with no error; now a
    ValueError naming log_weights (concrete), NaN under jit (never a finite number). A NaN log
    mass stays NaN in, NaN out (test_features: a jitted NaN spectrum gives NaN curves)."""
    nodes, lw = jnp.array([0.0, 1.0]), jnp.array(log_weights)
    with pytest.raises(ValueError, match="log_weights"):
        jaxrg.thermo.measure_moments(nodes, lw, 1.0)
    with pytest.raises(ValueError, match="log_weights"):
        jaxrg.thermo.measure_curves(nodes, lw, jnp.array([1.0]), jnp.log(2.0))
    moments = jax.jit(lambda n, w: jaxrg.thermo.measure_moments(n, w, 1.0))(nodes, lw)
    assert np.isnan(np.asarray(moments.tau_mean))


def test_a_nan_log_weight_gives_nan_moments_eagerly():
    moments = jaxrg.thermo.measure_moments(jnp.array([0.0, 1.0]), jnp.array([0.0, np.nan]), 1.0)
    assert np.isnan(np.asarray(moments.tau_mean))
