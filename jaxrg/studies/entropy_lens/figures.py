"""The figure sets of the Entropy-Lens study, drawn from its cached profiles and results.

- :func:`lens_figures`: the five figures of :mod:`jaxrg.studies.entropy_lens.experiment`;
- :func:`families_figures`: those for the 12 models of :mod:`jaxrg.studies.entropy_lens.families`
  and the component ablation.

The figure functions of arrays they use live in :mod:`jaxrg.plots.lens`.
"""

from __future__ import annotations

import pathlib

import numpy as np

from jaxrg import _io
from jaxrg.plots import save
from jaxrg.plots._common import panel_grid
from jaxrg.plots._common import pyplot as _pyplot
from jaxrg.plots.lens import plot_ablation, plot_mean_profiles, plot_profile_heatmap, plot_scores

__all__ = ["families_figures", "lens_figures"]


def lens_figures(
    data: dict, meta: dict, config, out, *, answer_lengths,
    family_prompts: str = "BOS-only samples",
) -> list[pathlib.Path]:
    """The five figures of the reproduction (α = 1 where one order is shown).

    Args:
        data: ``{model: profiles}`` as cached by :mod:`jaxrg.studies.entropy_lens.experiment`.
        meta: ``{model: training record}`` (``family``, ``size``).
        config: the study's ``LensConfig``.
        out: output folder.
        answer_lengths: ``{task name: number of answer tokens}``, in task-index order
            (``ANSWER_LEN`` of the study's task module; passed in, since figures never import a
            study).
        family_prompts: what the family protocol's prompts are (for a title).

    Returns:
        The paths written.
    """
    tasks = list(answer_lengths)
    plt = _pyplot()
    out = pathlib.Path(out)
    a1 = list(config.alphas).index(1.0) if 1.0 in config.alphas else 0
    names = list(data)
    written = []

    fig, axes = panel_grid(len(names))
    for ax, name in zip(axes, names, strict=False):
        d = data[name]
        by_task = {
            t: d["task_profiles"][d["task"] == i, a1][..., : answer_lengths[t]].mean(-1)
            for i, t in enumerate(tasks)
        }
        plot_mean_profiles(by_task, ax=ax)
        ax.set_title(name, fontsize=9)
    fig.suptitle("Entropy profile per task (mean over answer tokens)", fontsize=10)
    written.append(_save(fig, out / "task_profiles.png"))

    fig, ax = plt.subplots(figsize=(5, 3.5))
    colors = {f: f"C{i % 10}" for i, f in enumerate(config.families)}
    dashes = ["-", "--", ":", "-."]
    styles = {
        n: {
            "color": colors[meta[n]["family"]],
            "linestyle": dashes[[s[0] for s in config.sizes].index(meta[n]["size"]) % 4],
        }
        for n in names
    }
    plot_mean_profiles(
        {n: data[n]["bos_profiles"][:, a1].mean(-1) for n in names},
        depth_normalised=True,
        ax=ax,
        styles=styles,
    )
    ax.set_title(f"{family_prompts}: profiles by model (colour = family)", fontsize=9)
    written.append(_save(fig, out / "family_profiles.png"))

    written.append(_heatmaps(data[names[-1]], names[-1], tasks, a1, out))

    fig, axes = panel_grid(len(names))
    for ax, name in zip(axes, names, strict=False):
        d = data[name]
        y = d["arith_correct"].astype(bool)
        prof = d["arith_profiles"][:, a1].mean(-1)
        groups = {f"correct ({y.sum()})": prof[y], f"wrong ({(~y).sum()})": prof[~y]}
        plot_mean_profiles({k: v for k, v in groups.items() if len(v)}, ax=ax)
        ax.set_title(f"{name}: modular addition", fontsize=9)
    written.append(_save(fig, out / "correctness_profiles.png"))

    ablation = _ablation(_read_results(out), out)
    return written + ([ablation] if ablation else [])


def _heatmaps(d: dict, name: str, tasks: list[str], a1: int, out: pathlib.Path) -> pathlib.Path:
    """``heatmaps.png``: layer × token entropy of one prompt per task, for model ``name``."""
    fig, axes = panel_grid(len(tasks), panel=(3.3, 2.8))
    for ax, (i, t) in zip(axes, enumerate(tasks), strict=True):
        row = int(np.flatnonzero(d["task"] == i)[0])
        plot_profile_heatmap(d["task_profiles"][row, a1], ax=ax, title=f"{name}: {t}")
    return _save(fig, out / "heatmaps.png")


def _ablation(records: list[dict], out: pathlib.Path) -> pathlib.Path | None:
    """``ablation.png`` from the records of ``results.jsonl`` (None when there are none)."""
    order = {"all": 0, "first-token": 1, "first": 2, "middle": 3, "last": 4}
    rows = sorted(
        (r for r in records if r["alpha"] == 1.0 and r["analysis"] in ("task", "family", "model")),
        key=lambda r: (r["analysis"], r["model"], order.get(r["features"], 9)),
    )
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:  # one panel per classification target, its feature sets side by side
        groups.setdefault((r["analysis"], r["model"]), []).append(r)
    if groups:
        fig, axes = panel_grid(len(groups), panel=(3.0, 2.6))
        for ax, ((analysis, model), group) in zip(axes, groups.items(), strict=True):
            plot_scores([r["features"] for r in group], [r["accuracy"] for r in group],
                        [r["dummy_accuracy"] for r in group], ax=ax,
                        ylabel="accuracy (10-fold CV)")
            ax.set_title(f"{analysis}, all models" if model == "all" else f"{analysis}: {model}",
                         fontsize=9)
            ax.get_legend().remove()
        # one legend for all panels, in the figure's bottom-right corner (a spare cell when the
        # last row is not full), so it hides no bar
        fig.legend(*axes[0].get_legend_handles_labels(), loc="lower right", fontsize=8,
                   frameon=False)
        fig.suptitle("k-NN accuracy: all layers, first token only, or one third of normalised "
                     "depth (α = 1)", fontsize=10)
        return _save(fig, out / "ablation.png")
    return None


def families_figures(data, meta, ablated, ablation, config, out, *,
                     answer_lengths) -> list[pathlib.Path]:
    """Figures of :mod:`jaxrg.studies.entropy_lens.families`: the first study's set for the
    12 models, and ``component_ablation.png``.

    Args:
        data: ``{model: profiles}`` of the 12 models.
        meta: ``{model: training record}``.
        ablated: ``{model: profiles}`` of the ablation models.
        ablation: rows of ``ablation_scores``.
        config: the study's ``FamiliesConfig``.
        out: output folder.
        answer_lengths: ``{task name: answer tokens}`` (see :func:`lens_figures`).

    Returns:
        The paths written.
    """
    plt = _pyplot()
    written = lens_figures(data, meta, config, out, answer_lengths=answer_lengths,
                           family_prompts="text prompts")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    plot_ablation(ablation, axes=axes)
    fig.suptitle(f"Ablation of {config.base}-{config.base_size}: one component at a time "
                 f"({len(ablated)} models)", fontsize=10)
    written.append(_save(fig, pathlib.Path(out) / "component_ablation.png"))
    return written


def _read_results(out: pathlib.Path) -> list[dict]:
    return _io.read_jsonl(out / "results.jsonl")


def _save(fig, path: pathlib.Path) -> pathlib.Path:
    fig.tight_layout()
    return save(fig, path)
