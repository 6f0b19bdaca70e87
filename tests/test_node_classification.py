"""Node-classification runner, report and CLI: resumable JSON lines, exact Wilcoxon test,
markdown table; the signed-rank test against scipy and brute-force enumeration."""

import argparse
import itertools
import json

import numpy as np
import pytest
import scipy.stats
from tolerances import study_record

from jaxrg.studies.node_classification import cli
from jaxrg.studies.node_classification import experiment as nc
from jaxrg.studies.node_classification.report import report, summarise
from jaxrg.studies.node_classification.stats import wilcoxon_signed_rank


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


def test_summary_keeps_a_variant_whose_runs_stopped_at_a_smaller_budget():
    """SB/MB trained for 1000 epochs and SR for 200 in one setting: SR is not dropped from the
    default summary (it gets a row at its own largest budget, unpaired), and every budget of
    the longer runs stays where it was."""
    def at(records, budget):
        return [dict(r, epochs=budget) for r in records]

    sb, sr = [0.90 + 0.01 * s for s in range(4)], [0.80 + 0.01 * s for s in range(3)]
    long = [r for b in (193, 1000) for r in at(_records("SB", sb) + _records("MB", sb), b)]
    short = [r for b in (193, 200) for r in at(_records("SR", sr, tau=0.07), b)]
    rows = summarise(long + short)
    assert [(row["epochs"], sorted(row["cells"])) for row in rows] == [
        (1000, ["MB", "SB"]), (200, ["SR"])]
    (cell,) = rows[1]["cells"]["SR"]
    assert cell["mean"] == pytest.approx(100 * np.mean(sr)) and cell["n"] == 3
    assert cell["mark"] == "" and cell["p_greater"] is None  # no SB at 200 to pair with
    assert [row["epochs"] for row in summarise(long + short, epochs=193)] == [193]


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


def test_scale_ablation_groups_random_scales_around_tau_star_and_ranks_it():
    from jaxrg.studies.node_classification.report import scale_ablation_table

    def mr(tau, acc, scale=None):
        return [{**r, "scale_variant": scale} for r in _records("MR", [acc] * 3, tau=tau)]

    star = 0.5
    records = _records("SB", [0.60] * 3) + mr(star, 0.70, "authors")
    # random scales: 2 below star/3 (0.60, 0.62), 3 around (0.71 beats τ*), 2 above (0.65, 0.69)
    for tau, acc in ((0.05, 0.60), (0.1, 0.62), (0.2, 0.68), (0.5001, 0.71), (1.4, 0.69),
                     (2.0, 0.65), (9.0, 0.69)):
        records += mr(tau, acc, "exact")
    table = scale_ablation_table(summarise(records))
    row = table.splitlines()[-1].split(" | ")
    assert "70.0 ± 0.0" in row[7] and "τ*=0.5" in row[7]
    assert row[8] == "n=2: 61.0 (best 62.0, worst 60.0)"
    assert row[9] == "n=3: 69.3 (best 71.0, worst 68.0)"
    assert row[10] == "n=2: 67.0 (best 69.0, worst 65.0)"
    assert row[11:] == ["1 of 7", "2 of 8", "—", "— |"]
    # MR at the feature-aware τ*_X: ranked among the same random scales, not counted as one,
    # and never taken for τ* (here it is the better of the two and comes first by τ)
    features = [{**r, "scale_source": "features"} for r in mr(0.45, 0.705, "authors")]
    table = scale_ablation_table(summarise(records + features))
    row = table.splitlines()[-1].split(" | ")
    assert "70.0 ± 0.0" in row[7] and "τ*=0.5" in row[7]
    assert row[11:] == ["1 of 7", "2 of 8", "70.5 ± 0.0 (τ*_X=0.45; 2 of 8)", "— |"]
    # ML (τ learned from τ* of the normalised Laplacian): ranked among the same random scales,
    # with the mean learned τ; 0.685 is beaten by 0.71 and 0.69 (twice)
    learned = [{**r, "scale_variant": "authors-analytic", "learned_tau": 2.0 + 0.1 * r["seed"]}
               for r in _records("ML", [0.685] * 3, tau=2.5)]
    table = scale_ablation_table(summarise(records + features + learned))
    row = table.splitlines()[-1].split(" | ")
    assert row[13:] == ["70.5 ± 0.0 (τ*_X=0.45; 2 of 8)",
                        "68.5 ± 0.0 (τ: 2.5 → 2.1 of L̂; 4 of 8) |"]
    assert "70.0 ± 0.0" in row[7]  # ML is neither τ* nor a random scale
    assert row[11] == "1 of 7"
    # too few scales, or no τ* cell: no ablation row
    assert scale_ablation_table(summarise(records[:3 * 5])) == ""
    assert scale_ablation_table(summarise([r for r in records if r["tau"] != star])) == ""


