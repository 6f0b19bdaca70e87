"""Bad input: clear errors naming the argument and the fix, eagerly and under jit (checked)."""

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest
from graphs_zoo import input_forms

import jaxrg
import jaxrg.lrg

GOOD = jnp.array([[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize(
    ("adjacency", "error", "match"),
    [
        (jnp.ones((2, 3)), ValueError, "square"),
        (jnp.ones(3), ValueError, r"2-D \(N, N\)"),
        (jnp.ones((2, 3, 3)), ValueError, "vmap"),
        (jnp.zeros((0, 0)), ValueError, "empty"),
        (
            jnp.array([[0.0, 1.0], [0.5, 0.0]]),
            ValueError,
            r"not symmetric \(max \|A - A\^T\| = 0.5\)",
        ),
        (jnp.array([[0.0, -1.0], [-1.0, 0.0]]), ValueError, "negative weights"),
        (jnp.array([[0.0, jnp.nan], [jnp.nan, 0.0]]), ValueError, "NaN or inf"),
        (jnp.array([[0.0, jnp.inf], [jnp.inf, 0.0]]), ValueError, "NaN or inf"),
        (np.array([["a"]]), TypeError, "numeric"),
        (jnp.array([[0, 1j], [1j, 0]]), TypeError, "real"),
        (nx.DiGraph([(0, 1)]), TypeError, "to_undirected"),
        ({"not": "a graph"}, TypeError, "unsupported graph type"),
        ((jnp.array([0]),), TypeError, "edge list"),
    ],
)
def test_bad_adjacency_raises_before_compute(adjacency, error, match):
    with pytest.raises(error, match=match):
        jaxrg.laplacian_spectrum(adjacency)


def test_integer_and_boolean_adjacency_are_cast_to_float():
    for a in (jnp.array([[0, 1], [1, 0]]), jnp.array([[False, True], [True, False]])):
        np.testing.assert_allclose(jaxrg.laplacian_spectrum(a), [0.0, 2.0])


@pytest.mark.parametrize(
    ("mask", "error", "match"),
    [
        (jnp.array([1, 1]), TypeError, "boolean"),
        (jnp.array([True, True, False]), ValueError, r"shape \(2,\)"),
    ],
)
def test_bad_mask(mask, error, match):
    with pytest.raises(error, match=match):
        jaxrg.laplacian_spectrum(GOOD, mask)


@pytest.mark.parametrize(
    ("taus", "match"),
    [
        (0.0, "> 0"),
        (-1.0, "> 0"),
        (jnp.nan, "finite"),
        (jnp.inf, "finite"),
        (jnp.array([1.0, -2.0]), "> 0"),
    ],
)
def test_bad_taus(taus, match):
    ev = jaxrg.laplacian_spectrum(GOOD)
    with pytest.raises(ValueError, match=match):
        jaxrg.spectral_entropy(ev, taus)
    with pytest.raises(ValueError, match=match):
        jaxrg.heat_kernel(jaxrg.laplacian(GOOD), taus)


@pytest.mark.parametrize(
    ("eigenvalues", "match"),
    [
        (jnp.array([0.0, jnp.nan]), "NaN"),
        (jnp.array([jnp.inf, jnp.inf]), "padding only"),
        (jnp.zeros((2, 2)), "1-D"),
        (jnp.zeros(0), "non-empty"),
    ],
)
def test_bad_eigenvalues(eigenvalues, match):
    with pytest.raises(ValueError, match=match):
        jaxrg.specific_heat(eigenvalues, 1.0)


def test_bad_edge_lists():
    with pytest.raises(ValueError, match=r"\[0, num_nodes=3\)"):
        jaxrg.from_edge_list(jnp.array([0, 5]), jnp.array([1, 2]), num_nodes=3)
    with pytest.raises(ValueError, match="same length"):
        jaxrg.from_edge_list(jnp.array([0, 1]), jnp.array([1]))
    with pytest.raises(TypeError, match="integer node ids"):
        jaxrg.from_edge_list(jnp.array([0.0]), jnp.array([1.0]))
    with pytest.raises(ValueError, match="non-negative"):
        jaxrg.from_edge_list(jnp.array([0]), jnp.array([1]), jnp.array([-1.0]))


@pytest.mark.parametrize(
    ("adjacency", "match"),
    [
        (jnp.array([[0.0, 1.0], [0.5, 0.0]]), "not symmetric"),
        (jnp.array([[0.0, -1.0], [-1.0, 0.0]]), "negative weights"),
        (jnp.array([[0.0, jnp.nan], [jnp.nan, 0.0]]), "NaN or inf"),
    ],
)
def test_checked_catches_bad_values_under_jit(adjacency, match):
    f = jaxrg.checked(jax.jit(jaxrg.laplacian_spectrum))
    with pytest.raises(ValueError, match=match):
        f(adjacency)
    np.testing.assert_allclose(f(GOOD), [0.0, 2.0])


def test_checked_catches_bad_taus_under_jit():
    f = jaxrg.checked(jax.jit(jaxrg.spectral_entropy))
    with pytest.raises(ValueError, match="> 0"):
        f(jnp.array([0.0, 2.0]), jnp.array([1.0, -1.0]))


def test_unchecked_jit_does_not_raise_and_documents_it():
    # Without `checked`, traced values are not inspected (documented in jaxrg._validation).
    out = jax.jit(jaxrg.laplacian_spectrum)(jnp.array([[0.0, 1.0], [0.5, 0.0]]))
    assert out.shape == (2,)


def test_validate_adjacency_returns_float_array_and_names_the_argument():
    out = jaxrg.validate_adjacency(jnp.array([[0, 1], [1, 0]]))
    assert jnp.issubdtype(out.dtype, jnp.floating)
    with pytest.raises(ValueError, match="^graph_b is not symmetric"):
        jaxrg.validate_adjacency(jnp.array([[0.0, 1.0], [0.0, 0.0]]), name="graph_b")


# ---- the checked path: every documented usage, offending values in the messages -------------


def test_checked_runs_the_readme_batch_example_under_vmap():
    """README: ``jax.vmap`` over a padded batch; checkify refuses batched while-loops, so the
    component labelling keeps a scalar loop condition under vmap (custom_vmap)."""
    a = jnp.asarray(nx.to_numpy_array(nx.karate_club_graph()))
    batch = jaxrg.pad_adjacency([a, a[:10, :10]])

    def entropies(adjacency, mask):
        return jaxrg.spectral_entropy(jaxrg.laplacian_spectrum(adjacency, mask), 1.0)

    batched = jax.vmap(entropies)
    expected = [entropies(a, None), entropies(a[:10, :10], None)]
    np.testing.assert_allclose(jaxrg.checked(batched)(*batch), expected, rtol=1e-12)
    np.testing.assert_allclose(jaxrg.checked(jax.jit(batched))(*batch), expected, rtol=1e-12)
    bad = batch.adjacency.at[1, 0, 1].set(-2.0)
    with pytest.raises(ValueError, match=r"^adjacency has negative weights \(min -2\)"):
        jaxrg.checked(jax.jit(batched))(bad, batch.mask)


def test_component_labels_under_nested_vmap_equal_the_unbatched_ones():
    import scipy.sparse.csgraph as csgraph

    rng = np.random.default_rng(0)
    graphs = (rng.random((2, 3, 7, 7)) < 0.25).astype(float)
    graphs = np.maximum(graphs, np.swapaxes(graphs, -1, -2))
    labels = jax.vmap(jax.vmap(lambda g: jaxrg.connected_components(g).labels))(graphs)
    for i in range(2):
        for j in range(3):
            _, ref = csgraph.connected_components(graphs[i, j], directed=False)
            first = {c: int(np.flatnonzero(ref == c)[0]) for c in set(ref.tolist())}
            assert labels[i, j].tolist() == [first[c] for c in ref.tolist()]


@pytest.mark.parametrize(
    ("fn", "args", "match"),
    [
        (jaxrg.laplacian_spectrum, (jnp.array([[0.0, 1.0], [2.0, 0.0]]),),
         r"max \|A - A\^T\| = 1\)"),
        (jaxrg.spectral_entropy, (jnp.array([0.0, 1.0]), jnp.array([1.0, -3.5])),
         r"got min -3\.5\."),
        (jaxrg.laplacian_spectrum, (jnp.array([[0.0, -0.25], [-0.25, 0.0]]),),
         r"min -0\.25\)"),
    ],
)
def test_checked_messages_show_the_offending_value_not_a_placeholder(fn, args, match):
    with pytest.raises(ValueError, match=match) as err:
        jaxrg.checked(jax.jit(fn))(*args)
    assert "<traced>" not in str(err.value)


def test_checked_refuses_a_non_callable_with_the_fix():
    with pytest.raises(TypeError, match="needs a callable"):
        jaxrg.checked(3)


# the diffusion-time argument is `taus` everywhere; `tau=` stays one release as an alias
RENAMED_TAU = [
    (jaxrg.heat_kernel, jaxrg.laplacian),
    (jaxrg.density_matrix, jaxrg.laplacian),
    (jaxrg.lrg.meta_graph, jnp.asarray),
    (jaxrg.lrg.coarse_grain, jnp.asarray),
    (jaxrg.lrg.rewire, jnp.asarray),
]
RENAMED_IDS = [fn.__name__ for fn, _ in RENAMED_TAU]


@pytest.mark.parametrize(("fn", "graph"), RENAMED_TAU, ids=RENAMED_IDS)
def test_deprecated_tau_alias_warns_naming_taus_and_gives_bitwise_the_same_result(fn, graph):
    path = graph(nx.to_numpy_array(nx.path_graph(6)))
    taus = jnp.array([0.3, 2.0, 40.0])
    with pytest.warns(DeprecationWarning, match=r"pass taus="):
        old = fn(path, tau=taus)
    for new in (fn(path, taus), fn(path, taus=taus)):
        for x, y in zip(jax.tree.leaves(old), jax.tree.leaves(new), strict=True):
            assert x.dtype == y.dtype and np.asarray(x).tobytes() == np.asarray(y).tobytes()


@pytest.mark.parametrize(("fn", "graph"), RENAMED_TAU, ids=RENAMED_IDS)
def test_tau_alias_together_with_taus_or_no_times_at_all_is_a_type_error(fn, graph):
    path = graph(nx.to_numpy_array(nx.path_graph(4)))
    with pytest.raises(TypeError, match="both taus and tau"):
        fn(path, 1.0, tau=1.0)
    with pytest.raises(TypeError, match="missing required argument 'taus'"):
        fn(path)



def test_host_graphs_are_validated_once_and_built_without_small_programs(monkeypatch):
    # one contract layer (#22 move 3): laplacian_spectrum checked the adjacency twice (once in
    # as_adjacency, again in laplacian), each check a wait for the device on concrete input
    from jax._src import dispatch, monitoring

    from jaxrg import _checks

    seen = []
    original = _checks.value_check

    def counting(ok, message, **values):
        seen.append(message)
        return original(ok, message, **values)

    monkeypatch.setattr(_checks, "value_check", counting)
    adjacency = nx.to_numpy_array(nx.karate_club_graph())
    jaxrg.laplacian_spectrum(adjacency)
    assert seen and len(seen) == len(set(seen)), [m for m in seen if seen.count(m) > 1]
    # an edge list on the host is built in NumPy and moved once: no program per graph size
    # (jaxrg demo compiled 14 small scatter/convert programs here before)
    compiles = []

    def listener(event, duration, **kwargs):
        if event == dispatch.BACKEND_COMPILE_EVENT:
            compiles.append(event)

    rng = np.random.default_rng(2)
    graphs = [nx.gnp_random_graph(n, 0.3, seed=n) for n in range(131, 136)]  # unseen sizes
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        built = [
            jaxrg.from_edge_list(*map(np.asarray, zip(*g.edges, strict=True)), num_nodes=len(g),
                                 weights=rng.uniform(0.5, 2, g.number_of_edges()))
            for g in graphs
        ]
    finally:
        monitoring.unregister_event_duration_listener(listener)
    assert compiles == []
    for g, a in zip(graphs, built, strict=True):
        np.testing.assert_array_equal(np.asarray(a) > 0, nx.to_numpy_array(g) > 0)


# ---- validate_adjacency takes every form as_adjacency takes (edge lists are not matrices) ---


def _weighted_with_a_self_loop():
    g = nx.Graph()
    g.add_weighted_edges_from([(0, 1, 2.0), (1, 2, 0.5), (2, 0, 1.0), (2, 3, 3.0), (3, 3, 4.0)])
    return g


@pytest.mark.parametrize("graph", [nx.path_graph(3), _weighted_with_a_self_loop()],
                         ids=["3-node path", "weighted with a self-loop"])
def test_validate_adjacency_gives_the_same_matrix_for_every_input_form(graph):
    want = nx.to_numpy_array(graph)  # self-loops kept, as validate_adjacency keeps them
    forms = input_forms(want, graph=graph)
    for name, form in forms.items():
        np.testing.assert_array_equal(jaxrg.validate_adjacency(form), want, err_msg=name)


def test_validate_adjacency_of_a_traced_edge_list_asks_for_the_matrix():
    with pytest.raises(ValueError, match=r"adjacency is an edge list of traced.*from_edge_list"):
        jax.jit(lambda s, r: jaxrg.validate_adjacency((s, r)))(jnp.array([0, 1]),
                                                               jnp.array([1, 2]))
