r"""Renormalised graphs on the same node set (Caso et al., IJCNN 2025; docs/design.md §3b).

With the meta-graph :math:`\zeta = \zeta(\tau)` (direct :math:`\zeta`-neighbours, diagonal 1):

.. math:: R = 1[\zeta A \zeta > 0] \wedge \neg 1[\zeta\zeta\zeta > 0], \qquad R_{ii} = 0 :

``i ~ j`` when a :math:`\zeta`-neighbour of ``i`` is adjacent to a :math:`\zeta`-neighbour of
``j`` (the propagation graph), except pairs already inside one macro-node (within three
:math:`\zeta`-steps; "intra-macro-node sparsification"). The result is an unweighted ``N × N``
graph, usually denser than the input.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from jaxrg import _checks
from jaxrg._validation import directed_adjacency
from jaxrg.lrg._kernel import nan_in, over_taus, prepare
from jaxrg.scales import characteristic_scales
from jaxrg.spectral import laplacian_spectrum
from jaxrg.thermo import resolve_formula


def rewire(
    adjacency,
    taus=None,
    mask: Bool[Array, " n"] | None = None,
    *,
    rtol: float | None = None,
    tau=None,
) -> Float[Array, "*t n n"]:
    r"""Renormalised graph :math:`R = 1[\zeta A\zeta>0] \wedge \neg 1[\zeta\zeta\zeta>0]`, no loops.

    Dense and jit-able (three ``N × N`` boolean products, done in float32, which is exact for a
    ``> 0`` test of non-negative integer sums). For graphs with more than a few thousand nodes use
    :func:`jaxrg.lrg.rewire_edges` (sparse output, no ``N × N`` temporaries).

    Args:
        adjacency: ``(N, N)`` symmetric non-negative adjacency (any form
            :func:`jaxrg.as_adjacency` takes); weights only matter through :math:`\zeta` and
            through which pairs are adjacent.
        taus: scalar or ``(T,)`` diffusion times ``> 0``.
        mask: optional ``(N,)`` node mask (padded rows and columns stay zero).
        rtol: decision tolerance of :func:`jaxrg.lrg.meta_graph`.
        tau: deprecated alias of ``taus`` (``DeprecationWarning``; removed in the next release).

    Returns:
        ``(N, N)`` (or ``(T, N, N)``) symmetric 0/1 adjacency in the dtype of ``adjacency``,
        zero diagonal; all NaN for a τ when ``adjacency`` or that τ holds NaN under ``jit``
        (eager calls raise instead).

    Raises:
        ValueError: bad adjacency or ``taus`` (see :func:`jaxrg.lrg.meta_graph`).
        TypeError: both ``taus`` and ``tau`` given, or neither.

    References:
        L. Caso et al., "Renormalized graph representations for node classification", IJCNN
        2025 (they report about five times the edges of Cora at :math:`\tau^* \approx 0.57`).

    Example:
        >>> import jax.numpy as jnp, jaxrg.lrg
        >>> path = jaxrg.as_adjacency((jnp.arange(5), jnp.arange(1, 6)))   # 0-1-2-3-4-5
        >>> r = jaxrg.lrg.rewire(path, 2.0)                            # {0,1} and {4,5} merge
        >>> jnp.argwhere(jnp.triu(r, 1)).tolist()
        [[0, 2], [1, 2], [2, 3], [3, 4], [3, 5]]
    """
    taus = _checks.renamed_taus(taus, tau, "rewire")
    adjacency, mask, taus, tol = prepare(adjacency, taus, mask, rtol)
    return over_taus(adjacency, taus, mask, tol, per_tau=_rewire_step)


def _rewire_step(adjacency, mask, zeta):
    # NaN in (tau or adjacency, under jit): NaN out, not a plausible edgeless graph
    return jnp.where(nan_in(zeta, mask), jnp.nan, _rewire_from_zeta(adjacency, zeta))


def _rewire_from_zeta(adjacency, zeta) -> jnp.ndarray:
    z = zeta.astype(jnp.float32)
    linked = (adjacency > 0).astype(jnp.float32)
    propagation = (z @ linked @ z) > 0
    inside = (((z @ z) > 0).astype(jnp.float32) @ z) > 0
    keep = propagation & ~inside & ~jnp.eye(zeta.shape[0], dtype=bool)
    return keep.astype(adjacency.dtype)


def rewire_directed(adjacency, taus, *, rtol: float | None = None) -> Float[Array, "*t n n"]:
    r"""The rewiring of Caso et al.'s code on a directed graph, as it runs on a PyG edge list.

    Their ``RSLRG`` takes ``A = to_dense_adj(edge_index)``, which is not symmetric when the
    edge list holds each edge once (PyG's ``Airports``, e.g. Europe), and computes, with
    :math:`A_{ij} = 1` for an edge :math:`i \to j`:

    .. math::
        L = D_{\mathrm{in}} - A,\quad D_{\mathrm{in}} = \mathrm{diag}\big(\textstyle\sum_i
        A_{ij}\big),\qquad \rho = e^{-\tau L},\qquad
        \zeta_{ij} = 1[\rho_{ij} \ge \min(\rho_{ii}, \rho_{jj})],

    .. math:: R = 1[\zeta A \zeta^\top > 0] \wedge \neg 1[\zeta\zeta\zeta^\top > 0].

    :math:`L` is the in-degree Laplacian (column sums; a self-loop cancels out of it), and
    :math:`\rho` is a general matrix exponential, not symmetric, so :math:`\zeta` and
    :math:`R` are directed too; :math:`R_{ij} = 1` is an edge :math:`i \to j`. On a symmetric
    adjacency (exactly :math:`A = A^\top`) this is :func:`rewire` at every τ: it is decided on
    :func:`rewire`'s zero-mode-free kernel normalised by :math:`\lambda_2` (``rtol`` then relative
    to that kernel's top eigenvalue 1), since ``expm``'s margins, of size
    :math:`e^{-\tau\lambda_2}`, sink under round-off at large τ (an 8-path at τ = 300 came back
    unchanged). On a non-symmetric adjacency a τ whose kernel has reached its stationary part
    within round-off (:math:`\max|\rho - \rho^2| / \max_i \rho_{ii}`, the decaying part,
    below ``rtol`` or below :math:`8\varepsilon\tau\|L\|_1`, ``expm``'s round-off; or
    :math:`\rho` overflowed) is refused: every decision there would be round-off (a directed
    8-cycle at τ = 300). Limits: this is a
    reproduction of their construction, not a directed LRG with a physical derivation — the
    kernel of a non-normal :math:`L` is not a density matrix, its entries can be negative, and
    the comparison with the diagonal is the undirected rule carried over unchanged. Dense
    (one ``N × N`` matrix exponential per τ); near-ties are left unlinked as in
    :func:`meta_graph`.

    Args:
        adjacency: ``(N, N)`` non-negative adjacency, dense or scipy sparse, ``A[i, j]`` the
            weight of the edge :math:`i \to j` (self-loops allowed); or a directed edge list
            ``(senders, receivers[, weights])`` such as PyG's ``tuple(edge_index)`` (or a
            GraphsTuple), each edge ``senders -> receivers`` listed once, never read as a
            ``(2, E)`` matrix; or a ``networkx.DiGraph``/``Graph`` (``"weight"``, default 1).
        taus: scalar or ``(T,)`` diffusion times ``> 0``.
        rtol: decision tolerance relative to :math:`\max_i \rho_{ii}`; default
            :func:`jaxrg.lrg.default_rtol`.

    Returns:
        ``(N, N)`` (or ``(T, N, N)``) 0/1 matrix in the dtype of ``adjacency``, zero diagonal,
        not symmetric in general; all NaN for a τ when ``adjacency`` or that τ holds NaN, or
        when that τ is beyond resolution (above), under ``jit`` (eager calls raise instead).

    Raises:
        ValueError: a non-square, negative or non-finite adjacency, an edge listed twice,
            ``taus <= 0``, a bad ``rtol``, or a τ beyond resolution on a non-symmetric
            adjacency (the message names the τ and the fix: a smaller τ).
        TypeError: an unsupported graph type or non-integer edge ids.

    References:
        F. Caso et al., "Renormalized graph representations for node classification", IJCNN
        2025 (``RSLRG`` in ``LaplacianRenormalizationGroup4.py`` of ``FrancescoCaso/RGR``).

    Example:
        >>> import jax.numpy as jnp, jaxrg.lrg
        >>> chain = jnp.zeros((4, 4)).at[jnp.array([1, 2, 3]), jnp.array([0, 1, 2])].set(1.0)
        >>> jnp.argwhere(jaxrg.lrg.rewire_directed(chain, 1.0)).tolist()  # 3 -> 2 -> 1 -> 0
        [[1, 0], [2, 1], [3, 1]]
    """
    from jaxrg.lrg._kernel import checked_rtol, default_rtol

    adjacency = directed_adjacency(adjacency)  # every form; an edge tuple is not a matrix
    n = _checks.check_square(adjacency)
    _checks.check_edge_weights(adjacency, "adjacency")
    taus = _checks.check_taus(taus).astype(adjacency.dtype)
    if taus.ndim > 1:
        raise ValueError(f"taus must be a scalar or 1-D (T,); got shape {taus.shape}.")
    tol = default_rtol(n, adjacency.dtype) if rtol is None else checked_rtol(rtol)
    out, resolved, worst = _rewire_directed(adjacency, taus, jnp.asarray(tol, adjacency.dtype))
    _checks.value_check(
        resolved,
        "rewire_directed: tau = {tau:.6g} is beyond the resolution of e^(-tau L) on this "
        "directed graph: its tau-dependent part, max|rho - rho^2| / max rho_ii = {part:.3g}, is "
        "below the round-off of the matrix exponential (or rho overflowed), so every decision "
        "that it carries would be round-off. Use a smaller tau (the kernel has reached its "
        "stationary part), or a symmetric adjacency (decided on the normalised kernel of "
        "rewire at any tau).",
        tau=worst[0], part=worst[1],
    )
    return out


@jax.jit
def _rewire_directed(adjacency, taus, tol):
    """``(R, resolved, (tau, part))``: R NaN for a τ beyond resolution (``resolved`` False)."""
    symmetric = jnp.all(adjacency == adjacency.T)
    # a symmetric adjacency is decided as rewire decides it: on the zero-mode-free kernel
    # normalised by lambda_2 (jaxrg.lrg._kernel), exact at any tau, where expm's absolute margins
    # sink under round-off once e^(-tau lambda_2) nears eps (an 8-path at tau = 300)
    return jax.lax.cond(symmetric, _symmetric_route, _directed_route, adjacency, taus, tol)


def _symmetric_route(adjacency, taus, tol):
    out = over_taus(adjacency, taus, None, tol, per_tau=_rewire_step)
    return out, jnp.array(True), (jnp.zeros((), taus.dtype), jnp.ones((), taus.dtype))


def _directed_route(adjacency, taus, tol):
    laplacian = jnp.diag(jnp.sum(adjacency, axis=0)) - adjacency
    eps = jnp.finfo(adjacency.dtype).eps
    norm = jnp.max(jnp.sum(jnp.abs(laplacian), axis=0))  # ||L||_1

    def one(tau):
        rho = jax.scipy.linalg.expm(-tau * laplacian)
        diag = jnp.diagonal(rho)
        scale = jnp.max(jnp.abs(diag))
        margin = rho - jnp.minimum(diag[:, None], diag[None, :])
        zeta = (margin > tol * scale) | jnp.eye(rho.shape[0], dtype=bool)
        z = zeta.astype(jnp.float32)
        linked = (adjacency > 0).astype(jnp.float32)
        propagation = (z @ linked @ z.T) > 0
        inside = ((z @ z) > 0).astype(jnp.float32) @ z.T > 0
        keep = propagation & ~inside & ~jnp.eye(rho.shape[0], dtype=bool)
        bad = ~(jnp.all(jnp.isfinite(adjacency)) & jnp.isfinite(tau))  # NaN in, NaN out
        # resolution: rho - rho^2 = R - R^2 for rho = P + R (P the stationary projector, R the
        # decaying part), so it measures R; expm's round-off grows like eps tau ||L||_1 (measured
        # <= 2.5x that on paths, cycles, karate), so below 8x that -- or below tol -- every
        # decision R carries is round-off (and a NaN rho is an overflow)
        part = jnp.max(jnp.abs(rho - jnp.matmul(rho, rho, precision=jax.lax.Precision.HIGHEST)))
        part = part / scale
        floor = jnp.maximum(tol, 8 * eps * tau * norm)
        resolved = bad | (jnp.all(jnp.isfinite(rho)) & (part > floor))
        return jnp.where(bad | ~resolved, jnp.nan, keep.astype(adjacency.dtype)), resolved, part

    if taus.ndim == 0:
        out, resolved, part = one(taus)
        return out, resolved, (taus, part)
    out, resolved, part = jax.vmap(one)(taus)
    first = jnp.argmin(resolved)  # the first unresolved tau (any, when all are resolved)
    return out, jnp.all(resolved), (taus[first], part[first])


class MultiscaleGraphs(NamedTuple):
    """Renormalised graphs at several scales.

    Attributes:
        taus: ``(T,)`` the scales.
        adjacency: ``(T, N, N)`` one :func:`rewire` graph per scale; ``adjacency[t]`` converts
            with :func:`jaxrg.to_graphs_tuple`.
    """

    taus: Float[Array, " t"]
    adjacency: Float[Array, "t n n"]


def multiscale_graphs(
    adjacency,
    taus=None,
    mask: Bool[Array, " n"] | None = None,
    *,
    which: str = "all",
    formula: str | None = None,
    variant: str | None = None,
    scale_grid=None,
    max_peaks: int = 8,
    min_prominence: float = 1e-2,
    rtol: float | None = None,
) -> MultiscaleGraphs:
    r"""One renormalised graph per scale, from one eigendecomposition (vmapped over scales).

    With ``taus=None`` the scales are the characteristic scales (peaks of the specific heat,
    :func:`jaxrg.characteristic_scales`, sorted by increasing :math:`\tau`): all of them
    (``which="all"``) or the first (``which="first"``, the :math:`\tau^*` of Caso et al.). Their
    choice of :math:`C` and grid is ``formula="heat-trace-curvature"``,
    ``scale_grid=jnp.logspace(-2, 4, 100)``. Choosing scales needs concrete input (the number of
    peaks is data); with explicit ``taus`` the function is jit-able.

    Args:
        adjacency: ``(N, N)`` adjacency (any form :func:`jaxrg.as_adjacency` takes).
        taus: optional ``(T,)`` scales.
        mask: optional ``(N,)`` node mask.
        which: ``"all"`` or ``"first"`` characteristic scale(s) (when ``taus`` is None).
        formula: ``"heat-capacity"`` (the default, also for None) or ``"heat-trace-curvature"`` (see
            :func:`jaxrg.specific_heat`; when ``taus`` is None).
        variant: deprecated alias of ``formula`` (``"exact"``, ``"authors"``); warns.
        scale_grid: optional grid for the peak search (default: :func:`jaxrg.default_taus`).
        max_peaks: at most this many scales (static).
        min_prominence: see :func:`jaxrg.characteristic_scales`.
        rtol: decision tolerance of :func:`jaxrg.lrg.meta_graph`.

    Returns:
        :class:`MultiscaleGraphs`.

    Raises:
        ValueError: bad ``which``/``formula``; no characteristic scale found.

    Example:
        >>> import jax.numpy as jnp, jaxrg.lrg
        >>> path = jaxrg.as_adjacency((jnp.arange(5), jnp.arange(1, 6)))
        >>> graphs = jaxrg.lrg.multiscale_graphs(path, jnp.array([0.1, 2.0]))
        >>> graphs.adjacency.shape, graphs.adjacency.sum(axis=(1, 2)).tolist()  # 2 x edges
        ((2, 6, 6), [10.0, 10.0])
    """
    if which not in ("all", "first"):
        raise ValueError(f"which must be 'all' or 'first'; got {which!r}.")
    formula = resolve_formula(formula, variant)
    if taus is None:
        adjacency, mask, _, _ = prepare(adjacency, 1.0, mask, rtol)
        peaks = _peaks(adjacency, mask, scale_grid, max_peaks=int(max_peaks),
                       min_prominence=float(min_prominence), formula=formula)
        found = np.asarray(peaks.taus)[np.asarray(peaks.valid)]
        if found.size == 0:
            raise ValueError(
                "the specific heat has no peak on this graph (e.g. a lattice-like plateau or a "
                "vertex-transitive graph); pass the scales explicitly with taus=..."
            )
        taus = found[:1] if which == "first" else found
    taus = jnp.asarray(taus)
    if taus.ndim != 1:
        raise ValueError(f"taus must be 1-D (T,); got shape {taus.shape}.")
    return MultiscaleGraphs(taus, rewire(adjacency, taus, mask, rtol=rtol))


@functools.partial(jax.jit, static_argnames=("max_peaks", "min_prominence", "formula"))
def _peaks(adjacency, mask, grid, *, max_peaks, min_prominence, formula):
    return characteristic_scales(laplacian_spectrum(adjacency, mask), grid, max_peaks=max_peaks,
                                 min_prominence=min_prominence, sort_by="tau", formula=formula)
