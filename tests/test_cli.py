"""The command line: demo, curve, and one-line errors with exit code 2."""

import json

import jax.numpy as jnp
import matplotlib.image
import numpy as np
import pytest
from graphs_zoo import two_cliques

import jaxrg
from jaxrg.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    assert path.read_bytes()[:8] == PNG_MAGIC
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_demo_prints_scales_and_writes_a_png(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "34 nodes, 78 edges, 1 connected component(s)" in text
    assert "tau* =" in text
    assert_png(out)


def test_curve_outputs_agree_with_the_library(tmp_path, capsys):
    a = two_cliques(6)
    src, dst = np.nonzero(np.triu(a))
    graph = tmp_path / "g.edgelist"
    graph.write_text(
        "# two cliques\n" + "".join(f"{u} {v}\n" for u, v in zip(src, dst, strict=True))
    )
    args = [
        "curve",
        str(graph),
        "--json",
        str(tmp_path / "c.json"),
        "--csv",
        str(tmp_path / "c.csv"),
        "--png",
        str(tmp_path / "c.png"),
        "--num-taus",
        "50",
    ]
    assert main(args) == 0
    summary = json.loads((tmp_path / "c.json").read_text())
    ev = jaxrg.laplacian_spectrum(a)
    want = jaxrg.characteristic_scales(ev)
    got = [p["tau"] for p in summary["characteristic_scales"]]
    np.testing.assert_allclose(got, np.asarray(want.taus[want.valid]), rtol=1e-9)
    table = np.loadtxt(tmp_path / "c.csv", delimiter=",", skiprows=1)
    assert table.shape == (50, 5)
    np.testing.assert_allclose(
        table[:, 1], jaxrg.spectral_entropy(ev, jnp.asarray(table[:, 0])), rtol=1e-9
    )
    assert_png(tmp_path / "c.png")


@pytest.mark.parametrize(
    ("content", "suffix", "match"),
    [
        (None, ".edgelist", "graph file not found"),
        ("0 1\n1 x\n", ".edgelist", "line 2: expected 'u v'"),
        ("", ".edgelist", "holds no edges"),
        ("0 1\n", ".weird", "unknown graph file type"),
        ("asym", ".npy", "not symmetric"),
        ("0 1 -2\n", ".txt", "non-negative"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(tmp_path, capsys, content, suffix, match):
    path = tmp_path / f"g{suffix}"
    if content == "asym":
        np.save(path, np.array([[0.0, 1.0], [0.0, 0.0]]))
    elif content is not None:
        path.write_text(content)
    assert main(["curve", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err and "Traceback" not in err


def test_bad_option_values_exit_2(capsys):
    assert main(["curve", "karate", "--tau-range", "5", "1"]) == 2
    assert "--tau-range" in capsys.readouterr().err
