"""Input checks shared by the public entry points (STYLE.md habit 5).

Two kinds of check:

* **shape, rank and dtype** — always, at trace time, as ``ValueError``/``TypeError``;
* **values** (symmetry, signs, NaN/inf, τ > 0) — on concrete arrays they raise ``ValueError``
  before any compute; on traced arrays (inside ``jit``/``vmap``/``grad``) they become
  :func:`jax.experimental.checkify.debug_check` calls, which cost nothing unless the caller wraps
  the function with :func:`jaxrg.checked` (``checkify``), where they raise the same messages.
"""

from __future__ import annotations

import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify


def is_concrete(x) -> bool:
    """True when ``x`` holds values now (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def value_check(ok, message: str, **values) -> None:
    """Raise ``ValueError(message)`` when ``ok`` is false; under tracing, a checkify debug check.

    ``message`` may name ``values`` as format fields (``"min {low:.3g}"``): they are filled in
    eagerly, and under tracing by checkify's formatted-value support, so :func:`jaxrg.checked`
    shows the offending number, not a placeholder. Concreteness is judged on ``ok`` itself: a
    concrete input closed over by a traced function (a ``fori_loop`` body, say) still yields
    traced checks there.
    """
    if is_concrete(ok):
        if not bool(np.asarray(ok)):
            raise ValueError(message.format(**{k: _host(v) for k, v in values.items()}))
    else:
        checkify.debug_check(ok, message, **{k: jnp.asarray(v) for k, v in values.items()})


def _host(value):
    """A concrete scalar as a Python number (for ``str.format`` specs such as ``.3g``)."""
    value = np.asarray(value)
    return value.item() if value.ndim == 0 else value


def as_float_array(x, name: str, *, dtype=None, normal: bool | str = False) -> jax.Array:
    """``x`` as a floating JAX array; integer and boolean inputs are cast, others refused.

    NumPy long doubles (float96/float128) are cast to float64, JAX's widest float.
    With ``normal`` (True, or the fix to suggest) host input (NumPy arrays, lists) holding
    subnormal numbers is refused: XLA flushes them to zero, which silently deletes an edge
    weight or turns a time into 0. A value that the cast to the result's dtype (``dtype``, or
    JAX's default float: float32 unless ``jax_enable_x64``) would turn into ``inf`` is refused
    always, one it would turn into 0 or a subnormal with ``normal`` (:func:`refuse_lossy_cast`).
    """
    dtype = check_float_dtype(dtype)
    if not isinstance(x, jax.Array):
        x = _host_numeric(x, name, normal, dtype=dtype)
    elif (dtype is not None and is_concrete(x) and x.dtype.kind == "f"
          and x.dtype != jax.dtypes.canonicalize_dtype(dtype)):  # no transfer unless narrowing
        refuse_lossy_cast(np.asarray(x), name, dtype, normal=normal)
    x = jnp.asarray(x)
    _check_real(x.dtype, name)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        if not (jnp.issubdtype(x.dtype, jnp.integer) or x.dtype == jnp.bool_):
            raise TypeError(
                f"{name} must be a numeric array; got dtype {x.dtype}. Convert it first, e.g. "
                f"np.asarray({name}, dtype=float)."
            )
        x = x.astype(jnp.result_type(float))
    if dtype is not None:
        x = x.astype(dtype)
    return x


def floating_leaves(tree):
    """A pytree with integer and boolean leaves promoted to the default float (float32, or
    float64 under x64); floating leaves unchanged. For combinations of parameter pytrees
    (merges, paths): ``1 + 0.5 * (2 - 1) = 1.5`` must not be truncated to an int."""

    def promote(leaf):
        leaf = jnp.asarray(leaf)
        if jnp.issubdtype(leaf.dtype, jnp.inexact):
            return leaf
        return leaf.astype(jnp.result_type(float))

    return jax.tree.map(promote, tree)


def _check_real(dtype, name: str) -> None:
    """Refuse a complex dtype (host or device array) with the fix in the message."""
    if np.dtype(dtype).kind == "c":
        raise TypeError(f"{name} must be real; got dtype {dtype}. Pass its real part.")


def _host_numeric(x, name: str, normal: bool | str, *, dtype=None) -> np.ndarray:
    """Host input as a numeric NumPy array (the host half of :func:`as_float_array`).

    ``dtype`` is the floating dtype the caller casts to (default: JAX's canonical dtype of
    ``x``); values it cannot hold are refused (:func:`refuse_lossy_cast`).
    """
    x = host_array(x, name)
    try:
        x = np.asarray(x)
    except ValueError as err:  # numpy: "inhomogeneous shape" for ragged nested lists
        raise ValueError(
            f"{name} is ragged (nested sequences of different lengths) and cannot be one "
            "array; pad graphs of different sizes with jaxrg.pad_adjacency (a batch plus a "
            "node mask) or pass them one at a time."
        ) from err
    if x.dtype.kind not in "biufc":
        raise TypeError(
            f"{name} must be a numeric array; got dtype {x.dtype}. Convert it first, e.g. "
            f"np.asarray({name}, dtype=float)."
        )
    if x.dtype.kind == "f" and x.dtype.itemsize > 8:  # long double: JAX has no such type
        x = x.astype(np.float64)
    if normal:
        refuse_subnormal(x, name, None if normal is True else normal)
    if x.dtype.kind == "f":  # integers fit any float (int64's 9.2e18 < float32's 3.4e38)
        refuse_lossy_cast(x, name, x.dtype if dtype is None else dtype, normal=normal)
    return x


def refuse_lossy_cast(x: np.ndarray, name: str, dtype, *, normal: bool | str = True) -> None:
    """ValueError when casting the host array ``x`` to JAX's form of ``dtype`` loses a value.

    JAX computes in float32 unless ``jax_enable_x64`` is set, so a NumPy float64 weight of 1e39
    would become ``inf`` (reported later as "NaN or inf", which the input does not hold) and one
    of 1e-50 would become 0: an edge silently deleted, a graph perhaps split in two. Overflow
    is refused always; with ``normal`` (True, or the fix to suggest) so is a non-zero value that
    becomes 0 or subnormal. Nothing is checked when the cast does not narrow.

    Args:
        x: concrete host array (any dtype; only floating arrays are examined).
        name: the argument, for messages.
        dtype: the floating dtype of the cast (canonicalised as JAX does).
        normal: refuse values that underflow, too.
    """
    target = np.dtype(jax.dtypes.canonicalize_dtype(dtype))
    if x.size == 0 or x.dtype.kind != "f" or target.kind != "f" or target == x.dtype:
        return
    with np.errstate(over="ignore", under="ignore"):
        cast = x.astype(target)
    fix = (
        f"Rescale {name} (e.g. divide by its largest value), or compute in float64 "
        "(jax.config.update('jax_enable_x64', True) before any JAX call"
        + (", and dtype=float64)." if target.itemsize < 8 else ").")
    )
    finite = np.isfinite(x)
    over = finite & ~np.isfinite(cast)
    if over.any():
        raise ValueError(
            f"{name} holds values too large for {target.name} (e.g. "
            f"{float(np.abs(x[over]).max()):.3g} > {float(np.finfo(target).max):.3g}, its "
            f"largest number, and it is computed in {target.name}); the cast would make them "
            f"inf. {fix}"
        )
    if not normal:
        return
    small = finite & (x != 0) & (np.abs(cast) < np.finfo(target).tiny)
    if small.any():
        raise ValueError(
            f"{name} holds values too small for {target.name} (e.g. "
            f"{float(np.abs(x[small]).min()):.3g} < {float(np.finfo(target).tiny):.3g}, its "
            f"smallest normal number, and it is computed in {target.name}); the cast would make "
            f"them 0 or subnormal, which XLA flushes to 0 (an edge silently deleted). "
            + (fix if normal is True else normal)
        )


def host_float_array(x, name: str, *, dtype, normal: bool | str = False) -> np.ndarray:
    """:func:`as_float_array` for host input, in NumPy: the same checks, no device program.

    Args:
        x: host input (NumPy array, list, scalar); a JAX array goes through
            :func:`as_float_array` and comes back as NumPy.
        name: the argument, for messages.
        dtype: the (canonical) floating dtype of the result.
        normal: refuse subnormal numbers (True, or the fix to suggest).

    Returns:
        ``x`` as a NumPy array of ``dtype``.
    """
    if isinstance(x, jax.Array):
        return np.asarray(as_float_array(x, name, dtype=dtype, normal=normal))
    x = _host_numeric(x, name, normal, dtype=dtype)
    _check_real(x.dtype, name)
    return x.astype(dtype)


def host_array(x, name: str):
    """Host input as JAX can take it: masked arrays refused, foreign byte order made native.

    ``np.asarray`` of a masked array returns its data, masked entries included, so a masked
    weight would silently count; a big-endian array (``'>f8'``, read from a file) is valid data
    that JAX refuses with a raw error. Other inputs pass through unchanged.

    Args:
        x: any input.
        name: the argument, for the message.

    Returns:
        ``x`` (a NumPy array in native byte order where it was a non-native one).

    Raises:
        ValueError: a masked array with masked entries.
    """
    if isinstance(x, np.ma.MaskedArray):
        masked = int(np.ma.count_masked(x))
        if masked:
            raise ValueError(
                f"{name} is a masked array with {masked} masked entries; jaxrg does not guess "
                f"what they mean: fill them first, e.g. {name}.filled(0) (no edge, no weight)."
            )
        x = np.ma.getdata(x)
    if isinstance(x, np.ndarray) and not x.dtype.isnative:
        x = x.astype(x.dtype.newbyteorder("="))
    return x


def refuse_subnormal(x: np.ndarray, name: str, fix: str | None = None) -> None:
    """ValueError when a host floating array holds a non-zero value below the smallest normal.

    XLA runs with flush-to-zero on every backend, so such a value becomes exactly 0 in the first
    operation: an edge of weight 5e-324 disappears (and may disconnect the graph), a time of
    5e-324 becomes 0.
    """
    if x.dtype.kind != "f" or x.size == 0:
        return
    magnitude = np.abs(x)
    tiny = np.finfo(x.dtype).tiny
    sub = (magnitude > 0) & (magnitude < tiny)
    if sub.any():
        raise ValueError(
            f"{name} holds subnormal values (e.g. {float(magnitude[sub].min()):.3g}, below "
            f"{float(tiny):.3g}, the smallest normal {x.dtype}); XLA flushes them to zero. "
            + (
                fix
                or f"Rescale {name} (e.g. divide by its largest value), or set them to 0 if that "
                "is what they mean."
            )
        )


DENSE_LIMIT_ENV = "JAXRG_DENSE_LIMIT_GIB"


def dense_limit_gib() -> float:
    """The memory limit for dense work, ``$JAXRG_DENSE_LIMIT_GIB`` GiB (default 4)."""
    return float(os.environ.get(DENSE_LIMIT_ENV, "4"))


def max_num_taus() -> int:
    """The largest ``tau`` grid the peak search may use: it compares every pair of grid points
    (``O(T^2)``, about 64 bytes per pair), bounded by the dense memory limit (8192 at 4 GiB)."""
    return int((dense_limit_gib() * 2**30 / 64) ** 0.5)


def check_dense_size(num_nodes: int, name: str) -> None:
    """Refuse a dense graph whose ``eigh`` would need more memory than the limit.

    The estimate is ``4 * 8 * N^2`` bytes (adjacency, Laplacian, eigenvectors, workspace, in
    float64); the limit is ``$JAXRG_DENSE_LIMIT_GIB`` GiB (default 4). It runs before any
    allocation, so a node id of 2**40 is a clear error, not an out-of-memory abort.

    Args:
        num_nodes: ``N``.
        name: the file, dataset or argument, for the message.

    Returns:
        None.

    Raises:
        ValueError: naming the estimate and the sparse route (``jaxrg curve-sparse``,
            :mod:`jaxrg.sparse`).
    """
    limit = dense_limit_gib()
    need = 4 * 8 * float(num_nodes) ** 2 / 2**30
    if need > limit:
        raise ValueError(
            f"{name}: {num_nodes} nodes need ~{need:.3g} GiB as a dense matrix (limit {limit:g} "
            f"GiB, ${DENSE_LIMIT_ENV}); use the sparse route (jaxrg.sparse, `jaxrg "
            "curve-sparse`), or renumber sparse node ids to 0..N-1 "
            "(np.unique(ids, return_inverse=True), relabel / --relabel)."
        )


def check_flag(value, name: str) -> bool:
    """A yes/no option as a Python bool; anything else (a string such as ``"no"``) refused.

    Python's truthiness would read ``"no"``, ``"false"`` or ``0.0``-like strings as True and
    silently do the opposite of what was asked.

    Args:
        value: the option's value (``bool`` or ``np.bool_``).
        name: the option, for the message.

    Returns:
        ``bool(value)``.

    Raises:
        TypeError: not a boolean.
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_num_nodes(num_nodes) -> int | None:
    """A requested node count: ``None`` or an integer >= 1 (floats are not truncated)."""
    if num_nodes is None:
        return None
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, int | np.integer):
        raise TypeError(
            f"num_nodes must be an integer >= 1 (the number of nodes); got {num_nodes!r}. "
            "Pass int(num_nodes)."
        )
    if num_nodes < 1:
        raise ValueError(
            f"num_nodes must be >= 1 (the number of nodes); got {num_nodes!r}. Leave it None "
            "for the largest id + 1."
        )
    return int(num_nodes)


