"""Input checks shared by the public entry points (STYLE.md habit 5).

Two kinds of check:

* **shape, rank and dtype** — always, at trace time, as ``ValueError``/``TypeError``;
* **values** (symmetry, signs, NaN/inf, τ > 0) — on concrete arrays they raise ``ValueError``
  before any compute; on traced arrays (inside ``jit``/``vmap``/``grad``) they become
  :func:`jax.experimental.checkify.debug_check` calls, which cost nothing unless the caller wraps
  the function with :func:`jaxrg.checked` (``checkify``), where they raise the same messages.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify


def is_concrete(x) -> bool:
    """True when ``x`` holds values now (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def value_check(ok, message: str) -> None:
    """Raise ``ValueError(message)`` when ``ok`` is false; under tracing, a checkify debug check.

    Concreteness is judged on ``ok`` itself: a concrete input closed over by a traced function
    (a ``fori_loop`` body, say) still yields traced checks there.
    """
    if is_concrete(ok):
        if not bool(np.asarray(ok)):
            raise ValueError(message)
    else:
        checkify.debug_check(ok, message)


def as_float_array(x, name: str, *, dtype=None) -> jax.Array:
    """``x`` as a floating JAX array; integer and boolean inputs are cast, others refused."""
    if not isinstance(x, jax.Array):
        x = np.asarray(x)
        if x.dtype.kind not in "biufc":
            raise TypeError(f"{name} must be a numeric array; got dtype {x.dtype}.")
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise TypeError(f"{name} must be real; got dtype {x.dtype}. Pass its real part.")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        if not (jnp.issubdtype(x.dtype, jnp.integer) or x.dtype == jnp.bool_):
            raise TypeError(f"{name} must be a numeric array; got dtype {x.dtype}.")
        x = x.astype(jnp.result_type(float))
    if dtype is not None:
        x = x.astype(dtype)
    return x


def check_square(adjacency: jax.Array, name: str = "adjacency") -> int:
    """Rank-2 square with at least one node; returns N."""
    if adjacency.ndim != 2:
        hint = (
            " For a batch of graphs, jax.vmap over the leading axis." if adjacency.ndim == 3 else ""
        )
        raise ValueError(f"{name} must be a 2-D (N, N) array; got shape {adjacency.shape}.{hint}")
    n, m = adjacency.shape
    if n != m:
        raise ValueError(f"{name} must be square (N, N); got shape {adjacency.shape}.")
    if n == 0:
        raise ValueError(f"{name} is empty (0 nodes): a graph needs at least one node.")
    return n


def check_mask(mask, num_nodes: int, name: str = "mask") -> jax.Array:
    """A boolean node mask of shape (N,)."""
    mask = jnp.asarray(mask)
    if mask.dtype != jnp.bool_:
        raise TypeError(
            f"{name} must be a boolean array (True = real node, False = padding); got dtype "
            f"{mask.dtype}. Use mask.astype(bool) or the mask returned by jaxrg.pad_adjacency."
        )
    if mask.shape != (num_nodes,):
        raise ValueError(
            f"{name} must have shape ({num_nodes},) to match the adjacency; got {mask.shape}."
        )
    return mask


def check_adjacency_values(adjacency: jax.Array, name: str = "adjacency") -> None:
    """Finite, non-negative, symmetric (concrete: ValueError; traced: checkify debug check)."""
    finite = jnp.all(jnp.isfinite(adjacency))
    value_check(
        finite,
        f"{name} has NaN or inf entries; replace them (e.g. jnp.nan_to_num) or drop those edges.",
    )
    value_check(
        jnp.all(adjacency >= 0),
        f"{name} has negative weights (min {_fmt(jnp.min(adjacency))}); "
        "the Laplacian needs non-negative edge weights.",
    )
    asym = jnp.max(jnp.abs(adjacency - adjacency.T))
    scale = jnp.maximum(jnp.max(jnp.abs(adjacency)), 1.0)
    tol = 100 * jnp.finfo(adjacency.dtype).eps * scale
    value_check(
        asym <= tol,
        f"{name} is not symmetric (max |A - A^T| = {_fmt(asym)}); jaxrg works on "
        "undirected graphs: symmetrise with (A + A.T) / 2 or jnp.maximum(A, A.T).",
    )


def check_taus(taus, name: str = "taus") -> jax.Array:
    """Diffusion times: a floating array (any shape) of finite values > 0."""
    taus = as_float_array(taus, name)
    value_check(
        jnp.all(jnp.isfinite(taus)),
        f"{name} must be finite; got NaN or inf. Use e.g. jnp.logspace(-2, 2, 100).",
    )
    value_check(
        jnp.all(taus > 0),
        f"{name} must be > 0 (diffusion time); got min {_fmt(jnp.min(taus))}.",
    )
    return taus


def check_eigenvalues(eigenvalues, name: str = "eigenvalues") -> jax.Array:
    """A 1-D floating array; NaN refused (``+inf`` marks padding)."""
    eigenvalues = as_float_array(eigenvalues, name)
    if eigenvalues.ndim != 1 or eigenvalues.shape[0] == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D array (N,); got shape {eigenvalues.shape}. "
            "For a batch, jax.vmap over the leading axis."
        )
    value_check(
        ~jnp.any(jnp.isnan(eigenvalues)),
        f"{name} contain NaN; compute them with jaxrg.laplacian_spectrum.",
    )
    value_check(
        jnp.any(jnp.isfinite(eigenvalues)),
        f"{name} are all +inf (padding only): the graph has no real node.",
    )
    return eigenvalues


def _fmt(x) -> str:
    return f"{float(x):.3g}" if is_concrete(x) else "<traced>"
