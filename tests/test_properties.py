"""Property-based invariants (hypothesis, profile "ci" from the root conftest: derandomised).

Oracles are identities checked with numpy/scipy on random graphs and distributions, never the
code under test. Invariants already covered elsewhere are not repeated here:

* 0 <= S <= 1, C >= 0 and permutation invariance of S and C on random graphs;
  Z and S of a disjoint union from the parts: ``tests/test_thermo.py``
  (``test_invariants_on_random_graphs``, ``test_disjoint_union_from_parts``);
* Rényi entropy non-increasing in alpha and bounded by log n: ``tests/test_info.py``
  (``test_renyi_is_non_increasing_in_alpha_and_bounded_by_log_n``).
"""

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special
import scipy.stats
from graphs_zoo import random_graph
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import jaxrg
from jaxrg import info
from jaxrg.cumulants import moments_to_cumulants, sample_cumulants

seeds = st.integers(0, 2**31 - 1)
sizes = st.sampled_from([3, 6, 9])  # few shapes: eager ops compile once per shape
log_taus = st.floats(-4, 4)


def _graph(seed, n):
    rng = np.random.default_rng(seed)
    return random_graph(rng, n, p=0.5, weighted=bool(seed % 2)), rng


# ---- heat kernel and density matrix ---------------------------------------------------------


@settings(max_examples=10)
@given(seed=seeds, n=sizes, log_s=log_taus, log_t=log_taus)
def test_heat_kernel_is_a_symmetric_psd_stochastic_semigroup(seed, n, log_s, log_t):
    a, _ = _graph(seed, n)
    lap = jaxrg.laplacian(a)
    s, t = float(np.exp(log_s)), float(np.exp(log_t))
    k_s, k_t, k_st = (np.asarray(k) for k in jaxrg.heat_kernel(lap, jnp.array([s, t, s + t])))
    for k in (k_s, k_t, k_st):
        np.testing.assert_allclose(k, k.T, atol=1e-13)
        assert np.linalg.eigvalsh(k).min() >= -1e-12
        np.testing.assert_allclose(k.sum(axis=1), 1.0, rtol=1e-11)
    np.testing.assert_allclose(k_st, k_s @ k_t, atol=1e-11)


@settings(max_examples=10)
@given(seed=seeds, n=sizes, log_tau=st.floats(-8, 8))
def test_density_matrix_has_unit_trace_and_is_the_normalised_kernel(seed, n, log_tau):
    a, _ = _graph(seed, n)
    lap = np.asarray(jaxrg.laplacian(a))
    tau = float(np.exp(log_tau))
    rho = np.asarray(jaxrg.density_matrix(lap, tau))
    assert abs(np.trace(rho) - 1) < 1e-12
    assert np.linalg.eigvalsh(rho).min() >= -1e-12
    # oracle: eigendecomposition in numpy, weights by a shifted exponent (no underflow)
    lam, u = np.linalg.eigh(lap)
    w = np.exp(-tau * (lam - lam.min()))
    np.testing.assert_allclose(rho, (u * (w / w.sum())) @ u.T, atol=1e-12)


# ---- specific heat of a disjoint union (S and Z: tests/test_thermo.py) ---------------------

PAD = 18  # every graph padded to 18 nodes: one compilation serves all examples


@jax.jit
def _curves(adjacency, mask, tau):
    return jaxrg.entropy_curves(jaxrg.laplacian_spectrum(adjacency, mask), tau)


def _padded_curves(a, tau):
    batch = jaxrg.pad_adjacency([a], num_nodes=PAD)
    return _curves(batch.adjacency[0], batch.mask[0], tau)