class NotAnIntegerError(TypeError, ValueError):
    """A count option that is not an integer: a ``TypeError``, and a ``ValueError`` for code
    written against the earlier per-module checks, which raised ``ValueError``."""


def check_int(value, name: str, *, minimum: int = 1, meaning: str = "") -> int:
    """A count option (static): a Python or NumPy integer ``>= minimum``, as a Python int.

    A float is refused, not truncated (``num_matvecs=10.5`` would silently run 11 or 10
    steps); so is a bool (``True`` is not a count).

    Args:
        value: the option as given.
        name: the argument, for the message.
        minimum: the smallest allowed value.
        meaning: what the option counts (e.g. ``"Lanczos steps"``), for the message.

    Returns:
        ``int(value)``.

    Raises:
        NotAnIntegerError: not an integer (a ``TypeError`` and a ``ValueError``).
        ValueError: below ``minimum``.
    """
    what = f" ({meaning})" if meaning else ""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise NotAnIntegerError(
            f"{name} must be an int >= {minimum}{what}; got {value!r} of type "
            f"{type(value).__name__}. Pass a whole number, e.g. {name}=int({value!r})."
        )
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}{what}; got {value!r}.")
    return int(value)


def check_matching_nodes(num_nodes, size: int) -> None:
    """``num_nodes`` (if given) equals the size of a matrix-form graph; else ValueError."""
    if check_num_nodes(num_nodes) not in (None, size):
        raise ValueError(
            f"num_nodes={num_nodes} does not match the adjacency, which has {size} nodes; "
            "num_nodes is for edge lists only: drop it for a matrix, a networkx graph or a "
            "GraphsTuple."
        )


