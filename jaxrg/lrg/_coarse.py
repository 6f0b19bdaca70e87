r"""Coarse-graining by macro-nodes and the LRG flow (Villegas et al., Nature Physics 2023).

One step: macro-nodes = connected components of the meta-graph :math:`\zeta(\tau)`; with the
``N × n`` membership matrix :math:`P`, the coarse graph is :math:`A' = 1[P^\top A P > 0]` with
zero diagonal (or :math:`P^\top A P` off the diagonal with ``weighted=True``). Shapes stay static:
the coarse graph is stored ``N × N`` with its ``n`` real nodes first and a node mask, so steps
iterate under ``lax.scan``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Bool, Float, Int

from jaxrg import _checks
from jaxrg.lrg._kernel import macro_nodes, nan_in, over_taus, prepare
from jaxrg.scales import characteristic_scales
from jaxrg.spectral import laplacian_spectrum
from jaxrg.thermo import resolve_formula


class CoarseGraph(NamedTuple):
    """One coarse-graining step; every field gains a leading ``(T,)`` axis for ``(T,)`` taus.

    Attributes:
        adjacency: ``(N, N)`` coarse adjacency; macro-node ``a`` is row ``a`` (``a < count``),
            the remaining rows and columns are zero padding. All NaN when the input held NaN
            under ``jit`` (eager calls raise).
        mask: ``(N,)`` boolean, True for the ``count`` real coarse nodes (none when NaN in).
        membership: ``(N, N)`` boolean :math:`P`, ``P[i, a]`` iff node ``i`` lies in macro-node
            ``a``; all False when NaN in.
        index: ``(N,)`` int, the macro-node of each node (-1 for padding; every entry -1 when
            NaN in).
        count: scalar int, the number of macro-nodes; -1 when the input held NaN under
            ``jit`` (as :func:`macro_node_counts`).
    """

    adjacency: Float[Array, "*t n n"]
    mask: Bool[Array, "*t n"]
    membership: Bool[Array, "*t n n"]
    index: Int[Array, "*t n"]
    count: Int[Array, " *t"]


def coarse_grain(
    adjacency,
    taus=None,
    mask: Bool[Array, " n"] | None = None,
    *,
    weighted: bool = False,
    rtol: float | None = None,
    tau=None,
) -> CoarseGraph:
    r"""Merge each macro-node of :math:`\zeta(\tau)` into one node: :math:`A' = 1[P^\top A P > 0]`.

    Args:
        adjacency: ``(N, N)`` symmetric non-negative adjacency (any form
            :func:`jaxrg.as_adjacency` takes).
        taus: scalar or ``(T,)`` diffusion times ``> 0`` (one ``eigh`` serves them all).
        mask: optional ``(N,)`` node mask.
        weighted: keep the summed weights :math:`(P^\top A P)_{ab}` instead of 0/1.
        rtol: decision tolerance of :func:`jaxrg.lrg.meta_graph`.
        tau: deprecated alias of ``taus`` (``DeprecationWarning``; removed in the next release).

    Returns:
        :class:`CoarseGraph`.

    Raises:
        ValueError: bad adjacency or ``taus`` (see :func:`jaxrg.lrg.meta_graph`).
        TypeError: both ``taus`` and ``tau`` given, or neither.

    Example:
        >>> import jax.numpy as jnp, jaxrg.lrg
        >>> path = jaxrg.as_adjacency((jnp.arange(5), jnp.arange(1, 6)))   # path of 6 nodes
        >>> coarse = jaxrg.lrg.coarse_grain(path, 2.0)
        >>> int(coarse.count), coarse.index.tolist()
        (4, [0, 0, 1, 2, 3, 3])
        >>> coarse.adjacency[:4, :4].astype(int).tolist()              # a path of 4 nodes
        [[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]]
    """
    taus = _checks.renamed_taus(taus, tau, "coarse_grain")
    adjacency, mask, taus, tol = prepare(adjacency, taus, mask, rtol)
    weighted = _checks.check_flag(weighted, "weighted")
    return over_taus(adjacency, taus, mask, tol, per_tau=_coarse, options=(weighted,))


def _coarse(adjacency, mask, zeta, weighted: bool) -> CoarseGraph:
    n = adjacency.shape[0]
    blocks = macro_nodes(zeta, mask)
    membership = blocks.index[:, None] == jnp.arange(n, dtype=blocks.index.dtype)[None, :]
    p = membership.astype(adjacency.dtype)
    summed = p.T @ adjacency @ p
    summed = jnp.where(jnp.eye(n, dtype=bool), 0, summed)
    coarse = summed if weighted else (summed > 0).astype(adjacency.dtype)
    # NaN in (under jit): NaN out, and count -1 as macro_node_counts gives
    # (index -1 and no membership, as padding: not the identity, a plausible "nothing merged")
    bad = nan_in(zeta, mask)
    coarse = jnp.where(bad, jnp.nan, coarse)
    count = jnp.where(bad, -1, blocks.count)
    index = jnp.where(bad, -1, blocks.index)
    return CoarseGraph(coarse, jnp.arange(n) < count, membership & ~bad, index, count)


def macro_node_counts(
    adjacency, taus, mask: Bool[Array, " n"] | None = None, *, rtol: float | None = None
) -> Int[Array, " t"]:
    """Number of macro-nodes of :math:`\\zeta(\\tau)` on a grid of ``taus`` (the flow's size curve).

    One ``eigh``; the meta-graphs are built one ``tau`` at a time (``lax.map``), so memory stays
    ``O(N^2)`` for any grid.

    The count need not decrease with ``tau``. As :math:`\\tau \\to \\infty` the kernel tends to
    :math:`u_2 u_2^\\top` (simple Fiedler value, :math:`u_2` the Fiedler vector), and
    :math:`u_i u_j \\ge \\min(u_i^2, u_j^2)` holds exactly when :math:`u_i, u_j` share a sign: a
    connected graph ends in the two sign classes of :math:`u_2`, even after one macro-node at
    intermediate ``tau`` (karate: 1 for ``tau`` in about ``[2, 3.5]``, 2 beyond), where higher
    modes still link across the sign boundary. This is the rule, not round-off.

    Args:
        adjacency: ``(N, N)`` adjacency (any form :func:`jaxrg.as_adjacency` takes).
        taus: ``(T,)`` diffusion times ``> 0``.
        mask: optional ``(N,)`` node mask.
        rtol: decision tolerance of :func:`jaxrg.lrg.meta_graph`.

    Returns:
        ``(T,)`` int counts; -1 where ``taus`` or ``adjacency`` held NaN under ``jit``.

    Example:
        >>> import jax.numpy as jnp, jaxrg.lrg
        >>> path = jaxrg.as_adjacency((jnp.arange(5), jnp.arange(1, 6)))
        >>> jaxrg.lrg.macro_node_counts(path, jnp.array([0.1, 2.0, 1e3])).tolist()
        [6, 4, 2]
    """
    adjacency, mask, taus, tol = prepare(adjacency, taus, mask, rtol)
    if taus.ndim != 1:
        raise ValueError(f"taus must be 1-D (T,); got shape {taus.shape}.")
    return over_taus(adjacency, taus, mask, tol, per_tau=_count, sequential=True)


def _count(adjacency, mask, zeta):
    return jnp.where(nan_in(zeta, mask), -1, macro_nodes(zeta, mask).count)


class RGFlow(NamedTuple):
    """An LRG flow of ``T`` coarse-graining steps (static shapes, padded as :class:`CoarseGraph`).

    Attributes:
        taus: ``(T,)`` the scale used at each step (NaN where ``C`` had no peak: no step taken).
        sizes: ``(T + 1,)`` int, number of nodes before the first step and after each step.
        index: ``(T, N)`` int, the coarse node holding each original node after step ``t``
            (-1 for padding).
        adjacency: ``(T, N, N)`` coarse graph after each step.
        mask: ``(T, N)`` its node mask.

    NaN in under ``jit`` (in the adjacency, or a NaN scale given): from the first step that
    meets it on, ``taus`` is NaN, ``sizes`` -1 (the marker of :func:`macro_node_counts`;
    ``sizes[0]`` stays the input's node count), ``index`` -1, ``adjacency`` NaN and ``mask``
    all False -- never the output of a valid graph without a peak (NaN scale, sizes kept).
    """

    taus: Float[Array, " t"]
    sizes: Int[Array, " t1"]
    index: Int[Array, "t n"]
    adjacency: Float[Array, "t n n"]
    mask: Bool[Array, "t n"]


def rg_flow(
    adjacency,
    taus=None,
    mask: Bool[Array, " n"] | None = None,
    *,
    steps: int | None = None,
    scale: str = "first",
    formula: str | None = None,
    variant: str | None = None,
    weighted: bool = False,
    rtol: float | None = None,
    num_taus: int = 512,
) -> RGFlow:
    r"""Iterate :func:`coarse_grain`: a ``lax.scan`` over steps, recording sizes and memberships.

    Either ``taus`` gives the scale of every step, or ``steps`` steps choose their own scale
    from the specific heat of the current coarse graph: its first peak (``scale="first"``, the
    smallest :math:`\tau^*`) or its highest (``scale="highest"``), computed with
    :func:`jaxrg.characteristic_scales` (``formula="heat-trace-curvature"`` for Caso et al.'s
    C). A step whose graph has no peak left (e.g. one node) records NaN and keeps the graph.

    Args:
        adjacency: ``(N, N)`` adjacency (any form :func:`jaxrg.as_adjacency` takes).
        taus: optional ``(T,)`` scales, one per step.
        mask: optional ``(N,)`` node mask.
        steps: number of steps with automatic scales (static; required when ``taus`` is None).
        scale: ``"first"`` or ``"highest"`` peak of ``C`` (automatic scales only).
        formula: ``"heat-capacity"`` (the default, also for None) or ``"heat-trace-curvature"`` (see
            :func:`jaxrg.specific_heat`; automatic scales only).
        variant: deprecated alias of ``formula`` (``"exact"``, ``"authors"``); warns.
        weighted: sum the weights when merging (see :func:`coarse_grain`).
        rtol: decision tolerance of :func:`jaxrg.lrg.meta_graph`.
        num_taus: grid size for the peak search (static).

    Returns:
        :class:`RGFlow`.

    Raises:
        ValueError: neither or inconsistent ``taus``/``steps``; bad ``scale``/``formula``.

    Example:
        >>> import jax.numpy as jnp, jaxrg.lrg
        >>> path = jaxrg.as_adjacency((jnp.arange(7), jnp.arange(1, 8)))   # path of 8 nodes
        >>> flow = jaxrg.lrg.rg_flow(path, jnp.array([2.0, 2.0, 2.0]))
        >>> flow.sizes.tolist()
        [8, 6, 4, 2]
    """
    if scale not in ("first", "highest"):
        raise ValueError(f"scale must be 'first' or 'highest'; got {scale!r}.")
    formula = resolve_formula(formula, variant)
    if taus is None:
        if steps is None:
            raise ValueError("give the scales (taus=...) or a number of steps >= 1 (steps=...).")
        steps = _checks.check_int(steps, "steps", meaning="RG steps")
        xs = jnp.zeros(int(steps))
    else:
        xs = jnp.asarray(taus)
        if xs.ndim != 1 or (steps is not None and xs.shape[0] != steps):
            raise ValueError(
                f"taus must be 1-D with one scale per step; got shape {xs.shape}"
                + (f" and steps={steps}." if steps is not None else ".")
            )
    adjacency, mask, _, tol = prepare(adjacency, 1.0, mask, rtol)
    if taus is not None:
        _checks.check_taus(xs, "taus")
    return _flow(adjacency, xs.astype(adjacency.dtype), mask, tol, automatic=taus is None,
                 scale=scale, formula=formula, weighted=_checks.check_flag(weighted, "weighted"),
                 num_taus=int(num_taus))


@functools.partial(
    jax.jit, static_argnames=("automatic", "scale", "formula", "weighted", "num_taus")
)
def _flow(adjacency, xs, mask, tol, *, automatic, scale, formula, weighted, num_taus):
    n = adjacency.shape[0]
    real = jnp.ones(n, bool) if mask is None else mask
    start_index = jnp.where(real, jnp.arange(n, dtype=jnp.int32), -1)

    def step(carry, tau_given):
        graph, graph_mask, index, bad = carry
        if automatic:
            peaks = characteristic_scales(
                laplacian_spectrum(graph, graph_mask), num_taus=num_taus, formula=formula,
                sort_by="tau" if scale == "first" else "height",
            )
            tau, ok = peaks.taus[0], peaks.valid[0]
        else:
            tau, ok = tau_given, jnp.array(True)
        # with no peak (ok False) the step runs at tau = 1 only to learn whether the graph holds
        # NaN: coarse_grain's count -1 (a NaN spectrum has no peak either, but is NaN in)
        coarse = over_taus(graph, jnp.where(ok, tau, 1), graph_mask, tol, per_tau=_coarse,
                           options=(weighted,))
        bad = bad | (coarse.count < 0)  # and stays bad: the NaN graph has no real nodes left
        new_index = jnp.where(index >= 0, coarse.index[jnp.clip(index, 0, n - 1)], -1)
        new = (
            jnp.where(bad, jnp.nan, jnp.where(ok, coarse.adjacency, graph)),
            jnp.where(ok & ~bad, coarse.mask, graph_mask & ~bad),
            jnp.where(bad, -1, jnp.where(ok, new_index.astype(jnp.int32), index)),
        )
        size = jnp.where(bad, -1, jnp.sum(new[1]))
        record = (jnp.where(ok & ~bad, tau, jnp.nan), size, *new)
        return (*new, bad), record

    _, (step_taus, sizes, graphs, masks, index) = lax.scan(
        step, (adjacency, real, start_index, jnp.array(False)), xs
    )
    sizes = jnp.concatenate([jnp.sum(real)[None].astype(sizes.dtype), sizes])
    return RGFlow(step_taus, sizes, index, graphs, masks)