def _europe_cli(out, data_dir, seeds: str):
    """Run the CLI on Europe (399 nodes): SB, 6 epochs, width 8; returns the parser."""
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["node-classification", "run", "--dataset", "europe",
                              "--variant", "SB", "--seeds", seeds, "--epochs", "6", "--hidden",
                              "8", "--lr", "1e-2", "--out", str(out), "--data-dir",
                              str(data_dir), "--no-progress"])
    assert args.func(args) == 0
    return parser


@pytest.fixture(scope="module")
def europe_run(tmp_path_factory, data_dir):
    """The CLI on Europe (399 nodes): 2 seeds of SB, 6 epochs, width 8."""
    out = tmp_path_factory.mktemp("nc")
    return out, _europe_cli(out, data_dir, "2")


def test_runner_writes_one_record_per_seed_and_budget(europe_run):
    out, _ = europe_run
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["seed"], r["epochs"]) for r in records] == [(0, 6), (1, 6)]
    for r in records:
        assert r["dataset"] == "europe" and r["variant"] == "SB" and r["encoder"] == "gcn"
        assert r["tau"] is None and 0.0 <= r["test_acc"] <= 1.0 and 1 <= r["best_epoch"] <= 6
        assert r["num_nodes"] == 399 and r["wall_time_s"] > 0


def test_a_europe_run_reproduces_the_record_of_the_code_before_the_studies_moved(europe_run):
    """Moving the study into jaxrg/studies/ (issue 22) changed no number: the records of a small
    run equal, bit for bit on a CPU, those the old code wrote (tests/records/study_units.json)."""
    out, _ = europe_run
    want = study_record("node_classification_europe_sb")
    got = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [{k: r[k] for k in want[0]} for r in got] == want


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


def test_a_seed_range_on_the_cli_trains_those_seeds_with_their_own_numbers(tmp_path, data_dir):
    """``--seeds 1-1`` trains seed 1 alone: its record equals seed 1 of the two-seed run (the
    old code's record), so processes sharing a cell's seeds agree with one run of all of them."""
    want = study_record("node_classification_europe_sb")
    _europe_cli(tmp_path, data_dir, "1-1")
    got = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    per_seed = [k for k in want[1] if k != "seeds_in_batch"]
    assert [{k: r[k] for k in per_seed} for r in got] == [{k: want[1][k] for k in per_seed}]


def test_saving_every_seed_keeps_each_seeds_numbers_and_survives_a_kill(tmp_path, data_dir,
                                                                      monkeypatch):
    """``save_every=1`` writes each seed as it finishes; a kill after the first seed keeps it,
    and each seed's numbers equal those of the one-block run recorded by the old code."""
    from jaxrg.studies.node_classification import train

    want = study_record("node_classification_europe_sb")
    kwargs = dict(encoder="gcn", variant="SB", seeds=2, out=tmp_path, data_dir=data_dir,
                  epochs=6, hidden=8, learning_rate=1e-2, save_every=1, progress=False)
    calls = []
    real_fit = train.fit

    def killed_after_one_block(*args, **kw):
        if calls:
            raise KeyboardInterrupt("a kill after the first block")
        calls.append(1)
        return real_fit(*args, **kw)

    monkeypatch.setattr(train, "fit", killed_after_one_block)
    with pytest.raises(KeyboardInterrupt):
        nc.run("europe", **kwargs)
    path = tmp_path / "results.jsonl"
    first = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["seed"] for r in first] == [0]  # the finished seed is on disk
    monkeypatch.setattr(train, "fit", real_fit)
    redone = nc.run("europe", **kwargs)
    assert [r["seed"] for r in redone] == [1]  # only the missing seed is trained
    final = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["seeds_in_batch"] for r in final] == [1, 1]
    per_seed = [k for k in want[0] if k != "seeds_in_batch"]
    assert [{k: r[k] for k in per_seed} for r in final] == \
        [{k: r[k] for k in per_seed} for r in want]
    with pytest.raises(ValueError, match="save_every"):
        nc.run("europe", **{**kwargs, "save_every": 0})