def check_float_dtype(dtype, name: str = "dtype"):
    """``dtype`` as a NumPy floating dtype (``None`` passes through); else TypeError."""
    if dtype is None:
        return None
    try:
        dtype = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(
            f"{name} must be a floating dtype such as jnp.float32 or 'float64'; got {dtype!r} "
            f"({err})."
        ) from None
    if dtype.kind != "f":
        raise TypeError(
            f"{name} must be a floating dtype (adjacencies hold weights); got {dtype}. Pass e.g. "
            "jnp.float32, or leave it None."
        )
    return dtype


def edge_ids(ids):
    """Node ids as given, except an empty Python sequence, which becomes an empty int array.

    ``np.asarray([])`` is float64, so an empty edge list would be refused for its dtype
    instead of reaching the message that asks for ``num_nodes``.
    """
    if isinstance(ids, list | tuple) and len(ids) == 0:
        return np.zeros(0, np.int64)
    return ids


def check_edge_ids(senders, receivers) -> None:
    """``senders`` and ``receivers`` are 1-D integer arrays of one length ``E`` (NumPy or JAX).

    Raises:
        TypeError: non-integer ids.
        ValueError: not 1-D, or different lengths.
    """
    for name, ids in (("senders", senders), ("receivers", receivers)):
        if ids.dtype.kind not in "iu":
            raise TypeError(
                f"{name} must be integer node ids; got dtype {ids.dtype}. Cast them with "
                f"{name}.astype(int)."
            )
        if ids.ndim != 1:
            raise ValueError(f"{name} must be 1-D (E,); got shape {ids.shape}.")
    if senders.shape != receivers.shape:
        raise ValueError(
            f"senders and receivers must have the same length; got {senders.shape[0]} "
            f"and {receivers.shape[0]}."
        )


