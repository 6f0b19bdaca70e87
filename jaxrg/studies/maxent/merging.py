r"""MaxEnt modules merged three ways: the paper's masked sum, task arithmetic and TIES.

Beyond "Composable subnetworks by the maximum-entropy principle" (its future work: "SOTA merging
procedures"): given ``n`` modules trained from one initialisation :math:`\theta_0` on disjoint
rewarded sets :math:`R_1..R_n` (``n`` = 2, 3, 5, ...), with pruning masks :math:`m_i`, merge

- ``"maxent"``: :math:`\sum_i \theta_i\odot m_i` (:func:`jaxrg.maxent.merge`);
- ``"task_arithmetic"``: :math:`\theta_0 + \lambda\sum_i(\theta_i\odot m_i - \theta_0)`;
- ``"ties"``: TIES on the same task vectors (:func:`jaxrg.merging.ties_merge`),

and report for each the accuracy on the union :math:`\bigcup_i R_i`, every module's R-Acc in the
merged model, and the loss barrier (ME loss on the union, linear reference) along the straight
path from each masked module to the merged model (the largest over modules).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxrg import maxent, merging
from jaxrg.studies.maxent import train as tm

__all__ = [
    "METHODS",
    "compare_merges",
    "merged_params",
]

METHODS = ("maxent", "task_arithmetic", "ties")


def merged_params(init, modules, masks, *, scale=1.0, density: float = 0.2) -> dict:
    r"""The three merges of the masked modules.

    Args:
        init: :math:`\theta_0`, the modules' shared initialisation.
        modules: list of trained parameter pytrees.
        masks: their boolean masks (list, same structure).
        scale: :math:`\lambda` of task arithmetic and TIES.
        density: fraction of each task vector kept by TIES.

    Returns:
        ``{method: params}`` for :data:`METHODS`.
    """
    masked = [tm.apply_mask(p, m) for p, m in zip(modules, masks, strict=True)]
    return {
        "maxent": maxent.merge(masked, masks)[0],
        "task_arithmetic": merging.task_arithmetic(init, masked, scale=scale),
        "ties": merging.ties_merge(init, masked, density=density, scale=scale),
    }


def compare_merges(graphdef, init, modules, masks, x, labels, groups, num_classes: int, *,
                   temperature=5.0, points: int = 11, scale=1.0, density: float = 0.2):
    r"""Union accuracy, per-module R-Acc and loss barrier of every merge method.

    Args:
        graphdef: the ``nnx`` graph definition of the model.
        init: the shared initialisation :math:`\theta_0`.
        modules: ``n`` trained parameter pytrees.
        masks: their boolean masks.
        x: ``(N, D)`` evaluation inputs.
        labels: ``(N,)`` integer labels.
        groups: ``n`` disjoint sequences of class ids (module ``i`` rewarded on ``groups[i]``).
        num_classes: ``C``.
        temperature: the MaxEnt temperature of the loss.
        points: path points (including both ends) for the barrier.
        scale: :math:`\lambda`.
        density: TIES density.

    Returns:
        One dict per method: ``method``, ``modules`` (``n``), ``union_accuracy``,
        ``module_r_acc`` (list), ``barrier`` (largest over modules) and ``barriers`` (list).
    """
    labels = jnp.asarray(labels)
    x = jnp.asarray(x)

    def rewarded(classes):
        return jnp.zeros((num_classes,), bool).at[jnp.asarray(list(classes))].set(True)

    def metrics(params, mask):
        t = maxent.targets(labels, mask, num_classes, kind="me").astype(x.dtype)
        return tm.evaluate(graphdef, params, x, labels, mask, t, jnp.asarray(temperature, x.dtype))

    union = rewarded([c for g in groups for c in g])
    ts = np.linspace(0.0, 1.0, int(points))
    masked = [tm.apply_mask(p, m) for p, m in zip(modules, masks, strict=True)]
    rows = []
    for method, params in merged_params(init, modules, masks, scale=scale,
                                        density=density).items():
        barriers = []
        for p in masked:
            losses = [float(metrics(maxent.connectivity_path(p, params, jnp.asarray(t, x.dtype),
                                                             kind="linear"), union).loss)
                      for t in ts]
            barriers.append(float(maxent.loss_barrier(jnp.asarray(ts), jnp.asarray(losses))))
        rows.append({
            "method": method,
            "modules": len(modules),
            "union_accuracy": float(metrics(params, union).r_acc),
            "module_r_acc": [float(metrics(params, rewarded(g)).r_acc) for g in groups],
            "barrier": max(barriers),
            "barriers": barriers,
        })
    return rows