def test_report_cli_writes_markdown_and_plot(europe_run, tmp_path):
    out, parser = europe_run
    md, png, table = tmp_path / "table.md", tmp_path / "budgets.png", tmp_path / "table.png"
    args = parser.parse_args(["node-classification", "report", str(out), "--out", str(md),
                              "--plot", str(png),
                              "--table-plot", str(table)])
    assert args.func(args) == 0
    text = md.read_text()
    assert "| europe | GCN | 8 |" in text and png.stat().st_size > 1000
    # width 8, lr 1e-2: no cell of the authors' protocol, so no empty comparison of 48 cells
    assert "not run yet under the authors' protocol" not in text
    assert "No run here follows the authors' protocol" in text
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
            parser.parse_args(["node-classification", "run", *argv])


def test_all_tied_differences_give_the_exact_sign_test():
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 2, 2500), (rng.random(2500) < 0.45).astype(int)
    d = (x - y)[x != y]
    for alternative in ("greater", "less"):
        ref = scipy.stats.binomtest(int((d > 0).sum()), d.size, alternative=alternative).pvalue
        got = wilcoxon_signed_rank(x, y, alternative=alternative).p_value
        assert got == pytest.approx(ref, rel=1e-9)
    small = [1, 1, 0, 1, 1, 1, 0, 1]
    assert wilcoxon_signed_rank(small, [0] * 8).p_value == pytest.approx(
        _brute_force_p(small, "greater"), rel=1e-12)


def test_published_table_is_the_papers_48_cells():
    from jaxrg.studies.node_classification.report import published_table

    table = published_table()
    assert len(table) == 48
    assert table[("cora", "gcn", "SB")] == (72.0, 0.7, "")
    assert table[("cora", "gcn", "MR")] == (75.2, 1.3, "+")
    assert table[("europe", "gcn", "SR")] == (24.4, 7.0, "−")
    assert table[("computers", "gat", "SR")] == (73.0, 4.8, "−")


def _protocol_records(variant, accs, correct, tau=None):
    return [{"dataset": "cora", "encoder": "gcn", "variant": variant, "tau": tau,
             "hidden": None, "learning_rate": 1e-4, "seed": s, "epochs": 200, "init": "torch",
             "split": "public", "test_acc": a,
             "scale_variant": "authors" if tau else None,
             "test_correct": nc.encode_correct(c)}
            for s, (a, c) in enumerate(zip(accs, correct, strict=True))]