def check_square(adjacency: jax.Array, name: str = "adjacency") -> int:
    """Rank-2 square with at least one node; returns N."""
    if adjacency.ndim != 2:
        hint = (
            " For a batch of graphs, jax.vmap over the leading axis."
            if adjacency.ndim == 3
            else " Pass one square matrix; jaxrg.as_adjacency builds it from an edge list."
        )
        raise ValueError(f"{name} must be a 2-D (N, N) array; got shape {adjacency.shape}.{hint}")
    n, m = adjacency.shape
    if n != m:
        raise ValueError(
            f"{name} must be square (N, N); got shape {adjacency.shape}. Pass the (N, N) "
            "adjacency (jaxrg.as_adjacency builds it from an edge list)."
        )
    if n == 0:
        raise ValueError(
            f"{name} is empty (0 nodes): a graph needs at least one node; skip empty graphs "
            "before the call."
        )
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
            f"{name} must have shape ({num_nodes},) to match the adjacency; got {mask.shape}. "
            "Build both with jaxrg.pad_adjacency."
        )
    return mask


def check_edge_weights(adjacency: jax.Array, name: str = "adjacency", *,
                       needs: str = "the Laplacian") -> jax.Array:
    """Finite and non-negative entries (concrete: ValueError; traced: checkify debug check).

    The checks every weighted graph gets, directed (:func:`jaxrg.circulation`) or not
    (:func:`check_adjacency_values` adds symmetry). ``needs`` names what requires
    non-negative weights in the message.

    Returns:
        The scalar bool "all entries finite", for checks that only make sense on finite input.
    """
    finite = jnp.all(jnp.isfinite(adjacency))
    value_check(
        finite,
        f"{name} has NaN or inf entries; replace them (e.g. jnp.nan_to_num) or drop those edges.",
    )
    value_check(
        jnp.all(adjacency >= 0),
        f"{name} has negative weights (min {{low:.3g}}); "
        f"{needs} needs non-negative edge weights: drop those edges or take jnp.abs(A).",
        low=jnp.min(adjacency),
    )
    return finite


