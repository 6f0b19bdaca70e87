r"""Graph neural networks on ``jraph.GraphsTuple`` (Flax nnx, segment ops).

Layers take node features ``x`` (N, F) and a graph whose ``senders``/``receivers`` (E,) list the
directed edges (an undirected edge appears in both directions); a message flows sender →
receiver. ``graph.edges``, when not None, is an (E,) array of non-negative edge weights; weight
0 removes an edge, which is how padding and training subgraphs are expressed without changing
shapes. N is ``x.shape[0]`` (static).

- :class:`GCNConv` (Kipf & Welling 2017): :math:`X' = \hat D^{-1/2}(A + I)\hat D^{-1/2} X W + b`,
  :math:`\hat D = \mathrm{diag}((A + I)\mathbf 1)`.
- :class:`GATConv` (Veličković et al. 2018): per head,
  :math:`\alpha_{ij} = \mathrm{softmax}_{j \in N(i) \cup \{i\}}\,
  \mathrm{LeakyReLU}(a_{dst}^\top W x_i + a_{src}^\top W x_j)`, :math:`x_i' = \Vert_h
  \sum_j \alpha^h_{ij} W^h x_j + b`.
- :class:`GraphEncoder`: the encoder of Caso et al. (2025): optional ``Linear(in → h)``, then
  ``num_layers`` × [conv(h → h) → LayerNorm → ReLU, residual].
- :class:`KipfGCN`: the 2-layer GCN of Kipf & Welling (2017).
- :class:`DenseOperator`: a GCN's propagation matrix held dense, in place of a graph, for dense
  graphs such as LRG-rewired ones (:func:`gcn_operator`, :func:`prefers_dense`).

The multiscale classifier built on the encoder lives in
:mod:`jaxrg.studies.node_classification.multiscale`. Every model is called as ``model(x, graphs, *,
key=None)`` with ``graphs`` a sequence of
GraphsTuples (one per encoder) and ``key`` a PRNG key that turns dropout on (training), and has
``l2_loss()`` = ½ Σ w² over the weights its paper regularises.

References:
    T. Kipf, M. Welling, "Semi-supervised classification with graph convolutional networks",
    ICLR 2017. P. Veličković et al., "Graph attention networks", ICLR 2018. F. Caso et al.,
    "Renormalized graph representations for node classification", IJCNN 2025.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jraph
import numpy as np
from flax import nnx
from jaxtyping import Array, Float

from jaxrg.studies._common.layers import INITS, dropout, linear

__all__ = [
    "CONVS",
    "DENSE_EDGE_FACTOR",
    "DENSE_MAX_BYTES",
    "DenseOperator",
    "GATConv",
    "GCNConv",
    "GraphEncoder",
    "KipfGCN",
    "LayerNorm",
    "edge_weights",
    "gcn_operator",
    "gcn_propagate",
    "kernels_l2",
    "masked_segment_softmax",
    "prefers_dense",
]

_glorot = jax.nn.initializers.glorot_uniform()

CONVS = ("gcn", "gat")


def edge_weights(graph: jraph.GraphsTuple, dtype) -> Float[Array, " e"]:
    """``graph.edges`` as ``(E,)`` weights of ``dtype``; all ones when ``graph.edges`` is None.

    Args:
        graph: ``jraph.GraphsTuple`` with ``E`` edges (``senders`` ``(E,)``).
        dtype: float dtype of the weights.

    Returns:
        ``(E,)`` edge weights.

    Raises:
        ValueError: ``graph.edges`` neither None nor of shape ``(E,)``.
    """
    num_edges = graph.senders.shape[0]
    if graph.edges is None:
        return jnp.ones((num_edges,), dtype=dtype)
    weights = jnp.asarray(graph.edges)
    if weights.shape != (num_edges,):
        raise ValueError(f"graph.edges must be None or (E,) = ({num_edges},) edge weights, got "
                         f"shape {weights.shape}")
    return weights.astype(dtype)


class DenseOperator(NamedTuple):
    r"""A GCN's propagation matrix :math:`P = \hat D^{-1/2}(A+I)\hat D^{-1/2}`, held dense.

    Passed to a GCN in place of a ``jraph.GraphsTuple`` (:func:`gcn_propagate` multiplies by it):
    one matrix product per propagation instead of a gather and a scatter over the E edges. On a
    dense graph, such as an LRG-rewired one (Amazon Photo at τ*: 6.0 M directed edges on 7650
    nodes), this is several times faster (:func:`prefers_dense`); the result is the same up to
    float rounding. GAT layers need the edge list and do not take it.

    Attributes:
        matrix: ``(N, N)`` float32, row = receiver, column = sender (or ``(S, N, N)`` stacked
            per seed, mapped over by the trainer).
    """

    matrix: Array


#: dense propagation is chosen when N² ≤ DENSE_EDGE_FACTOR · E, i.e. from a density E/N² of
#: about 3 %: on one CPU core the two routes break even at 2–3 % (N = 2000–5000, F = 64,
#: float32, forward and backward); at 10 % dense is 6.3–6.6× faster
#: (``benchmarks/bench_gcn_operator.py``, ``benchmarks/results/gcn_operator.md``)
DENSE_EDGE_FACTOR = 35
#: and when the dense matrices of one graph (all seeds of a block) fit in this many bytes
DENSE_MAX_BYTES = 2 << 30


def prefers_dense(num_nodes: int, num_edges: int, *, copies: int = 1) -> bool:
    """Whether a GCN should propagate over this graph with a :class:`DenseOperator`.

    Args:
        num_nodes: N.
        num_edges: E, directed edges (each undirected edge twice).
        copies: how many ``(N, N)`` float32 matrices would be held (seeds of a block).

    Returns:
        ``N² ≤ DENSE_EDGE_FACTOR · E`` (35) and ``copies · N² · 4 ≤ DENSE_MAX_BYTES`` (2 GiB).

    Examples:
        >>> prefers_dense(7650, 6_000_000), prefers_dense(7650, 238_162)
        (True, False)
    """
    entries = int(num_nodes) ** 2
    return entries <= DENSE_EDGE_FACTOR * int(num_edges) and copies * entries * 4 <= DENSE_MAX_BYTES


def gcn_operator(senders, receivers, weights, num_nodes: int) -> np.ndarray:
    r"""The dense propagation matrix of :func:`gcn_propagate` (host numpy, float32).

    :math:`P_{rs} = \sum_{e: s\to r} w_e\,\hat d_s^{-1/2}\hat d_r^{-1/2} + [r = s]/\hat d_r`
    with :math:`\hat d_i = 1 + \sum_{e \to i} w_e`: repeated edges add up, weight-0 (padding)
    edges vanish, exactly as in :func:`gcn_propagate`. Leading axes of the edge arrays (``(S,
    E)``: stacked per seed) give stacked matrices.

    Args:
        senders, receivers: int ``(..., E)`` node ids.
        weights: float ``(..., E)`` edge weights, or None for ones.
        num_nodes: N.

    Returns:
        float32 ``(..., N, N)``, computed in float64.

    Examples:
        >>> gcn_operator(np.array([0, 1]), np.array([1, 0]), None, 3).tolist()
        [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]
    """
    senders, receivers = np.asarray(senders), np.asarray(receivers)
    weights = (np.ones(senders.shape) if weights is None
               else np.asarray(weights, dtype=np.float64))
    if senders.ndim > 1:
        return np.stack([gcn_operator(s, r, w, num_nodes)
                         for s, r, w in zip(senders, receivers, weights, strict=True)])
    degree = 1.0 + np.bincount(receivers, weights=weights, minlength=num_nodes)
    inv_sqrt = degree ** -0.5
    out = np.zeros((num_nodes, num_nodes), dtype=np.float64)
    np.add.at(out, (receivers, senders), weights * inv_sqrt[senders] * inv_sqrt[receivers])
    out[np.arange(num_nodes), np.arange(num_nodes)] += 1.0 / degree
    return out.astype(np.float32)


def gcn_propagate(x: Float[Array, "n f"], graph: jraph.GraphsTuple | DenseOperator
                  ) -> Float[Array, "n f"]:
    r"""Symmetric normalised propagation with self-loops, :math:`\hat D^{-1/2}(A+I)\hat D^{-1/2}x`.

    Degrees :math:`\hat D_{ii} = 1 + \sum_j A_{ji}` count incoming edge weights plus 1 for the
    self-loop, so every node (also an isolated or padded one) has degree ≥ 1. A
    :class:`DenseOperator` is one matrix product (at full float32 precision, also where a GPU
    would round to TF32).

    Args:
        x: ``(N, F)`` node features.
        graph: ``jraph.GraphsTuple`` on the ``N`` nodes (edge weights ``graph.edges`` ``(E,)``
            or None for ones), or its :class:`DenseOperator`.

    Returns:
        ``(N, F)`` propagated features.

    Examples:
        >>> import numpy as np
        >>> g = jraph.GraphsTuple(nodes=None, edges=None, senders=np.array([0, 1]),
        ...                       receivers=np.array([1, 0]), globals=None,
        ...                       n_node=np.array([3]), n_edge=np.array([2]))
        >>> [round(float(v), 6) for v in gcn_propagate(jnp.array([[1.0], [3.0], [5.0]]), g)[:, 0]]
        [2.0, 2.0, 5.0]
    """
    if isinstance(graph, DenseOperator):
        return jnp.matmul(graph.matrix.astype(x.dtype), x, precision=jax.lax.Precision.HIGHEST)
    num_nodes = x.shape[0]
    weights = edge_weights(graph, x.dtype)
    degree = 1.0 + jax.ops.segment_sum(weights, graph.receivers, num_nodes)
    inv_sqrt = jax.lax.rsqrt(degree)
    coeff = weights * inv_sqrt[graph.senders] * inv_sqrt[graph.receivers]
    messages = x[graph.senders] * coeff[:, None]
    return jax.ops.segment_sum(messages, graph.receivers, num_nodes) + x * (inv_sqrt**2)[:, None]


def masked_segment_softmax(logits: Float[Array, "e h"], segment_ids, num_segments: int,
                           mask) -> Float[Array, "e h"]:
    r"""Softmax of ``logits`` over the entries of each segment whose ``mask`` is True.

    :math:`a_{eh} = m_e\,e^{z_{eh}} / \sum_{e' \in s(e)} m_{e'} e^{z_{e'h}}` (shifted by the
    segment maximum). Masked entries get weight 0; a segment without unmasked entries gets all
    zeros (no NaN).

    Args:
        logits: ``(E, H)`` scores (e.g. one per edge and attention head).
        segment_ids: ``(E,)`` int segment of each entry (e.g. the receiving node).
        num_segments: number of segments ``N`` (static).
        mask: ``(E,)`` bool, the entries that take part.

    Returns:
        ``(E, H)`` weights; each segment's unmasked weights sum to 1 per head.
    """
    mask = mask[:, None]
    masked = jnp.where(mask, logits, -jnp.inf)
    peak = jax.ops.segment_max(masked, segment_ids, num_segments)
    # Shift by the segment max for stability; empty segments have max -inf, use 0 instead.
    peak = jax.lax.stop_gradient(jnp.where(jnp.isfinite(peak), peak, jnp.zeros_like(peak)))
    expo = jnp.where(mask, jnp.exp(masked - peak[segment_ids]), jnp.zeros_like(logits))
    total = jax.ops.segment_sum(expo, segment_ids, num_segments)
    total = jnp.where(total > 0, total, jnp.ones_like(total))
    return expo / total[segment_ids]


class GCNConv(nnx.Module):
    r"""Graph convolution of Kipf & Welling: :math:`\hat D^{-1/2}(A+I)\hat D^{-1/2} X W + b`.

    Args:
        in_features: F.
        out_features: F'.
        use_bias: add a bias b (zeros at init).
        param_dtype: dtype of W and b.
        rngs: ``nnx.Rngs`` (Glorot-uniform W).

    Examples:
        >>> import numpy as np
        >>> conv = GCNConv(3, 2, rngs=nnx.Rngs(0))
        >>> g = jraph.GraphsTuple(nodes=None, edges=None, senders=np.array([0, 1]),
        ...                       receivers=np.array([1, 0]), globals=None,
        ...                       n_node=np.array([2]), n_edge=np.array([2]))
        >>> conv(jnp.ones((2, 3), jnp.float32), g).shape
        (2, 2)
    """

    def __init__(self, in_features: int, out_features: int, *, use_bias: bool = True,
                 param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.kernel = nnx.Param(_glorot(rngs.params(), (in_features, out_features), param_dtype))
        self.bias = nnx.Param(jnp.zeros((out_features,), param_dtype)) if use_bias else None

    def __call__(self, x: Float[Array, "n f"], graph: jraph.GraphsTuple) -> Float[Array, "n g"]:
        out = gcn_propagate(x @ self.kernel[...], graph)
        return out if self.bias is None else out + self.bias[...][None, :]


def _with_self_loops(graph: jraph.GraphsTuple, num_nodes: int, dtype):
    """(senders, receivers, mask) with one self-loop per node appended (mask: weight > 0)."""
    loops = jnp.arange(num_nodes, dtype=jnp.asarray(graph.senders).dtype)
    senders = jnp.concatenate([jnp.asarray(graph.senders), loops])
    receivers = jnp.concatenate([jnp.asarray(graph.receivers), loops])
    mask = jnp.concatenate([edge_weights(graph, dtype) > 0, jnp.ones((num_nodes,), bool)])
    return senders, receivers, mask


class GATConv(nnx.Module):
    r"""Multi-head graph attention (Veličković et al. 2018), heads concatenated.

    Each node attends over its incoming edges plus a self-loop; edges of weight 0 are masked
    out of the softmax. Output width ``out_features`` = ``num_heads`` × head width.

    Args:
        in_features: F.
        out_features: F' (divisible by ``num_heads``).
        num_heads: H.
        negative_slope: slope of the LeakyReLU on the attention logits.
        use_bias: add a bias (zeros at init).
        param_dtype: dtype of the parameters.
        rngs: ``nnx.Rngs`` (Glorot-uniform W and attention vectors).

    Examples:
        >>> import numpy as np
        >>> conv = GATConv(3, 8, num_heads=4, rngs=nnx.Rngs(0))
        >>> g = jraph.GraphsTuple(nodes=None, edges=None, senders=np.array([0, 1]),
        ...                       receivers=np.array([1, 0]), globals=None,
        ...                       n_node=np.array([2]), n_edge=np.array([2]))
        >>> conv(jnp.ones((2, 3), jnp.float32), g).shape
        (2, 8)
    """

    def __init__(self, in_features: int, out_features: int, *, num_heads: int = 4,
                 negative_slope: float = 0.2, use_bias: bool = True, param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        if out_features % num_heads:
            raise ValueError(f"out_features ({out_features}) must be divisible by num_heads "
                             f"({num_heads}); pick a width that is a multiple of num_heads")
        self.num_heads = num_heads
        self.head_features = out_features // num_heads
        self.negative_slope = negative_slope
        self.kernel = nnx.Param(_glorot(rngs.params(), (in_features, out_features), param_dtype))
        shape = (num_heads, self.head_features)
        self.att_src = nnx.Param(_glorot(rngs.params(), shape, param_dtype))
        self.att_dst = nnx.Param(_glorot(rngs.params(), shape, param_dtype))
        self.bias = nnx.Param(jnp.zeros((out_features,), param_dtype)) if use_bias else None

    def attention(self, x: Float[Array, "n f"], graph: jraph.GraphsTuple):
        """Attention weights on the edges with self-loops appended.

        Returns:
            ``(alpha, senders, receivers, h)``: alpha (E + N, H) sums to 1 over the incoming
            edges of every node; senders/receivers (E + N,) (last N are the self-loops);
            h = x W reshaped (N, H, D).
        """
        if isinstance(graph, DenseOperator):
            raise TypeError("GATConv attends over the edges and needs the graph's edge list "
                            "(a jraph.GraphsTuple), not a DenseOperator; prepare its inputs "
                            "with operator='edges'")
        num_nodes = x.shape[0]
        h = (x @ self.kernel[...]).reshape(num_nodes, self.num_heads, self.head_features)
        senders, receivers, mask = _with_self_loops(graph, num_nodes, x.dtype)
        score_src = jnp.sum(h * self.att_src[...][None], axis=-1)  # (N, H)
        score_dst = jnp.sum(h * self.att_dst[...][None], axis=-1)
        logits = jax.nn.leaky_relu(score_src[senders] + score_dst[receivers],
                                   negative_slope=self.negative_slope)
        alpha = masked_segment_softmax(logits, receivers, num_nodes, mask)
        return alpha, senders, receivers, h

    def __call__(self, x: Float[Array, "n f"], graph: jraph.GraphsTuple) -> Float[Array, "n g"]:
        num_nodes = x.shape[0]
        alpha, senders, receivers, h = self.attention(x, graph)
        messages = h[senders] * alpha[:, :, None]
        out = jax.ops.segment_sum(messages, receivers, num_nodes).reshape(num_nodes, -1)
        return out if self.bias is None else out + self.bias[...][None, :]


def kernels_l2(module: nnx.Module) -> Array:
    """½ Σ w² over every parameter named ``kernel`` (weights, not biases or LayerNorm).

    Args:
        module: an ``nnx.Module``.

    Returns:
        Scalar ``()`` float32 penalty.
    """
    total = jnp.zeros((), jnp.float32)
    for path, param in nnx.iter_graph(module):
        if isinstance(param, nnx.Param) and path and path[-1] == "kernel":
            total = total + 0.5 * jnp.sum(jnp.square(param[...])).astype(jnp.float32)
    return total


class LayerNorm(nnx.Module):
    """LayerNorm over the last axis with a two-pass variance; works in float32 and float64.

    (``nnx.LayerNorm`` promotes its statistics against float32, which strict dtype promotion
    rejects for float64 inputs.) ``y = (x − mean) / sqrt(var + epsilon) · scale + bias``, maps
    ``(N, F)`` to ``(N, F)``.

    Args:
        num_features: ``F``; ``scale`` and ``bias`` are ``(F,)`` parameters.
        epsilon: added to the variance.
        param_dtype: dtype of ``scale`` and ``bias``.
    """

    def __init__(self, num_features: int, *, epsilon: float = 1e-5, param_dtype=jnp.float32):
        self.scale = nnx.Param(jnp.ones((num_features,), param_dtype))
        self.bias = nnx.Param(jnp.zeros((num_features,), param_dtype))
        self.epsilon = epsilon

    def __call__(self, x: Float[Array, "n f"]) -> Float[Array, "n f"]:
        centred = x - jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.mean(jnp.square(centred), axis=-1, keepdims=True)
        return centred * jax.lax.rsqrt(var + self.epsilon) * self.scale[...][None, :] + \
            self.bias[...][None, :]


class GraphEncoder(nnx.Module):
    """Optional ``Linear(in → h)``, then ``num_layers`` × [conv → LayerNorm → ReLU, residual].

    ``x ← x + ReLU(LayerNorm(conv(x)))`` (Caso et al. 2025, ``graph_model.MultiGraphModel``).

    Args:
        in_features: F.
        hidden: width h; None skips the projection (h = F, as the authors' GCN runs do).
        conv: ``"gcn"`` or ``"gat"``.
        num_layers: number of conv blocks.
        num_heads: GAT heads (h must be divisible by it).
        init: initialisation of the input projection: ``"flax"`` (default, LeCun-normal weights,
            zero bias: the Flax convention) or ``"torch"`` (PyTorch's ``nn.Linear`` default,
            U(±1/√F) weights and bias, as in the authors' code; see
            :func:`jaxrg.studies._common.layers.linear`). The convolutions are Glorot-uniform
            with zero bias either way, as in PyTorch Geometric's ``GCNConv``/``GATConv``.
        rngs: ``nnx.Rngs``.

    Examples:
        >>> import numpy as np
        >>> enc = GraphEncoder(5, 8, conv="gat", rngs=nnx.Rngs(0))
        >>> g = jraph.GraphsTuple(nodes=None, edges=None, senders=np.array([0, 1]),
        ...                       receivers=np.array([1, 0]), globals=None,
        ...                       n_node=np.array([2]), n_edge=np.array([2]))
        >>> enc(jnp.ones((2, 5), jnp.float32), g).shape
        (2, 8)
    """

    def __init__(self, in_features: int, hidden: int | None = None, *, conv: str = "gcn",
                 num_layers: int = 2, num_heads: int = 4, param_dtype=jnp.float32,
                 init: str = "flax", rngs: nnx.Rngs):
        if conv not in CONVS:
            raise ValueError(f"conv must be one of {CONVS}, got {conv!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        width = in_features if hidden is None else hidden
        self.projection = (None if hidden is None else
                           linear(in_features, hidden, init=init, param_dtype=param_dtype,
                                  rngs=rngs))

        def make_conv():
            if conv == "gcn":
                return GCNConv(width, width, param_dtype=param_dtype, rngs=rngs)
            return GATConv(width, width, num_heads=num_heads, param_dtype=param_dtype, rngs=rngs)

        self.convs = nnx.List([make_conv() for _ in range(num_layers)])
        # epsilon 1e-5 as torch.nn.LayerNorm, used by the authors.
        self.norms = nnx.List([LayerNorm(width, epsilon=1e-5, param_dtype=param_dtype)
                               for _ in range(num_layers)])
        self.out_features = width

    def __call__(self, x: Float[Array, "n f"], graph: jraph.GraphsTuple) -> Float[Array, "n h"]:
        if self.projection is not None:
            x = self.projection(x)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = x + jax.nn.relu(norm(conv(x, graph)))
        return x


class KipfGCN(nnx.Module):
    """The 2-layer GCN of Kipf & Welling (2017): dropout → GCN → ReLU → dropout → GCN.

    No biases, Glorot init, hidden 16 and dropout 0.5 by default; ``l2_loss`` covers the first
    layer's weights only (the paper's weight decay 5e-4 applies to it alone). Called as
    ``model(x, [graph], key=None)`` with ``x`` ``(N, F)``; returns ``(N, C)`` logits.

    Args:
        in_features: ``F``.
        num_classes: ``C``.
        hidden: hidden width.
        dropout: dropout rate (applied only when a ``key`` is passed).
        param_dtype: parameter dtype.
        rngs: ``nnx.Rngs`` (keyword-only).

    Examples:
        >>> import numpy as np
        >>> model = KipfGCN(5, 3, rngs=nnx.Rngs(0))
        >>> g = jraph.GraphsTuple(nodes=None, edges=None, senders=np.array([0, 1]),
        ...                       receivers=np.array([1, 0]), globals=None,
        ...                       n_node=np.array([2]), n_edge=np.array([2]))
        >>> model(jnp.ones((2, 5), jnp.float32), [g]).shape
        (2, 3)
    """

    def __init__(self, in_features: int, num_classes: int, *, hidden: int = 16,
                 dropout: float = 0.5, param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.conv1 = GCNConv(in_features, hidden, use_bias=False, param_dtype=param_dtype,
                             rngs=rngs)
        self.conv2 = GCNConv(hidden, num_classes, use_bias=False, param_dtype=param_dtype,
                             rngs=rngs)
        self.rate = dropout

    def __call__(self, x: Float[Array, "n f"], graphs: Sequence[jraph.GraphsTuple], *,
                 key: Array | None = None) -> Float[Array, "n c"]:
        if len(graphs) != 1:
            raise ValueError(f"KipfGCN reads one graph, got {len(graphs)}")
        keys = (None, None) if key is None else tuple(jax.random.split(key))
        hidden = jax.nn.relu(self.conv1(dropout(x, self.rate, keys[0]), graphs[0]))
        return self.conv2(dropout(hidden, self.rate, keys[1]), graphs[0])

    def l2_loss(self) -> Array:
        """½ Σ W₁² (first layer only, as in Kipf & Welling's code)."""
        return kernels_l2(self.conv1)
