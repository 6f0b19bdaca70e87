"""Multiscale node classifiers (Caso et al., IJCNN 2025): one graph encoder per input graph.

Node embeddings of all encoders (:class:`~jaxrg.studies.node_classification.gnn.GraphEncoder`)
are concatenated and a Linear layer maps them to classes. Variants, selected by name: **SB** one
encoder on the original
graph; **MB** two encoders on the original graph (a control for the extra parameters); **SR** one
encoder on the renormalised graph; **MR** encoders on the original and the renormalised graph(s)
(e.g. ``jaxrg.lrg.rewire`` at the characteristic scale τ*).

References:
    F. Caso, G. Trappolini, A. Bacciu, P. Liò, F. Silvestri, "Renormalized graph representations
    for node classification", IJCNN 2025 (arXiv:2306.00707).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import jraph
from flax import nnx
from jaxtyping import Array, Float

from jaxrg.studies._common.layers import linear
from jaxrg.studies.node_classification.gnn import GraphEncoder, kernels_l2

__all__ = [
    "MultiscaleClassifier",
    "VARIANTS",
    "multiscale_classifier",
    "num_graphs_of",
    "variant_graphs",
]

VARIANTS = ("SB", "MB", "SR", "MR")


class MultiscaleClassifier(nnx.Module):
    """One :class:`GraphEncoder` per input graph; embeddings concatenated; Linear → classes.

    Args:
        in_features: F.
        num_classes: C.
        num_graphs: number of encoders (= number of graphs passed at call time).
        hidden, conv, num_layers, num_heads: as in :class:`GraphEncoder`.
        init: ``"flax"`` (default: Flax's LeCun-normal weights and zero biases, the convention
            of every jaxrg model) or ``"torch"`` (PyTorch's ``nn.Linear`` default U(±1/√F) for
            the input projections and the classifier, weights and biases — what the authors'
            PyTorch code gets; reproductions use it). Convolutions are Glorot either way.
        rngs: ``nnx.Rngs``.

    Examples:
        >>> import numpy as np
        >>> model = MultiscaleClassifier(5, 3, num_graphs=2, hidden=8, rngs=nnx.Rngs(0))
        >>> g = jraph.GraphsTuple(nodes=None, edges=None, senders=np.array([0, 1]),
        ...                       receivers=np.array([1, 0]), globals=None,
        ...                       n_node=np.array([2]), n_edge=np.array([2]))
        >>> model(jnp.ones((2, 5), jnp.float32), [g, g]).shape
        (2, 3)
    """

    def __init__(self, in_features: int, num_classes: int, *, num_graphs: int = 1,
                 hidden: int | None = None, conv: str = "gcn", num_layers: int = 2,
                 num_heads: int = 4, param_dtype=jnp.float32, init: str = "flax",
                 rngs: nnx.Rngs):
        if num_graphs < 1:
            raise ValueError(f"num_graphs must be at least 1, got {num_graphs}")
        self.encoders = nnx.List([
            GraphEncoder(in_features, hidden, conv=conv, num_layers=num_layers,
                         num_heads=num_heads, param_dtype=param_dtype, init=init, rngs=rngs)
            for _ in range(num_graphs)])
        width = self.encoders[0].out_features
        self.head = linear(width * num_graphs, num_classes, init=init, param_dtype=param_dtype,
                           rngs=rngs)
        self.num_graphs = num_graphs

    def embed(self, x: Float[Array, "n f"], graphs: Sequence[jraph.GraphsTuple]):
        """The concatenated node embeddings (N, num_graphs × h)."""
        if len(graphs) != self.num_graphs:
            raise ValueError(f"this model has {self.num_graphs} encoder(s) but got "
                             f"{len(graphs)} graph(s); pass one graph per encoder")
        embeddings = [enc(x, g) for enc, g in zip(self.encoders, graphs, strict=True)]
        return jnp.concatenate(embeddings, axis=-1)

    def __call__(self, x: Float[Array, "n f"], graphs: Sequence[jraph.GraphsTuple], *,
                 key: Array | None = None) -> Float[Array, "n c"]:
        del key  # no dropout in this model (as in the authors' code)
        return self.head(self.embed(x, graphs))

    def l2_loss(self) -> Array:
        """½ Σ w² over every weight matrix (biases and LayerNorm excluded)."""
        return kernels_l2(self)


def num_graphs_of(variant: str, num_scales: int = 1) -> int:
    """Number of encoders of a variant: SB 1, MB 2, SR 1, MR 1 + ``num_scales``.

    Args:
        variant: ``"SB"``, ``"MB"``, ``"SR"`` or ``"MR"`` (case-insensitive).
        num_scales: number of renormalised graphs MR reads (int).

    Returns:
        The number of encoders (int).

    Raises:
        ValueError: unknown variant.
    """
    variant = _check_variant(variant)
    return {"SB": 1, "MB": 2, "SR": 1, "MR": 1 + num_scales}[variant]


def _check_variant(variant: str) -> str:
    key = str(variant).upper()
    if key not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return key


def variant_graphs(variant: str, graph: jraph.GraphsTuple,
                   renormalised: Sequence[jraph.GraphsTuple] = ()) -> tuple:
    """The graphs each encoder of a variant reads.

    SB: (original,); MB: (original, original); SR: (renormalised,); MR: (original,
    *renormalised). ``renormalised`` holds the rewired graphs (e.g. from ``jaxrg.lrg.rewire``
    at the characteristic scale τ*), on the same node set as ``graph``.

    Args:
        variant: ``"SB"``, ``"MB"``, ``"SR"`` or ``"MR"``.
        graph: the original graph (``jraph.GraphsTuple`` on ``N`` nodes).
        renormalised: sequence of renormalised graphs on the same ``N`` nodes.

    Returns:
        tuple of graphs, of length :func:`num_graphs_of` (``1 + len(renormalised)`` for MR).

    Raises:
        ValueError: unknown variant, or SR/MR without renormalised graphs (SR takes exactly one).

    Examples:
        >>> len(variant_graphs("MB", "g")), len(variant_graphs("MR", "g", ["r1", "r2"]))
        (2, 3)
    """
    variant = _check_variant(variant)
    renormalised = tuple(renormalised)
    if variant in ("SR", "MR") and not renormalised:
        raise ValueError(f"variant {variant} needs the renormalised graph(s): pass "
                         "renormalised=[...] (e.g. from jaxrg.lrg.rewire at tau*)")
    if variant == "SR" and len(renormalised) != 1:
        raise ValueError(f"variant SR reads exactly one renormalised graph, got "
                         f"{len(renormalised)}")
    if variant == "SB":
        return (graph,)
    if variant == "MB":
        return (graph, graph)
    if variant == "SR":
        return renormalised
    return (graph,) + renormalised


def multiscale_classifier(variant: str, in_features: int, num_classes: int, *,
                          num_scales: int = 1, hidden: int | None = None, conv: str = "gcn",
                          num_layers: int = 2, num_heads: int = 4, param_dtype=jnp.float32,
                          init: str = "flax", rngs: nnx.Rngs) -> MultiscaleClassifier:
    """The :class:`MultiscaleClassifier` of a variant (SB, MB, SR, MR; Caso et al. 2025).

    ``num_scales`` is the number of renormalised graphs MR reads besides the original.

    Args:
        variant: ``"SB"``, ``"MB"``, ``"SR"`` or ``"MR"``.
        in_features: ``F``.
        num_classes: ``C``.
        num_scales: renormalised graphs read by MR.
        hidden, conv, num_layers, num_heads: as in :class:`GraphEncoder`.
        param_dtype: parameter dtype.
        init: ``"flax"`` (default) or ``"torch"`` (see :class:`MultiscaleClassifier`).
        rngs: ``nnx.Rngs`` (keyword-only).

    Returns:
        :class:`MultiscaleClassifier` mapping features ``(N, F)`` and the variant's graphs to
        ``(N, C)`` logits.

    Raises:
        ValueError: unknown variant.

    Examples:
        >>> multiscale_classifier("MB", 5, 3, hidden=8, rngs=nnx.Rngs(0)).num_graphs
        2
    """
    return MultiscaleClassifier(in_features, num_classes,
                                num_graphs=num_graphs_of(variant, num_scales), hidden=hidden,
                                conv=conv, num_layers=num_layers, num_heads=num_heads,
                                param_dtype=param_dtype, init=init, rngs=rngs)