def check_adjacency_values(adjacency: jax.Array, name: str = "adjacency") -> None:
    """Finite, non-negative, symmetric (concrete: ValueError; traced: checkify debug check).

    ``adjacency`` is ``(N, N)`` or a ``(B, N, N)`` batch (each graph at its own scale).
    """
    finite = check_edge_weights(adjacency, name)
    # The tolerance scales with the data (no floor at 1: a graph of weights 1e-6 is judged at
    # its own scale), and a one-way edge (A_ij > 0, A_ji = 0) is refused whatever its weight.
    transposed = jnp.swapaxes(adjacency, -1, -2)  # also for a (B, N, N) batch
    one_way = jnp.max(jnp.where((adjacency > 0) != (transposed > 0), adjacency, 0))
    value_check(
        one_way <= 0,
        f"{name} is not symmetric: it has a one-way edge (A[i, j] = {{w:.3g}} but A[j, i] = 0); "
        "jaxrg works on undirected graphs: symmetrise with jnp.maximum(A, A.T) or "
        "(A + A.T) / 2, or for a directed graph take jaxrg.circulation(A).",
        w=one_way,
    )
    gap = jnp.abs(adjacency - transposed)
    asym = jnp.max(gap)
    scale = jnp.max(jnp.abs(adjacency), axis=(-2, -1), keepdims=True)  # per graph
    tol = 100 * jnp.finfo(adjacency.dtype).eps * scale
    value_check(
        jnp.all(gap <= tol),
        f"{name} is not symmetric (max |A - A^T| = {{asym:.3g}}); jaxrg works on "
        "undirected graphs: symmetrise with (A + A.T) / 2 or jnp.maximum(A, A.T), or for a "
        "directed graph take jaxrg.circulation(A).",
        asym=asym,
    )
    degree = jnp.max(jnp.sum(adjacency, axis=1))
    value_check(
        jnp.isfinite(degree) | ~finite,
        f"{name} weights are too large: a node's degree overflows {adjacency.dtype} "
        f"(max {jnp.finfo(adjacency.dtype).max:.3g}); rescale the weights, e.g. A / A.max() "
        "(the spectrum scales by the same factor and tau by its inverse).",
    )


