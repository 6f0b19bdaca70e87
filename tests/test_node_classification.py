"""Node-classification runner, report and CLI: resumable JSON lines, exact Wilcoxon test,
markdown table; the signed-rank test against scipy and brute-force enumeration."""

import argparse
import itertools
import json

import numpy as np
import pytest
import scipy.stats

import jaxrg.cli._experiment as cli
from jaxrg.experiments import node_classification as nc
from jaxrg.experiments.node_classification_report import report, summarise
from jaxrg.experiments.stats import wilcoxon_signed_rank


def _brute_force_p(d, alternative):
    d = np.asarray(d, float)
    d = d[d != 0]
    ranks = scipy.stats.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    totals = [sum(r for r, s in zip(ranks, signs, strict=True) if s)
              for signs in itertools.product([0, 1], repeat=d.size)]
    totals = np.array(totals)
    if alternative == "greater":
        return np.mean(totals >= observed - 1e-9)
    return np.mean(totals <= observed + 1e-9)


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_signed_rank_p_value_equals_scipy_exact_without_ties(alternative):
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, y = rng.normal(0.3, 1, 10), rng.normal(0, 1, 10)
        ours = wilcoxon_signed_rank(x, y, alternative=alternative)
        ref = scipy.stats.wilcoxon(x, y, alternative=alternative, method="exact")
        assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-12)
        if alternative != "two-sided":
            assert ours.statistic == pytest.approx(
                scipy.stats.wilcoxon(x, y, alternative="greater", method="exact").statistic)


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_signed_rank_with_ties_and_zeros_equals_enumeration_of_sign_patterns(alternative):
    d = np.array([0.01, -0.01, 0.02, 0.0, 0.02, 0.03, -0.02, 0.01, 0.0, 0.05])
    result = wilcoxon_signed_rank(d, alternative=alternative)
    assert result.n == 8
    assert result.p_value == pytest.approx(_brute_force_p(d, alternative), rel=1e-12)
    assert wilcoxon_signed_rank(np.zeros(10)).p_value == 1.0


def _records(variant, accs, tau=None):
    return [{"dataset": "cora", "encoder": "gcn", "variant": variant, "tau": tau, "hidden": 64,
             "learning_rate": 1e-4, "seed": s, "epochs": 100, "test_acc": a}
            for s, a in enumerate(accs)]


def test_summary_marks_variants_by_the_one_sided_test_against_sb():
    sb = [0.70, 0.71, 0.72, 0.70, 0.69, 0.71, 0.72, 0.70, 0.71, 0.70]
    mb = [a + 0.002 * (-1) ** s for s, a in enumerate(sb)]
    mr = [a + 0.03 + 0.001 * s for s, a in enumerate(sb)]
    rows = summarise(_records("SB", sb) + _records("MB", mb) + _records("MR", mr, tau=0.57))
    (row,) = rows
    cells = {variant: group[0] for variant, group in row["cells"].items()}
    assert cells["SB"]["mean"] == pytest.approx(100 * np.mean(sb))
    assert cells["SB"]["std"] == pytest.approx(100 * np.std(sb))
    assert cells["MR"]["mark"] == "+" and cells["MB"]["mark"] == ""
    ref = scipy.stats.wilcoxon(mr, sb, alternative="greater", method="exact").pvalue
    assert cells["MR"]["p_greater"] == pytest.approx(ref, rel=1e-9)
    assert cells["MR"]["tau"] == 0.57


@pytest.fixture(scope="module")
def europe_run(tmp_path_factory, data_dir):
    """The CLI on Europe (399 nodes): 2 seeds of SB, 6 epochs, width 8."""
    out = tmp_path_factory.mktemp("nc")
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["experiment", "node-classification", "--dataset", "europe",
                              "--variant", "SB", "--seeds", "2", "--epochs", "6", "--hidden",
                              "8", "--lr", "1e-2", "--out", str(out), "--data-dir",
                              str(data_dir), "--no-progress"])
    assert args.func(args) == 0
    return out, parser


def test_runner_writes_one_record_per_seed_and_budget(europe_run):
    out, _ = europe_run
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["seed"], r["epochs"]) for r in records] == [(0, 6), (1, 6)]
    for r in records:
        assert r["dataset"] == "europe" and r["variant"] == "SB" and r["encoder"] == "gcn"
        assert r["tau"] is None and 0.0 <= r["test_acc"] <= 1.0 and 1 <= r["best_epoch"] <= 6
        assert r["num_nodes"] == 399 and r["wall_time_s"] > 0


def test_runner_resumes_after_a_kill_without_duplicates(europe_run, data_dir):
    out, _ = europe_run
    path = out / "results.jsonl"
    kwargs = dict(encoder="gcn", variant="SB", seeds=2, out=out, data_dir=data_dir, epochs=6,
                  hidden=8, learning_rate=1e-2, progress=False)
    assert nc.run("europe", **kwargs) == []  # everything finished: nothing retrained
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[1][:25])  # a kill in the middle of the second record
    redone = nc.run("europe", **kwargs)
    assert [r["seed"] for r in redone] == [1]
    final = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(r["seed"] for r in final) == [0, 1]
    assert final[0] == json.loads(lines[0])


def test_report_cli_writes_markdown_and_plot(europe_run, tmp_path):
    out, parser = europe_run
    md, png, table = tmp_path / "table.md", tmp_path / "budgets.png", tmp_path / "table.png"
    args = parser.parse_args(["report", str(out), "--out", str(md), "--plot", str(png),
                              "--table-plot", str(table)])
    assert args.func(args) == 0
    text = md.read_text()
    assert "| europe | GCN | 8 |" in text and png.stat().st_size > 1000
    assert table.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and table.stat().st_size > 1000
    with pytest.raises(FileNotFoundError, match="no results"):
        report(tmp_path / "empty")


def test_mr_reads_the_original_and_the_rewired_graph_at_the_first_peak(data_dir):
    import jaxrg
    import jaxrg.lrg

    data, graphs, tau = nc.prepare("europe", variant="MR", data_dir=data_dir, progress=False)
    assert len(graphs) == 2 and graphs[0] is data.graph
    dense = data.adjacency.toarray().astype(np.float64)
    spectrum = jaxrg.laplacian_spectrum(dense)
    heat = np.asarray(jaxrg.specific_heat(spectrum, np.logspace(-2, 4, 100)))
    first = next(i for i in range(1, 99) if heat[i - 1] < heat[i] > heat[i + 1])
    assert np.logspace(-2, 4, 100)[first - 1] < tau < np.logspace(-2, 4, 100)[first + 1]
    expected = np.asarray(jaxrg.lrg.rewire(dense, tau))
    rewired = np.zeros((399, 399))
    rewired[graphs[1].senders, graphs[1].receivers] = 1.0
    np.testing.assert_array_equal(rewired, expected)
    assert np.array_equal(rewired, rewired.T) and not np.any(np.diag(rewired))


def test_sr_and_mr_need_the_renormalised_graphs(monkeypatch, data_dir, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "jaxrg.lrg" else real(name, *a))
    for variant in ("SR", "MR"):
        with pytest.raises(ValueError, match="jaxrg.lrg"):
            nc.run("europe", variant=variant, seeds=1, epochs=2, out=tmp_path,
                   data_dir=data_dir, progress=False)


def test_cli_rejects_bad_hidden_and_variant():
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    for argv in (["--hidden", "abc"], ["--variant", "XX"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["experiment", "node-classification", *argv])
