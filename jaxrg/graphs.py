r"""Graphs as users hold them, turned into dense adjacency matrices; padding; components.

jaxrg works on undirected graphs with non-negative edge weights, stored as a dense symmetric
adjacency :math:`A \in \mathbb{R}_{\ge 0}^{N \times N}` with zero diagonal. Everything else a user
may hold converts through :func:`as_adjacency`:

* a dense array (NumPy or JAX), ``(N, N)``;
* an edge list, as a **tuple** ``(senders, receivers)`` or ``(senders, receivers, weights)``
  (see :func:`from_edge_list`);
* a single-graph ``jraph.GraphsTuple`` (``edges`` of shape ``(E,)`` or ``(E, 1)`` are weights);
* a ``networkx.Graph`` (the ``"weight"`` attribute, default 1; node order of ``G.nodes``);
* a ``scipy.sparse`` matrix or array, or a ``jax.experimental.sparse`` BCOO/BCSR matrix.

**One rule per question, for every input form** (edge lists, arrays, ``scipy.sparse``,
networkx, and the files of :mod:`jaxrg.graph_io`; catalogue in ``docs/bad_inputs.md``):

* *Duplicates.* A graph is simple: each undirected edge is given once, or once in each
  direction with the same weight. Any other repeat (a pair listed twice, a duplicate entry of a
  ``scipy.sparse`` matrix, parallel edges of a ``networkx.MultiGraph`` or of a GML/GraphML file)
  is refused with a ``ValueError`` naming the edge; merge the repeats first (sum or max).
* *Direction.* jaxrg needs an undirected graph. An edge list is undirected by definition (a
  line ``u v`` is the edge {u, v}); both directions with different weights, an asymmetric
  matrix, a ``networkx.DiGraph`` or a directed GraphML/GML file are refused with the fix.
* *Orientation.* A 2-D array or list of lists is a dense ``(N, N)`` adjacency; an edge list is
  a **tuple**. A non-square ``(E, 2)``/``(E, 3)`` array is refused with the fix
  (``tuple(edges.T)``), and an integer ``(2, 2)`` array that reads as a different graph when
  taken as two ``(u, v)`` pairs is refused as ambiguous (pass a tuple, or a float matrix).
* *Node ids* are integers (never parsed as floats) and are row numbers: ids missing from an
  edge list are isolated nodes (the CLI renumbers ids that do not start at 0).

Graphs of different sizes are batched by padding to a common ``N`` with a boolean node mask
(:func:`pad_adjacency`); every reduction in jaxrg satisfies ``f(pad(g)) == f(g)``.

Example:
    >>> import jaxrg
    >>> a = jaxrg.as_adjacency(([0, 1, 2], [1, 2, 0]))   # a triangle, each edge listed once
    >>> a.tolist()
    [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from jaxrg import _checks, _host
from jaxrg._components import dense_neighbour_min, propagate_min_labels
from jaxrg._validation import dense_graph, directed_adjacency

__all__ = [
    "Components",
    "PaddedBatch",
    "as_adjacency",
    "circulation",
    "connected_components",
    "from_edge_list",
    "largest_connected_component",
    "pad_adjacency",
    "to_graphs_tuple",
]


def from_edge_list(
    senders,
    receivers,
    weights=None,
    *,
    num_nodes: int | None = None,
    remove_self_loops: bool = True,
    dtype=None,
) -> Float[Array, "n n"]:
    r"""Dense symmetric adjacency from an undirected edge list.

    Each undirected edge is listed once or once in each direction with the same weight:
    :math:`A_{sr} = A_{rs} = w`. Any other repeat is refused (see the rules in the module
    docstring). Under ``jit`` (traced ids) the repeats cannot be checked; a repeated pair then
    keeps its largest weight.

    Args:
        senders: ``(E,)`` integer node ids in ``[0, num_nodes)``.
        receivers: ``(E,)`` integer node ids.
        weights: optional ``(E,)`` non-negative weights (default 1).
        num_nodes: ``N`` (static). Default: ``max(senders, receivers) + 1`` (concrete input only).
        remove_self_loops: drop pairs with ``s == r`` (the combinatorial Laplacian ignores them).
        dtype: floating dtype of the result (default: JAX's default float).

    Returns:
        ``(N, N)`` adjacency.

    Raises:
        ValueError: mismatched shapes, ids out of range, negative or non-finite weights, a
            repeated edge or an edge whose two directions have different weights.
    """
    remove_self_loops = _checks.check_flag(remove_self_loops, "remove_self_loops")
    senders, receivers = _checks.edge_ids(senders), _checks.edge_ids(receivers)
    concrete = _checks.is_concrete(senders) and _checks.is_concrete(receivers)
    if concrete and _checks.is_concrete(weights):
        # host input is built on the host (NumPy) and moved once: no small device programs
        return _from_host_edges(
            senders, receivers, weights, num_nodes, remove_self_loops=remove_self_loops,
            dtype=dtype,
        )
    senders, receivers = jnp.asarray(senders), jnp.asarray(receivers)
    _checks.check_edge_ids(senders, receivers)
    num_nodes = _checks.check_num_nodes(num_nodes)
    if concrete:
        num_nodes = _host.node_count(senders, receivers, num_nodes)
    elif num_nodes is None:
        raise ValueError("num_nodes must be given when the edge list is traced (under jit).")
    else:  # traced ids: an out-of-range scatter would be dropped silently
        inside = (senders >= 0) & (senders < num_nodes) & (receivers >= 0) & (receivers < num_nodes)
        _checks.value_check(
            jnp.all(inside),
            f"node ids must lie in [0, num_nodes={num_nodes}). Relabel the nodes to 0..N-1, or "
            "pass num_nodes > the largest id.",
        )
    _checks.check_dense_size(num_nodes, "the edge list")  # before allocating (no OOM abort)
    dtype = dtype or jnp.result_type(float)
    if weights is None:
        weights = jnp.ones(senders.shape, dtype)
    else:
        weights = _checks.as_float_array(weights, "weights", dtype=dtype, normal=True)
        if weights.shape != senders.shape:
            raise ValueError(
                f"weights must have shape {senders.shape} (one per edge); got {weights.shape}."
            )
        _checks.value_check(
            jnp.all(jnp.isfinite(weights)) & jnp.all(weights >= 0),
            "weights must be finite and non-negative.",
        )
    adjacency = jnp.zeros((num_nodes, num_nodes), dtype)
    if remove_self_loops:
        weights = jnp.where(senders == receivers, jnp.zeros((), dtype), weights)
    return adjacency.at[senders, receivers].max(weights).at[receivers, senders].max(weights)


def _from_host_edges(senders, receivers, weights, num_nodes, *, remove_self_loops, dtype):
    """:func:`from_edge_list` of concrete input, in NumPy: the same checks, rules and result."""
    dtype = jax.dtypes.canonicalize_dtype(
        jnp.result_type(float) if dtype is None else _checks.check_float_dtype(dtype)
    )
    s, r, w, num_nodes = _host.host_edges(senders, receivers, weights, num_nodes, dtype)
    if remove_self_loops:
        s, r, w = s[s != r], r[s != r], w[s != r]
    lo, hi, w = _host.undirected_edges(s, r, w)
    adjacency = np.zeros((num_nodes, num_nodes), dtype)
    adjacency[lo, hi] = w
    adjacency[hi, lo] = w
    return jax.device_put(adjacency)  # a transfer, no compiled copy (jnp.asarray compiles one)


def as_adjacency(
    graph, *, num_nodes: int | None = None, remove_self_loops: bool = True, dtype=None
) -> Float[Array, "n n"]:
    """Dense ``(N, N)`` adjacency from any supported graph form (see the module docstring).

    Args:
        graph: dense array, ``(senders, receivers[, weights])``, single-graph
            ``jraph.GraphsTuple``, ``networkx.Graph``, ``scipy.sparse`` or JAX sparse matrix.
        num_nodes: ``N`` for edge lists (default: largest id + 1).
        remove_self_loops: zero the diagonal.
        dtype: floating dtype (default: JAX's default float); integer/boolean inputs are cast.

    Returns:
        ``(N, N)`` symmetric adjacency, validated (finite, non-negative, symmetric).

    Raises:
        TypeError: unsupported graph type (e.g. a ``networkx.DiGraph``).
        ValueError: wrong shape, asymmetric, negative or non-finite weights.
    """
    remove_self_loops = _checks.check_flag(remove_self_loops, "remove_self_loops")
    module = type(graph).__module__ or ""
    if hasattr(graph, "senders") and hasattr(graph, "n_node"):
        adjacency = _from_graphs_tuple(graph, remove_self_loops=remove_self_loops, dtype=dtype)
        _checks.check_matching_nodes(num_nodes, adjacency.shape[0])
        return adjacency
    if isinstance(graph, tuple):
        if len(graph) not in (2, 3):
            raise TypeError(
                "a tuple is read as an edge list (senders, receivers[, weights]); got a tuple of "
                f"length {len(graph)}. Pass a dense matrix as an array or a list of lists."
            )
        return from_edge_list(
            *graph, num_nodes=num_nodes, remove_self_loops=remove_self_loops, dtype=dtype
        )
    if module.startswith("networkx"):
        adjacency = _from_networkx(graph, remove_self_loops=remove_self_loops, dtype=dtype)
        _checks.check_matching_nodes(num_nodes, adjacency.shape[0])
        return adjacency
    graph = _host.dense_form(graph)  # the same container rules as the host (batch) path
    adjacency = _checks.as_float_array(graph, "adjacency", dtype=dtype, normal=True)
    _checks.check_matching_nodes(num_nodes, _checks.check_square(adjacency))
    _checks.check_adjacency_values(adjacency)
    if remove_self_loops:
        adjacency = adjacency * (1 - jnp.eye(adjacency.shape[0], dtype=adjacency.dtype))
    return adjacency


def _from_graphs_tuple(graph, *, remove_self_loops: bool, dtype) -> jax.Array:
    n_node = np.asarray(graph.n_node)
    if n_node.size != 1:
        raise ValueError(
            f"the GraphsTuple holds {n_node.size} graphs; convert one at a time "
            "(jraph.unbatch) or use jaxrg.pad_adjacency for a padded batch."
        )
    edges = graph.edges
    weights = None
    if edges is not None and not isinstance(edges, dict):
        edges = jnp.asarray(edges)
        if edges.ndim == 1 or (edges.ndim == 2 and edges.shape[1] == 1):
            weights = edges.reshape(-1)
    return from_edge_list(
        graph.senders,
        graph.receivers,
        weights,
        num_nodes=int(n_node.reshape(())),
        remove_self_loops=remove_self_loops,
        dtype=dtype,
    )


def _from_networkx(graph, *, remove_self_loops: bool, dtype) -> jax.Array:
    adjacency = _host.networkx_dense(graph)
    return as_adjacency(adjacency, remove_self_loops=remove_self_loops, dtype=dtype)


class PaddedBatch(NamedTuple):
    """A batch of graphs padded to one size; ``vmap`` over the leading axis of both fields.

    Attributes:
        adjacency: ``(B, N, N)``, rows and columns of padded nodes are zero.
        mask: ``(B, N)`` boolean, True for real nodes (the first ``n_b`` of graph ``b``).
    """

    adjacency: Float[Array, "b n n"]
    mask: Bool[Array, "b n"]


def pad_adjacency(graphs: Sequence, *, num_nodes: int | None = None, dtype=None) -> PaddedBatch:
    """Pad graphs of different sizes to one ``(B, N, N)`` batch with a node mask.

    Runs on the host in NumPy (padding is data preparation, STYLE.md): graphs are converted
    and validated by :mod:`jaxrg._host`, with no JAX compilation per graph size. The result
    goes through one ``jax.vmap``. A multi-graph ``jraph.GraphsTuple`` is split into its graphs
    first. Self-loops are kept, as :func:`jaxrg.laplacian_spectrum` keeps them for one graph:
    they cancel in :math:`L = D - A` and count towards the degree in the normalised Laplacian.

    Args:
        graphs: a sequence of anything :func:`as_adjacency` takes, or a batched GraphsTuple.
        num_nodes: padded size ``N`` (default: the largest graph).
        dtype: floating dtype.

    Returns:
        :class:`PaddedBatch` of JAX arrays ``(B, N, N)`` and ``(B, N)``.

    Raises:
        ValueError: empty ``graphs``, ``num_nodes`` below the largest graph, or a graph that is
            not finite, non-negative and symmetric (the message gives its position).

    Example:
        >>> import jaxrg
        >>> batch = jaxrg.pad_adjacency([([0], [1]), ([0, 1], [1, 2])])
        >>> batch.adjacency.shape, batch.mask.tolist()
        ((2, 3, 3), [[True, True, False], [True, True, True]])
    """
    if hasattr(graphs, "senders") and hasattr(graphs, "n_node"):
        import jraph

        graphs = jraph.unbatch(graphs)
    dtype = _checks.check_float_dtype(dtype or jnp.result_type(float))
    num_nodes = _checks.check_num_nodes(num_nodes)

    def host(graph):
        matrix = _host.host_adjacency(graph, dtype=dtype)
        if isinstance(graph, tuple) or hasattr(graph, "n_node"):
            # a repeated self-loop: refused, as as_adjacency and laplacian_spectrum refuse it (the
            # host conversion keeps the larger weight, harmless only while loops were dropped)
            senders, receivers, _, _ = _host.edge_list(graph)
            loops = np.asarray(senders)[np.asarray(senders) == np.asarray(receivers)]
            _host.undirected_edges(loops, loops, np.ones(loops.shape, dtype))
        return matrix

    mats = [host(g) for g in graphs]
    if not mats:
        raise ValueError("graphs is empty: pass at least one graph.")
    largest = max(m.shape[0] for m in mats)
    size = largest if num_nodes is None else num_nodes
    if size < largest:
        raise ValueError(
            f"num_nodes={num_nodes} is smaller than the largest graph ({largest} nodes); "
            f"pass num_nodes >= {largest} or leave it None (the largest graph)."
        )
    adjacency, mask = _host.pad_host(mats, num_nodes=size)
    # pad_host zeroes the diagonals (loops cancel in L = D - A); put the self-loops back: they
    # count towards the degree of the normalised Laplacian, as for every unpadded input form
    for b, m in enumerate(mats):
        loops = np.arange(m.shape[0])
        adjacency[b, loops, loops] = m[loops, loops]
    return PaddedBatch(jax.device_put(adjacency), jax.device_put(mask))  # no compiled copy


class Components(NamedTuple):
    """Connected components.

    Attributes:
        labels: ``(N,)`` int; the smallest node id in each node's component (``-1`` for padding).
        count: scalar int, the number of components among real nodes.
    """

    labels: Int[Array, " n"]
    count: Int[Array, ""]


def connected_components(adjacency, mask=None) -> Components:
    """Connected components of a dense graph (any non-zero entry is a link); jit-able.

    Min-label propagation with pointer jumping in a ``lax.while_loop``: every round each node
    takes the smallest label among itself and its neighbours, then follows its label's label
    twice. Labels only decrease and stay inside the component, so the loop ends with every
    component labelled by its smallest node; pointer jumping makes the number of rounds grow
    like ``log(diameter)`` rather than the diameter. Each round costs ``O(N^2)``.

    Args:
        adjacency: ``(N, N)`` array (JAX, NumPy or nested list; any non-zero entry links, so
            also a boolean or one-sided relation such as the LRG meta-graph), or any other form
            :func:`as_adjacency` takes: an edge-list tuple ``(senders, receivers[, weights])``
            or a GraphsTuple (never read as a matrix), a ``networkx.Graph``, a ``scipy.sparse``
            or JAX sparse matrix.
        mask: optional ``(N,)`` boolean node mask (padding is excluded).

    Returns:
        :class:`Components`.

    Raises:
        ValueError, TypeError: an unsupported form, a non-square array, an edge list or graph
            that :func:`as_adjacency` refuses, or a bad ``mask``.

    Example:
        >>> import jaxrg
        >>> a = jaxrg.as_adjacency(([0, 3], [1, 4]), num_nodes=5)
        >>> cc = jaxrg.connected_components(a)
        >>> cc.labels.tolist(), int(cc.count)
        ([0, 0, 2, 3, 3], 3)
    """
    adjacency = jnp.asarray(dense_graph(adjacency))
    n = _checks.check_square(adjacency)
    linked = adjacency != 0
    if mask is not None:
        mask = _checks.check_mask(mask, n)
        linked = linked & mask[:, None] & mask[None, :]
    linked = linked | linked.T  # a relation given one-sidedly still links both ways
    labels = propagate_min_labels(dense_neighbour_min, n, linked)
    real = jnp.ones(n, bool) if mask is None else mask
    count = jnp.sum(real & (labels == jnp.arange(n, dtype=jnp.int32)))
    return Components(jnp.where(real, labels, -1), count)


def circulation(adjacency, *, teleport: float = 0.0) -> Float[Array, "n n"]:
    r"""The undirected graph of a directed one's random-walk circulation (Chung's Laplacian).

    For a directed graph with weights :math:`A_{ij} \ge 0` on the edges :math:`i \to j`, the
    random walk :math:`P = D_{\text{out}}^{-1}A` (with teleportation :math:`\alpha`:
    :math:`P_\alpha = (1-\alpha)P + \tfrac{\alpha}{N}\mathbf 1\mathbf 1^\top`, a node
    without out-edges jumping uniformly) has a stationary distribution :math:`\pi^\top P_\alpha =
    \pi^\top`, :math:`\pi > 0`, when the graph is strongly connected (always when
    :math:`\alpha > 0`). The circulation

    .. math::
        W = \frac{N}{2}\left(\Pi P_\alpha + P_\alpha^\top\Pi\right),\qquad \Pi = \mathrm{diag}(\pi),

    with its diagonal (self-loops) dropped, is symmetric and non-negative, and the Laplacian of
    :math:`W` is :math:`N` times Chung's directed Laplacian :math:`\Pi - (\Pi P + P^\top\Pi)/2`
    (F. Chung, "Laplacians and the Cheeger inequality for directed graphs", Ann. Comb. 9, 2005).
    Every jaxrg function for undirected graphs then applies to :math:`W`: spectrum, entropy
    curves, characteristic scales, the LRG meta-graph, coarse-graining and rewiring. The factor
    :math:`N` makes the mean weighted degree 1 (a uniform :math:`\pi` gives unit-scale weights);
    an undirected graph comes back as :math:`N A/\mathrm{vol}(A)`, its own scales times
    :math:`\mathrm{vol}(A)/N`.

    Limits: :math:`W` sees direction only through :math:`\pi` and the flow it carries (a
    directed cycle and the undirected cycle have the same :math:`W`, up to the factor 2);
    a graph that is not strongly connected needs ``teleport > 0``, which makes :math:`W` dense
    (every pair gains :math:`\alpha\,(\pi_i + \pi_j)/2`) and so links every node at large
    :math:`\tau`. :math:`\pi` comes from Grassmann–Taksar–Heyman elimination on the weights
    themselves, :math:`O(N^3)`, subtraction-free, so each entry keeps a small relative error
    however weak the link between two parts of the graph (a solve of the stationary equations
    lost 2 % at a bridge of weight 1e-5 in float32); differentiable (implicitly, one solve).

    Args:
        adjacency: ``(N, N)`` non-negative weights, ``adjacency[i, j]`` on the edge ``i -> j``
            (not necessarily symmetric); or a directed edge list ``(senders, receivers[,
            weights])`` (or a GraphsTuple), edges ``senders -> receivers``, each listed once
            (``N`` = largest id + 1); or a ``networkx.DiGraph``/``Graph`` (its ``"weight"``
            attribute, default 1, in the order of ``G.nodes``); or a ``scipy.sparse`` matrix.
            An edge tuple is never read as a ``(2, E)`` matrix.
        teleport: :math:`\alpha \in [0, 1)`; 0 (the default) needs a strongly connected graph.

    Returns:
        ``(N, N)`` symmetric non-negative :math:`W`, zero diagonal. Under ``jit``, a graph that is
        not strongly connected at ``teleport=0`` gives NaN (concrete input: ``ValueError``).

    Raises:
        ValueError: ``adjacency`` not square, not finite or negative; ``teleport`` outside
            ``[0, 1)``; a graph that is not strongly connected with ``teleport=0``; an edge
            listed twice.
        TypeError: an unsupported graph type or non-integer edge ids.

    Example:
        >>> import jax.numpy as jnp, jaxrg
        >>> cycle = jnp.roll(jnp.eye(4), 1, axis=1)          # 0 -> 1 -> 2 -> 3 -> 0
        >>> jaxrg.circulation(cycle).tolist()[0]             # pi uniform: weight 1/2 both ways
        [0.0, 0.5, 0.0, 0.5]
    """
    adjacency = directed_adjacency(adjacency)
    n = _checks.check_square(adjacency)
    _checks.check_edge_weights(adjacency, needs="a random walk")
    if not isinstance(teleport, float | int) or isinstance(teleport, bool) or not (
        0 <= teleport < 1
    ):
        raise ValueError(
            f"teleport must be a number in [0, 1) (the PageRank-style jump probability); "
            f"got {teleport!r}."
        )
    linked = adjacency > 0
    strong = _strongly_connected(linked) | (teleport > 0)
    _checks.value_check(
        strong,
        "adjacency is not strongly connected (some node cannot reach another along the edge "
        "directions), so its random walk has no positive stationary distribution; pass "
        "teleport=0.15 (PageRank-style jumps) or keep one strongly connected component.",
    )
    if n == 1:  # the one node's walk stays put: no flow between distinct nodes
        return jnp.where(strong & jnp.all(jnp.isfinite(adjacency)), 0, jnp.nan) * adjacency
    if teleport == 0:
        # the rates A themselves: pi_i P_ij = x_i A_ij / sum_k x_k d_k for the stationary x
        # of the rate matrix A. No 1/d_i is formed, so a weight of 1 in a row of weight 1e38
        # (float32) does not become a subnormal 1e-38 that flushes to 0 and cuts the walk;
        # the scale sqrt(max min) centres the weights' range on 1 (no overflow in the sums)
        top = jnp.max(adjacency)
        low = jnp.min(jnp.where(adjacency > 0, adjacency, top))
        rates = adjacency / jnp.where(top > 0, jnp.sqrt(top) * jnp.sqrt(low), 1)
    else:
        out = jnp.sum(adjacency, axis=1, keepdims=True)
        dangling = out == 0
        walk = jnp.where(dangling, 1.0 / n, adjacency / jnp.where(dangling, 1, out))
        rates = (1 - teleport) * walk + teleport / n
    flow = _stationary(rates)[:, None] * rates  # x_i R_ij: the flow up to one factor
    flow = flow / jnp.sum(flow)  # sum_ij pi_i P_ij = 1 (self-loops included)
    w = n * (flow + flow.T) / 2
    w = jnp.where(jnp.eye(n, dtype=bool), 0, w)
    return jnp.where(strong, w, jnp.nan)  # NaN out under jit when pi does not exist


_GTH_BLOCK = 32  # states per block of the elimination (fastest of 32, 64, 128 on a CPU)


@jax.custom_jvp
def _stationary(rates: jax.Array) -> jax.Array:
    r"""Stationary vector ``x`` (sum 1) of the rates ``R`` (diagonal ignored): GTH elimination.

    ``x`` solves :math:`x_j \sum_{k \ne j} R_{jk} = \sum_{i \ne j} x_i R_{ij}` (the stationary
    distribution of the walk with rates ``R``; for a row-stochastic ``R`` that of the Markov
    chain). The Grassmann–Taksar–Heyman algorithm (W. K. Grassmann, M. I. Taksar and D. P.
    Heyman, Oper. Res. 33, 1985) eliminates the states one by one and never subtracts: each
    pivot is the sum of the remaining rates out of the state, not 1 minus a diagonal, so every
    ``x_i`` has a small relative error however nearly the chain splits (a solve of
    :math:`\pi^\top(I - P + 11^\top) = 1^\top` lost 2 % of the main entries of a circulation
    at a bridge of weight 1e-5 in float32 and gave NaN at 1e-30 in float64). ``O(N^3)``,
    blocked (the elimination of 32 states at a time ends in one matrix product): the whole
    circulation takes 1.7-2.2x its time with a solve in this place at N = 200-2000 on a CPU
    (``benchmarks/bench_circulation.py``).
    The derivative is implicit (one linear solve; :func:`_stationary_jvp`), so reverse mode
    stores no ``N`` elimination steps.

    Args:
        rates: ``(N, N)`` non-negative, irreducible off the diagonal (strongly connected).

    Returns:
        ``(N,)`` non-negative ``x`` summing to 1 (NaN where a pivot is 0: not irreducible).
    """
    n = rates.shape[0]
    ids = jnp.arange(n)
    off = jnp.where(jnp.eye(n, dtype=bool), 0, rates)
    # states n-1, ..., 1 are eliminated in blocks of b: within a block, each elimination
    # updates only the block's rows and columns (O(N b)); the rank-b update of the states
    # left, a sum of products of non-negative rates like each step's, is one product (O(N^2 b))
    b = min(_GTH_BLOCK, n - 1)
    order = jnp.arange(b)

    def eliminate_block(block, r):
        first = n - 1 - block * b
        states = first - order  # eliminated in this order
        valid = states >= 1
        states = jnp.where(valid, states, 0)

        def eliminate(t, carry):
            cols, rows, out_cols, out_rows = carry
            kept = (ids < states[t]) & valid[t]  # the states still present besides this one
            row = jnp.where(kept, rows[t], 0)  # rates state -> j
            pivot = jnp.sum(row)  # the rate out of it into them: a sum, never 1 - p_kk
            col = jnp.where(kept, cols[:, t] / jnp.where(valid[t], pivot, 1), 0)
            later = order > t
            # i -> state -> j becomes i -> j, here for the block's later rows and columns
            cols = cols + col[:, None] * jnp.where(later, row[states], 0)[None, :]
            rows = rows + jnp.where(later, col[states], 0)[:, None] * row[None, :]
            return cols, rows, out_cols.at[:, t].set(col), out_rows.at[t].set(row)

        start = (r[:, states], r[states, :], jnp.zeros((n, b), r.dtype),
                 jnp.zeros((b, n), r.dtype))
        _, _, out_cols, out_rows = jax.lax.fori_loop(0, b, eliminate, start)
        left = ids < jnp.maximum(first - b + 1, 1)  # the states no block has reached yet
        r = r + jnp.matmul(jnp.where(left[:, None], out_cols, 0),
                           jnp.where(left[None, :], out_rows, 0),
                           precision=jax.lax.Precision.HIGHEST)  # no TF32 on a GPU
        # each eliminated state keeps its normalised column for the back substitution
        return r.at[:, states].set(jnp.where(valid[None, :], out_cols, r[:, states]))

    reduced = jax.lax.fori_loop(0, -(-(n - 1) // b), eliminate_block, off)

    def substitute(k, x):
        x = x.at[k].set(jnp.sum(jnp.where(ids < k, x * reduced[:, k], 0)))
        return x / jnp.max(x)  # kept at scale 1 (rate ratios may span float's range)

    x = jax.lax.fori_loop(1, n, substitute, jnp.zeros(n, rates.dtype).at[0].set(1))
    return x / jnp.sum(x)


@_stationary.defjvp
def _stationary_jvp(primals, tangents):
    r"""Implicit derivative: :math:`Q^\top dx = -dQ^\top x`, :math:`1^\top dx = 0`.

    ``Q = R - diag(R 1)`` (diagonal of ``R`` dropped) is the generator; ``Q^T - 1 1^T`` is
    non-singular for an irreducible ``R`` and maps ``dx`` (summing to 0) to the right side.
    """
    (rates,), (d_rates,) = primals, tangents
    x = _stationary(rates)
    n = rates.shape[0]
    eye = jnp.eye(n, dtype=bool)

    def generator(r):
        r = jnp.where(eye, 0, r)
        return r - jnp.diag(jnp.sum(r, axis=1))

    system = generator(rates).T - 1
    return x, jnp.linalg.solve(system, -generator(d_rates).T @ x)


def _strongly_connected(linked: jax.Array) -> jax.Array:
    """True when every node reaches every other along ``linked[i, j]`` (``i -> j``); jit-able.

    Reachability by repeated squaring of ``I + linked`` in a ``lax.while_loop`` until it stops
    growing: ``log2(diameter)`` rounds of ``O(N^3)`` boolean-as-float products.
    """
    n = linked.shape[0]
    start = (linked | jnp.eye(n, dtype=bool)).astype(jnp.float32)

    def grow(state):
        reach, _ = state
        wider = (reach @ reach > 0).astype(jnp.float32)
        return wider, jnp.any(wider != reach)

    reach, _ = jax.lax.while_loop(lambda s: s[1], grow, (start, jnp.array(True)))
    return jnp.all(reach > 0)


def largest_connected_component(adjacency) -> tuple[Float[Array, "m m"], Int[Array, " m"]]:
    """The subgraph induced by the largest connected component (ties: the lowest node id).

    Host-side helper (the output size depends on the data, so it cannot run under ``jit``).

    Args:
        adjacency: anything :func:`as_adjacency` takes.

    Returns:
        ``(sub_adjacency (M, M), nodes (M,))`` with ``nodes`` the original ids, increasing.

    Example:
        >>> import jaxrg
        >>> sub, nodes = jaxrg.largest_connected_component(([0, 1, 3], [1, 2, 4]))
        >>> nodes.tolist()
        [0, 1, 2]
    """
    adjacency = as_adjacency(adjacency)
    labels = np.asarray(connected_components(adjacency).labels)
    counts = np.bincount(labels, minlength=labels.shape[0])
    nodes = np.flatnonzero(labels == np.argmax(counts))
    return adjacency[np.ix_(nodes, nodes)], jnp.asarray(nodes)


def to_graphs_tuple(adjacency, *, nodes=None):
    """A ``jraph.GraphsTuple`` (both edge directions, weights in ``edges``) from an adjacency.

    Host-side: the number of edges depends on the data.

    Args:
        adjacency: anything :func:`as_adjacency` takes.
        nodes: optional node features ``(N, F)``.

    Returns:
        ``jraph.GraphsTuple`` with ``senders``/``receivers`` of every non-zero entry (row-major;
        a self-loop is one entry ``i -> i``), ``edges`` the ``(E,)`` weights, ``n_node = [N]``,
        ``n_edge = [E]``.
    """
    import jraph

    # self-loops kept (one entry each): they count in the normalised Laplacian of the result
    adjacency = np.asarray(as_adjacency(adjacency, remove_self_loops=False))
    if nodes is not None and np.shape(nodes)[:1] != adjacency.shape[:1]:
        raise ValueError(
            f"nodes must have one row per node, shape ({adjacency.shape[0]}, F); got shape "
            f"{np.shape(nodes)}."
        )
    senders, receivers = np.nonzero(adjacency)
    return jraph.GraphsTuple(
        nodes=None if nodes is None else jnp.asarray(nodes),
        edges=jnp.asarray(adjacency[senders, receivers]),
        senders=jnp.asarray(senders),
        receivers=jnp.asarray(receivers),
        n_node=jnp.asarray([adjacency.shape[0]]),
        n_edge=jnp.asarray([senders.shape[0]]),
        globals=None,
    )
