"""Graph files: every supported format reads to the same adjacency."""

import pathlib

import networkx as nx
import numpy as np
import pytest
import scipy.sparse

from jaxrg.graph_io import read_graph


@pytest.fixture
def graph():
    g = nx.Graph()
    g.add_weighted_edges_from([(0, 1, 1.0), (1, 2, 2.5), (2, 3, 1.0), (3, 0, 0.5)])
    return g


def test_all_formats_agree(tmp_path, graph):
    dense = nx.to_numpy_array(graph, nodelist=range(4))
    (tmp_path / "g.txt").write_text("0 1\n1 2 2.5\n# comment\n2,3\n3 0 0.5\n")
    np.save(tmp_path / "g.npy", dense)
    np.savez(tmp_path / "dense.npz", adjacency=dense)
    scipy.sparse.save_npz(tmp_path / "sparse.npz", scipy.sparse.csr_matrix(dense))
    nx.write_graphml(graph, tmp_path / "g.graphml")
    nx.write_gml(graph, tmp_path / "g.gml")
    for name in ("g.txt", "g.npy", "dense.npz", "sparse.npz", "g.graphml", "g.gml"):
        np.testing.assert_array_equal(read_graph(tmp_path / name), dense, err_msg=name)


def test_packaged_karate_club_matches_networkx():
    a = np.asarray(read_graph("karate"))
    expected = nx.to_numpy_array(nx.karate_club_graph(), weight=None, nodelist=range(34))
    np.testing.assert_array_equal(a, expected)


@pytest.mark.parametrize("fmt", ["coo", "csr", "csc", "bsr", "dia", "lil", "dok"])
@pytest.mark.parametrize("kind", ["array", "matrix"])
def test_every_save_npz_format_reads_as_the_stored_matrix(fmt, kind, tmp_path):
    build = getattr(scipy.sparse, f"{fmt}_{kind}")
    path = tmp_path / "g.npz"
    matrix = build(TRIANGLE)
    if fmt in ("lil", "dok"):  # save_npz stores these as CSR
        matrix = matrix.tocsr()
    scipy.sparse.save_npz(path, matrix)
    np.testing.assert_array_equal(read_graph(path), TRIANGLE)


@pytest.mark.parametrize("fmt", ["coo", "csr"])
def test_save_npz_with_a_repeated_entry_is_refused_naming_the_file(fmt, tmp_path):
    coo = scipy.sparse.coo_array((np.ones(5), ([0, 0, 1, 1, 2], [1, 1, 0, 2, 1])), shape=(3, 3))
    matrix = coo if fmt == "coo" else scipy.sparse.csr_array(
        (coo.data, coo.col, [0, 2, 4, 5]), shape=(3, 3))  # CSR keeps the repeat as given
    path = tmp_path / "g.npz"
    scipy.sparse.save_npz(path, matrix)
    with pytest.raises(ValueError, match=r"g\.npz: entry \(0, 1\) is stored 2 times"):
        read_graph(path)


def test_npz_without_adjacency_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "x.npz", foo=np.zeros(3))
    with pytest.raises(ValueError, match="'adjacency' array"):
        read_graph(tmp_path / "x.npz")


# --- one reader, one set of rules (issue 17 items 1 and 8, issue 19 items 3 and 5) ---------

import gzip  # noqa: E402
import tempfile  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import jaxrg  # noqa: E402
import jaxrg.sparse as sp  # noqa: E402
from jaxrg.graph_io import read_edge_file  # noqa: E402

TRIANGLE = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], float)


@pytest.mark.parametrize(
    "text",
    [
        "\ufeff0 1\n1 2\n2 0\n",  # UTF-8 byte-order mark
        "% KONECT style\n0 1\n1 2 % trailing\n# hash\n2 0\n",
        "0,1\n1,2\n2,0\n",
        "0\t1\n1\t2\n2\t0\n",
    ],
    ids=["bom", "percent_comments", "commas", "tabs"],
)
def test_edge_list_dialects_read_to_the_same_triangle(tmp_path, text):
    path = tmp_path / "g.txt"
    path.write_text(text, encoding="utf-8")
    np.testing.assert_array_equal(read_graph(path), TRIANGLE)


def test_gzipped_edge_list_reads_like_the_plain_file(tmp_path):
    path = tmp_path / "g.edgelist.gz"
    path.write_bytes(gzip.compress(b"0 1\n1 2\n2 0\n"))
    np.testing.assert_array_equal(read_graph(path), TRIANGLE)
    assert sp.read_edge_list(path).num_nodes == 3