def test_comparison_reads_protocol_rows_and_pools_per_node_correctness():
    from jaxrg.studies.node_classification.report import comparison, comparison_table

    rng = np.random.default_rng(0)
    sb_correct = [rng.random(300) < 0.70 for _ in range(10)]
    mr_correct = [c | (rng.random(300) < 0.2) for c in sb_correct]  # strictly more right
    sb = [c.mean() for c in sb_correct]
    mr = [c.mean() for c in mr_correct]
    other = [dict(r, init="flax", test_acc=0.1) for r in _protocol_records("SB", sb, sb_correct)]
    partial = _protocol_records("SR", sb[:3], sb_correct[:3], tau=0.572)  # a run still going
    rows = summarise(_protocol_records("SB", sb, sb_correct)
                     + _protocol_records("MR", mr, mr_correct, tau=0.572) + other + partial)
    entries = {(e["dataset"], e["encoder"], e["variant"]): e for e in comparison(rows)}
    assert len(entries) == 48
    sb_entry, mr_entry = entries[("cora", "gcn", "SB")], entries[("cora", "gcn", "MR")]
    assert sb_entry["ours"]["mean"] == pytest.approx(100 * np.mean(sb))  # not the flax rows
    assert mr_entry["diff"] == pytest.approx(100 * np.mean(mr) - 75.2)
    assert mr_entry["ours"]["mark"] == "+" and mr_entry["mark_reproduced"] is True
    x = np.concatenate(mr_correct).astype(float)
    y = np.concatenate(sb_correct).astype(float)
    ref = scipy.stats.binomtest(int((x > y).sum()), int((x != y).sum()),
                                alternative="greater").pvalue
    assert ref < 0.05 and mr_entry["ours"]["pooled_mark"] == "+"
    assert "not obtainable" in entries[("pubmed", "gcn", "SB")]["note"]
    assert entries[("photo", "gat", "MR")]["ours"] is None
    text = comparison_table(comparison(rows))
    assert "Cells run under the authors' protocol: 2 of 48" in text
    sr_entry = entries[("cora", "gcn", "SR")]
    assert sr_entry["ours"] is None and sr_entry["note"].startswith("partial: 3 of 10 seeds")


def test_comparison_prefers_europe_on_the_authors_directed_edges():
    from jaxrg.studies.node_classification.report import comparison, markdown_table

    def europe(variant, accs, edges=None, tau=None):
        out = []
        for r in _protocol_records(variant, accs, [np.ones(61, bool)] * len(accs), tau=tau):
            r = dict(r, dataset="europe", split="ordered", epochs=1000)
            if edges:
                r["edges"] = edges
            out.append(r)
        return out

    undirected = [0.2 + 0.01 * s for s in range(10)]
    stored = [0.34 + 0.01 * s for s in range(10)]
    rows = summarise(europe("SB", undirected) + europe("SB", stored, "as-stored")
                     + europe("SR", undirected, tau=0.0614))
    assert {r.get("edges") for r in rows} == {"undirected", "as-stored"}
    entries = {(e["dataset"], e["variant"]): e for e in comparison(rows)}
    sb, sr = entries[("europe", "SB")], entries[("europe", "SR")]
    assert sb["ours"]["mean"] == pytest.approx(100 * np.mean(stored)) and sb["note"] == ""
    # SR exists only on undirected edges: compared, and the note says the edges differ
    assert sr["ours"]["mean"] == pytest.approx(100 * np.mean(undirected))
    assert sr["note"] == "undirected edges (theirs: as-stored)"
    assert "| europe (edges as-stored) | GCN |" in markdown_table(rows)


def test_comparison_takes_the_authors_reduced_gcn_width_only_where_the_default_is_partial():
    """Their new_train.py has two GCN widths (none, or --dim_reduction's h_dim_mapping): a
    complete run at the default width wins; a complete run at the reduced width stands in for a
    partial default run and says so, with the partial run's figure; other widths never count."""
    from jaxrg.studies.node_classification.report import comparison

    def citeseer(variant, accs, hidden=None, tau=None):
        return [dict(r, dataset="citeseer", hidden=hidden)
                for r in _protocol_records(variant, accs, [np.ones(50, bool)] * len(accs),
                                           tau=tau)]

    ten = [0.60 + 0.01 * s for s in range(10)]
    reduced = [0.66 + 0.001 * s for s in range(10)]
    rows = summarise(citeseer("SB", ten) + citeseer("SB", reduced, hidden=1024)
                     + citeseer("MB", [0.5, 0.62]) + citeseer("MB", reduced, hidden=1024)
                     + citeseer("MR", reduced, hidden=512, tau=0.572)
                     + citeseer("SR", [0.7, 0.7, 0.7], hidden=1024, tau=0.572))
    entries = {e["variant"]: e for e in comparison(rows) if e["dataset"] == "citeseer"
               and e["encoder"] == "gcn"}
    assert entries["SB"]["ours"]["mean"] == pytest.approx(100 * np.mean(ten))
    assert entries["SB"]["hidden"] is None and entries["SB"]["note"] == ""
    mb = entries["MB"]
    assert mb["ours"]["mean"] == pytest.approx(100 * np.mean(reduced)) and mb["hidden"] == 1024
    assert mb["note"] == ("their GCN `--dim_reduction` width, h = 1024 "
                          "(without projection: 2 of 10 seeds, 56.0)")
    assert entries["MR"]["ours"] is None  # h = 512 is not one of the authors' widths
    assert entries["SR"]["note"] == ("partial: 3 of 10 seeds so far at their `--dim_reduction` "
                                     "width h = 1024, 70.0 at 200 epochs (not compared)")


