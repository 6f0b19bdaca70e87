"""jaxrg.plots: every figure renders to a valid PNG; the accuracy table draws what it is given."""

import json
import pathlib
import struct

import jax.numpy as jnp
import matplotlib.image
import matplotlib.pyplot
import numpy as np
import pytest
from graphs_zoo import two_cliques

import jaxrg
import jaxrg.lrg
from jaxrg import plots
from jaxrg.plots import lrg as lrg_plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ROOT = pathlib.Path(__file__).parents[1]


def _png(fig, path):
    plots.save(fig, path)
    assert path.read_bytes()[:8] == PNG_MAGIC
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and min(image.shape[:2]) > 100
    return image


ROWS = [
    {"label": "cora GCN",
     "cells": {"SB": [{"mean": 66.3, "std": 2.6}],
               "MR": [{"mean": 72.2, "std": 1.6, "mark": "+", "note": "τ=0.53"},
                      {"mean": 69.2, "std": 1.6, "note": "τ=18.7"}]},
     "published": {"SB": (72.0, 0.7), "MR": (75.2, 1.3)}},
    {"label": "europe GAT", "cells": {"SB": [{"mean": 49.7, "std": 4.4}],
                                      "SR": [{"mean": 46.4, "std": 4.3}]}},
]


def test_accuracy_table_draws_one_line_per_cell_and_published_number(tmp_path):
    fig = plots.plot_accuracy_table(ROWS, variants=["SB", "MB", "SR", "MR"])
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    # 5 cells, and the published SB / MR numbers join the first SB and MR lines: 5 lines
    lines = [t for t in texts if t[:3] in ("SB:", "SR:", "MR:", "MB:")]
    assert len(lines) == 5
    assert "MR: 72.2 ± 1.6+  τ=0.53  (published 75.2)" in lines
    assert "MR: 69.2 ± 1.6  τ=18.7" in lines
    assert "cora GCN" in texts and "europe GAT" in texts
    # markers sit at the means: every data point drawn on the axes comes from a cell or a
    # published number
    xs = sorted(float(x) for line in ax.lines for x in np.atleast_1d(line.get_xdata())
                if line.get_marker() not in (None, "None", "", "|"))
    expected = sorted([66.3, 72.2, 69.2, 49.7, 46.4, 72.0, 75.2])
    assert np.allclose(xs, expected)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SB", "SR", "MR", "published"]
    _png(fig, tmp_path / "table.png")


