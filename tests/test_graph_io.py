"""Graph files: every supported format reads to the same adjacency."""

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


def test_npz_without_adjacency_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "x.npz", foo=np.zeros(3))
    with pytest.raises(ValueError, match="'adjacency' array"):
        read_graph(tmp_path / "x.npz")
