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
                   temperature=5.0, points: int = 11, scale=1.0, density: float = 0.2,
                   scales=None, x_val=None, labels_val=None):
    r"""Union accuracy, per-module R-Acc and loss barrier of every merge method.

    With ``scales`` (a grid of :math:`\lambda`), task arithmetic and TIES each take the
    :math:`\lambda` of highest union accuracy on the validation data ``(x_val, labels_val)``, as
    Ilharco et al. and Yadav et al. choose it (first of the grid on ties); the paper's merge has no
    :math:`\lambda`. Without ``scales`` both use ``scale``.

    Args:
        graphdef: the ``nnx`` graph definition of the model.
        init: the shared initialisation :math:`\theta_0`.
        modules: ``n`` trained parameter pytrees.
        masks: their boolean masks.
        x: ``(N, D)`` evaluation (test) inputs.
        labels: ``(N,)`` integer labels.
        groups: ``n`` disjoint sequences of class ids (module ``i`` rewarded on ``groups[i]``).
        num_classes: ``C``.
        temperature: the MaxEnt temperature of the loss.
        points: path points (including both ends) for the barrier.
        scale: :math:`\lambda` when ``scales`` is not given.
        density: TIES density.
        scales: optional sequence of candidate :math:`\lambda` (needs ``x_val``, ``labels_val``).
        x_val: ``(M, D)`` validation inputs for choosing :math:`\lambda`.
        labels_val: ``(M,)`` their labels.

    Returns:
        One dict per method: ``method``, ``modules`` (``n``), ``scale`` (the :math:`\lambda`
        used; ``None`` for ``"maxent"``), ``val_union_accuracy`` (``None`` without validation
        data), ``union_accuracy``, ``module_r_acc`` (list), ``barrier`` (largest over modules) and
        ``barriers`` (list).

    Raises:
        ValueError: ``scales`` without validation data, or an empty ``scales``.
    """
    labels = jnp.asarray(labels)
    x = jnp.asarray(x)
    if scales is not None:
        scales = [float(s) for s in scales]
        if not scales:
            raise ValueError("scales must hold at least one candidate lambda, e.g. (0.5, 1.0)")
        if x_val is None or labels_val is None:
            raise ValueError("choosing lambda from scales needs x_val and labels_val "
                             "(validation data); pass them, or a single scale= instead")

    def rewarded(classes):
        return jnp.zeros((num_classes,), bool).at[jnp.asarray(list(classes))].set(True)

    def metrics(params, mask, xs=x, ys=labels):
        t = maxent.targets(ys, mask, num_classes, kind="me").astype(xs.dtype)
        return tm.evaluate(graphdef, params, xs, ys, mask, t, jnp.asarray(temperature, xs.dtype))

    union = rewarded([c for g in groups for c in g])
    ts = np.linspace(0.0, 1.0, int(points))
    masked = [tm.apply_mask(p, m) for p, m in zip(modules, masks, strict=True)]
    chosen = {"maxent": None}
    if scales is None:
        merged = merged_params(init, modules, masks, scale=scale, density=density)
        chosen |= {"task_arithmetic": float(scale), "ties": float(scale)}
        val_acc = dict.fromkeys(METHODS)
    else:
        xv, yv = jnp.asarray(x_val), jnp.asarray(labels_val)
        merged = {"maxent": merged_params(init, modules, masks, density=density)["maxent"]}
        val_acc = {"maxent": float(metrics(merged["maxent"], union, xv, yv).r_acc)}
        for method in METHODS[1:]:
            best = None
            for lam in scales:
                params = merged_params(init, modules, masks, scale=lam, density=density)[method]
                acc = float(metrics(params, union, xv, yv).r_acc)
                if best is None or acc > best[0]:
                    best = (acc, lam, params)
            val_acc[method], chosen[method], merged[method] = best
    rows = []
    for method in METHODS:
        params = merged[method]
        barriers = []
        for p in masked:
            losses = [float(metrics(maxent.connectivity_path(p, params, jnp.asarray(t, x.dtype),
                                                             kind="linear"), union).loss)
                      for t in ts]
            barriers.append(float(maxent.loss_barrier(jnp.asarray(ts), jnp.asarray(losses))))
        rows.append({
            "method": method,
            "modules": len(modules),
            "scale": chosen[method],
            "val_union_accuracy": val_acc[method],
            "union_accuracy": float(metrics(params, union).r_acc),
            "module_r_acc": [float(metrics(params, rewarded(g)).r_acc) for g in groups],
            "barrier": max(barriers),
            "barriers": barriers,
        })
    return rows
