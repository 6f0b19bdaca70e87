"""Test graphs with known spectra (docs/design.md §2), built with numpy only.

Each builder returns ``(adjacency, eigenvalues)`` where the eigenvalues come from the closed form,
never from the code under test (:func:`joined_communities` returns the adjacency alone).
:func:`input_forms` gives one graph in every input form the package takes (the every-input-form
tests of several modules).
"""

import numpy as np


def input_forms(dense, *, directed: bool = False, graph=None) -> dict:
    """One graph, given as its dense float64 matrix, in every input form jaxrg takes.

    ``numpy``, ``jax``, ``list`` (nested), ``edge tuple`` ``(s, r, w)`` (undirected: each edge
    once, from the upper triangle with the diagonal; directed: every non-zero ``A[s, r]`` on
    ``s -> r``), ``graphs tuple`` (a single-graph ``jraph.GraphsTuple``; undirected: both
    directions, loops once), ``networkx`` (``graph`` when given, else built from ``dense``:
    a ``Graph``, or a ``DiGraph`` when ``directed``), ``scipy csr`` and ``jax bcoo``.
    """
    import jax.experimental.sparse as jsparse
    import jax.numpy as jnp
    import jraph
    import networkx as nx
    import scipy.sparse

    dense = np.asarray(dense, dtype=np.float64)
    s, r = np.nonzero(dense if directed else np.triu(dense))
    w = dense[s, r]
    if directed:
        gs, gr, gw = s, r, w
    else:
        loops = s == r
        gs, gr = np.r_[s, r[~loops]], np.r_[r, s[~loops]]
        gw = np.r_[w, w[~loops]]
    if graph is None:
        graph = nx.from_numpy_array(dense, create_using=nx.DiGraph if directed else nx.Graph)
    return {
        "numpy": dense,
        "jax": jnp.asarray(dense),
        "list": dense.tolist(),
        "edge tuple": (s, r, w),
        "graphs tuple": jraph.GraphsTuple(
            nodes=None, edges=jnp.asarray(gw), senders=jnp.asarray(gs),
            receivers=jnp.asarray(gr), n_node=jnp.asarray([len(dense)]),
            n_edge=jnp.asarray([len(gs)]), globals=None),
        "networkx": graph,
        "scipy csr": scipy.sparse.csr_array(dense),
        "jax bcoo": jsparse.BCOO.fromdense(jnp.asarray(dense)),
    }


def complete(n):
    a = np.ones((n, n)) - np.eye(n)
    return a, np.array([0.0] + [float(n)] * (n - 1))


def ring(n):
    a = np.zeros((n, n))
    for i in range(n):
        a[i, (i + 1) % n] = a[(i + 1) % n, i] = 1
    k = np.arange(n)
    return a, np.sort(2 - 2 * np.cos(2 * np.pi * k / n))


def path(n):
    a = np.zeros((n, n))
    for i in range(n - 1):
        a[i, i + 1] = a[i + 1, i] = 1
    k = np.arange(n)
    return a, np.sort(2 - 2 * np.cos(np.pi * k / n))


def star(n):
    a = np.zeros((n, n))
    a[0, 1:] = a[1:, 0] = 1
    return a, np.array([0.0] + [1.0] * (n - 2) + [float(n)])


def hypercube(d):
    n = 2**d
    a = np.zeros((n, n))
    for i in range(n):
        for b in range(d):
            a[i, i ^ (1 << b)] = 1
    from math import comb

    eig = np.concatenate([[2.0 * k] * comb(d, k) for k in range(d + 1)])
    return a, eig


def cartesian_product(a1, a2):
    """Adjacency of the Cartesian product G1 □ G2 (eigenvalues add)."""
    n1, n2 = a1.shape[0], a2.shape[0]
    return np.kron(a1, np.eye(n2)) + np.kron(np.eye(n1), a2)


def two_cliques(k):
    """Two K_k joined by one edge (two structural scales)."""
    a = np.zeros((2 * k, 2 * k))
    a[:k, :k] = 1 - np.eye(k)
    a[k:, k:] = 1 - np.eye(k)
    a[k - 1, k] = a[k, k - 1] = 1
    return a


def random_graph(rng, n, p=0.3, weighted=False):
    upper = np.triu(rng.random((n, n)) < p, 1).astype(float)
    if weighted:
        upper *= rng.uniform(0.1, 3.0, (n, n))
    return upper + upper.T


def sbm(rng, sizes, p_in, p_out):
    labels = np.repeat(np.arange(len(sizes)), sizes)
    prob = np.where(labels[:, None] == labels[None, :], p_in, p_out)
    upper = np.triu(rng.random(prob.shape) < prob, 1).astype(float)
    return upper + upper.T, labels


ALL_CLOSED_FORMS = {
    "complete7": complete(7),
    "ring9": ring(9),
    "path8": path(8),
    "star6": star(6),
    "hypercube4": hypercube(4),
}

__all__ = [
    "ALL_CLOSED_FORMS",
    "cartesian_product",
    "complete",
    "hypercube",
    "path",
    "random_graph",
    "ring",
    "sbm",
    "star",
    "two_cliques",
]


def joined_communities(bridge: float, isolated: int = 0) -> np.ndarray:
    """Two copies of a 30-node G(30, 0.3) joined by one edge of weight ``bridge`` (float32),
    and ``isolated`` nodes (more zero modes for eigh to mix the small one into). Its λ₂ lies
    below float32 ``eigh``'s resolution (the float32 refinement's tests; networkx's G(n, p))."""
    import networkx as nx

    community = nx.to_numpy_array(nx.erdos_renyi_graph(30, 0.3, seed=2))
    a = np.zeros((60 + isolated, 60 + isolated), np.float32)
    a[:30, :30] = a[30:60, 30:60] = community
    a[0, 30] = a[30, 0] = bridge
    return a
