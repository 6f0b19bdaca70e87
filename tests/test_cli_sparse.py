"""``jaxrg curve-sparse``: reads without a dense matrix, writes curves with errors, clear errors.

Oracle for the numbers: the dense ``jaxrg curve`` route (``jaxrg.entropy_curves``) on the same
graph; SLQ with every mode deflated (``--deflate`` >= N - 1) must match it to round-off.
"""

import argparse
import csv
import json

import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest

import jaxrg
import jaxrg.cli._sparse as cli


def run(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    args = parser.parse_args(["curve-sparse", *argv])
    return args.func(args)


def test_edge_list_file_gives_the_exact_curves_when_every_mode_is_deflated(tmp_path, capsys):
    g = nx.gnp_random_graph(33, 0.2, seed=1)
    edges = tmp_path / "g.edgelist"
    nx.write_edgelist(g, edges, data=False)
    out_csv, out_json = tmp_path / "c.csv", tmp_path / "c.json"
    argv = [str(edges), "--deflate", "32", "--matvecs", "32", "--probes", "2"]
    argv += ["--tau-range", "0.01", "100", "--num-taus", "16"]
    assert run([*argv, "--csv", str(out_csv), "--json", str(out_json)]) == 0
    assert "33 nodes" in capsys.readouterr().out
    with out_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    taus = np.array([float(r["tau"]) for r in rows])
    exact = jaxrg.entropy_curves(jaxrg.laplacian_spectrum(g), jnp.asarray(taus))
    got = np.array([float(r["entropy"]) for r in rows])
    np.testing.assert_allclose(got, exact.entropy, rtol=1e-7, atol=1e-9)
    summary = json.loads(out_json.read_text())
    assert summary["nodes"] == 33 and summary["edges"] == g.number_of_edges()


def test_formula_option_gives_the_dense_heat_trace_curvature_scales(tmp_path, capsys):
    # every mode deflated: the SLQ peaks of tau^2 Z'' are the dense route's to round-off
    g = nx.gnp_random_graph(33, 0.2, seed=1)
    edges = tmp_path / "g.edgelist"
    nx.write_edgelist(g, edges, data=False)
    out_json, out_png = tmp_path / "c.json", tmp_path / "c.png"
    argv = [str(edges), "--deflate", "32", "--matvecs", "32", "--probes", "2", "--no-progress",
            "--tau-range", "0.01", "100", "--num-taus", "64", "--formula", "heat-trace-curvature"]
    assert run([*argv, "--json", str(out_json), "--png", str(out_png)]) == 0
    assert "peaks of the heat-trace curvature" in capsys.readouterr().out
    summary = json.loads(out_json.read_text())
    assert summary["formula"] == "heat-trace-curvature"
    want = jaxrg.characteristic_scales(
        jaxrg.laplacian_spectrum(g), jnp.logspace(-2, 2, 64), formula="heat-trace-curvature"
    )
    got = [p["tau"] for p in summary["characteristic_scales"]]
    np.testing.assert_allclose(got, np.asarray(want.taus)[np.asarray(want.valid)], rtol=1e-7)
    assert out_png.stat().st_size > 0


def test_packaged_graph_loads_as_a_sparse_graph():
    g, _ = cli.load_sparse("karate", argparse.Namespace())
    assert g.num_nodes == 34 and g.senders.shape[0] == 2 * 78


@pytest.mark.parametrize(
    ("argv", "error", "match"),
    [
        (["missing.edgelist"], FileNotFoundError, "not found"),
        (["karate", "--num-taus", "2"], ValueError, "--num-taus"),
        (["karate", "--tau-range", "1", "0.5"], ValueError, "--tau-range"),
    ],
)
def test_user_errors_are_one_line_exceptions(argv, error, match):
    with pytest.raises(error, match=match):
        run(argv)


def test_unknown_suffix_is_rejected(tmp_path):
    path = tmp_path / "g.xyz"
    path.write_text("0 1\n")
    with pytest.raises(ValueError, match="unknown graph file type"):
        run([str(path)])
