"""The command line: demo, curve, and one-line errors with exit code 2."""

import json
import subprocess
import sys

import jax.numpy as jnp
import matplotlib.image
import numpy as np
import pytest
from graphs_zoo import two_cliques

import jaxrg
from jaxrg.cli import build_parser, main

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


def test_help_lists_every_command(capsys):
    from jaxrg.cli import _COMMANDS, build_parser

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    parser = build_parser()
    names = parser._subparsers._group_actions[0].choices  # every registered sub-command
    assert len(_COMMANDS) >= 8 and len(names) >= len(_COMMANDS)
    for name in names:
        assert name in text
    for name in ("demo", "curve", "curve-sparse", "coarse-grain", "rewire", "study", "experiment",
                 "report", "maxent", "clt-rg", "entropy", "entropy-lens", "bench"):
        assert name in names


def test_bench_checks_against_numpy_and_writes_records(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--sizes", "12", "20", "--repeats", "1", "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    assert [r["n"] for r in records] == [12, 20]
    for r in records:
        assert r["max_abs_difference"] < 1e-8 and r["jaxrg_s"] > 0 and r["numpy_s"] > 0
        assert r["ratio_jaxrg_over_numpy"] == pytest.approx(r["jaxrg_s"] / r["numpy_s"])
    assert "jaxrg/numpy" in capsys.readouterr().out


def test_bench_numpy_reference_matches_the_library_on_a_path():
    from jaxrg.cli._bench import numpy_curves

    a = np.diag(np.ones(7), 1)
    a = a + a.T
    taus = np.logspace(-2, 2, 9)
    s, c = numpy_curves(np.diag(a.sum(1)) - a, taus)
    curves = jaxrg.entropy_curves(jaxrg.laplacian_spectrum(jnp.asarray(a)), jnp.asarray(taus))
    np.testing.assert_allclose(s, curves.entropy, atol=1e-12)
    np.testing.assert_allclose(c, curves.specific_heat, atol=1e-12)


def test_bench_rejects_tiny_sizes(capsys):
    assert main(["bench", "--sizes", "2"]) == 2
    assert "--sizes must be at least 3" in capsys.readouterr().err


def test_experiment_kipf_gcn_writes_a_record_per_seed(data_dir, tmp_path, capsys):
    out = tmp_path / "nc"
    argv = ["experiment", "kipf-gcn", "--dataset", "cora", "--seeds", "2", "--epochs", "3",
            "--out", str(out), "--data-dir", str(data_dir), "--no-progress"]
    assert main(argv) == 0
    records = [json.loads(line) for line in (out / "kipf_gcn.jsonl").read_text().splitlines()]
    assert sorted(r["seed"] for r in records) == [0, 1]
    assert all(r["dataset"] == "cora" and 0.0 <= r["test_acc"] <= 1.0 for r in records)
    assert "Kipf" in capsys.readouterr().out
    assert main(argv) == 0  # resumes: nothing new
    assert len((out / "kipf_gcn.jsonl").read_text().splitlines()) == 2


def test_entropy_lens_rejects_a_bad_step_count(tmp_path, capsys):
    assert main(["entropy-lens", "--out", str(tmp_path), "--steps", "0"]) == 2
    assert "--steps must be >= 1" in capsys.readouterr().err


def test_entropy_lens_profile_then_analyse_a_users_logits(tmp_path, capsys):
    import scipy.special
    import scipy.stats

    rng = np.random.default_rng(0)
    # (models, prompts, layers, tokens, vocab): model 0 sharp at every layer, model 1 sharpening
    logits = rng.normal(size=(2, 30, 3, 4, 12))
    logits[0] *= 6.0
    logits[1] *= np.array([0.2, 1.0, 6.0])[:, None, None]
    np.save(tmp_path / "logits.npy", logits)
    out = tmp_path / "profiles.npz"
    argv = ["entropy-lens", "profile", str(tmp_path / "logits.npy"), "--alpha", "1", "2",
            "--out", str(out)]
    assert main(argv) == 0
    with np.load(out) as f:
        prof, alpha = f["profiles"], f["alpha"]
    assert prof.shape == (2, 2, 30, 3, 4) and alpha.tolist() == [1.0, 2.0]
    want = scipy.stats.entropy(scipy.special.softmax(logits, axis=-1), axis=-1)
    np.testing.assert_allclose(prof[0], want, rtol=1e-10)
    report = tmp_path / "knn.json"
    argv = ["entropy-lens", "analyse", str(out), "--labels", "sharp", "sharpening",
            "--out", str(report)]
    assert main(argv) == 0  # one label per entry of the first (model) axis
    scores = json.loads(report.read_text())
    assert scores["f1"] == 1.0 and scores["k"] == 29 and scores["folds"] == 10
    assert "macro-F1 1.0000" in capsys.readouterr().out
    assert main(["entropy-lens", "analyse", str(out), "--labels", "a", "b", "c"]) == 2
    assert "one label per" in capsys.readouterr().err
    assert main(["entropy-lens", "profile", str(tmp_path / "nope.npy"), "--out",
                 str(out)]) == 2


def test_a_missing_optional_package_is_one_line_naming_the_extra(tmp_path, capsys, monkeypatch):
    import sys

    import networkx as nx

    path = tmp_path / "g.graphml"
    nx.write_graphml(nx.path_graph(4), path)
    assert main(["curve", str(path)]) == 0  # with networkx installed it reads the file
    capsys.readouterr()
    monkeypatch.setitem(sys.modules, "networkx", None)  # now `import networkx` fails
    assert main(["curve", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "reading .graphml files needs networkx" in err and "jaxrg[graphs]" in err


def test_the_help_examples_parse():
    import shlex

    from jaxrg.cli import EXAMPLES, build_parser

    lines = [line.split("   ")[0].strip() for line in EXAMPLES.splitlines()
             if line.strip().startswith("jaxrg ") and "COMMAND" not in line]
    assert len(lines) == 6
    for line in lines:
        args = build_parser().parse_args(shlex.split(line)[1:])
        assert callable(args.func), line


def test_version_is_single_sourced(capsys):
    import importlib.metadata

    assert importlib.metadata.version("jaxrg") == jaxrg.__version__
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"jaxrg {jaxrg.__version__}"


def test_curve_commands_take_a_dataset_name(data_dir, tmp_path, capsys, monkeypatch):
    """`jaxrg curve europe` = the curves of the dataset's adjacency (checked against numpy)."""
    import scipy.sparse

    import jaxrg.datasets

    out = tmp_path / "europe.json"
    assert main(["curve", "europe", "--data-dir", str(data_dir), "--json", str(out)]) == 0
    assert capsys.readouterr().out.startswith("europe: 399 nodes")
    summary = json.loads(out.read_text())
    adjacency = jaxrg.datasets.load("europe", data_dir=data_dir, features=False).adjacency
    dense = scipy.sparse.csr_matrix(adjacency, dtype=float).toarray()
    ev = np.clip(np.linalg.eigvalsh(np.diag(dense.sum(1)) - dense), 0, None)
    taus = np.asarray(summary["curves"]["tau"])
    weights = np.exp(-np.outer(taus, ev - ev.min()))
    mu = weights / weights.sum(1, keepdims=True)
    entropy = -np.sum(mu * np.log(np.where(mu > 0, mu, 1)), axis=1) / np.log(len(ev))
    got = np.asarray(summary["curves"]["entropy"])
    np.testing.assert_allclose(got, entropy, atol=1e-9)
    from jaxrg.cli import _curve

    monkeypatch.setattr(_curve, "LARGE", 300)  # Europe (399 nodes) now counts as large
    assert main(["curve", "europe", "--data-dir", str(data_dir)]) == 0
    assert "399 nodes; the exact route needs" in capsys.readouterr().err
    sparse_out = tmp_path / "europe_sparse.json"
    assert main(["curve-sparse", "europe", "--data-dir", str(data_dir), "--no-progress",
                 "--json", str(sparse_out)]) == 0
    assert "europe: 399 nodes" in capsys.readouterr().out
    assert main(["curve", "cora", "--data-dir", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    # no traceback: the message lists the missing files and how to get them
    assert err.startswith("jaxrg curve: error: dataset 'cora': 5 file(s) missing")
    assert "--download" in err and "Traceback" not in err


# --- issue 19 items 3, 6, 7 and issue 17 item 7 -------------------------------------------


def test_global_options_work_after_the_command_name():
    from jaxrg.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["curve", "karate", "--float32"]).float32 is True
    assert parser.parse_args(["--float32", "curve", "karate"]).float32 is True
    assert parser.parse_args(["curve", "karate"]).float32 is False
    assert parser.parse_args(["maxent", "run", "--float32"]).float32 is True
    for argv in (["demo", "--no-compile-cache"], ["--no-compile-cache", "demo"],
                 ["maxent", "run", "--no-compile-cache"]):
        assert parser.parse_args(argv).no_compile_cache is True
    assert parser.parse_args(["demo"]).no_compile_cache is False


def test_every_option_shows_its_default_and_every_command_has_a_description():
    import argparse

    from jaxrg.cli import _subparsers, build_parser

    parser = build_parser()
    for sub in [parser, *_subparsers(parser)]:
        assert sub is parser or sub.description, sub.prog
        for action in sub._actions:
            if not action.option_strings or isinstance(
                action, argparse._HelpAction | argparse._VersionAction
            ):
                continue
            assert action.help, (sub.prog, action.option_strings)
            assert action.required or "default" in action.help, (sub.prog, action.option_strings)
        text = sub.format_help()
        assert "%%" not in text and "%(" not in text and "\\n" not in text, sub.prog


@pytest.mark.parametrize(("argv", "match"), [
    (["--max-peaks", "0"], "--max-peaks must be at least 1; got 0"),
    (["--num-taus", "50000"], r"--num-taus 50000 needs ~\d+ GiB .* use at most"),
])
def test_grid_options_out_of_range_are_one_line_errors(argv, match, capsys):
    import re

    for command in ("curve", "curve-sparse"):
        assert main([command, "karate", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and re.search(match, err), err


def test_disconnected_graph_does_not_call_the_gap_lambda_2(tmp_path, capsys):
    path = tmp_path / "two.txt"
    path.write_text("0 1\n2 3\n3 4\n")  # components {0, 1} and {2, 3, 4}
    assert main(["curve", str(path), "--num-taus", "20"]) == 0
    text = capsys.readouterr().out
    # spectrum: 0, 0, 1 (path of 3), 2 (edge), 3 (path of 3)
    assert "lambda_2 = 0 (2 components); smallest non-zero eigenvalue = 1," in text


def test_largest_component_output_describes_the_component_analysed(tmp_path, capsys):
    path = tmp_path / "g.txt"
    path.write_text("0 1\n1 2\n3 4\n")  # a path of 3 nodes and an edge
    out = tmp_path / "c.json"
    assert main(["curve", str(path), "--largest-component", "--num-taus", "16", "--json",
                 str(out)]) == 0
    text = capsys.readouterr().out
    # the path P3 has Laplacian spectrum 0, 1, 3 (closed form 2 - 2 cos(k pi / 3))
    assert "3 nodes, 2 edges, 1 connected component(s)" in text
    assert "lambda_2 = 1, lambda_max = 3" in text
    summary = json.loads(out.read_text())
    assert (summary["nodes"], summary["edges"], summary["components"]) == (3, 2, 1)
    rows = (tmp_path / "c.nodes.tsv").read_text().splitlines()[1:]
    assert rows == ["0\t0", "1\t1", "2\t2"]
    # the entropy curve is the one of P3 itself (independent: numpy on its spectrum)
    taus = np.asarray(summary["curves"]["tau"])
    z = np.exp(-np.outer(taus, [0.0, 1.0, 3.0]))
    p = z / z.sum(axis=1, keepdims=True)
    expected = -(p * np.log(p)).sum(axis=1) / np.log(3)
    np.testing.assert_allclose(summary["curves"]["entropy"], expected, rtol=1e-10, atol=1e-12)


def test_largest_component_keeps_the_original_ids_of_renumbered_files(tmp_path, capsys):
    path = tmp_path / "g.txt"
    path.write_text("7 8\n1 2\n2 3\n")  # ids from 1: renumbered; component {1, 2, 3}
    assert main(["curve", str(path), "--largest-component", "--num-taus", "16", "--json",
                 str(tmp_path / "c.json")]) == 0
    assert "kept 3 of 5 nodes" in capsys.readouterr().out
    rows = (tmp_path / "c.nodes.tsv").read_text().splitlines()[1:]
    assert rows == ["0\t1", "1\t2", "2\t3"]


def test_experiment_rerun_with_every_seed_done_says_so(tmp_path, capsys, monkeypatch):
    from jaxrg.studies.node_classification import experiment as nc
    from jaxrg.studies.node_classification import report as ncr

    monkeypatch.setattr(nc, "run_kipf", lambda *a, **k: [])  # every seed already finished
    monkeypatch.setattr(ncr, "report", lambda *a, **k: "")
    assert main(["experiment", "kipf-gcn", "--seeds", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"all 3 seeds already in {tmp_path / 'kipf_gcn.jsonl'}" in out
    assert "Pass --out NEWDIR to recompute." in out


@pytest.mark.parametrize("text, seeds", [("3", 3), ("4-6", [4, 5, 6]), ("1,3", [1, 3]),
                                         ("7-7", [7])])
def test_node_classification_seeds_take_a_count_a_range_or_a_list(tmp_path, capsys, monkeypatch,
                                                                  text, seeds):
    """A range or a list lets two processes share one configuration's seeds (then ``collect``)."""
    from jaxrg.studies.node_classification import experiment as nc
    from jaxrg.studies.node_classification import report as ncr

    calls = []
    monkeypatch.setattr(nc, "run", lambda *a, **k: calls.append(k["seeds"]) or [])
    monkeypatch.setattr(ncr, "report", lambda *a, **k: "")
    assert main(["study", "node-classification", "run", "--seeds", text, "--out",
                 str(tmp_path)]) == 0
    assert calls == [seeds]
    said = "all 3 seeds" if text == "3" else f"seeds {','.join(map(str, seeds))} all"
    assert f"{said} already in" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["3-x", "2,2", "5-4", "1,-2", "a"])
def test_node_classification_bad_seeds_name_the_forms(capsys, text):
    with pytest.raises(SystemExit) as exit_info:
        main(["study", "node-classification", "run", "--seeds", text])
    assert exit_info.value.code == 2
    assert "--seeds must be a count N (seeds 0..N-1), a range A-B" in capsys.readouterr().err


def test_argparse_errors_are_one_line_with_exit_code_2(capsys):
    from jaxrg.cli import main

    with pytest.raises(SystemExit) as info:
        main(["curve", "karate", "--num-taus", "ten"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--num-taus" in err[0] and "--help" in err[0]


def test_edges_as_stored_reaches_the_runner_and_its_error_names_the_fix(tmp_path, capsys):
    from jaxrg.cli import build_parser

    args = build_parser().parse_args(["study", "node-classification", "run", "--dataset",
                                      "europe", "--edges", "as-stored"])
    assert args.edges == "as-stored"
    assert build_parser().parse_args(["study", "node-classification", "run"]).edges == (
        "undirected")
    code = main(["study", "node-classification", "run", "--dataset", "cora", "--edges",
                 "as-stored", "--seeds", "1", "--epochs", "1", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "europe only" in err and "edges='undirected'" in err
    assert not (tmp_path / "results.jsonl").exists()  # nothing half-written


# --- issue 22: one command shape for the studies, the old spellings kept as aliases ----------

SPELLINGS = [  # (jaxrg study NAME ACTION ..., the previous release's spelling)
    (["study", "node-classification", "run", "--dataset", "europe", "--seeds", "2", "--variant",
      "sb", "mr", "--hidden", "8"],
     ["experiment", "node-classification", "--dataset", "europe", "--seeds", "2", "--variant",
      "sb", "mr", "--hidden", "8"]),
    (["study", "node-classification", "scales", "--dataset", "cora"],
     ["experiment", "node-scales", "--dataset", "cora"]),
    (["study", "node-classification", "kipf", "--seeds", "3", "--early-stopping", "0"],
     ["experiment", "kipf-gcn", "--seeds", "3", "--early-stopping", "0"]),
    (["study", "node-classification", "report", "res", "--epochs", "5"],
     ["report", "res", "--epochs", "5"]),
    (["study", "maxent", "run", "--rewarded", "0-1", "--seeds", "2"],
     ["maxent", "run", "--rewarded", "0-1", "--seeds", "2"]),
    (["study", "maxent", "merge", "--groups", "0-4", "5-9"],
     ["maxent", "merge", "--groups", "0-4", "5-9"]),
    (["study", "maxent", "report", "--no-figures"], ["maxent", "report", "--no-figures"]),
    (["study", "clt-rg", "run", "--seeds", "2", "--quiet"], ["clt-rg", "--seeds", "2", "--quiet"]),
    (["study", "entropy-lens", "run", "--quick", "--steps", "5"],
     ["entropy-lens", "--quick", "--steps", "5"]),
    (["study", "entropy-lens", "families", "--quick"], ["entropy-lens", "families", "--quick"]),
]


@pytest.mark.parametrize(("new", "old"), SPELLINGS, ids=lambda argv: " ".join(argv[:3]))
def test_both_spellings_of_a_study_command_parse_to_the_same_call(new, old):
    from jaxrg.cli import build_parser

    parser = build_parser()
    routing = ("command", "study", "action", "lens_command")
    got = {k: v for k, v in vars(parser.parse_args(new)).items() if k not in routing}
    want = {k: v for k, v in vars(parser.parse_args(old)).items() if k not in routing}
    assert got == want and callable(got["func"])


@pytest.mark.parametrize("study", ["node-classification", "maxent", "clt-rg", "entropy-lens"])
def test_every_study_has_run_and_report(study, capsys):
    for action in ("run", "report"):
        with pytest.raises(SystemExit) as info:
            main(["study", study, action, "--help"])
        assert info.value.code == 0
    assert f"usage: jaxrg study {study} report" in capsys.readouterr().out


@pytest.mark.parametrize("prefix", [["study", "entropy-lens", "run"], ["entropy-lens"]])
def test_a_bad_study_option_is_the_same_one_line_error_in_both_spellings(prefix, tmp_path,
                                                                        capsys):
    assert main([*prefix, "--out", str(tmp_path), "--steps", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--steps must be >= 1; got 0" in err


@pytest.mark.parametrize(("argv", "match"), [
    (["study", "clt-rg", "report", "--out"], "no CLT-RG results in"),
    (["study", "entropy-lens", "report", "--out"], "no Entropy-Lens results in"),
    (["study", "maxent", "report", "--out"], "no results in"),
    (["study", "node-classification", "report"], "no results"),
    (["report"], "no results"),
])
def test_a_report_of_an_empty_folder_is_a_one_line_error(argv, match, tmp_path, capsys):
    assert main([*argv, str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err, err


def test_an_unknown_study_or_action_is_an_argparse_error_exit_2(capsys):
    for argv in (["study", "nope", "run"], ["study", "maxent", "fly"], ["study", "clt-rg"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "jaxrg study" in err[0] and "--help" in err[0], err


def test_the_entropy_lens_report_prints_the_committed_tables(capsys):
    import pathlib

    out = pathlib.Path(__file__).resolve().parents[1] / "results" / "entropy_lens"
    assert main(["study", "entropy-lens", "report", "--out", str(out)]) == 0
    assert capsys.readouterr().out == (out / "results.md").read_text(encoding="utf-8")


def test_an_in_process_call_leaves_the_callers_precision_as_it_was(capsys):
    import jax

    assert jax.config.jax_enable_x64  # the suite runs in float64 (conftest.py)
    assert main(["curve", "karate", "--float32", "--num-taus", "8"]) == 0
    assert "tau" in capsys.readouterr().out.lower()
    assert jax.config.jax_enable_x64


def test_deprecated_variant_option_still_works_and_says_what_replaces_it(capsys):
    assert main(["curve", "karate", "--variant", "authors", "--num-taus", "16"]) == 0
    captured = capsys.readouterr()
    assert "--formula heat-trace-curvature" in captured.err
    assert "heat-trace curvature" in captured.out
    assert main(["curve", "karate", "--variant", "authors", "--formula", "heat-capacity"]) == 2
    assert "disagree" in capsys.readouterr().err


def test_a_tau_range_beyond_float32_is_refused_naming_the_option(capsys):
    # probe 5: 1e39 became inf under --float32, so the JSON held tau = [nan, inf, ...], exit 0
    for command in ("curve", "curve-sparse"):
        argv = [command, "karate", "--float32", "--tau-range", "1e-3", "1e39", "--num-taus", "8"]
        assert main([*argv, "--no-progress"] if command == "curve-sparse" else argv) == 2
        err = capsys.readouterr().err.strip()
        assert "--tau-range" in err and "float32" in err and len(err.splitlines()) == 1
    assert main(["curve", "karate", "--tau-range", "1e-3", "1e39", "--num-taus", "8"]) == 0
    capsys.readouterr()  # in float64 the same range is fine


def test_a_float32_npz_is_computed_in_the_commands_float64(tmp_path, capsys):
    import scipy.sparse

    weights = np.array([[0, 2, 0.5], [2, 0, 0], [0.5, 0, 0]])
    path = tmp_path / "w32.npz"
    scipy.sparse.save_npz(path, scipy.sparse.csr_array(weights.astype(np.float32)))
    out = tmp_path / "c.json"
    assert main(["curve", str(path), "--num-taus", "16", "--json", str(out)]) == 0
    capsys.readouterr()
    curves = json.loads(out.read_text())["curves"]
    taus = np.array(curves["tau"])
    exact = np.linalg.eigvalsh(np.diag(weights.sum(1)) - weights).clip(0)  # float64, numpy
    mu = np.exp(-np.outer(taus, exact))
    mu /= mu.sum(1, keepdims=True)
    entropy = -np.sum(mu * np.log(np.where(mu > 0, mu, 1)), axis=1) / np.log(3)
    np.testing.assert_allclose(curves["entropy"], entropy, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("module", ["jaxrg", "jaxrg.cli"])
def test_python_dash_m_runs_the_command(module, tmp_path):
    """``python -m jaxrg`` and ``python -m jaxrg.cli`` are the console script without it."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", module, "curve", "karate", "--png",
                           str(tmp_path / "c.png")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "karate" in done.stdout and (tmp_path / "c.png").stat().st_size > 1000
    bad = subprocess.run([sys.executable, "-m", module, "curve", "karate", "--no-such-option"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "--no-such-option" in bad.stderr


def test_a_core_command_does_not_import_the_studies():
    """``jaxrg demo`` builds its parser without the study-backed modules (flax, optax, jraph:
    0.17 s of a 2 s command); a study command, or no command, gets every parser."""
    code = ("import sys; from jaxrg.cli import build_parser; "
            "parser = build_parser(['--float32', 'demo', '--out', 'x.png']); "
            "names = parser._subparsers._group_actions[0].choices; "
            "print(sorted(k for k in ('flax', 'optax', 'jraph') if k in sys.modules), "
            "'demo' in names, 'study' in names)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["[]", "True", "False"]
    for argv in (["study", "maxent", "report"], ["experiment", "--help"], [], ["--float32"]):
        names = build_parser(argv)._subparsers._group_actions[0].choices
        assert {"demo", "study", "experiment", "entropy-lens"} <= set(names), argv
