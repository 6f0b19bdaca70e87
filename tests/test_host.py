"""Host-side conversion, validation and padding (jaxrg._host, used by pad_adjacency).

Oracles: networkx/scipy dense matrices, the JAX validator's verdicts, and a compile counter
(jax.monitoring) for the claim "no compilation per graph size".
"""

import jax
import networkx as nx
import numpy as np
import pytest
import scipy.sparse
from graphs_zoo import input_forms
from jax._src import dispatch, monitoring  # unregister_* is not re-exported by jax.monitoring
from test_graphs import weighted_triangle_plus_tail

import jaxrg
from jaxrg._host import host_adjacency, pad_host


def test_every_host_form_gives_the_networkx_matrix():
    g = weighted_triangle_plus_tail()
    dense = nx.to_numpy_array(g)
    s, r, w = zip(*[(u, v, d["weight"]) for u, v, d in g.edges(data=True)], strict=True)
    forms = input_forms(dense, graph=g) | {
        "edge list both ways": (list(s + r), list(r + s), list(w + w)),
        "scipy csr matrix": scipy.sparse.csr_matrix(dense),
    }
    for name, form in forms.items():
        np.testing.assert_array_equal(host_adjacency(form), dense, err_msg=name)


def test_pad_adjacency_equals_padding_the_jax_route_by_hand():
    rng = np.random.default_rng(0)
    graphs = [nx.gnp_random_graph(int(n), 0.3, seed=i) for i, n in enumerate(rng.integers(2, 9, 6))]
    graphs.append(([0, 0], [1, 0]))  # edge list with a self-loop: kept, as by every route
    batch = jaxrg.pad_adjacency(graphs, num_nodes=10)
    for b, g in enumerate(graphs):
        ref = np.asarray(jaxrg.as_adjacency(g, remove_self_loops=False))
        n = ref.shape[0]
        np.testing.assert_array_equal(batch.adjacency[b, :n, :n], ref)
        assert not np.any(batch.adjacency[b, n:]) and not np.any(batch.adjacency[b, :, n:])
        np.testing.assert_array_equal(batch.mask[b], np.arange(10) < n)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.array([[0.0, np.nan], [np.nan, 0.0]]), r"graph 1 of graphs has NaN or inf"),
        (np.array([[0.0, -1.0], [-1.0, 0.0]]), r"graph 1 of graphs has negative weights"),
        (np.array([[0.0, 1.0], [0.5, 0.0]]), r"graph 1 of graphs is not symmetric"),
    ],
)
def test_bad_values_are_refused_with_the_position_of_the_graph(bad, message):
    with pytest.raises(ValueError, match=message):
        jaxrg.pad_adjacency([np.zeros((3, 3)), bad])
    with pytest.raises(ValueError):  # the JAX validator agrees
        jaxrg.validate_adjacency(bad)


def test_symmetry_tolerance_is_the_jax_validators():
    eps = np.finfo(np.float64).eps
    for delta, accepted in ((50 * eps * 4.0, True), (200 * eps * 4.0, False)):
        a = np.array([[0.0, 4.0], [4.0 + delta, 0.0]])
        try:
            jaxrg.validate_adjacency(a)
            jax_ok = True
        except ValueError:
            jax_ok = False
        try:
            pad_host([a], num_nodes=2)
            host_ok = True
        except ValueError:
            host_ok = False
        assert jax_ok == host_ok == accepted


def test_shape_and_type_errors_name_the_argument():
    with pytest.raises(ValueError, match="ragged"):
        host_adjacency([[0.0, 1.0], [1.0]])
    with pytest.raises(TypeError, match="must be real"):
        host_adjacency(np.zeros((2, 2), complex))
    with pytest.raises(ValueError, match="square"):
        host_adjacency(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="directed"):
        host_adjacency(nx.DiGraph([(0, 1)]))
    with pytest.raises(ValueError, match="node ids must lie"):
        host_adjacency(([0, 5], [1, 2]), num_nodes=3)
    with pytest.raises(ValueError, match="weights must be finite and non-negative"):
        host_adjacency(([0], [1], [-1.0]))


def test_padding_graphs_of_many_sizes_compiles_nothing():
    compiles = []

    def listener(event, duration, **kwargs):
        if event == dispatch.BACKEND_COMPILE_EVENT:
            compiles.append(event)

    rng = np.random.default_rng(1)
    graphs = []
    for n in range(101, 131):  # 30 sizes never seen by the suite
        upper = np.triu(rng.random((n, n)) < 0.1, 1)
        graphs.append((upper | upper.T).astype(float))
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        batch = jaxrg.pad_adjacency(graphs)
    finally:
        monitoring.unregister_event_duration_listener(listener)
    assert batch.adjacency.shape == (30, 130, 130)
    assert compiles == []


def test_the_batch_path_applies_the_same_container_rules_as_as_adjacency():
    import scipy.sparse as sp

    import jaxrg

    repeated = sp.coo_matrix((np.ones(4), ([0, 0, 1, 1], [1, 1, 0, 0])), shape=(2, 2))
    for call in (jaxrg.as_adjacency, lambda g: jaxrg.pad_adjacency([g])):
        with pytest.raises(ValueError, match="listed|repeat"):
            call(repeated)