def test_reduced_width_is_the_authors_h_dim_mapping(tmp_path, data_dir):
    # new_train.py (FrancescoCaso/RGR): {"Computers": 24, "Photo": 64, "pubmed": 128,
    # "citeseer": 1024, "cora": 1024, "Europe": 64} for GCN; GAT always at its own mapping
    expected = {"computers": 24, "photo": 64, "pubmed": 128, "citeseer": 1024, "cora": 1024,
                "europe": 64}
    for dataset, width in expected.items():
        assert nc.default_hidden(dataset, "gcn", reduced=True) == width
        assert nc.default_hidden(dataset, "gcn") is None
        assert nc.default_hidden(dataset, "gat", reduced=True) == nc.GAT_HIDDEN[dataset]
    for bad in ("wide", 0, 2.5):
        with pytest.raises(ValueError, match="hidden"):
            nc.run("europe", seeds=1, epochs=2, hidden=bad, out=tmp_path, data_dir=data_dir,
                   progress=False)
    assert not (tmp_path / "results.jsonl").exists()
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["node-classification", "run", "--hidden", "reduced"])
    assert args.hidden == "reduced"


def test_correctness_bits_round_trip():
    bits = np.array([True, False, True, True, False, False, True, False, True])
    assert np.array_equal(nc.decode_correct(nc.encode_correct(bits), bits.size), bits)


def test_runner_records_per_node_correctness_that_matches_the_accuracy(data_dir, tmp_path):
    records = nc.run("europe", variant="SB", seeds=2, out=tmp_path, data_dir=data_dir,
                     epochs=4, hidden=8, learning_rate=1e-2, init="torch", split="ordered",
                     progress=False)
    data, _, _ = nc.prepare("europe", split="ordered", data_dir=data_dir, progress=False)
    count = int(np.asarray(data.test_mask).sum())
    assert count == 399 - int(0.7 * 399) - int(0.15 * 399)  # the authors' create_masks: 61
    for r in records:
        assert r["init"] == "torch" and r["split"] == "ordered"
        correct = nc.decode_correct(r["test_correct"], count)
        assert correct.mean() == pytest.approx(r["test_acc"], abs=1e-6)


def test_europe_as_stored_edges_are_the_files_directed_edges(data_dir):
    import jaxrg.datasets as ds
    from jaxrg.studies.node_classification.gnn import gcn_propagate

    data, graphs, _ = nc.prepare("europe", variant="MB", split="ordered", edges="as-stored",
                                 data_dir=data_dir, progress=False)
    raw = np.loadtxt(data_dir / "europe/europe-airports.edgelist", dtype=np.int64)
    raw = raw[raw[:, 0] != raw[:, 1]]
    g = graphs[0]
    assert len(graphs) == 2 and graphs[1] is g
    pairs = np.stack([g.senders, g.receivers], axis=1)
    assert sorted(map(tuple, pairs)) == sorted(map(tuple, raw)) and len(pairs) == 5993
    assert (g.senders > g.receivers).all()  # this file lists every edge high id -> low id
    # both directions of the stored edges are the undirected graph the default reads
    a = np.zeros((399, 399))
    a[raw[:, 0], raw[:, 1]] = 1
    assert np.array_equal(a + a.T, data.adjacency.toarray())
    # PyG's gcn_norm on a directed edge_index: D = 1 + in-degree, messages sender -> receiver
    x = np.random.default_rng(0).normal(size=(399, 3))
    deg = 1.0 + a.sum(axis=0)
    ref = (np.diag(deg**-0.5) @ (a.T + np.eye(399)) @ np.diag(deg**-0.5)) @ x
    assert np.allclose(np.asarray(gcn_propagate(x, g)), ref, atol=1e-12)
    stored = ds.stored_europe_edges(data_dir=data_dir)
    assert stored.dtype == np.int64 and np.array_equal(stored, raw)