@settings(max_examples=10)
@given(seed=seeds, n1=sizes, n2=sizes, log_tau=st.floats(-3, 3))
def test_specific_heat_of_a_disjoint_union_from_the_parts(seed, n1, n2, log_tau):
    """The union's spectral weights are the parts' mixed by Z_i / Z: Var adds as for a mixture."""
    rng = np.random.default_rng(seed)
    parts = [random_graph(rng, n, weighted=True) for n in (n1, n2)]
    union = np.zeros((n1 + n2, n1 + n2))
    union[:n1, :n1], union[n1:, n1:] = parts
    tau = float(np.exp(log_tau))
    stats = []
    for a in parts:
        c = _padded_curves(a, tau)
        z = float(c.heat_trace)
        mean = float(c.spectral_dimension) / (2 * tau)  # d_S = 2 tau <lambda>
        var = float(c.specific_heat) * np.log(a.shape[0]) / tau**2  # C log n = tau^2 Var
        stats.append((z, mean, var))
    z = sum(s[0] for s in stats)
    mean = sum(s[0] * s[1] for s in stats) / z
    second = sum(s[0] * (s[2] + s[1] ** 2) for s in stats) / z
    expected = tau**2 * (second - mean**2) / np.log(n1 + n2)
    whole = _padded_curves(union, tau).specific_heat
    np.testing.assert_allclose(whole, expected, rtol=1e-8, atol=1e-12)


# ---- meta-graph -------------------------------------------------------------------------------


@settings(max_examples=8)
@given(seed=seeds, n=st.sampled_from([5, 9]), log_tau=st.floats(-2, 2))
def test_meta_graph_is_symmetric_reflexive_and_permutation_equivariant(seed, n, log_tau):
    a, rng = _graph(seed, n)
    taus = jnp.array([float(np.exp(log_tau)), float(np.exp(log_tau + 1))])
    zeta = np.asarray(jaxrg.lrg.meta_graph(a, taus))
    assert zeta.dtype == bool
    for z in zeta:
        np.testing.assert_array_equal(z, z.T)
        assert np.all(np.diag(z))
    perm = rng.permutation(n)
    zeta_perm = np.asarray(jaxrg.lrg.meta_graph(a[np.ix_(perm, perm)], taus))
    np.testing.assert_array_equal(zeta_perm, zeta[:, perm][:, :, perm])


# ---- distributions ---------------------------------------------------------------------------

logit_rows = arrays(np.float64, (7,), elements=st.floats(-30, 30))


@settings(max_examples=15)
@given(z=logit_rows)
def test_renyi_at_alpha_one_is_shannon_and_is_invariant_to_category_order(z):
    p = scipy.special.softmax(z)
    shannon = scipy.stats.entropy(p)
    np.testing.assert_allclose(info.renyi_entropy(z, 1.0), shannon, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(info.shannon_entropy(z), shannon, rtol=1e-10, atol=1e-13)
    alphas = jnp.array([0.0, 0.5, 1.0, 2.0, 7.0, jnp.inf])
    perm = np.random.default_rng(0).permutation(7)
    np.testing.assert_allclose(
        info.renyi_entropy(z[perm], alphas), info.renyi_entropy(z, alphas), rtol=1e-12, atol=1e-12
    )


@settings(max_examples=15)
@given(
    x=arrays(np.float64, (6,), elements=st.floats(-5, 5)),
    y=arrays(np.float64, (5,), elements=st.floats(-5, 5)),
)
def test_cumulants_of_a_sum_of_independent_variables_add(x, y):
    """The empirical law of all sums x_i + y_j is the convolution of the two empirical laws, so
    its plug-in cumulants are exactly the sums of the parts' (moments would not add)."""
    order = 5
    both = (x[:, None] + y[None, :]).ravel()
    got = np.asarray(sample_cumulants(both, order))
    want = np.asarray(sample_cumulants(x, order)) + np.asarray(sample_cumulants(y, order))
    scale = np.array([5.0**r for r in range(1, order + 1)])  # |kappa_r| <~ (2 max|x|)^r
    np.testing.assert_allclose(got, want, atol=1e-11 * scale.max(), rtol=1e-9)
    # the same identity through raw moments computed independently in numpy
    raw = lambda v: np.array([np.mean(v**r) for r in range(1, order + 1)])  # noqa: E731
    np.testing.assert_allclose(
        moments_to_cumulants(raw(both)),
        np.asarray(moments_to_cumulants(raw(x))) + np.asarray(moments_to_cumulants(raw(y))),
        atol=1e-9 * scale.max(),
    )
