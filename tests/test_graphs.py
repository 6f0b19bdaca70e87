"""Graph inputs, padding and connected components against networkx/scipy."""

import jax
import jax.numpy as jnp
import jraph
import networkx as nx
import numpy as np
import pytest
import scipy.sparse
from graphs_zoo import input_forms, path, random_graph

import jaxrg
import jaxrg.sparse


def weighted_triangle_plus_tail():
    g = nx.Graph()
    g.add_weighted_edges_from([(0, 1, 2.0), (1, 2, 0.5), (2, 0, 1.0), (2, 3, 3.0)])
    return g


def test_every_input_form_gives_the_same_adjacency():
    g = weighted_triangle_plus_tail()
    dense = nx.to_numpy_array(g)
    forms = input_forms(dense, graph=g) | {
        "scipy csr matrix": scipy.sparse.csr_matrix(dense),
        "scipy coo array": scipy.sparse.coo_array(dense),
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


# ---- directed graphs: the random-walk circulation (Chung's directed Laplacian) ------------


def _directed(seed, n=15, p=0.25):
    """A strongly connected weighted digraph (resampled until it is) as a dense array."""
    rng = np.random.default_rng(seed)
    while True:
        a = (rng.random((n, n)) < p) * rng.uniform(0.2, 3.0, (n, n))
        np.fill_diagonal(a, 0)
        if nx.is_strongly_connected(nx.from_numpy_array(a, create_using=nx.DiGraph)):
            return a


def _stationary(walk):
    """Left Perron vector of a row-stochastic matrix by scipy's eig (independent of the solve)."""
    import scipy.linalg

    values, vectors = scipy.linalg.eig(walk.T)
    pi = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    return pi / pi.sum()


@pytest.mark.parametrize("teleport", [0.0, 0.15])
def test_circulation_laplacian_is_n_times_chungs_directed_laplacian(teleport):
    a = _directed(0)
    n = a.shape[0]
    walk = (1 - teleport) * a / a.sum(1, keepdims=True) + teleport / n
    pi = _stationary(walk)
    chung = np.diag(pi) - (np.diag(pi) @ walk + walk.T @ np.diag(pi)) / 2
    w = np.asarray(jaxrg.circulation(a, teleport=teleport))
    np.testing.assert_allclose(w, w.T, rtol=0, atol=0)
    assert np.all(w >= 0) and np.all(np.diag(w) == 0)
    laplacian = np.diag(w.sum(1)) - w
    np.testing.assert_allclose(laplacian, n * chung, rtol=1e-10, atol=1e-13)
    # and the package's own spectrum of W is that of N * Chung's Laplacian
    np.testing.assert_allclose(
        jaxrg.laplacian_spectrum(w), np.linalg.eigvalsh(n * chung).clip(0), rtol=1e-9, atol=1e-12
    )


def test_circulation_of_closed_forms_cycle_and_undirected_graph():
    cycle = np.roll(np.eye(6), 1, axis=1)  # 0 -> 1 -> ... -> 5 -> 0: pi uniform
    undirected_ring = (cycle + cycle.T) / 2
    np.testing.assert_allclose(jaxrg.circulation(cycle), undirected_ring, rtol=1e-12)
    # an undirected graph: pi = degree / vol, so W = N A / vol(A)
    a = random_graph(np.random.default_rng(3), 12, p=0.4, weighted=True)
    assert nx.is_connected(nx.from_numpy_array(a))
    np.testing.assert_allclose(jaxrg.circulation(a), 12 * a / a.sum(), rtol=1e-10, atol=1e-14)
    # networkx DiGraph in the order of G.nodes is the same graph
    g = nx.from_numpy_array(_directed(1), create_using=nx.DiGraph)
    np.testing.assert_allclose(
        jaxrg.circulation(g), jaxrg.circulation(nx.to_numpy_array(g)), rtol=0, atol=0
    )


def test_circulation_feeds_the_lrg_and_its_gradient_matches_finite_differences():
    a = _directed(2)
    w = jaxrg.circulation(a)
    coarse = jaxrg.lrg.coarse_grain(w, 2.0)  # the undirected machinery takes W as it is
    assert 1 <= int(coarse.count) <= a.shape[0]

    def heat(scale):  # one edge weight scaled: C of W at a fixed tau
        b = jnp.asarray(a).at[0, int(np.flatnonzero(a[0])[0])].multiply(scale)
        return jaxrg.specific_heat(jaxrg.laplacian_spectrum(jaxrg.circulation(b)), 1.3)

    h = 1e-5
    fd = (heat(1 + h) - heat(1 - h)) / (2 * h)
    np.testing.assert_allclose(jax.grad(heat)(1.0), fd, rtol=1e-6)


def _weakly_joined(eps: float, seed: int = 4):
    """Two strongly connected digraphs of 6 nodes joined by one edge each way of weight eps."""
    a = np.zeros((12, 12))
    a[:6, :6], a[6:, 6:] = _directed(seed, n=6, p=0.5), _directed(seed + 1, n=6, p=0.5)
    a[5, 6] = eps
    a[7, 2] = eps
    return a


def _mpmath_circulation(a, digits: int):
    """Chung's circulation of ``a`` in ``digits``-digit arithmetic: the stationary equations
    pi^T (I - P + 1 1^T) = 1^T solved by mpmath's LU (the solve float64 could not do)."""
    import mpmath

    with mpmath.workdps(digits):
        n = a.shape[0]
        rows = [[mpmath.mpf(float(v)) for v in row] for row in a]
        walk = [[v / mpmath.fsum(row) for v in row] for row in rows]
        system = mpmath.matrix(n, n)
        for i in range(n):
            for j in range(n):
                system[i, j] = (i == j) - walk[j][i] + 1
        pi = mpmath.lu_solve(system, mpmath.matrix([1] * n))
        w = [[0.0 if i == j else float(n * (pi[i] * walk[i][j] + pi[j] * walk[j][i]) / 2)
              for j in range(n)] for i in range(n)]
    return np.array(w)


@pytest.mark.parametrize("eps", [1e-3, 1e-12, 1e-30, 1e-200])
def test_circulation_is_entrywise_accurate_however_weak_the_link_between_two_parts(eps):
    """Round thirteen: pi by a solve of the stationary equations lost digits as 1/eps.

    Before: float64 relative error 5e-9 at a bridge of 1e-8 and NaN from 1e-30 on; float32 2 %
    at 1e-5 and NaN at 1e-7; a bridge of weight 1e38 in float32 gave W[2, 3] = 0 for 3 (the
    walk's 1e-38 entries flushed to 0). Grassmann–Taksar–Heyman elimination on the weights:
    every entry to a few ulp against 60 + log10(1/eps) digits.
    """
    a = _weakly_joined(eps)
    want = _mpmath_circulation(a, 60 + int(-np.log10(eps)))
    got = np.asarray(jaxrg.circulation(a))
    linked = want > 0
    assert np.all(got[~linked] == 0)
    np.testing.assert_allclose(got[linked], want[linked], rtol=1e-13)
    if eps >= 1e-30:  # the same in float32 (normal numbers), to its precision
        with jax.enable_x64(False):
            got32 = np.asarray(jaxrg.circulation(a))
        normal = want > 1e3 * np.finfo(np.float32).tiny
        np.testing.assert_allclose(got32[normal], want[normal], rtol=2e-6)


def test_circulation_of_weights_spanning_float32s_range_keeps_every_flow():
    """A bridge of 1e38 between two triangles of weight 1 (float32): W = N A / vol(A)."""
    a = np.zeros((6, 6))
    for i, j, w in [(0, 1, 1), (0, 2, 1), (1, 2, 1), (3, 4, 1), (3, 5, 1), (4, 5, 1),
                    (2, 3, 1e38)]:
        a[i, j] = a[j, i] = w
    with jax.enable_x64(False):
        got = np.asarray(jaxrg.circulation(a))
    want = 6 * a / a.sum()
    np.testing.assert_allclose(got[2, 3], want[2, 3], rtol=1e-6)  # was 0
    np.testing.assert_allclose(got[0, 1], 0.0, atol=1e-37)  # was 0.2 (3e-38 in truth)


@pytest.mark.parametrize("teleport", [0.0, 0.15])
@pytest.mark.parametrize("eps", [1.0, 1e-6])
def test_circulation_jacobian_matches_finite_differences(teleport, eps):
    """The implicit derivative of the stationary vector, forward and reverse, against FD.

    (Before the elimination the derivative came from autodiff through the solve; same check.)
    """
    a = _weakly_joined(eps)
    rows, cols = np.nonzero(a)

    def circ(weights):
        return jaxrg.circulation(jnp.zeros_like(jnp.asarray(a)).at[rows, cols].set(weights),
                                 teleport=teleport)

    w0 = jnp.asarray(a[rows, cols])
    forward, reverse = jax.jacfwd(circ)(w0), jax.jacrev(circ)(w0)
    # normwise: the derivative solves a system of condition ~1/eps (W itself is exact
    # entrywise; at eps = 1e-6 its derivative carries 1e-9 of the Jacobian's largest entry)
    scale = float(jnp.max(jnp.abs(forward)))
    np.testing.assert_allclose(forward, reverse, rtol=0, atol=1e-8 * scale)
    h = 1e-6 * np.asarray(w0)
    for k in range(0, rows.size, 5):
        step = jnp.zeros_like(w0).at[k].set(h[k])
        fd = (circ(w0 + step) - circ(w0 - step)) / (2 * h[k])
        np.testing.assert_allclose(forward[..., k], fd, rtol=1e-5, atol=1e-8 * scale)


def test_circulation_refuses_what_has_no_stationary_distribution():
    a = _directed(3)
    a[:, 0] = 0  # nothing enters node 0: not strongly connected
    with pytest.raises(ValueError, match="not strongly connected.*teleport=0.15"):
        jaxrg.circulation(a)
    assert np.all(np.isfinite(jaxrg.circulation(a, teleport=0.15)))  # the documented fix
    assert np.isnan(jax.jit(jaxrg.circulation)(a)).all()  # traced: NaN out, never a number
    with pytest.raises(ValueError, match="teleport must be a number in"):
        jaxrg.circulation(a, teleport=1.0)
    with pytest.raises(ValueError, match="negative weights"):
        jaxrg.circulation(-_directed(3))


# ---- every input form, one answer: connected components and the circulation ----------------


def _undirected_forms(g):
    """Every form of the undirected networkx graph ``g`` (nodes 0..N-1) as_adjacency takes."""
    return input_forms(nx.to_numpy_array(g, nodelist=range(g.number_of_nodes())), graph=g)


def _two_component_weighted_graph():
    g = weighted_triangle_plus_tail()  # nodes 0..3
    g.add_node(4)  # isolated (an id missing from the edge list)
    g.add_edge(5, 6, weight=0.25)
    return g


@pytest.mark.parametrize("graph", [nx.path_graph(3), _two_component_weighted_graph()],
                         ids=["3-node path", "weighted, 3 components"])
def test_connected_components_are_the_same_for_every_input_form_and_match_networkx(graph):
    components = list(nx.connected_components(graph))
    want = np.empty(graph.number_of_nodes(), int)
    for comp in components:
        want[list(comp)] = min(comp)
    for name, form in _undirected_forms(graph).items():
        cc = jaxrg.connected_components(form)
        np.testing.assert_array_equal(cc.labels, want, err_msg=name)
        assert int(cc.count) == len(components), name


def test_an_edge_tuple_or_a_2_by_e_array_is_never_read_as_a_matrix():
    # (senders, receivers) of the path 0-1-2 has two rows of two ids: once it was taken for a
    # 2 x 2 matrix (2 nodes, or a self-loop of weight 2)
    edges = (np.array([0, 1]), np.array([1, 2]))
    cc = jaxrg.connected_components(edges)
    assert cc.labels.tolist() == [0, 0, 0] and int(cc.count) == 1
    np.testing.assert_array_equal(jaxrg.validate_adjacency(edges), nx.to_numpy_array(
        nx.path_graph(3)))
    assert jaxrg.circulation(edges, teleport=0.1).shape == (3, 3)
    assert jaxrg.lrg.rewire_directed(edges, 1.0).shape == (3, 3)
    functions = {
        "connected_components": jaxrg.connected_components,
        "validate_adjacency": jaxrg.validate_adjacency,
        "circulation": jaxrg.circulation,
        "rewire_directed": lambda a: jaxrg.lrg.rewire_directed(a, 1.0),
    }
    for name, fn in functions.items():
        # the same ids as an integer array: ambiguous, refused with the fix (a tuple)
        with pytest.raises(ValueError, match=r"ambiguous.*tuple"):
            fn(np.array([[0, 1], [1, 2]]))
        with pytest.raises(ValueError, match="square"):  # (2, E) with E != 2: not a matrix
            fn(np.array([[0, 1, 2], [1, 2, 3]]))
        with pytest.raises(ValueError, match=r"edge list of 3 edges.*tuple"):  # (E, 2)
            fn(np.array([[0, 1], [1, 2], [2, 3]]))
        assert name


def _chung_circulation(a, teleport):
    """W = N (Pi P + P^T Pi) / 2 without its diagonal, pi by scipy's eig (independent)."""
    n = a.shape[0]
    out = a.sum(1, keepdims=True)
    walk = np.where(out > 0, a / np.where(out > 0, out, 1), 1.0 / n)
    walk = (1 - teleport) * walk + teleport / n
    pi = _stationary(walk)
    w = n * (pi[:, None] * walk + (pi[:, None] * walk).T) / 2
    np.fill_diagonal(w, 0)
    return w


def _directed_forms(a):
    """Every form of the dense digraph ``a`` (A[i, j] on i -> j) circulation takes."""
    return input_forms(a, directed=True)


@pytest.mark.parametrize(("name", "teleport"), [("3-node path", 0.1), ("weighted", 0.0),
                                                ("weighted", 0.15)])
def test_circulation_is_the_same_for_every_input_form_and_matches_chungs_formula(name, teleport):
    if name == "3-node path":
        a = np.zeros((3, 3))
        a[0, 1] = a[1, 2] = 1.0  # 0 -> 1 -> 2: needs teleport
    else:
        a = _directed(4, n=8, p=0.35)
    want = _chung_circulation(a, teleport)
    for form_name, form in _directed_forms(a).items():
        got = jaxrg.circulation(form, teleport=teleport)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13, err_msg=form_name)
    # a directed edge listed twice is refused, not summed or max-ed
    s, r = np.nonzero(a)
    with pytest.raises(ValueError, match=r"listed 2 times"):
        jaxrg.circulation((np.r_[s, s[:1]], np.r_[r, r[:1]]), teleport=teleport)