@pytest.mark.parametrize(("dataset", "variant", "words"), [
    ("cora", "SB", "europe only"), ("europe", "SL", "SB, MB, SR and MR"),
    ("europe", "SB", "edges must be one of")])
def test_as_stored_edges_refuse_what_they_do_not_define(data_dir, dataset, variant, words):
    edges = "both" if words.startswith("edges must") else "as-stored"
    with pytest.raises(ValueError, match=words):
        nc.prepare(dataset, variant=variant, edges=edges, data_dir=data_dir, progress=False)


def test_old_records_read_with_flax_init_and_default_split():
    old = {"dataset": "europe", "encoder": "gcn"}
    assert nc.with_defaults(old) == {**old, "init": "flax", "split": "random",
                                     "scale_source": "structure", "edges": "undirected",
                                     "tau_rate": 1.0, "propagation": "subgraph"}
    assert nc.with_defaults({"dataset": "cora"})["split"] == "public"


@pytest.mark.slow
def test_node_scales_on_europe_match_a_direct_computation(data_dir, tmp_path):
    import jaxrg
    import jaxrg.datasets as ds
    import jaxrg.lrg

    record = nc.scales_and_rewiring("europe", out=tmp_path, data_dir=data_dir, progress=False)
    again = nc.scales_and_rewiring("europe", out=tmp_path, data_dir=data_dir, progress=False)
    assert again == record and len((tmp_path / "scales.jsonl").read_text().splitlines()) == 1
    data = ds.load("europe", data_dir=data_dir, largest_component=True, features=False)
    dense = data.adjacency.toarray().astype(np.float64)
    tau = record["tau_authors"]
    assert tau in np.logspace(-2, 4, 100).tolist()
    assert record["rewired_edges"] == int(np.asarray(jaxrg.lrg.rewire(dense, tau)).sum())
    assert record["nodes"] == 399


def test_collect_adds_runs_made_elsewhere_to_the_table(tmp_path, capsys):
    """`jaxrg study node-classification collect`: the seeds of a run made in another folder
    (a GPU machine's) join the table; keys already there (old records without the newer
    fields included) are kept, Kipf's runs go to their own file, and a second collect adds
    nothing."""
    from jaxrg import _io
    from jaxrg.cli import main

    here, there = tmp_path / "here", tmp_path / "there"
    for r in _records("SB", [0.70, 0.71, 0.72]):
        _io.append_jsonl(here / "results.jsonl", r)  # old records: no init, split, edges, ...
    for r in _records("SB", [0.99, 0.99, 0.99, 0.73]) + _records("MR", [0.75] * 4, tau=0.5):
        _io.append_jsonl(there / "results.jsonl", nc.with_defaults(r))
    kipf = {"dataset": "cora", "seed": 0, "epochs": 200, "early_stopping": 10,
            "test_acc": 0.8, "best_val_test_acc": 0.81}
    _io.append_jsonl(there / "kipf_gcn.jsonl", kipf)
    assert main(["study", "node-classification", "collect", str(there), "--out",
                 str(here)]) == 0
    out = capsys.readouterr().out
    assert "results.jsonl: 5 new record(s), 3 already there (3 with another test_acc" in out
    assert "kipf_gcn.jsonl: 1 new record(s)." in out
    (row,) = summarise(nc.read_results(here / "results.jsonl"))
    assert row["cells"]["SB"][0]["mean"] == pytest.approx(100 * np.mean([0.70, 0.71, 0.72, 0.73]))
    assert row["cells"]["MR"][0]["n"] == 4
    assert _io.read_jsonl(here / "kipf_gcn.jsonl") == [kipf]
    assert main(["study", "node-classification", "collect", str(there / "results.jsonl"),
                 "--out", str(here)]) == 0
    assert "0 new record(s), 8 already there" in capsys.readouterr().out
    assert main(["study", "node-classification", "collect", str(tmp_path / "empty"),
                 "--out", str(here)]) == 2
    assert "no results file" in capsys.readouterr().err
