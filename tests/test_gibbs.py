"""The weighted Gibbs moments shared by the dense and the sparse route.

Oracles: the dense ``jaxrg.entropy_curves`` (unit weights must reproduce it), and merging
repeated eigenvalues into one atom of weight = multiplicity (same measure, same curves).
"""

import jax.numpy as jnp
import numpy as np
from tolerances import tol

import jaxrg
from jaxrg._gibbs import gibbs_curves, weighted_moments


def test_unit_weights_reproduce_the_dense_entropy_curves():
    rng = np.random.default_rng(0)
    eigenvalues = jnp.asarray(np.sort(np.r_[0.0, rng.uniform(0.1, 9.0, 40)]))
    taus = jnp.logspace(-3, 3, 40)
    ours = gibbs_curves(eigenvalues, jnp.zeros(41), taus, jnp.log(41.0))
    dense = jaxrg.entropy_curves(eigenvalues, taus)
    for a, b in zip(ours, dense, strict=True):
        np.testing.assert_allclose(a, b, **tol("float64"))


def test_an_atom_of_weight_m_equals_m_repeated_eigenvalues():
    repeated = jnp.array([0.0, 1.0, 1.0, 1.0, 4.0, 4.0])
    taus = jnp.array([0.01, 0.7, 30.0])
    dense = jaxrg.entropy_curves(repeated, taus)
    merged = gibbs_curves(
        jnp.array([0.0, 1.0, 4.0]), jnp.log(jnp.array([1.0, 3.0, 2.0])), taus, jnp.log(6.0)
    )
    for a, b in zip(merged, dense, strict=True):
        np.testing.assert_allclose(a, b, **tol("float64"))


def test_absent_atoms_are_ignored_even_at_extreme_nodes():
    taus = jnp.array([0.5, 50.0])
    with_absent = weighted_moments(
        jnp.array([-7.0, 0.0, 2.0, 1e6]), jnp.array([-jnp.inf, 0.0, 0.0, -jnp.inf]), taus
    )
    without = weighted_moments(jnp.array([0.0, 2.0]), jnp.zeros(2), taus)
    for a, b in zip(with_absent, without, strict=True):
        np.testing.assert_allclose(a, b, **tol("float64"))
    assert np.all(np.isfinite(np.asarray(with_absent.log_z)))


def test_single_node_gives_zero_entropy_and_heat():
    curves = gibbs_curves(jnp.array([0.0]), jnp.zeros(1), jnp.array([1.0]), jnp.log(1.0))
    assert float(curves.entropy[0]) == 0.0 and float(curves.specific_heat[0]) == 0.0
