"""Dataset loaders against the counts of the data README, tkipf/gcn's assembly and networkx.

Independent oracles: the verified counts printed in ../shared/data/README.md, a literal copy of
``tkipf/gcn`` ``utils.load_data`` (scipy lil + networkx), networkx connected components, and
the edge counts of the largest components published by Caso et al. (2025, supplement Table 3:
Cora 10,138 and Citeseer 7,358 directed edges).
"""

import functools
import http.server
import pickle
import shutil
import threading
import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import jaxrg
import jaxrg.datasets as ds

# name: (nodes, undirected edges, features, classes, components, largest CC, isolated)
README_COUNTS = {
    "cora": (2708, 5278, 1433, 7, 78, 2485, 0),
    "citeseer": (3327, 4552, 3703, 6, 438, 2120, 48),
    "pubmed": (19717, 44324, 500, 3, 1, 19717, 0),
    "europe": (399, 5993, 399, 4, 1, 399, 0),
    "photo": (7650, 119081, 745, 8, 136, 7487, 115),
    "computers": (13752, 245861, 767, 10, 314, 13381, 281),
}
README_CLASS_SIZES = {
    "cora": [351, 217, 418, 818, 426, 298, 180],
    "citeseer": [249, 590, 668, 701, 596, 508],
    "pubmed": [4103, 7739, 7875],
    "europe": [99, 99, 99, 102],
    "photo": [369, 1686, 703, 915, 882, 823, 1941, 331],
    "computers": [436, 2142, 1414, 542, 5158, 308, 487, 818, 2156, 291],
}
PLANETOID_FILES = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")


def _copy_files(data_dir, tmp_path, relpaths):
    for rel in relpaths:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir / rel, tmp_path / rel)
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(README_COUNTS))
def test_counts_match_data_readme(data_dir, name):
    nodes, edges, feats, classes, comps, lcc, isolated = README_COUNTS[name]
    d = ds.load(name, data_dir=data_dir, features=name != "pubmed")
    assert (d.num_nodes, d.num_edges, d.num_classes) == (nodes, edges, classes)
    if name != "pubmed":
        assert d.features.shape == (nodes, feats) and d.features.dtype == np.float32
    graph = nx.from_scipy_sparse_array(d.adjacency)
    assert nx.number_connected_components(graph) == comps
    assert max(len(c) for c in nx.connected_components(graph)) == lcc
    assert sum(1 for _, deg in graph.degree() if deg == 0) == isolated
    assert np.bincount(d.labels[d.labels >= 0]).tolist() == README_CLASS_SIZES[name]
    reduced = ds.load(name, data_dir=data_dir, features=False, largest_component=True)
    assert reduced.num_nodes == lcc


def test_graph_lists_every_edge_in_both_directions_without_self_loops(data_dir):
    d = ds.load("cora", data_dir=data_dir)
    s, r = d.graph.senders, d.graph.receivers
    assert s.dtype == np.int32 and s.shape == (2 * 5278,) and not np.any(s == r)
    pairs = set(zip(s.tolist(), r.tolist(), strict=True))
    assert pairs == {(j, i) for i, j in pairs}
    dense = d.adjacency.toarray()
    assert np.array_equal(dense, dense.T) and set(np.unique(dense)) == {0.0, 1.0}
    assert int(d.graph.n_node[0]) == 2708 and int(d.graph.n_edge[0]) == 2 * 5278
    assert d.graph.nodes is d.features