@pytest.mark.parametrize("rows, match", [
    ([], "non-empty list"),
    ({"label": "x", "cells": {}}, "non-empty list"),
    ([{"cells": {}}], r"rows\[0\] must be a dict with keys 'label' and 'cells'"),
    ([{"label": "x", "cells": {"SB": [{"mean": 1.0}]}}], r"need 'mean' and 'std'"),
])
def test_accuracy_table_rejects_malformed_rows(rows, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_accuracy_table(rows)


def test_entropy_curves_and_lrg_figures_render(tmp_path):
    a = jnp.asarray(two_cliques(5))
    ev = jaxrg.laplacian_spectrum(a)
    taus = jnp.logspace(-2, 2, 64)
    curves = jaxrg.entropy_curves(ev, taus)
    scales = jaxrg.characteristic_scales(ev)
    _png(plots.plot_entropy_curves(taus, curves, scales, title="two cliques"),
         tmp_path / "curves.png")
    counts = np.asarray(jaxrg.lrg.macro_node_counts(a, taus))
    # every node alone at small τ; at large τ the Fiedler mode leaves the two cliques
    assert counts[0] == 10 and counts[-1] == 2 and np.all(np.diff(counts) <= 0)
    _png(lrg_plots.plot_flow(taus, counts, specific_heat=curves.specific_heat,
                             scales=np.asarray(scales.taus)[np.asarray(scales.valid)]),
         tmp_path / "flow.png")
    coarse = jaxrg.lrg.coarse_grain(a, float(scales.taus[0]))
    _png(lrg_plots.plot_coarse_graph(a, coarse.index, coarse.adjacency, int(coarse.count)),
         tmp_path / "coarse.png")


def test_coarse_graph_figure_gives_each_macro_node_one_colour_in_both_panels():
    from matplotlib.collections import PathCollection

    from jaxrg.graph_io import read_graph

    karate = read_graph("karate")
    coarse = jaxrg.lrg.coarse_grain(karate, 0.68)  # 11 macro-nodes of several sizes
    count, index = int(coarse.count), np.asarray(coarse.index)
    assert count > 4
    fig = lrg_plots.plot_coarse_graph(karate, index, coarse.adjacency, count)
    fig.canvas.draw()
    left, right = ([c for c in ax.collections if isinstance(c, PathCollection)][0]
                   for ax in fig.axes)
    members, macro = left.get_facecolors(), right.get_facecolors()
    assert members.shape == (karate.shape[0], 4) and macro.shape == (count, 4)
    np.testing.assert_array_equal(members, macro[index])   # each node in its macro-node's colour
    assert len({tuple(c) for c in macro}) == count          # and the macro-nodes are told apart
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize(("count", "shape"), [(1, (1, 1)), (3, (1, 3)), (4, (2, 2)),
                                             (5, (2, 3)), (6, (2, 3)), (7, (3, 3))])
def test_panel_grid_lays_panels_in_balanced_rows_never_a_strip(count, shape):
    from jaxrg.plots._common import panel_grid

    fig, axes = panel_grid(count, panel=(4.0, 3.0))
    assert len(axes) == count and all(ax.get_visible() for ax in axes)
    grid = axes[0].get_subplotspec().get_gridspec()
    assert (grid.nrows, grid.ncols) == shape
    assert sum(ax.get_visible() for ax in fig.axes) == count  # spare cells hidden
    width, height = fig.get_size_inches()
    assert width / height <= 3 * 4.0 / 3.0  # at most three panels side by side
    matplotlib.pyplot.close(fig)


def test_entropy_lens_figure_set_is_drawn_in_grids(tmp_path):
    from jaxrg.studies.entropy_lens.experiment import LensConfig
    from jaxrg.studies.entropy_lens.figures import lens_figures

    config = LensConfig.quick()
    rng = np.random.default_rng(0)
    data, meta = {}, {}
    for name, family, size, cfg in config.models():
        a, layers = len(config.alphas), cfg.num_layers
        data[name] = {"task_profiles": rng.normal(size=(8, a, layers, 6)),
                      "task": np.repeat(np.arange(4), 2),
                      "arith_profiles": rng.normal(size=(8, a, layers, 1)),
                      "arith_correct": np.arange(8) % 2 == 0,
                      "bos_profiles": rng.normal(size=(4, a, layers, 5))}
        meta[name] = {"model": name, "family": family, "size": size}
    from jaxrg.studies.entropy_lens import tasks as lens_tasks

    records = [{"analysis": analysis, "model": model, "features": features, "alpha": 1.0,
                "accuracy": 0.9, "dummy_accuracy": 0.3}
               for analysis, model in [("family", "all"), ("model", "all"),
                                       *(("task", m) for m in ("a", "b", "c", "d", "e", "f"))]
               for features in ("all", "first-token", "first", "middle", "last")]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    written = lens_figures(data, meta, config, tmp_path,
                           answer_lengths={t: lens_tasks.ANSWER_LEN[t] for t in lens_tasks.TASKS})
    assert {p.name for p in written} >= {"heatmaps.png", "task_profiles.png", "ablation.png"}
    for path in written:
        image = _png_file(path)
        assert image.shape[1] / image.shape[0] < 2.5, path.name  # no long strips


def _png_size(path: pathlib.Path) -> tuple[int, int]:
    """(width, height) from the PNG header (IHDR), without decoding the image."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_MAGIC and head[12:16] == b"IHDR", path
    return struct.unpack(">II", head[16:24])


COMMITTED_PNGS = sorted(path for folder in ("results", "benchmarks", "docs", "notebooks")
                        for path in (ROOT / folder).rglob("*.png")
                        if "site" not in path.relative_to(ROOT).parts)


def test_there_are_committed_figures_to_check():
    assert len(COMMITTED_PNGS) >= 10, COMMITTED_PNGS


@pytest.mark.parametrize("path", COMMITTED_PNGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_committed_figure_is_a_readable_shape_not_a_strip(path):
    # a page shows a figure at most ~800 px wide: a panel row wider than 4:1 shrinks to illegible
    width, height = _png_size(path)
    assert max(width / height, height / width) <= 4.0, (
        f"{path.relative_to(ROOT)} is {width}x{height}: lay its panels out in a grid "
        "(jaxrg.plots._common.panel_grid) and regenerate it")


def _png_file(path):
    assert path.read_bytes()[:8] == PNG_MAGIC
    return matplotlib.image.imread(path)


def test_entropy_lens_figures_render(tmp_path):
    rng = np.random.default_rng(0)
    ax = plots.plot_profile_heatmap(rng.uniform(0, 5, size=(6, 12)), title="profile")
    _png(ax.figure, tmp_path / "heat.png")
    ax = plots.plot_mean_profiles({"add": rng.uniform(0, 5, size=(4, 6)),
                                   "copy": rng.uniform(0, 5, size=(3, 6))})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["add", "copy"]
    _png(ax.figure, tmp_path / "mean.png")
    ax = plots.plot_scores(["a", "b"], [0.9, 0.8], [0.5, 0.5])
    assert [p.get_height() for p in ax.patches] == [0.9, 0.8, 0.5, 0.5]
    _png(ax.figure, tmp_path / "scores.png")


def test_renyi_profiles_draw_the_quantiles_of_each_order(tmp_path):
    import jaxrg.info

    logits = np.random.default_rng(2).normal(size=(3, 5, 40)) * np.array([0.5, 2.0, 6.0])[:, None,
                                                                                         None]
    alphas = np.array([0.0, 0.5, 1.0, 2.0, np.inf])
    h = np.asarray(jaxrg.info.renyi_entropy(logits, alphas))  # (A, 3, 5)
    np.testing.assert_allclose(h[0], np.log(40))
    fig = plots.plot_renyi_profiles(alphas, h, num_categories=40)
    ax = fig.axes[0]
    median = next(line for line in ax.lines if line.get_label() == "median")
    np.testing.assert_allclose(median.get_ydata(), np.median(h.reshape(5, -1), axis=1))
    assert np.all(np.diff(median.get_ydata()) <= 1e-12)  # H_alpha non-increasing in alpha
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "0.5", "1", "2", "∞"]
    # a 2-D batch: four heatmaps, alpha > 0 first (H_0 = log 40 everywhere is left out)
    titles = [a.get_title() for a in fig.axes if a.get_images()]
    assert titles == ["H_0.5", "H_1", "H_2", "H_∞"]
    _png(fig, tmp_path / "renyi.png")
    one = plots.plot_renyi_profiles([1.0], np.array([2.0]))  # a single distribution
    assert len([a for a in one.axes if a.get_images()]) == 0
    with pytest.raises(ValueError, match=r"shape \(len\(alphas\)=2"):
        plots.plot_renyi_profiles([1.0, 2.0], h)


def test_a_row_gets_a_slot_for_every_line_of_its_label():
    """A one-cell row with a three-line label spans three slots, so labels never overlap."""
    from jaxrg.plots import plot_accuracy_table

    cell = [{"mean": 90.0, "std": 1.0}]
    rows = [{"label": "a\nb\nc", "cells": {"ME": cell}},
            {"label": "d", "cells": {"ME": cell, "XE": cell}}]
    fig = plot_accuracy_table(rows)
    ax = fig.axes[0]
    assert fig.get_size_inches()[1] == pytest.approx(0.9 + 0.28 * (3 + 2))
    low, high = ax.get_ylim()
    assert high - low == pytest.approx(5 + 0.2)
    texts = {t.get_text(): t.get_position()[1] for t in ax.texts}
    assert texts["a\nb\nc"] - texts["d"] == pytest.approx((3 + 2) / 2)  # band centres
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_a_long_table_is_cut_between_rows_into_a_grid_of_panels(tmp_path):
    """200 one-line rows at 64 lines per panel: 4 panels of 50 rows in a 2 x 2 grid, every row
    drawn once and in reading order, and the saved figure is no strip."""
    from jaxrg.plots import plot_accuracy_table

    rows = [{"label": f"row {i}", "cells": {"ME": [{"mean": float(i % 100), "std": 1.0}]}}
            for i in range(200)]
    fig = plot_accuracy_table(rows, max_slots=64, title="long")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 4
    labels = [[t.get_text() for t in ax.texts if t.get_text().startswith("row ")]
              for ax in panels]
    assert [len(g) for g in labels] == [50, 50, 50, 50]
    assert sum(labels, []) == [f"row {i}" for i in range(200)]
    # each panel's markers are its own rows' means
    for g, ax in zip(labels, panels, strict=True):
        xs = [float(x) for line in ax.lines for x in np.atleast_1d(line.get_xdata())
              if line.get_marker() not in (None, "None", "", "|")]
        assert xs == [float(int(label.split()[1]) % 100) for label in g]
    # 2 columns x 2 rows of panels
    positions = {(round(ax.get_position().x0, 3), round(ax.get_position().y0, 3))
                 for ax in panels}
    assert len({x for x, _ in positions}) == 2 and len({y for _, y in positions}) == 2
    _png(fig, tmp_path / "long.png")
    width, height = _png_size(tmp_path / "long.png")
    assert max(width / height, height / width) <= 4.0
    # a short table stays one panel
    short = plot_accuracy_table(rows[:10], max_slots=64)
    assert len([ax for ax in short.axes if ax.get_visible()]) == 1
    import matplotlib.pyplot as plt

    plt.close(short)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_accuracy_table_rejects_a_bad_max_slots(bad):
    with pytest.raises(ValueError, match="max_slots must be an int >= 1"):
        plots.plot_accuracy_table(ROWS, max_slots=bad)