def check_laplacian_values(laplacian: jax.Array, eigenvalues: jax.Array, name: str) -> None:
    """Finite, symmetric, positive semi-definite (from its ``eigh`` eigenvalues).

    A negative eigenvalue beyond round-off means the matrix is not a Laplacian (typically the
    adjacency was passed instead); clipping it to 0 would silently return a wrong kernel.
    """
    value_check(
        jnp.all(jnp.isfinite(laplacian)),
        f"{name} has NaN or inf entries; build it with jaxrg.laplacian(adjacency) from a finite "
        "adjacency.",
    )
    scale = jnp.max(jnp.abs(laplacian))  # tolerances scale with the data (no floor)
    eps = jnp.finfo(laplacian.dtype).eps
    asym = jnp.max(jnp.abs(laplacian - laplacian.T))
    value_check(
        asym <= 100 * eps * scale,
        f"{name} is not symmetric (max |L - L^T| = {{asym:.3g}}); pass the Laplacian of an "
        "undirected graph (jaxrg.laplacian of a symmetric adjacency).",
        asym=asym,
    )
    lowest = jnp.min(eigenvalues)
    value_check(
        lowest >= -10 * laplacian.shape[0] * eps * scale,
        f"{name} is not positive semi-definite (smallest eigenvalue {{low:.3g}}); pass a "
        "graph Laplacian, e.g. jaxrg.laplacian(adjacency), not the adjacency itself.",
        low=lowest,
    )


def check_taus(taus, name: str = "taus", *, dtype=None) -> jax.Array:
    """Diffusion times: a floating array (any shape) of finite values > 0.

    With ``dtype`` the times are cast to it and must still be finite there (τ = 1e39 is finite
    in float64 but overflows a float32 spectrum's computation).
    """
    normal = "Diffusion times must be normal numbers > 0, e.g. jnp.logspace(-2, 2, 100)."
    taus = as_float_array(taus, name, normal=normal)
    value_check(
        jnp.all(jnp.isfinite(taus)),
        f"{name} must be finite; got NaN or inf. Use e.g. jnp.logspace(-2, 2, 100).",
    )
    value_check(
        jnp.all(taus > 0),
        f"{name} must be > 0 (diffusion time); got min {{low:.3g}}. "
        "Use e.g. jnp.logspace(-2, 2, 100).",
        low=jnp.min(taus) if taus.size else jnp.zeros((), taus.dtype),
    )
    if dtype is not None and jnp.dtype(dtype) != taus.dtype:
        big = float(jnp.finfo(dtype).max)
        value_check(
            jnp.all(jnp.abs(taus) <= big),
            f"{name} overflow {jnp.dtype(dtype).name} (largest {{high:.3g}} > {big:.3g}), the "
            "dtype of the spectrum; pass smaller times or compute in float64 "
            "(jax.config.update('jax_enable_x64', True) and a float64 spectrum).",
            high=jnp.max(jnp.abs(taus)) if taus.size else jnp.zeros((), taus.dtype),
        )
        taus = taus.astype(dtype)
    return taus


