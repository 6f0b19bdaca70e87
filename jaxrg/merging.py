r"""Model merging by task vectors: task arithmetic and TIES, for any number of modules.

Modules :math:`\theta_1..\theta_n` fine-tuned (or MaxEnt-trained) from one starting point
:math:`\theta_0` have *task vectors* :math:`\tau_i = \theta_i - \theta_0`.

- **Task arithmetic** (Ilharco et al. 2023): :math:`\theta = \theta_0 + \lambda\sum_i \tau_i`.
- **TIES** (Yadav et al. 2023): *trim* every :math:`\tau_i` to its ``density`` fraction of
  largest-magnitude entries (over the whole vector, all leaves together), *elect* a sign per entry
  :math:`\gamma = \mathrm{sign}\sum_i \hat\tau_i`, and take the *disjoint mean* over the modules
  that agree with it: :math:`\tau_m = \sum_i [\mathrm{sign}\,\hat\tau_i = \gamma]\,\hat\tau_i /
  \max(1, \#\{i: \mathrm{sign}\,\hat\tau_i = \gamma\})`; :math:`\theta = \theta_0 + \lambda\tau_m`.

The paper's MaxEnt composition (:func:`jaxrg.maxent.merge`, a sum of masked modules) is the third
method these are compared with. Pure functions of parameter pytrees (a list of modules, or one
pytree with a leading module axis). Integer and boolean leaves are promoted to the default float
dtype: a merge is a real-valued combination (``1 + 0.5 * (2 - 1) = 1.5``, not the int 1).

References:
    G. Ilharco et al., "Editing models with task arithmetic", ICLR 2023.
    P. Yadav et al., "TIES-Merging: resolving interference when merging models", NeurIPS 2023.

Example:
    >>> import jax.numpy as jnp
    >>> base = {"w": jnp.zeros(3)}
    >>> mods = [{"w": jnp.array([1.0, -2.0, 0.1])}, {"w": jnp.array([1.0, 1.0, 0.0])}]
    >>> task_arithmetic(base, mods, scale=1.0)["w"].tolist()
    [2.0, -1.0, 0.1]
    >>> ties_merge(base, mods, density=1.0, scale=1.0)["w"].tolist()
    [1.0, -2.0, 0.1]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from jaxrg._checks import floating_leaves

__all__ = ["task_arithmetic", "task_vectors", "ties_merge"]


def _stacked(modules, base):
    """The modules on a leading axis: a list (or tuple) of pytrees like ``base`` is stacked; one
    pytree of ``base``'s structure (leaves with a leading module axis) is that already — also
    when ``base`` is itself a tuple or list, whose stacked form is then a tuple or list too
    (it was taken for a list of modules: "modules must have the tree structure of base")."""
    if isinstance(modules, list | tuple) and (
        jax.tree.structure(modules) != jax.tree.structure(base)
    ):
        if not modules:
            raise ValueError("modules must hold at least one parameter pytree.")
        return jax.tree.map(lambda *xs: jnp.stack(xs), *modules)
    return modules


def task_vectors(base, modules):
    r"""Task vectors :math:`\tau_i = \theta_i - \theta_0`, stacked on a leading module axis.

    Args:
        base: the starting parameters :math:`\theta_0` (a pytree).
        modules: a list of pytrees like ``base``, or one pytree with a leading module axis.

    Returns:
        A pytree like ``base`` with leaves ``(n,) + leaf.shape`` (integer and boolean leaves
        promoted to the default float dtype).

    Raises:
        ValueError: an empty list, or leaves whose shapes do not match ``base``.
    """
    base, stacked = floating_leaves(base), _stacked(modules, base)
    if jax.tree.structure(stacked) != jax.tree.structure(base):
        raise ValueError("modules must have the tree structure of base.")

    def diff(b, m):
        if m.shape[1:] != b.shape:
            raise ValueError(f"a module leaf has shape {m.shape[1:]}, base has {b.shape}.")
        if not jnp.issubdtype(m.dtype, jnp.inexact):  # an integer module: base's float dtype
            m = m.astype(b.dtype)
        return m - b[None]

    return jax.tree.map(diff, base, stacked)


def task_arithmetic(base, modules, *, scale=1.0):
    r"""Task arithmetic: :math:`\theta_0 + \lambda \sum_i (\theta_i - \theta_0)`.

    Args:
        base: :math:`\theta_0`.
        modules: the modules (list, or one pytree with a leading module axis).
        scale: :math:`\lambda` (not static; sweep it under ``vmap``).

    Returns:
        The merged pytree, like ``base`` (integer and boolean leaves promoted to the default
        float dtype).
    """
    base = floating_leaves(base)
    tau = task_vectors(base, modules)
    return jax.tree.map(lambda b, t: b + jnp.asarray(scale, b.dtype) * jnp.sum(t, 0), base, tau)


def ties_merge(base, modules, *, density: float = 0.2, scale=1.0):
    r"""TIES-merging: trim, elect sign, disjoint mean (Yadav et al. 2023).

    Args:
        base: :math:`\theta_0`.
        modules: the modules (list, or one pytree with a leading module axis).
        density: fraction in ``(0, 1]`` of each task vector's entries kept (largest magnitude,
            over all leaves together; ties at the threshold are kept). Static.
        scale: :math:`\lambda`.

    Returns:
        The merged pytree, like ``base`` (integer and boolean leaves promoted to the default
        float dtype); all NaN when a task vector holds a NaN (eagerly and under ``jit``).

    Raises:
        ValueError: ``density`` outside ``(0, 1]``.
    """
    if not 0.0 < float(density) <= 1.0:
        raise ValueError(f"density must be in (0, 1]; got {density}.")
    base = floating_leaves(base)
    tau = task_vectors(base, modules)
    flat0, unravel = ravel_pytree(base)
    flat = jax.vmap(lambda t: ravel_pytree(t)[0])(tau)  # (n, P)
    keep = max(1, int(round(float(density) * flat.shape[1])))
    # k-th largest magnitude per module: entries at or above it survive the trim
    threshold = jax.lax.top_k(jnp.abs(flat), keep)[0][:, -1:]
    trimmed = jnp.where(jnp.abs(flat) >= threshold, flat, jnp.zeros((), flat.dtype))
    sign = jnp.sign(jnp.sum(trimmed, 0))
    agree = (jnp.sign(trimmed) == sign[None]) & (trimmed != 0)
    count = jnp.maximum(jnp.sum(agree, 0), 1).astype(flat.dtype)
    merged = jnp.sum(jnp.where(agree, trimmed, jnp.zeros((), flat.dtype)), 0) / count
    # NaN in: every trim threshold and sign vote is undefined, so NaN out (the trim would
    # otherwise drop the NaN entries and return a finite, plausible merge)
    merged = jnp.where(jnp.any(jnp.isnan(flat)), jnp.nan, merged)
    return unravel(flat0 + jnp.asarray(scale, flat0.dtype) * merged)
