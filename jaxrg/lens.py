r"""Entropy-Lens: per-layer, per-token entropy profiles of a transformer's residual stream.

The logit lens decodes the residual stream :math:`h_\ell` after block :math:`\ell` through the
model's own final norm and unembedding, :math:`z_\ell = W_U^\top N(h_\ell) + b`; Entropy-Lens takes
the (Rényi) entropy of every such next-token distribution. For a prompt and ``T`` generated tokens
this gives an ``L × T`` *entropy profile* per order :math:`\alpha`; :math:`\Delta H_\ell > 0` reads
as expansion (more candidates), :math:`< 0` as pruning. Profiles averaged over ``W`` token windows
and resampled on normalised depth :math:`\ell/L` are the features on which
:func:`jaxrg.knn.cross_validate_knn` identifies task type, model family and correctness.

With an unembedding matrix the vocabulary is streamed in chunks (:mod:`jaxrg.info` statistics), so
``L × T × V`` logits never exist; any callable ``hidden -> logits`` works too (one layer at a time),
so hidden states of any model (Flax, or exported from PyTorch/HF as arrays) can be read.

Bring your own model: :func:`logit_profiles` turns an array of logits (or hidden states already
projected through the unembedding) of shape ``(..., L, T, V)`` — e.g. ``(models, prompts, layers,
tokens, vocab)`` — into profiles, and :func:`analyse_profiles` runs the paper's k-NN protocol
(k = 29, 10-fold stratified, macro-F1, ROC-AUC against a stratified dummy) on labelled profiles,
also for models of different depth (profiles resampled on normalised depth). The CLI does the same
on ``.npy``/``.npz`` files: ``jaxrg entropy-lens profile`` and ``jaxrg entropy-lens analyse``.

References:
    R. Ali, F. Caso, C. Irwin, P. Liò, "Entropy-Lens: The Information Signature of Transformer
    Computations", arXiv:2502.16570 (2025).
    nostalgebraist, "interpreting GPT: the logit lens" (2020).

Example:
    >>> import jax.numpy as jnp
    >>> from jaxrg.lens import entropy_profile
    >>> hidden = jnp.zeros((3, 5, 4))                   # 3 layers, 5 tokens, width 4
    >>> w_u = jnp.ones((4, 10))                          # vocabulary of 10
    >>> entropy_profile(hidden, w_u, jnp.array([0.5, 1.0]), chunk_size=4).round(4)[:, 0, 0].tolist()
    [2.3026, 2.3026]
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from jaxrg import _checks, info
from jaxrg.knn import CrossValidation, cross_validate_knn

__all__ = [
    "analyse_profiles",
    "depth_normalise",
    "entropy_profile",
    "logit_profiles",
    "profile_features",
    "window_average",
]


def entropy_profile(
    hidden_states,
    unembedding,
    alpha=1.0,
    *,
    norm: Callable[[jax.Array], jax.Array] | None = None,
    bias=None,
    chunk_size: int | None = 8192,
) -> Float[Array, "..."]:
    r"""Rényi entropy of the logit-lens distribution of every hidden state.

    .. math:: H_\alpha\big(\mathrm{softmax}(N(h)\,W_U + b)\big)\quad\text{for every } h.

    Args:
        hidden_states: ``(..., d)`` residual-stream vectors, typically ``(L, T, d)``: the output
            of each block at each generated position (``Transformer.hidden_states``, or HF
            ``output_hidden_states[1:]`` at the positions that predict the generated tokens).
        unembedding: the ``(d, V)`` output matrix (streamed over ``V`` in ``chunk_size`` columns),
            or a callable mapping ``(..., d)`` to logits ``(..., V)`` (applied one leading slice
            at a time; include any final norm in it or pass ``norm``).
        alpha: order(s) :math:`\ge 0`; 1 is the Shannon entropy of the paper.
        norm: the model's final norm, applied to ``hidden_states`` first (e.g.
            ``model.final_norm``); None for none.
        bias: optional ``(V,)`` output bias (matrix form only).
        chunk_size: vocabulary columns per chunk (matrix form); None for a single chunk.

    Returns:
        ``alpha.shape + hidden_states.shape[:-1]`` entropies in nats (float32 for bf16 inputs).

    Raises:
        ValueError: shapes that do not match, bad ``alpha``; on concrete input non-finite
            hidden states or unembedding, or a NaN or ``+inf`` bias (under ``jit``: NaN out).
    """
    h = _checks.as_float_array(hidden_states, "hidden_states")
    if h.ndim < 1:
        raise ValueError("hidden_states must have shape (..., d); got a scalar.")
    _refuse_nonfinite(h, "hidden_states")
    if norm is not None:
        h = norm(h)
    if callable(unembedding) and not isinstance(unembedding, jax.Array | np.ndarray):
        return _profile_callable(h, unembedding, alpha)
    w = _checks.as_float_array(unembedding, "unembedding")
    if w.ndim != 2 or w.shape[0] != h.shape[-1]:
        raise ValueError(
            f"unembedding must be a (d, V) matrix with d = hidden_states.shape[-1] = "
            f"{h.shape[-1]}; got shape {w.shape}. (A PyTorch nn.Linear weight is (V, d): pass "
            "its transpose.)"
        )
    v = w.shape[1]
    b = jnp.zeros((v,), w.dtype) if bias is None else _checks.as_float_array(bias, "bias")
    if b.shape != (v,):
        raise ValueError(f"bias must have shape ({v},); got {b.shape}.")
    # named here: downstream the NaN would surface as "logits contain NaN", logits the caller
    # never passed
    _refuse_nonfinite(w, "unembedding")
    _refuse_nonfinite(b, "bias", allow_minus_inf=True)
    dtype = jnp.promote_types(h.dtype, w.dtype)
    h, w, b = h.astype(dtype), w.astype(dtype), b.astype(dtype)
    size = v if chunk_size is None else min(
        _checks.check_int(chunk_size, "chunk_size", meaning="vocabulary columns per chunk"), v)
    num_chunks = -(-v // size)
    pad = num_chunks * size - v
    if pad:  # padded columns get logit -inf: probability 0, no effect on any entropy
        w = jnp.pad(w, ((0, 0), (0, pad)))
        b = jnp.concatenate([b, jnp.full((pad,), -jnp.inf, dtype)])
    flat = h.reshape(-1, h.shape[-1])

    def chunk(i):
        w_i = jax.lax.dynamic_slice_in_dim(w, i * size, size, axis=1)
        b_i = jax.lax.dynamic_slice_in_dim(b, i * size, size)
        return flat @ w_i + b_i[None, :]

    # the inputs are finite: a NaN or +inf logit is the projection's overflow, a row of only
    # -inf the bias's (both named as such, not as "logits" the caller never passed)
    stats = info.streamed_entropy_stats(
        chunk, alpha, num_chunks=num_chunks,
        name=f"the logit-lens logits hidden_states @ unembedding + bias (in {dtype.name})",
        fix="the projection overflowed (its inputs are finite): scale hidden_states or "
            "unembedding down, or compute in float64; -inf in bias is allowed (probability 0)",
    )
    out = info.renyi_entropy_from_stats(stats)
    return out.reshape(out.shape[:-1] + h.shape[:-1])


def _refuse_nonfinite(x: jax.Array, name: str, *, allow_minus_inf: bool = False) -> None:
    """ValueError naming ``name`` when concrete ``x`` holds NaN or inf (``-inf`` allowed if so)."""
    if not _checks.is_concrete(x):
        return  # under jit a NaN flows through to a NaN entropy
    with jax.ensure_compile_time_eval():  # concrete even when called while tracing
        ok = jnp.isfinite(x) | (allow_minus_inf & (x == -jnp.inf))
        finite = bool(jnp.all(ok))
    if not finite:
        bad = "NaN or +inf" if allow_minus_inf else "NaN or inf"
        extra = " (-inf, probability 0, is allowed)" if allow_minus_inf else ""
        raise ValueError(
            f"{name} contains {bad}{extra}; the logits it makes would be NaN. Check the model "
            f"weights, or replace the entries (e.g. jnp.nan_to_num({name}))."
        )


def _profile_callable(h: jax.Array, fn: Callable, alpha) -> jax.Array:
    if h.ndim == 1:
        return info.renyi_entropy(fn(h), alpha)
    # one leading slice (e.g. one layer) at a time bounds memory by T x V logits
    out = jax.lax.map(lambda x: info.renyi_entropy(fn(x), alpha), h)
    return jnp.moveaxis(out, 0, np.ndim(alpha))  # alpha axes first, like the matrix form


def window_average(profiles, num_windows: int) -> Float[Array, "... w"]:
    r"""Mean over ``num_windows`` contiguous token windows of the last (token) axis.

    ``T`` tokens split as evenly as possible (``numpy.array_split``); window :math:`w` gives
    :math:`\bar H_{\cdot w} = \frac{1}{|T_w|}\sum_{t \in T_w} H_{\cdot t}`. The authors require
    ``W`` to divide ``T``, in which case the windows are identical.

    Args:
        profiles: ``(..., T)`` entropies, e.g. ``(N, L, T)`` profiles from
            :func:`entropy_profile`.
        num_windows: ``W``, in ``[1, T]``.

    Returns:
        ``(..., W)`` NumPy array of window means.

    Raises:
        ValueError: ``num_windows`` < 1 or > T.
        TypeError: ``num_windows`` not an integer (``2.7`` is refused, not truncated to 2).
    """
    num_windows = _checks.check_int(num_windows, "num_windows", minimum=1, meaning="token windows")
    p = np.asarray(profiles)
    t = p.shape[-1]
    if not 1 <= num_windows <= t:
        raise ValueError(f"num_windows must be in [1, T={t}]; got {num_windows}.")
    return np.stack([c.mean(-1) for c in np.array_split(p, num_windows, axis=-1)], -1)


def depth_normalise(profiles, num_points: int) -> np.ndarray:
    r"""Resample the layer axis (second to last, length ``L``) on ``num_points`` normalised depths.

    Layer :math:`\ell = 1..L` sits at depth :math:`(\ell-1)/(L-1) \in [0, 1]` (first and last
    layers align across models); linear interpolation onto ``linspace(0, 1, num_points)``, so
    models of different depth become comparable. A single layer (``L = 1``) is repeated.

    Args:
        profiles: ``(..., L, W)`` profiles (layers second to last).
        num_points: ``P \ge 2``, the number of normalised depths (the grid holds both ends,
            depth 0 and depth 1).

    Returns:
        ``(..., P, W)`` float NumPy array.

    Raises:
        ValueError: ``num_points`` < 2 (``0`` would give an empty array, ``1`` only the first
            layer); ``profiles`` with fewer than 2 axes (no layer axis) or no layer (``L = 0``:
            there is no depth to resample).
        TypeError: ``num_points`` not an integer.
    """
    num_points = _checks.check_int(num_points, "num_points", minimum=2,
                                   meaning="normalised depths, both ends included")
    p = np.asarray(profiles, dtype=float)
    if p.ndim < 2:
        raise ValueError(
            f"profiles must have a layer axis and a window axis, shape (..., L, W); got shape "
            f"{p.shape}. A single profile over layers is profiles[:, None] (W = 1)."
        )
    num_layers = p.shape[-2]
    if num_layers == 0:
        raise ValueError(
            f"profiles has no layer (shape {p.shape}, L = 0 on the second-to-last axis): there "
            "is no depth to resample; pass the profiles of at least one layer."
        )
    if num_layers < 2:
        return np.repeat(p, num_points, axis=-2)
    x = np.linspace(0.0, 1.0, num_layers)
    grid = np.linspace(0.0, 1.0, num_points)
    moved = np.moveaxis(p, -2, -1)
    out = np.apply_along_axis(lambda y: np.interp(grid, x, y), -1, moved)
    return np.moveaxis(out, -1, -2)


def profile_features(
    profiles,
    *,
    num_windows: int = 1,
    depth_points: int | None = None,
    depth_range: tuple[float, float] | None = None,
    differences: bool = False,
) -> np.ndarray:
    r"""Feature vectors from entropy profiles ``(N, ..., L, T)`` (N samples first).

    Steps: average the tokens in ``num_windows`` windows; optionally resample the layers on
    ``depth_points`` normalised depths (:func:`depth_normalise`); optionally keep only the layers
    whose normalised depth lies in ``depth_range`` (the first/middle/last-layer ablation, e.g.
    ``(0, 1/3)``); optionally replace the profile by its layer differences
    :math:`\Delta H_\ell = H_{\ell+1} - H_\ell` (expansion/pruning); flatten everything after the
    sample axis.

    Args:
        profiles: ``(N, ..., L, T)`` entropy profiles.
        num_windows: ``W`` token windows (:func:`window_average`).
        depth_points: number of normalised depths to resample the layers on; ``None`` keeps
            the ``L`` layers.
        depth_range: ``(lo, hi)`` in normalised depth; ``None`` keeps every layer.
        differences: use :math:`\Delta H_\ell` (one layer fewer) instead of :math:`H_\ell`.

    Returns:
        ``(N, F)`` float array, ``F`` the product of the remaining axes.

    Raises:
        ValueError: ``depth_range`` selects no layer; ``num_windows`` outside ``[1, T]``;
            ``depth_points`` < 2.
        TypeError: ``num_windows`` or ``depth_points`` not an integer.
    """
    if depth_points is not None:  # named as the caller named it (depth_normalise's num_points)
        depth_points = _checks.check_int(depth_points, "depth_points", minimum=2,
                                         meaning="normalised depths, both ends included")
    p = window_average(profiles, num_windows)  # (N, ..., L, W)
    if depth_points is not None:
        p = depth_normalise(p, depth_points)
    if depth_range is not None:
        lo, hi = depth_range
        depth = np.linspace(0.0, 1.0, p.shape[-2]) if p.shape[-2] > 1 else np.zeros(1)
        keep = (depth >= lo - 1e-12) & (depth <= hi + 1e-12)
        if not keep.any():
            raise ValueError(f"depth_range={depth_range} selects none of the {p.shape[-2]} layers.")
        p = p[..., keep, :]
    if differences:
        p = np.diff(p, axis=-2)
    return p.reshape(p.shape[0], -1)


def logit_profiles(logits, alpha=1.0, *, chunk_size: int | None = None) -> Float[Array, "..."]:
    r"""Entropy profiles from an array of logit-lens logits: ``(..., L, T, V) -> (..., L, T)``.

    :math:`H_\alpha(\mathrm{softmax}(z_{\ell t}))` for every layer :math:`\ell` and token
    :math:`t`, in log domain (``-inf`` logits are probability 0). Leading axes are samples, e.g.
    ``(models, prompts, layers, tokens, vocab)`` gives ``(models, prompts, layers, tokens)``.

    Args:
        logits: ``(..., L, T, V)`` logits of every layer's lens (hidden states already projected
            through the final norm and unembedding; for hidden states use
            :func:`entropy_profile`).
        alpha: Rényi order(s) :math:`\ge 0`; 1 is the Shannon entropy of the paper.
        chunk_size: stream the vocabulary in chunks of this many entries (None: all at once).

    Returns:
        ``alpha.shape + logits.shape[:-1]`` entropies in nats.

    Raises:
        ValueError: fewer than 3 axes, NaN or ``+inf`` logits (on concrete input; under ``jit``
            NaN in gives NaN out), a row without a finite logit, bad ``alpha``.

    Example:
        >>> import jax.numpy as jnp
        >>> logit_profiles(jnp.zeros((2, 3, 4, 10))).shape         # 2 prompts, 3 layers, 4 tokens
        (2, 3, 4)
    """
    z = _checks.as_float_array(logits, "logits")
    if z.ndim < 3:
        raise ValueError(
            f"logits must have shape (..., layers, tokens, vocab) with at least 3 axes; got "
            f"{z.shape}. Add singleton axes for a single layer or token (x[None], x[:, None])."
        )
    if chunk_size is not None:
        chunk_size = _checks.check_int(chunk_size, "chunk_size", meaning="vocabulary entries")
        return info.renyi_entropy_chunked(z, alpha, chunk_size=chunk_size)
    return info.renyi_entropy(z, alpha)


def analyse_profiles(
    profiles,
    labels,
    *,
    num_windows: int = 1,
    depth_points: int | None = None,
    k: int = 29,
    num_folds: int = 10,
    seed: int = 0,
) -> CrossValidation:
    r"""The paper's k-NN protocol on labelled entropy profiles (family, size, task, correctness).

    Profiles are averaged in ``num_windows`` token windows, optionally resampled on
    ``depth_points`` normalised depths :math:`\ell/L` (:func:`profile_features`), flattened, and
    classified by k-NN (uniform votes, Euclidean) under stratified ``num_folds``-fold
    cross-validation against a stratified dummy (:func:`jaxrg.knn.cross_validate_knn`).

    Args:
        profiles: ``(N, ..., L, T)`` profiles, or a sequence of such arrays (e.g. one per model;
            then the layer counts may differ and ``depth_points`` is required if they do).
        labels: ``(N_total,)`` one label per profile; or, for a sequence, one label per array;
            or, for one array with more than one sample axis, one label per entry of the first
            axis (e.g. a family per model of ``(models, prompts, L, T)``).
        num_windows: ``W`` token windows (1 to T).
        depth_points: normalised depths to resample the layers on; None keeps the layers.
        k: neighbours (the paper's 29; capped at the training-fold size).
        num_folds: folds (the paper's 10).
        seed: seed of the folds and the dummy.

    Returns:
        :class:`jaxrg.knn.CrossValidation`; ``.summary()`` has ``f1`` (macro-F1), ``accuracy``,
        ``roc_auc`` and the dummy's, means and stds over folds.

    Raises:
        ValueError: labels that match no sample axis, different layer counts without
            ``depth_points``, non-finite profiles, fewer than two classes.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> flat, rising = rng.normal(1, 0.1, (30, 4, 6)), rng.normal(0, 0.1, (30, 4, 6))
        >>> rising += np.linspace(0, 3, 4)[:, None]
        >>> cv = analyse_profiles([flat, rising], ["a", "b"], k=5, num_folds=5)
        >>> cv.summary()["f1"]
        1.0
    """
    sequence = isinstance(profiles, list | tuple)
    arrays = [np.asarray(p, dtype=float) for p in (profiles if sequence else [profiles])]
    for i, p in enumerate(arrays):
        if p.ndim < 3:
            raise ValueError(
                f"profiles must be (N, ..., layers, tokens); array {i} has shape {p.shape}."
            )
    depths = {p.shape[-2] for p in arrays}
    if len(depths) > 1 and depth_points is None:
        raise ValueError(
            f"profiles have different layer counts {sorted(depths)}: pass depth_points to "
            "resample them on normalised depth."
        )
    y = np.asarray(labels)
    counts = [int(np.prod(p.shape[:-2])) for p in arrays]
    if sequence and y.shape == (len(arrays),) and y.size != sum(counts):
        y = np.repeat(y, counts)
    elif not sequence and y.ndim == 1 and y.size == arrays[0].shape[0] != counts[0]:
        y = np.repeat(y, counts[0] // arrays[0].shape[0])
    if y.shape != (sum(counts),):
        raise ValueError(
            f"labels must hold one label per profile ({sum(counts)}), per array "
            f"({len(arrays)}) or per entry of the first axis; got shape {y.shape}."
        )
    feats = np.concatenate(
        [
            profile_features(
                p.reshape((-1,) + p.shape[-2:]),
                num_windows=num_windows,
                depth_points=depth_points,
            )
            for p in arrays
        ]
    )
    return cross_validate_knn(feats, y, k=k, num_folds=num_folds, seed=seed)
