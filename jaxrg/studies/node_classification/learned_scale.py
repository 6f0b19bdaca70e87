r"""Learning the renormalisation scale: heat-kernel diffusion with a trained :math:`\tau`.

The LRG paper picks one scale :math:`\tau^*` from the structure alone and rewires the graph there
(a hard threshold of :math:`e^{-\tau^* L}`, not differentiable in :math:`\tau`). Here the heat
kernel itself is the propagation operator, as in graph diffusion convolution (Gasteiger et al.
2019, heat kernel), so :math:`\tau` can be trained with the weights by gradient descent,
starting at :math:`\tau^*`:

.. math:: x' = e^{-\tau \hat L}\,x W + b, \qquad
    \hat L = I - \hat A, \quad \hat A = \hat D^{-1/2}(A + I)\hat D^{-1/2},

the self-loop normalised Laplacian of GCN (spectrum in :math:`[0, 2)`; :math:`\hat A` is
:func:`~jaxrg.studies.node_classification.gnn.gcn_propagate`). By the Jacobi–Anger expansion
:math:`e^{\tau x} = I_0(\tau) + 2\sum_{k\ge1} I_k(\tau) T_k(x)` on :math:`[-1, 1]`,

.. math:: e^{-\tau \hat L} = e^{-\tau} e^{\tau \hat A}
    = \sum_{k \ge 0} c_k(\tau)\, T_k(\hat A), \qquad
    c_k = (2 - \delta_{k0})\, e^{-\tau} I_k(\tau) > 0,

with :math:`\sum_k c_k = 1` (the kernel keeps the constant mode of :math:`\hat L`'s null space
up to the degree weighting) and :math:`\|T_k(\hat A)\|_2 \le 1`, so ``K`` terms err by at most
:math:`\sum_{k \ge K} c_k` in norm. The coefficients come from the power series
:math:`e^{-\tau}I_k(\tau) = e^{-\tau}\sum_m (\tau/2)^{2m+k}/(m!\,(m+k)!)` summed in the log
domain, so they and their :math:`\tau`-derivatives are exact to round-off; ``K`` terms cost
``K`` sparse products (segment sums) per layer, on any ``jraph.GraphsTuple`` — also the
training subgraph of the protocol.

:math:`\tau = \tau_{\max}\,\sigma(\theta)` with a trained :math:`\theta` keeps :math:`\tau` in
:math:`(0, \tau_{\max})`, where ``K`` terms are checked to be accurate.

References:
    J. Gasteiger, S. Weißenberger, S. Günnemann, "Diffusion improves graph learning",
    NeurIPS 2019. F. Caso et al., "Renormalized graph representations for node
    classification", IJCNN 2025 (its future work: task-specific scales).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import jraph
import numpy as np
from flax import nnx
from jaxtyping import Array, Float

from jaxrg._numerics import any_in_batch
from jaxrg.studies._common.layers import INITS, linear
from jaxrg.studies.node_classification.gnn import (
    CONVS,
    GraphEncoder,
    LayerNorm,
    gcn_propagate,
    kernels_l2,
)

__all__ = [
    "LEARNED_VARIANTS",
    "HeatEncoder",
    "LearnedScaleClassifier",
    "heat_coefficients",
    "heat_diffusion",
    "normalised_laplacian_eigenvalues",
    "trained_tau",
]

#: SD/MD: heat diffusion at the fixed τ* (S: alone; M: beside an encoder on the original
#: graph); SL/ML: the same with τ trained from τ*.
LEARNED_VARIANTS = ("SD", "MD", "SL", "ML")

_glorot = jax.nn.initializers.glorot_uniform()


#: Power-series terms per coefficient: enough for tau up to about 150 in float64.
_SERIES_TERMS = 256


def heat_coefficients(tau, num_terms: int) -> Float[Array, " k"]:
    r"""Chebyshev coefficients :math:`c_k = (2 - \delta_{k0}) e^{-\tau} I_k(\tau)`, ``k < K``.

    Summed as a power series in the log domain (no overflow for large :math:`\tau`, exact
    derivatives in :math:`\tau`).

    Args:
        tau: scalar :math:`\tau > 0` (traced or not).
        num_terms: ``K`` (static).

    Returns:
        ``(K,)`` coefficients of ``tau``'s dtype.

    Examples:
        >>> c = heat_coefficients(jnp.asarray(2.0), 30)
        >>> round(float(c.sum()), 12), round(float(c[0]), 6)  # e^{-2} I_0(2) = 0.308508
        (1.0, 0.308508)
    """
    tau = jnp.asarray(tau)
    # The terms of I_k peak near m = tau / 2 and fall factorially after it.
    m = jnp.arange(_SERIES_TERMS, dtype=tau.dtype)[:, None]
    k = jnp.arange(num_terms, dtype=tau.dtype)[None, :]
    log_terms = ((2 * m + k) * jnp.log(tau / 2) - jax.scipy.special.gammaln(m + 1)
                 - jax.scipy.special.gammaln(m + k + 1))
    log_ive = jax.scipy.special.logsumexp(log_terms, axis=0) - tau
    doubled = jnp.where(k[0] > 0, 2.0, 1.0).astype(tau.dtype)
    return doubled * jnp.exp(log_ive)


def heat_diffusion(x: Float[Array, "n f"], graph: jraph.GraphsTuple,
                   coeffs: Float[Array, " k"], *, truncate: bool = True) -> Float[Array, "n f"]:
    r""":math:`\sum_k c_k T_k(\hat A)\,x` by the Chebyshev recurrence (up to ``K`` sparse products).

    :math:`T_0 x = x`, :math:`T_1 x = \hat A x`, :math:`T_{k+1} x = 2\hat A\,T_k x - T_{k-1} x`.

    The recurrence stops at the first ``k`` whose tail :math:`\sum_{j \ge k} |c_j|` is at most
    ``eps / 16`` of ``x``'s dtype: since :math:`\|T_j(\hat A)\|_2 \le 1`, the terms left out
    change the sum by at most that fraction of :math:`\|x\|`, below the round-off of the
    recurrence itself. The heat coefficients fall faster than geometrically once
    :math:`k > \tau`, so at :math:`\tau = 2` 18 of the 47 products of ``K = 48`` terms are
    computed in float64 (the skipped steps are a ``lax.cond`` inside the ``lax.scan``, 2-3x
    for value and gradient at Photo's size: ``benchmarks/bench_heat_diffusion.py``; under
    ``jax.vmap`` the batch steps until every member's tail is negligible, so the cond stays a
    cond). Its derivative in ``coeffs`` is that of the computed
    sum: the skipped coefficients get a zero gradient (their true sensitivity is below the
    same bound).

    Args:
        x: ``(N, F)`` node features.
        graph: ``jraph.GraphsTuple`` on the ``N`` nodes (edge weights or None for ones).
        coeffs: ``(K,)`` coefficients, ``K >= 2`` (e.g. :func:`heat_coefficients`). A NaN
            among them gives NaN (no step before it is skipped).
        truncate: stop at the negligible tail (default); False runs all ``K`` products
            (the reference :func:`heat_diffusion` is checked against, and the benchmark's
            baseline: ``benchmarks/bench_heat_diffusion.py``).

    Returns:
        ``(N, F)``: :math:`e^{-\tau\hat L}x` when ``coeffs`` are the heat coefficients.
    """
    coeffs = coeffs.astype(x.dtype)
    first = gcn_propagate(x, graph)
    start = (x, first, coeffs[0] * x + coeffs[1] * first)

    def product(state, c):
        previous, current, total = state
        following = 2 * gcn_propagate(current, graph) - previous
        return current, following, total + c * following

    if not truncate:
        return jax.lax.scan(lambda state, c: (product(state, c), None), start, coeffs[2:])[0][2]
    # tail[k] = sum_{j >= k} |c_j| over the steps k = 2..K-1 of the scan
    tails = jnp.cumsum(jnp.abs(coeffs[2:])[::-1])[::-1]
    cut = jnp.asarray(jnp.finfo(x.dtype).eps / 16, x.dtype)

    def body(state, step):
        c, tail = step
        return jax.lax.cond(_negligible(jax.lax.stop_gradient(tail), cut), lambda state: state,
                            lambda state: product(state, c), state), None

    return jax.lax.scan(body, start, (coeffs[2:], tails))[0][2]


def _negligible(tail, cut):
    """``tail <= cut``; under ``jax.vmap`` one unbatched answer for the whole batch.

    Not ``tail <= cut`` negated: a NaN tail keeps stepping, so a NaN coefficient reaches the
    sum. Batched (seeds vmapped, each with its own τ), the steps stop when every member's tail
    is negligible (:func:`jaxrg._numerics.any_in_batch` of "still needed"): the predicate stays
    unbatched, so ``lax.cond`` keeps skipping instead of becoming a ``select`` that runs both
    branches (the study's runner vmaps even one seed); the members that could have stopped
    earlier add terms below their own cut.
    """
    return ~any_in_batch(jnp.any(~(tail <= cut)))


def _check_scale(tau0: float, tau_max: float, num_terms: int, tol: float = 1e-6) -> None:
    if not (isinstance(num_terms, int) and num_terms >= 2):
        raise ValueError(f"num_terms must be an integer >= 2, got {num_terms!r}")
    if not (0 < tau0 < tau_max < 150):
        raise ValueError(f"need 0 < tau0 < tau_max < 150, got tau0={tau0!r}, "
                         f"tau_max={tau_max!r}; pass tau0 = the characteristic scale of the "
                         "normalised Laplacian (normalised_laplacian_eigenvalues) and a larger "
                         "tau_max")
    # On the host (the model may be built under a trace): the same series in NumPy.
    m = np.arange(_SERIES_TERMS)[:, None]
    k = np.arange(num_terms)[None, :]
    lgamma = np.vectorize(math.lgamma)
    log_terms = (2 * m + k) * math.log(tau_max / 2) - lgamma(m + 1.0) - lgamma(m + k + 1.0)
    peak = log_terms.max(axis=0)
    log_ive = peak + np.log(np.exp(log_terms - peak).sum(axis=0)) - tau_max
    tail = 1.0 - float(np.sum(np.where(k[0] > 0, 2.0, 1.0) * np.exp(log_ive)))
    if tail > tol:
        need = int(math.ceil(math.sqrt(2 * tau_max * math.log(2 / tol)) + math.log(2 / tol) / 2
                             + 5))
        raise ValueError(f"num_terms={num_terms} Chebyshev terms leave {tail:.2g} of the heat "
                         f"kernel out at tau_max={tau_max:g}; pass num_terms >= {need} or a "
                         "smaller tau_max")


class HeatEncoder(nnx.Module):
    r"""Optional ``Linear(in → h)``, then ``num_layers`` × [heat diffusion → LayerNorm → ReLU,
    residual], all layers at one scale :math:`\tau` (trained unless ``learn_tau`` is False).

    Layer: :math:`x \leftarrow x + \mathrm{ReLU}(\mathrm{LN}(e^{-\tau\hat L} x W + b))`, the
    block of :class:`~jaxrg.studies.node_classification.gnn.GraphEncoder` with the heat kernel
    in place of the GCN propagation.

    Args:
        in_features: F.
        hidden: width h; None skips the projection (h = F).
        tau0: initial :math:`\tau` (in the units of :math:`\hat L`, spectrum in [0, 2)).
        tau_max: upper end of :math:`\tau`.
        num_terms: Chebyshev terms ``K`` (checked against ``tau_max``).
        num_layers: number of blocks.
        learn_tau: train :math:`\tau` (False: it stays at ``tau0``; its gradient is zero).
        tau_rate: Adam's step on :math:`\theta` relative to the weights' step. The parameter is
            :math:`\phi = \theta/\text{tau\_rate}`; Adam moves a parameter by about its
            learning rate per step whatever the gradient's scale, so :math:`\theta` moves
            ``tau_rate`` times as far. 1 (the default): :math:`\theta` is the parameter.
        init: ``"flax"`` or ``"torch"`` for the input projection (see
            :func:`jaxrg.studies._common.layers.linear`); the diffusion weights are Glorot.
        param_dtype: dtype of the parameters.
        rngs: ``nnx.Rngs``.

    Examples:
        >>> g = jraph.GraphsTuple(nodes=None, edges=None, senders=np.array([0, 1]),
        ...                       receivers=np.array([1, 0]), globals=None,
        ...                       n_node=np.array([3]), n_edge=np.array([2]))
        >>> enc = HeatEncoder(4, 8, tau0=1.0, rngs=nnx.Rngs(0))
        >>> enc(jnp.ones((3, 4), jnp.float32), g).shape, round(float(enc.tau), 6)
        ((3, 8), 1.0)
    """

    def __init__(self, in_features: int, hidden: int | None = None, *, tau0: float,
                 tau_max: float = 20.0, num_terms: int = 48, num_layers: int = 2,
                 learn_tau: bool = True, tau_rate: float = 1.0, init: str = "flax",
                 param_dtype=jnp.float32, rngs: nnx.Rngs):
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        _check_scale(float(tau0), float(tau_max), num_terms)
        if not (math.isfinite(tau_rate) and tau_rate > 0):
            raise ValueError(f"tau_rate must be a positive finite number, got {tau_rate!r}")
        width = in_features if hidden is None else hidden
        self.projection = (None if hidden is None else
                           linear(in_features, hidden, init=init, param_dtype=param_dtype,
                                  rngs=rngs))
        self.convs = nnx.List([_HeatConv(width, param_dtype, rngs) for _ in range(num_layers)])
        self.norms = nnx.List([LayerNorm(width, epsilon=1e-5, param_dtype=param_dtype)
                               for _ in range(num_layers)])
        ratio = float(tau0) / float(tau_max)
        self.scale_logit = nnx.Param(jnp.asarray(math.log(ratio / (1 - ratio)) / tau_rate,
                                                 param_dtype))
        self.tau_max, self.num_terms, self.learn_tau = float(tau_max), num_terms, learn_tau
        self.tau_rate = float(tau_rate)
        self.out_features = width

    @property
    def tau(self) -> Array:
        r""":math:`\tau = \tau_{\max}\,\sigma(\theta)` (a scalar array)."""
        return _tau_of(self.scale_logit[...], self.tau_max, self.tau_rate)

    def __call__(self, x: Float[Array, "n f"], graph: jraph.GraphsTuple) -> Float[Array, "n h"]:
        phi = self.scale_logit[...]
        if not self.learn_tau:
            phi = jax.lax.stop_gradient(phi)
        # the coefficients in float64 when x64 is on, else float32; the diffusion in x's dtype
        coeffs = heat_coefficients(
            _tau_of(phi.astype(jnp.result_type(float)), self.tau_max, self.tau_rate),
            self.num_terms)
        if self.projection is not None:
            x = self.projection(x)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = x + jax.nn.relu(norm(conv(x, graph, coeffs)))
        return x


class _HeatConv(nnx.Module):
    r""":math:`e^{-\tau\hat L} x W + b` for given Chebyshev coefficients (Glorot W, zero b)."""

    def __init__(self, width: int, param_dtype, rngs: nnx.Rngs):
        self.kernel = nnx.Param(_glorot(rngs.params(), (width, width), param_dtype))
        self.bias = nnx.Param(jnp.zeros((width,), param_dtype))

    def __call__(self, x, graph, coeffs):
        return heat_diffusion(x @ self.kernel[...], graph, coeffs) + self.bias[...][None, :]


def _tau_of(phi, tau_max: float, tau_rate: float = 1.0):
    theta = phi if tau_rate == 1.0 else phi * jnp.asarray(tau_rate, phi.dtype)
    return jnp.asarray(tau_max, theta.dtype) * jax.nn.sigmoid(theta)


class LearnedScaleClassifier(nnx.Module):
    """A :class:`HeatEncoder` (S) or a graph encoder and a :class:`HeatEncoder` (M); Linear.

    The variants of :data:`LEARNED_VARIANTS`: both encoders read the original graph; the heat
    encoder's diffusion plays the part of the renormalised graph of SR/MR.

    Args:
        in_features: F.
        num_classes: C.
        variant: ``"SD"``, ``"MD"``, ``"SL"`` or ``"ML"``.
        tau0: initial (for SD/MD: fixed) :math:`\\tau`.
        hidden, conv, num_layers, num_heads, init: as in
            :class:`~jaxrg.studies.node_classification.multiscale.MultiscaleClassifier`.
        tau_max, num_terms, tau_rate: as in :class:`HeatEncoder`.
        param_dtype: dtype of the parameters.
        rngs: ``nnx.Rngs``.

    Examples:
        >>> g = jraph.GraphsTuple(nodes=None, edges=None, senders=np.array([0, 1]),
        ...                       receivers=np.array([1, 0]), globals=None,
        ...                       n_node=np.array([2]), n_edge=np.array([2]))
        >>> model = LearnedScaleClassifier(5, 3, variant="ML", tau0=2.0, hidden=8,
        ...                                rngs=nnx.Rngs(0))
        >>> model(jnp.ones((2, 5), jnp.float32), [g]).shape
        (2, 3)
    """

    def __init__(self, in_features: int, num_classes: int, *, variant: str, tau0: float,
                 hidden: int | None = None, conv: str = "gcn", num_layers: int = 2,
                 num_heads: int = 4, tau_max: float = 20.0, num_terms: int = 48,
                 tau_rate: float = 1.0, init: str = "flax", param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        variant = str(variant).upper()
        if variant not in LEARNED_VARIANTS:
            raise ValueError(f"variant must be one of {LEARNED_VARIANTS}, got {variant!r}")
        if conv not in CONVS:
            raise ValueError(f"conv must be one of {CONVS}, got {conv!r}")
        self.base = (GraphEncoder(in_features, hidden, conv=conv, num_layers=num_layers,
                                  num_heads=num_heads, param_dtype=param_dtype, init=init,
                                  rngs=rngs)
                     if variant[0] == "M" else None)
        self.heat = HeatEncoder(in_features, hidden, tau0=tau0, tau_max=tau_max,
                                num_terms=num_terms, num_layers=num_layers,
                                learn_tau=variant[1] == "L", tau_rate=tau_rate, init=init,
                                param_dtype=param_dtype, rngs=rngs)
        width = self.heat.out_features * (2 if self.base is not None else 1)
        self.head = linear(width, num_classes, init=init, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x: Float[Array, "n f"], graphs: Sequence[jraph.GraphsTuple], *,
                 key: Array | None = None) -> Float[Array, "n c"]:
        del key  # no dropout (as the multiscale classifier)
        if len(graphs) != 1:
            raise ValueError(f"a learned-scale model reads the original graph only; got "
                             f"{len(graphs)} graphs")
        parts = [self.heat(x, graphs[0])]
        if self.base is not None:
            parts.insert(0, self.base(x, graphs[0]))
        return self.head(jnp.concatenate(parts, axis=-1))

    def l2_loss(self) -> Array:
        """½ Σ w² over every weight matrix named ``kernel`` (as the multiscale classifier)."""
        return kernels_l2(self)


def normalised_laplacian_eigenvalues(adjacency) -> np.ndarray:
    r"""Eigenvalues of :math:`\hat L = I - \hat D^{-1/2}(A + I)\hat D^{-1/2}` (float64, host).

    The spectrum whose specific-heat peak gives the starting :math:`\tau^*` of the heat
    encoder (in its own units; the LRG's :math:`\tau^*` is that of :math:`L = D - A`).

    Args:
        adjacency: ``(N, N)`` symmetric non-negative weights (dense or ``scipy.sparse``).

    Returns:
        ``(N,)`` ascending eigenvalues in :math:`[0, 2)`.
    """
    dense = adjacency.toarray() if hasattr(adjacency, "toarray") else np.asarray(adjacency)
    dense = np.asarray(dense, np.float64) + np.eye(dense.shape[0])
    inv_sqrt = 1.0 / np.sqrt(dense.sum(axis=1))
    normalised = np.eye(dense.shape[0]) - inv_sqrt[:, None] * dense * inv_sqrt[None, :]
    return np.clip(np.linalg.eigvalsh((normalised + normalised.T) / 2), 0.0, None)


def trained_tau(params, tau_max: float, tau_rate: float = 1.0) -> np.ndarray:
    r""":math:`\tau` of every seed in stacked parameters (the ``scale_logit`` leaf).

    Args:
        params: ``nnx.State`` (or pytree) of a :class:`LearnedScaleClassifier`, each leaf with a
            leading seed axis ``S``.
        tau_max: the model's :math:`\tau_{\max}`.
        tau_rate: the model's ``tau_rate`` (the leaf holds :math:`\theta/\text{tau\_rate}`).

    Returns:
        ``(S,)`` float64 :math:`\tau = \tau_{\max}\sigma(\theta)`.
    """
    leaves = [leaf for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]
              if "scale_logit" in jax.tree_util.keystr(path)]
    if len(leaves) != 1:
        raise ValueError(f"expected one scale_logit in the parameters, found {len(leaves)}")
    theta = np.asarray(leaves[0], np.float64).reshape(-1) * tau_rate
    return tau_max / (1.0 + np.exp(-theta))