def renamed_taus(taus, tau, function: str):
    """``taus``, or the value of the deprecated alias ``tau=`` of ``function`` (one release).

    The alias emits a ``DeprecationWarning`` naming ``taus``; giving both, or neither, is a
    ``TypeError`` (as Python reports a duplicate or missing argument).
    """
    if tau is None:
        if taus is None:
            raise TypeError(f"{function}() missing required argument 'taus' (diffusion times).")
        return taus
    if taus is not None:
        raise TypeError(
            f"{function}() got both taus and tau; pass taus only (tau= is its deprecated alias)."
        )
    warnings.warn(
        f"{function}(tau=...) is deprecated; pass taus= (the same diffusion times) instead.",
        DeprecationWarning,
        stacklevel=3,
    )
    return tau


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
    # a Laplacian is positive semi-definite: beyond round-off of the largest finite eigenvalue,
    # a negative (or -inf) eigenvalue is not a Laplacian spectrum (an adjacency's, say)
    finite = jnp.isfinite(eigenvalues)
    scale = jnp.max(jnp.where(finite, jnp.abs(eigenvalues), 0))
    lowest = jnp.min(jnp.where(jnp.isnan(eigenvalues), jnp.inf, eigenvalues))
    tol = 10 * eigenvalues.shape[0] * jnp.finfo(eigenvalues.dtype).eps * scale
    value_check(
        lowest >= -tol,
        f"{name} must be >= 0 (a Laplacian spectrum); got min {{low:.3g}}. Compute them with "
        "jaxrg.laplacian_spectrum (+inf marks padding).",
        low=lowest,
    )
    # within round-off they are zero modes: a shift of -4e-16 would make d_S = 2 tau <lambda>
    # and Z = e^{-tau lambda_min} grow without bound at large tau (where: NaN stays NaN, and the
    # gradient of a kept eigenvalue stays 1)
    return jnp.where(eigenvalues < 0, 0, eigenvalues)


def check_key(key, name: str = "key"):
    """A JAX PRNG key: a typed key (``jax.random.key``) or a legacy ``uint32`` ``(2,)`` key.

    Raises:
        TypeError: anything else (an int seed, say), with the fix.
    """
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return key
    if dtype == jnp.uint32 and getattr(key, "shape", None) == (2,):
        return key
    raise TypeError(
        f"{name} must be a JAX PRNG key; got {key!r}. Pass jax.random.key({key!r}) for a seed "
        "(or jax.random.split(key) for several)."
        if isinstance(key, (int, np.integer))
        else f"{name} must be a JAX PRNG key, e.g. jax.random.key(0); got {type(key).__name__}"
        f"{'' if dtype is None else f' of dtype {dtype}'}."
    )


def check_networkx_weights(graph) -> None:
    """Every edge ``"weight"`` of a networkx graph converts to a real number (absent = 1).

    The rule of the dense conversion (:func:`jaxrg._host.networkx_dense`), for the routes that
    convert without it (:func:`jaxrg.sparse.as_sparse_graph`, directed graphs): a numeric
    string such as ``"2"`` converts as ``float("2")`` there, so it is accepted here too.

    Raises:
        TypeError: a weight of ``None`` (networkx would store NaN) or one that is not a real
            number (a complex number, a non-numeric string), naming the edge and the fix.
    """
    for u, v, w in graph.edges(data="weight", default=1):
        if w is None:  # networkx would store NaN: blame the attribute, not "NaN entries"
            raise TypeError(
                f"graph edge ({u!r}, {v!r}) has weight None; set G[u][v]['weight'] to a number, "
                "or delete the attribute (an edge without a weight counts as 1)."
            )
        try:
            if isinstance(w, complex | np.complexfloating):
                raise TypeError
            float(w)
        except (TypeError, ValueError):
            raise TypeError(
                f"graph edge ({u!r}, {v!r}) has weight {w!r}; edge weights must be real "
                "numbers: set G[u][v]['weight'] to a float (its real part or its modulus)."
            ) from None