def test_truncated_gzip_is_a_clear_error(tmp_path):
    path = tmp_path / "g.txt.gz"
    path.write_bytes(gzip.compress(b"0 1\n1 2\n2 0\n" * 50)[:25])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_graph(path)


def test_header_line_suggests_a_comment(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("source,target\n0,1\n")
    with pytest.raises(ValueError, match=r"line 1: .* looks like a header; start it with '#'"):
        read_graph(path)


@pytest.mark.parametrize(("line", "match"), [
    ("0.0 1", "is not an integer"),
    ("3e9 1", "is not an integer"),
    ("-1 2", "is negative; node ids are integers >= 0"),
    ("0 1 nan", "not a finite non-negative number"),
    ("0 1 -2", "not a finite non-negative number"),
    ("0 1 2 3", "expected 'u v' or 'u v weight'"),
])
def test_bad_lines_name_the_file_and_line(tmp_path, line, match):
    path = tmp_path / "g.txt"
    path.write_text(f"# ok\n1 2\n{line}\n")
    with pytest.raises(ValueError, match=rf"g.txt, line 3: .*{match}"):
        read_graph(path)


def test_64_bit_ids_stay_distinct_when_renumbered(tmp_path):
    base = 1_500_000_000_000_000_000  # float64 cannot tell base + 1 from base + 2
    path = tmp_path / "snap.txt"
    path.write_text("".join(f"{base + i} {base + i + 1}\n" for i in range(3)))
    edges = read_edge_file(path, relabel=True)
    assert edges.num_nodes == 4
    assert edges.labels.tolist() == [base, base + 1, base + 2, base + 3]
    g = sp.read_edge_list(path, relabel=True)
    assert g.num_nodes == 4 and g.senders.shape[0] == 6  # a path: 3 edges, both directions


def test_string_ids_need_relabel_and_keep_their_names(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("ann,bob\nbob,cy\ncy,ann\n")
    with pytest.raises(ValueError, match="relabel=True"):
        read_graph(path)
    np.testing.assert_array_equal(read_graph(path, relabel=True), TRIANGLE)
    assert read_edge_file(path, relabel=True).labels.tolist() == ["ann", "bob", "cy"]


def test_ids_from_one_are_row_numbers_unless_renumbered(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("1 2\n2 3\n3 1\n")
    assert read_graph(path).shape == (4, 4)  # documented: id 0 is an isolated node
    auto = read_edge_file(path, relabel=None)  # the CLI's default renumbers
    assert auto.num_nodes == 3 and auto.labels.tolist() == [1, 2, 3]
    assert auto.senders.min() == 0
    gap = tmp_path / "gap.txt"
    gap.write_text("0 2\n")  # ids from 0 are row numbers: id 1 is an isolated node
    assert read_edge_file(gap, relabel=None).num_nodes == 3
    assert read_edge_file(gap, relabel=None).labels is None


def test_repeated_edges_are_refused_in_every_form(tmp_path):
    s, r, w = np.array([0, 1, 0]), np.array([1, 2, 1]), np.array([1.0, 1.0, 2.0])
    multi = nx.MultiGraph()
    multi.add_weighted_edges_from(zip(s.tolist(), r.tolist(), w.tolist(), strict=True))
    coo = scipy.sparse.coo_array((np.r_[w, w], (np.r_[s, r], np.r_[r, s])), shape=(3, 3))
    (tmp_path / "g.txt").write_text("0 1 1\n1 2 1\n0 1 2\n")
    gml = tmp_path / "g.gml"
    gml.write_text('graph [\n multigraph 1\n node [ id 0 ]\n node [ id 1 ]\n node [ id 2 ]\n'
                   ' edge [ source 0 target 1 ]\n edge [ source 1 target 2 ]\n'
                   ' edge [ source 0 target 1 ]\n]\n')
    forms = {
        "tuple": lambda: jaxrg.as_adjacency((s, r, w)),
        "sparse_tuple": lambda: sp.as_sparse_graph((s, r, w)),
        "scipy": lambda: jaxrg.as_adjacency(coo),
        "sparse_scipy": lambda: sp.as_sparse_graph(coo),
        "multigraph": lambda: jaxrg.as_adjacency(multi),
        "sparse_multigraph": lambda: sp.as_sparse_graph(multi),
        "file": lambda: read_graph(tmp_path / "g.txt"),
        "sparse_file": lambda: sp.read_edge_list(tmp_path / "g.txt"),
        "gml": lambda: read_graph(gml),
    }
    for name, build in forms.items():
        with pytest.raises(ValueError, match="listed 2 times|stored 2 times|parallel edges"):
            build()
            pytest.fail(name)


def test_both_directions_must_agree(tmp_path):
    with pytest.raises(ValueError, match="one way and 2 the other: that is a directed graph"):
        jaxrg.as_adjacency(([0, 1], [1, 0], [1.0, 2.0]))
    same = jaxrg.as_adjacency(([0, 1], [1, 0], [2.0, 2.0]))  # both directions, one weight
    np.testing.assert_array_equal(same, [[0, 2], [2, 0]])


def test_directed_graph_files_are_refused(tmp_path):
    graph = nx.DiGraph([(0, 1), (1, 2)])
    nx.write_graphml(graph, tmp_path / "d.graphml")
    with pytest.raises(ValueError, match="declares a directed graph"):
        read_graph(tmp_path / "d.graphml")


def test_edge_arrays_are_not_read_as_matrices():
    with pytest.raises(ValueError, match=r"an edge list of 3 edges: .* pass an edge list"):
        jaxrg.as_adjacency(np.array([[0, 1], [1, 2], [2, 0]]))
    with pytest.raises(ValueError, match="ambiguous"):
        jaxrg.as_adjacency([[0, 1], [1, 2]])  # two pairs, or a matrix with a self-loop?
    with pytest.raises(ValueError, match="ambiguous"):
        sp.as_sparse_graph(np.array([[0, 2], [2, 0]]))
    # where both readings are the same graph there is nothing to refuse
    np.testing.assert_array_equal(jaxrg.as_adjacency([[0, 1], [1, 0]]), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(jaxrg.as_adjacency([[0.0, 2.0], [2.0, 0.0]]), [[0, 2], [2, 0]])


def test_float16_npy_is_read_at_full_precision(tmp_path):
    np.save(tmp_path / "h.npy", TRIANGLE.astype(np.float16))
    a = read_graph(tmp_path / "h.npy")
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, TRIANGLE)


def test_dense_reading_estimates_memory_first(tmp_path, monkeypatch):
    path = tmp_path / "far.txt"
    path.write_text("0 1\n1 30000\n")
    with pytest.raises(ValueError, match=r"30001 nodes need ~.* GiB as a dense matrix"):
        read_graph(path)
    monkeypatch.setenv("JAXRG_DENSE_LIMIT_GIB", "1e-9")
    with pytest.raises(ValueError, match="use the sparse route"):
        read_graph("karate")


@st.composite
def small_graphs(draw):
    """A simple weighted graph as (n, senders, receivers, weights), each edge once."""
    n = draw(st.integers(2, 6))
    pairs = [(u, v) for u in range(n) for v in range(u + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=len(pairs), unique=True))
    flips = draw(st.lists(st.booleans(), min_size=len(chosen), max_size=len(chosen)))
    weights = draw(st.lists(st.sampled_from([1.0, 0.5, 2.0, 3.25, 1e-3, 1e3]),
                            min_size=len(chosen), max_size=len(chosen)))
    s = np.array([v if f else u for (u, v), f in zip(chosen, flips, strict=True)])
    r = np.array([u if f else v for (u, v), f in zip(chosen, flips, strict=True)])
    return n, s, r, np.array(weights)


def _forms(n, s, r, w):
    """Every input form of one graph (the last node is touched, so N is implied)."""
    dense = np.zeros((n, n))
    dense[s, r] = dense[r, s] = w
    text = "".join(f"{u} {v} {float(x)!r}\n" for u, v, x in zip(s, r, w, strict=True))
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(zip(s.tolist(), r.tolist(), w.tolist(), strict=True))
    both = (np.r_[s, r], np.r_[r, s], np.r_[w, w])
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "g.txt.gz"
        path.write_bytes(gzip.compress(text.encode()))
        from_file = np.asarray(read_graph(path)) if max(s.max(), r.max()) == n - 1 else None
    forms = {
        "dense": dense,
        "list_of_lists": dense.tolist(),
        "tuple": (s, r, w),
        "tuple_both_directions": both,
        "scipy_coo": scipy.sparse.coo_array((both[2], both[:2]), shape=(n, n)),
        "scipy_csr": scipy.sparse.csr_matrix(dense),
        "networkx": graph,
    }
    adjacencies = {k: np.asarray(jaxrg.as_adjacency(f, num_nodes=n) if isinstance(f, tuple)
                                 else jaxrg.as_adjacency(f)) for k, f in forms.items()}
    if from_file is not None:
        adjacencies["edge_list_file_gz"] = from_file
    sparse = sp.as_sparse_graph((s, r, w), num_nodes=n)
    rebuilt = np.zeros((n, n))
    rebuilt[np.asarray(sparse.senders), np.asarray(sparse.receivers)] = np.asarray(sparse.weights)
    adjacencies["sparse_graph"] = rebuilt
    return adjacencies


@settings(max_examples=20, deadline=None)
@given(small_graphs())
def test_every_input_form_gives_the_same_spectrum(graph):
    n, s, r, w = graph
    adjacencies = _forms(n, s, r, w)
    want = np.linalg.eigvalsh(np.diag(adjacencies["dense"].sum(1)) - adjacencies["dense"])
    for name, a in adjacencies.items():
        np.testing.assert_array_equal(a, adjacencies["dense"], err_msg=name)
        got = np.asarray(jaxrg.laplacian_spectrum(a))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9, err_msg=name)
    edges = np.stack([s, r], axis=1)
    if edges.shape[0] not in (2,):  # (2, 2) integer arrays: see the ambiguity test
        with pytest.raises(ValueError, match="edge list|ambiguous|symmetric"):
            jaxrg.as_adjacency(edges)


@settings(max_examples=15, deadline=None)
@given(small_graphs(), st.integers(0, 100), st.booleans())
def test_every_edge_form_refuses_the_same_repeat(graph, pick, reverse):
    n, s, r, w = graph
    i = pick % s.shape[0]
    # repeat one edge: same direction (a duplicate) or reversed with another weight
    s2 = np.r_[s, r[i] if reverse else s[i]]
    r2 = np.r_[r, s[i] if reverse else r[i]]
    w2 = np.r_[w, w[i] + 1.0]
    text = "".join(f"{u} {v} {float(x)!r}\n" for u, v, x in zip(s2, r2, w2, strict=True))
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "g.txt"
        path.write_text(text)
        builds = {
            "tuple": lambda: jaxrg.as_adjacency((s2, r2, w2), num_nodes=n),
            "sparse": lambda: sp.as_sparse_graph((s2, r2, w2), num_nodes=n),
            "file": lambda: read_graph(path),
            "sparse_file": lambda: sp.read_edge_list(path),
        }
        for name, build in builds.items():
            with pytest.raises(ValueError, match="directed graph" if reverse else "listed 2"):
                build()
                pytest.fail(name)


def test_an_edge_list_of_names_is_renumbered_and_names_mixed_with_ids_are_refused(tmp_path):
    from jaxrg.graph_io import read_edge_file

    names = tmp_path / "names.txt"
    names.write_text("a b\nb c\nc a\n", encoding="utf-8")
    edges = read_edge_file(names, relabel=None)
    assert edges.num_nodes == 3 and sorted(edges.labels.tolist()) == ["a", "b", "c"]
    mixed = tmp_path / "mixed.txt"
    mixed.write_text("0 b\n1 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="mixed with names|not an integer"):
        read_edge_file(mixed, relabel=None)


# --- self-loops: one convention in every input form and route --------------------------------

import json  # noqa: E402

import jax  # noqa: E402
import scipy.special  # noqa: E402

LOOPED_EDGES = [(0, 1, 1.0), (1, 2, 2.0), (2, 0, 0.5), (2, 3, 1.0), (3, 4, 3.0), (4, 5, 1.0),
                (5, 3, 1.0), (2, 2, 5.0)]  # two triangles and a bridge; a loop of weight 5 on 2


def _looped():
    g = nx.Graph()
    g.add_weighted_edges_from(LOOPED_EDGES)
    return g


def _reference_entropy(eigenvalues, taus):
    """S(tau) = (log Z + tau <lambda>) / log N from a numpy spectrum (zero mode clipped)."""
    lam = np.clip(np.sort(eigenvalues), 0, None)
    logits = -np.asarray(taus)[:, None] * lam[None, :]
    log_z = scipy.special.logsumexp(logits, axis=1)
    mu = np.exp(logits - log_z[:, None])
    return (log_z + np.asarray(taus) * (mu @ lam)) / np.log(lam.size)


def test_a_self_loop_counts_in_the_normalised_laplacian_in_every_input_form_and_route(tmp_path):
    """laplacian(normalized=True) documents that a loop counts towards the degree (networkx);
    before, pad_adjacency, to_graphs_tuple, read_graph and `jaxrg curve --normalized` dropped
    the loop first: lambda_2 0.1743 instead of networkx's 0.1466."""
    from jaxrg.cli import main

    g = _looped()
    nodes = range(6)
    dense = nx.to_numpy_array(g, nodelist=nodes)
    assert dense[2, 2] == 5.0
    ref = np.linalg.eigvalsh(nx.normalized_laplacian_matrix(g, nodelist=nodes).toarray())
    s, r, w = (np.array(x) for x in zip(*LOOPED_EDGES, strict=True))
    (tmp_path / "g.txt").write_text("".join(f"{u} {v} {x}\n" for u, v, x in LOOPED_EDGES))
    np.save(tmp_path / "g.npy", dense)
    np.savez(tmp_path / "dense.npz", adjacency=dense)
    scipy.sparse.save_npz(tmp_path / "sparse.npz", scipy.sparse.csr_matrix(dense))
    nx.write_graphml(g, tmp_path / "g.graphml")
    nx.write_gml(g, tmp_path / "g.gml")

    def spectrum(graph):
        return jaxrg.laplacian_spectrum(graph, normalized=True)

    forms = {
        "dense": lambda: spectrum(dense),
        "scipy": lambda: spectrum(scipy.sparse.csr_array(dense)),
        "networkx": lambda: spectrum(g),
        "edge tuple": lambda: spectrum((s.astype(int), r.astype(int), w)),
        "pad_adjacency + vmap": lambda: jax.vmap(
            lambda a, m: jaxrg.laplacian_spectrum(a, m, normalized=True)
        )(*jaxrg.pad_adjacency([dense, np.ones((2, 2)) - np.eye(2)]))[0],
        "padded to 9 + vmap": lambda: jax.vmap(
            lambda a, m: jaxrg.laplacian_spectrum(a, m, normalized=True)
        )(*jaxrg.pad_adjacency([(s.astype(int), r.astype(int), w)], num_nodes=9))[0, :6],
        "to_graphs_tuple": lambda: spectrum(jaxrg.to_graphs_tuple(dense)),
        "to_graphs_tuple, padded": lambda: jax.vmap(
            lambda a, m: jaxrg.laplacian_spectrum(a, m, normalized=True)
        )(*jaxrg.pad_adjacency([jaxrg.to_graphs_tuple(g)]))[0],
        **{
            f"read_graph({name})": (lambda name=name: spectrum(read_graph(tmp_path / name)))
            for name in ("g.txt", "g.npy", "dense.npz", "sparse.npz", "g.graphml", "g.gml")
        },
    }
    for name, form in forms.items():
        np.testing.assert_allclose(np.sort(np.asarray(form())), ref, rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    # the graph itself round-trips with its loop (one entry i -> i in the GraphsTuple)
    graphs_tuple = jaxrg.to_graphs_tuple(dense)
    assert int(np.sum(np.asarray(graphs_tuple.senders) == np.asarray(graphs_tuple.receivers))) == 1
    np.testing.assert_array_equal(jaxrg.as_adjacency(graphs_tuple, remove_self_loops=False), dense)
    np.testing.assert_array_equal(jaxrg.pad_adjacency([dense]).adjacency[0], dense)
    # the CLI on the file: the same curve as the networkx spectrum gives
    for flags, lam in ((["--normalized"], ref),
                       ([], np.linalg.eigvalsh(nx.laplacian_matrix(g, nodelist=nodes).toarray()))):
        out = tmp_path / f"curve{len(flags)}.json"
        assert main(["curve", str(tmp_path / "g.txt"), "--num-taus", "16", "--json", str(out),
                     *flags]) == 0
        curves = json.loads(out.read_text())["curves"]
        taus = np.array(curves["tau"])
        np.testing.assert_allclose(curves["entropy"], _reference_entropy(lam, taus),
                                   rtol=1e-10, atol=1e-12, err_msg=str(flags))


def test_a_self_loop_listed_twice_is_refused_in_a_file_and_in_a_padded_batch(tmp_path):
    """A loop now counts (normalised Laplacian), so a repeat is as ambiguous as any other: the
    file names the line, the padded batch the edge, as as_adjacency does."""
    (tmp_path / "g.txt").write_text("0 1\n1 1 2\n1 2\n1 1 3\n")
    with pytest.raises(ValueError, match=r"g\.txt, line 4: edge \(1, 1\) is listed 2 times"):
        read_graph(tmp_path / "g.txt")
    edges = (np.array([0, 1, 1]), np.array([1, 1, 1]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"edge \(1, 1\) is listed 2 times"):
        jaxrg.as_adjacency(edges, remove_self_loops=False)
    with pytest.raises(ValueError, match=r"edge \(1, 1\) is listed 2 times"):
        jaxrg.pad_adjacency([edges])
    with pytest.raises(ValueError, match=r"edge \(1, 1\) is listed 2 times"):
        jaxrg.laplacian_spectrum(edges, normalized=True)
