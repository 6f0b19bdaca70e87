"""Markdown tables of the Entropy-Lens reproduction
(:mod:`jaxrg.studies.entropy_lens.experiment`)."""

from __future__ import annotations

from jaxrg.studies.entropy_lens import tasks as tasks_mod

__all__ = ["report"]


def report(summary: dict) -> str:
    """Markdown tables of the training run and every protocol."""
    res = summary["results"]
    lines = [
        "# Entropy-Lens on small trained transformers",
        "",
        "Published (Ali et al. 2025, real LLMs): "
        + "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary["published"].items()),
        "",
        "## Models",
        "",
        "| model | layers | width | params | final loss | copy | sort | count | add |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary["training"]:
        acc = r["task_accuracy"]
        lines.append(
            f"| {r['model']} | {r['layers']} | {r['width']} | {r['params']} | "
            f"{r['final_loss']:.3f} | "
            + " | ".join(f"{acc[t]:.2f}" for t in tasks_mod.TASKS)
            + " |"
        )

    def table(title, rows, extra=""):
        lines.extend(
            [
                "",
                f"## {title}",
                "",
                f"| model | α | features | accuracy | macro F1 | "
                f"ROC-AUC | dummy acc | dummy AUC | p (AUC vs dummy){extra} |",
                "|---|---|---|---|---|---|---|---|---|" + ("---|" if extra else ""),
            ]
        )
        for r in rows:
            tail = f" | {r['base_rate']:.2f}" if extra else ""
            lines.append(
                f"| {r['model']} | {r['alpha']} | {r['features']} | {r['accuracy']:.3f} | "
                f"{r['f1']:.3f} | {r['roc_auc']:.3f} | {r['dummy_accuracy']:.3f} | "
                f"{r['dummy_roc_auc']:.3f} | {r['p_value']:.1e}{tail} |"
            )

    table("Task type (4 tasks, k-NN k=29, 10-fold)", [r for r in res if r["analysis"] == "task"])
    table(
        "Correctness of modular addition (binary)",
        [r for r in res if r["analysis"] == "correct"],
        " | model accuracy",
    )
    scored = {r["model"] for r in res if r["analysis"] == "correct"}
    for r in summary["training"]:
        if r["model"] not in scored:
            lines.append(
                f"\n{r['model']}: modular-addition accuracy {r['add_accuracy']:.3f}, fewer right "
                "or wrong answers than folds: no correctness classifier."
            )
    num_families = len({r["family"] for r in summary["training"]})
    prompts = summary.get("family_prompts", "BOS-only samples")
    table(
        f"Family ({num_families} classes) from {prompts}, depth-normalised",
        [r for r in res if r["analysis"] == "family"],
    )
    table(
        "Model identity (family × size) from BOS-only samples",
        [r for r in res if r["analysis"] == "model"],
    )
    return "\n".join(lines) + "\n"
