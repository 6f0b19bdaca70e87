"""Graph inputs, padding and connected components against networkx/scipy."""

import jax
import jax.numpy as jnp
import jraph
import networkx as nx
import numpy as np
import pytest
import scipy.sparse
from graphs_zoo import path, random_graph
from jax.experimental import sparse as jsparse

import jaxrg
import jaxrg.sparse


def weighted_triangle_plus_tail():
    g = nx.Graph()
    g.add_weighted_edges_from([(0, 1, 2.0), (1, 2, 0.5), (2, 0, 1.0), (2, 3, 3.0)])
    return g


def test_every_input_form_gives_the_same_adjacency():
    g = weighted_triangle_plus_tail()
    dense = nx.to_numpy_array(g)
    s, r, w = zip(*[(u, v, d["weight"]) for u, v, d in g.edges(data=True)], strict=True)
    graphs_tuple = jraph.GraphsTuple(
        nodes=None,
        edges=jnp.asarray(w + w),
        senders=jnp.asarray(s + r),
        receivers=jnp.asarray(r + s),
        n_node=jnp.asarray([4]),
        n_edge=jnp.asarray([8]),
        globals=None,
    )
    forms = {
        "numpy": dense,
        "jax": jnp.asarray(dense),
        "list": dense.tolist(),
        "edge list": (np.array(s), np.array(r), np.array(w)),
        "graphs tuple": graphs_tuple,
        "networkx": g,
        "scipy csr": scipy.sparse.csr_matrix(dense),
        "scipy coo array": scipy.sparse.coo_array(dense),
        "jax bcoo": jsparse.BCOO.fromdense(jnp.asarray(dense)),
    }
    for name, form in forms.items():
        np.testing.assert_array_equal(jaxrg.as_adjacency(form), dense, err_msg=name)


def test_edge_list_listed_once_or_both_ways_is_the_same_graph_and_drops_self_loops():
    once = jaxrg.from_edge_list(jnp.array([0, 1, 2]), jnp.array([1, 2, 2]), num_nodes=4)
    both = jaxrg.from_edge_list(jnp.array([0, 1, 1, 2]), jnp.array([1, 0, 2, 1]), num_nodes=4)
    np.testing.assert_array_equal(once, both)
    assert float(jnp.trace(once)) == 0.0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint32, np.uint64, np.int8, np.int64])
def test_edge_ids_of_every_integer_dtype_give_the_same_graph(dtype):
    # uint64 once wrapped np.max(..., initial=-1) to 2**64 - 1 and failed inside JAX
    senders, receivers = np.array([0, 1], dtype), np.array([1, 2], dtype)
    expected = nx.to_numpy_array(nx.path_graph(3))
    np.testing.assert_array_equal(jaxrg.as_adjacency((senders, receivers)), expected)
    graph = jaxrg.sparse.as_sparse_graph((senders, receivers))
    assert graph.num_nodes == 3 and int(graph.senders.shape[0]) == 4


def test_from_edge_list_is_jittable_with_static_num_nodes():
    f = jax.jit(lambda s, r, w: jaxrg.from_edge_list(s, r, w, num_nodes=5))
    a = f(jnp.array([0, 3]), jnp.array([1, 4]), jnp.array([2.0, 0.5]))
    assert a.shape == (5, 5) and float(a[4, 3]) == 0.5


def test_graphs_tuple_round_trip():
    rng = np.random.default_rng(0)
    a = random_graph(rng, 10, weighted=True)
    graph = jaxrg.to_graphs_tuple(a)
    assert int(graph.n_edge[0]) == int(np.count_nonzero(a))
    np.testing.assert_array_equal(jaxrg.as_adjacency(graph), a)


def test_pad_adjacency_splits_a_batched_graphs_tuple():
    g1, g2 = jaxrg.to_graphs_tuple(path(3)[0]), jaxrg.to_graphs_tuple(path(5)[0])
    batch = jaxrg.pad_adjacency(jraph.batch([g1, g2]))
    assert batch.adjacency.shape == (2, 5, 5)
    np.testing.assert_array_equal(batch.adjacency[0, :3, :3], path(3)[0])
    np.testing.assert_array_equal(batch.mask.sum(1), [3, 5])


def test_connected_components_match_networkx():
    rng = np.random.default_rng(1)
    for seed in range(5):
        a = random_graph(np.random.default_rng(seed), 40, p=0.04)
        cc = jaxrg.connected_components(a)
        comps = list(nx.connected_components(nx.from_numpy_array(a)))
        assert int(cc.count) == len(comps)
        labels = np.asarray(cc.labels)
        for comp in comps:
            assert set(labels[list(comp)]) == {min(comp)}
    del rng


def test_connected_components_of_a_long_path_converge_and_jit():
    a = path(300)[0]
    cc = jax.jit(jaxrg.connected_components)(a)
    assert int(cc.count) == 1 and bool(jnp.all(cc.labels == 0))


def test_connected_components_respect_the_mask():
    a = np.zeros((6, 6))
    a[0, 1] = a[1, 0] = 1.0
    a[4, 5] = a[5, 4] = 1.0  # padded rows may hold garbage: the mask wins
    cc = jaxrg.connected_components(a, jnp.arange(6) < 4)
    assert int(cc.count) == 3
    assert cc.labels.tolist() == [0, 0, 2, 3, -1, -1]


def test_largest_connected_component_matches_networkx():
    a = random_graph(np.random.default_rng(2), 60, p=0.03)
    sub, nodes = jaxrg.largest_connected_component(a)
    biggest = max(nx.connected_components(nx.from_numpy_array(a)), key=len)
    assert sorted(biggest) == nodes.tolist()
    np.testing.assert_array_equal(sub, a[np.ix_(nodes, nodes)])