def _tkipf_load_data(root, name):
    """tkipf/gcn gcn/utils.py::load_data (2020), transcribed with Python-3 pickles."""
    objects = []
    for suffix in ("x", "y", "tx", "ty", "allx", "ally", "graph"):
        with open(root / f"planetoid/ind.{name}.{suffix}", "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            objects.append(pickle.load(f, encoding="latin1"))
    x, y, tx, ty, allx, ally, graph = objects
    with open(root / f"planetoid/ind.{name}.test.index") as f:
        test_idx_reorder = [int(l) for l in f]
    test_idx_range = np.sort(test_idx_reorder)
    if name == "citeseer":
        full = range(min(test_idx_reorder), max(test_idx_reorder) + 1)
        tx_ext = sp.lil_matrix((len(full), x.shape[1]))
        tx_ext[test_idx_range - min(test_idx_range), :] = tx
        tx = tx_ext
        ty_ext = np.zeros((len(full), y.shape[1]))
        ty_ext[test_idx_range - min(test_idx_range), :] = ty
        ty = ty_ext
    features = sp.vstack((allx, tx)).tolil()
    features[test_idx_reorder, :] = features[test_idx_range, :]
    adj = nx.adjacency_matrix(nx.from_dict_of_lists(graph))
    labels = np.vstack((ally, ty))
    labels[test_idx_reorder, :] = labels[test_idx_range, :]
    return features.toarray(), labels, adj, len(y), test_idx_range


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_planetoid_assembly_equals_tkipf_gcn_load_data(data_dir, name):
    features, one_hot, adj, n_train, test_idx = _tkipf_load_data(data_dir, name)
    d = ds.load(name, data_dir=data_dir)
    np.testing.assert_array_equal(d.features, features.astype(np.float32))
    expected = np.where(one_hot.sum(1) > 0, one_hot.argmax(1), -1)
    np.testing.assert_array_equal(d.labels, expected)
    sym = ((adj + adj.T) > 0).astype(np.float32).tolil()
    sym.setdiag(0)
    np.testing.assert_array_equal(d.adjacency.toarray(), sym.toarray())
    assert np.flatnonzero(d.train_mask).tolist() == list(range(n_train))
    assert np.flatnonzero(d.val_mask).tolist() == list(range(n_train, n_train + 500))
    assert np.flatnonzero(d.test_mask).tolist() == test_idx.tolist()


@pytest.mark.parametrize("name", ["cora", "citeseer", "pubmed"])
def test_public_split_is_20_per_class_500_val_1000_test(data_dir, name):
    d = ds.load(name, data_dir=data_dir, features=False)
    assert np.all(np.bincount(d.labels[d.train_mask], minlength=d.num_classes) == 20)
    assert (int(d.val_mask.sum()), int(d.test_mask.sum())) == (500, 1000)
    assert not np.any(d.train_mask & d.val_mask) and not np.any(d.val_mask & d.test_mask)
    assert not np.any(d.train_mask & d.test_mask)
    assert np.all(d.labels[d.train_mask | d.val_mask | d.test_mask] >= 0)


@pytest.mark.parametrize("name,directed_edges", [("cora", 10138), ("citeseer", 7358)])
def test_largest_component_matches_networkx_and_published_edge_count(data_dir, name,
                                                                      directed_edges):
    full = ds.load(name, data_dir=data_dir)
    lcc = ds.load(name, data_dir=data_dir, largest_component=True)
    graph = nx.from_scipy_sparse_array(full.adjacency)
    keep = np.array(sorted(max(nx.connected_components(graph), key=len)))
    np.testing.assert_array_equal(lcc.node_ids, keep)
    assert lcc.adjacency.nnz == directed_edges  # Caso et al. (2025), supplement Table 3
    np.testing.assert_array_equal(lcc.adjacency.toarray(),
                                  full.adjacency.toarray()[np.ix_(keep, keep)])
    np.testing.assert_array_equal(lcc.features, full.features[keep])
    for field in ("labels", "train_mask", "val_mask", "test_mask"):
        np.testing.assert_array_equal(getattr(lcc, field), getattr(full, field)[keep])
    assert lcc.graph.senders.shape == (directed_edges,)


def test_random_split_is_seeded_disjoint_70_15_15_of_labelled_nodes(data_dir):
    a = ds.load("europe", data_dir=data_dir, seed=3)
    b = ds.load("europe", data_dir=data_dir, seed=3)
    c = ds.load("europe", data_dir=data_dir, seed=4)
    assert [int(m.sum()) for m in (a.train_mask, a.val_mask, a.test_mask)] == [279, 59, 61]
    assert np.array_equal(a.train_mask, b.train_mask)
    assert not np.array_equal(a.train_mask, c.train_mask)
    assert not np.any((a.train_mask & a.val_mask) | (a.val_mask & a.test_mask))
    assert np.all(a.train_mask | a.val_mask | a.test_mask)
    labels = np.array([0, -1, 1, 0, 1, -1, 0, 1, 0, 1, 1, 0])
    masks = ds.random_split(labels, seed=0)
    assert not np.any(np.logical_or.reduce(masks)[labels < 0])
    assert sum(int(m.sum()) for m in masks) == 10


def test_ordered_split_takes_node_ids_in_order(data_dir):
    d = ds.load("europe", data_dir=data_dir, split="ordered")
    assert np.flatnonzero(d.train_mask).tolist() == list(range(279))
    assert np.flatnonzero(d.test_mask).tolist() == list(range(279 + 59, 399))


def test_europe_drops_the_two_self_loops_and_uses_identity_features(data_dir):
    raw = np.loadtxt(data_dir / "europe/europe-airports.edgelist", dtype=int)
    assert raw.shape == (5995, 2) and int((raw[:, 0] == raw[:, 1]).sum()) == 2
    d = ds.load("europe", data_dir=data_dir)
    assert d.num_edges == 5993 and d.adjacency.diagonal().sum() == 0
    np.testing.assert_array_equal(d.features, np.eye(399, dtype=np.float32))


def test_amazon_adjacency_is_symmetrised_raw_without_diagonal(data_dir):
    with np.load(data_dir / "amazon/amazon_electronics_photo.npz") as z:
        raw = sp.csr_array((z["adj_data"], z["adj_indices"], z["adj_indptr"]),
                           shape=tuple(z["adj_shape"]))
    expected = ((raw + raw.T) > 0).astype(np.float32).tolil()
    expected.setdiag(0)
    d = ds.load("photo", data_dir=data_dir, features=False)
    assert (d.adjacency != expected.tocsr()).nnz == 0


def test_missing_files_error_lists_every_file_and_where(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        ds.load("cora", data_dir=tmp_path)
    message = str(err.value)
    for suffix in PLANETOID_FILES:
        assert str(tmp_path / f"planetoid/ind.cora.{suffix}") in message
    assert "download=True" in message


def test_pubmed_without_allx_names_the_file_and_blob_id_but_loads_the_graph(data_dir, tmp_path):
    rels = [f"planetoid/ind.pubmed.{s}" for s in PLANETOID_FILES if s != "allx"]
    root = _copy_files(data_dir, tmp_path, rels)
    with pytest.raises(FileNotFoundError) as err:
        ds.load("pubmed", data_dir=root)
    message = str(err.value)
    assert str(root / "planetoid/ind.pubmed.allx") in message
    assert "3b86bccf08111c37c632a9dd8ab63db25ea76361" in message
    for suffix in PLANETOID_FILES:  # only allx is listed
        assert (f"ind.pubmed.{suffix} " in message) == (suffix == "allx")
    d = ds.load("pubmed", data_dir=root, features=False)
    assert d.features is None and (d.num_nodes, d.num_edges) == (19717, 44324)


@pytest.mark.parametrize("verify", [True, False])
def test_truncated_file_gives_an_error_naming_it(data_dir, tmp_path, verify):
    rels = [f"planetoid/ind.cora.{s}" for s in PLANETOID_FILES]
    root = _copy_files(data_dir, tmp_path, rels)
    target = root / "planetoid/ind.cora.allx"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(ValueError, match="ind.cora.allx"):
        ds.load("cora", data_dir=root, verify=verify)


def test_corrupt_npz_gives_an_error_naming_it(data_dir, tmp_path):
    target = tmp_path / "amazon/amazon_electronics_photo.npz"
    target.parent.mkdir()
    target.write_bytes((data_dir / "amazon/amazon_electronics_photo.npz").read_bytes()[:5000])
    for verify in (True, False):
        with pytest.raises(ValueError, match="amazon_electronics_photo.npz"):
            ds.load("photo", data_dir=tmp_path, verify=verify)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def local_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving a scratch folder; yields (folder, base URL)."""
    served = tmp_path / "served"
    served.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_download_from_local_server_fetches_verifies_and_loads(data_dir, tmp_path, local_server):
    served, url = local_server
    _copy_files(data_dir, served, ["europe/europe-airports.edgelist",
                                   "europe/labels-europe-airports.txt"])
    target = tmp_path / "fresh"
    with pytest.raises(FileNotFoundError):
        ds.load("europe", data_dir=target)
    d = ds.load("europe", data_dir=target, download=True, mirror=url, progress=True)
    assert (d.num_nodes, d.num_edges, d.num_classes) == (399, 5993, 4)
    for rel in ("europe/europe-airports.edgelist", "europe/labels-europe-airports.txt"):
        assert (target / rel).read_bytes() == (data_dir / rel).read_bytes()


def test_download_with_wrong_checksum_leaves_nothing_and_names_the_file(data_dir, tmp_path,
                                                                        local_server):
    served, url = local_server
    _copy_files(data_dir, served, ["europe/labels-europe-airports.txt"])
    edges = served / "europe/europe-airports.edgelist"
    edges.write_bytes((data_dir / "europe/europe-airports.edgelist").read_bytes()[:-10])
    target = tmp_path / "fresh"
    with pytest.raises(ValueError, match="europe-airports.edgelist"):
        ds.download("europe", data_dir=target, mirror=url, progress=False)
    assert not (target / "europe/europe-airports.edgelist").exists()
    assert not list((target / "europe").glob("*.part"))


def test_download_of_a_file_the_server_lacks_is_an_oserror(tmp_path, local_server):
    _, url = local_server
    with pytest.raises(OSError, match="ind.cora.x"):
        ds.download("cora", data_dir=tmp_path / "fresh", mirror=url, progress=False)


def test_unknown_names_and_splits_are_rejected_with_the_choices(data_dir):
    with pytest.raises(ValueError, match="cora, citeseer"):
        ds.load("karate", data_dir=data_dir)
    with pytest.raises(ValueError, match="no public split"):
        ds.load("europe", data_dir=data_dir, split="public")
    with pytest.raises(ValueError, match="split must be"):
        ds.load("cora", data_dir=data_dir, split="stratified")
    assert ds.canonical_name("Amazon-Photo") == "photo"


def test_resolve_data_dir_prefers_argument_then_env_then_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("JAXRG_DATA", str(tmp_path / "env"))
    assert ds.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert ds.resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv("JAXRG_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert ds.resolve_data_dir() == tmp_path / "cache" / "jaxrg"


def test_load_refuses_a_seed_that_is_not_an_int_before_reading_files(tmp_path):
    # probe 4: seed=True ran with seed 1; checked before the (missing) files are looked at
    with pytest.raises(TypeError, match="seed must be an int >= 0"):
        ds.load("cora", data_dir=tmp_path, seed=True, split="random")
    with pytest.raises(TypeError, match="seed must be an int"):
        ds.random_split(np.zeros(5, int), seed=1.5)


def test_random_split_names_labels_that_are_not_1d():
    with pytest.raises(ValueError, match=r"labels must be 1-D.*\(5, 2\)"):
        ds.random_split(np.zeros((5, 2), int))  # was an IndexError
    with pytest.raises(ValueError, match="labels must be 1-D"):
        ds.ordered_split(np.zeros((5, 2), int))
    train, val, test = ds.random_split(np.array([0, -1, 1, 0, 1, 1, 0, 0, 1, 0, 1]),
                                       seed=np.int64(3))
    # 10 labelled nodes: floor(7), floor(1.5) and the rest; the unlabelled node 1 in none
    assert (train.sum(), val.sum(), test.sum()) == (7, 1, 2)
    assert not (train[1] or val[1] or test[1])


def test_symmetric_adjacency_names_ids_outside_num_nodes():
    with pytest.raises(ValueError, match=r"rows holds node ids in \[0, 5\] but num_nodes=3"):
        ds.symmetric_adjacency([0, 5], [1, 2], 3)
    with pytest.raises(ValueError, match="cols holds node ids in \\[-1, 2\\]"):
        ds.symmetric_adjacency([0, 1], [-1, 2], 3)
    with pytest.raises(ValueError, match="rows and cols must be 1-D of one length"):
        ds.symmetric_adjacency([0, 1], [1], 3)
    with pytest.raises(TypeError, match="num_nodes must be an int"):
        ds.symmetric_adjacency([0], [1], 3.0)
    # networkx reference: a path 0-1-2 with a self-loop and a duplicate edge dropped
    a = ds.symmetric_adjacency([0, 1, 2, 1], [1, 2, 2, 0], 4)
    g = nx.Graph([(0, 1), (1, 2)])
    g.add_node(3)
    np.testing.assert_array_equal(a.toarray(), nx.to_numpy_array(g, nodelist=range(4)))


def test_graphs_tuple_refuses_features_with_another_row_count():
    adjacency = sp.csr_array(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"features must have one row per node, shape \(3, F\); "
                                         r"got shape \(5, 2\)"):
        ds.graphs_tuple(adjacency, np.zeros((5, 2)))
    g = ds.graphs_tuple(adjacency, np.arange(6.0).reshape(3, 2))
    assert g.nodes.shape == (3, 2) and g.n_node.tolist() == [3]
    edges = sorted(zip(g.senders.tolist(), g.receivers.tolist(), strict=True))
    assert edges == [(0, 1), (1, 0), (1, 2), (2, 1)]


def test_graphs_tuple_of_a_weighted_matrix_keeps_its_weights():
    # probe 5: the weights 2.0 and 0.5 were dropped (edges=None), so as_adjacency read 0/1
    weighted = sp.csr_array(np.array([[0.0, 2.0, 0.5], [2.0, 0.0, 0.0], [0.5, 0.0, 0.0]]))
    g = ds.graphs_tuple(weighted)
    np.testing.assert_array_equal(jaxrg.as_adjacency(g), weighted.toarray())
    binary = sp.csr_array((weighted.toarray() > 0).astype(float))
    assert ds.graphs_tuple(binary).edges is None  # the packaged datasets' graphs are unchanged
    np.testing.assert_array_equal(jaxrg.as_adjacency(ds.graphs_tuple(binary)), binary.toarray())
