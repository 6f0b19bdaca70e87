"""Explicit validation, also under ``jit``: :func:`validate_adjacency` and :func:`checked`.

Public functions check the values of concrete inputs eagerly (``ValueError`` before any
compute). Inside ``jit``/``vmap`` the same checks are recorded as
:func:`jax.experimental.checkify.debug_check` calls, which are free unless the function is
wrapped with :func:`checked`; then a failing check raises ``ValueError`` with the same message.

Example:
    >>> import jax, jax.numpy as jnp, jaxrg
    >>> f = jaxrg.checked(jax.jit(jaxrg.laplacian_spectrum))
    >>> f(jnp.array([[0.0, 1.0], [2.0, 0.0]]))
    Traceback (most recent call last):
    ...
    ValueError: adjacency is not symmetric (max |A - A^T| = 1); ...
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

from jaxrg import _checks, _host


def validate_adjacency(adjacency, mask=None, *, name: str = "adjacency"):
    """Check an adjacency (and optional mask); return it as a floating array.

    Shape, rank and dtype are checked always; values (finite, non-negative, symmetric) raise
    ``ValueError`` on concrete input and become checkify debug checks under tracing (see
    :func:`checked`).

    Args:
        adjacency: ``(N, N)`` array, or any other form :func:`jaxrg.as_adjacency` takes (an
            edge-list tuple ``(senders, receivers[, weights])`` or a GraphsTuple, a
            ``networkx.Graph``, a ``scipy.sparse`` or JAX sparse matrix), converted by the same
            rules: an edge list is never read as a ``(2, E)`` matrix. Self-loops are kept.
        mask: optional ``(N,)`` boolean node mask.
        name: the argument name used in error messages.

    Returns:
        The adjacency as a floating JAX array ``(N, N)``.

    Raises:
        ValueError, TypeError: with a message naming the argument and the fix.
    """
    adjacency = _checks.as_float_array(dense_graph(adjacency, name), name)
    n = _checks.check_square(adjacency, name)
    if mask is not None:
        _checks.check_mask(mask, n)
    _checks.check_adjacency_values(adjacency, name)
    return adjacency


def _is_edge_list(graph) -> bool:
    """A tuple ``(senders, receivers[, weights])`` or a jraph GraphsTuple (not a matrix)."""
    return isinstance(graph, tuple) or (hasattr(graph, "senders") and hasattr(graph, "n_node"))


def _concrete_edges(graph, name: str) -> tuple:
    """``(senders, receivers, weights, num_nodes)`` of an edge list whose arrays hold values."""
    parts = _host.edge_list(graph)
    if not all(_checks.is_concrete(x) for x in parts[:3]):
        raise ValueError(
            f"{name} is an edge list of traced arrays (under jit), whose size cannot set N; "
            "build the (N, N) matrix first, e.g. jaxrg.from_edge_list(senders, receivers, "
            "num_nodes=N), and pass that."
        )
    return parts


def dense_graph(graph, name: str = "adjacency"):
    """Any undirected graph form as a dense ``(N, N)`` array; its values are not checked.

    The input conversion of functions that take any form but check values themselves or not at
    all (:func:`validate_adjacency`, :func:`jaxrg.connected_components`, which takes any
    relation). A JAX array (traced ones included) is returned as it is. Host forms follow the
    rules of :func:`jaxrg.as_adjacency` (:mod:`jaxrg._host`): an edge list ``(senders,
    receivers[, weights])`` or a GraphsTuple is undirected (self-loops kept) and never read as
    a ``(2, E)`` matrix; networkx graphs, ``scipy.sparse`` and JAX sparse matrices are made
    dense; NumPy arrays and nested lists pass the orientation rules.

    Args:
        graph: the graph.
        name: the argument name used in error messages.

    Returns:
        A JAX array as given, or a NumPy array / nested list (shape not yet checked).

    Raises:
        TypeError: an unsupported type, a directed networkx graph, non-integer ids.
        ValueError: bad edge ids or weights, repeated edges, an edge array given as a matrix.
    """
    if isinstance(graph, jax.Array):
        return graph
    if _is_edge_list(graph):
        _concrete_edges(graph, name)
        return _host.host_adjacency(graph, dtype=_default_float())
    return _host.dense_form(graph)


def _default_float() -> np.dtype:
    return jax.dtypes.canonicalize_dtype(jnp.result_type(float))


def directed_adjacency(graph, name: str = "adjacency") -> jax.Array:
    """Any graph form as a floating ``(N, N)`` array of directed weights ``A[i, j]`` on ``i -> j``.

    The one input conversion of the functions of directed graphs (:func:`jaxrg.circulation`,
    :func:`jaxrg.lrg.rewire_directed`); :func:`jaxrg.as_adjacency` is the undirected one.

    * a dense array (JAX, NumPy, nested list) is taken as it is, after the orientation rules of
      :func:`jaxrg.as_adjacency` (an ``(E, 2)`` edge array or an ambiguous integer ``(2, 2)``
      array is refused with the fix);
    * an edge list ``(senders, receivers[, weights])`` or a single-graph GraphsTuple gives
      :math:`A_{sr} = w` (default 1) for each listed edge, direction kept (never read as a
      ``(2, E)`` matrix; ``N`` = largest id + 1, or ``n_node``); a pair listed twice is
      refused (merge the repeats first);
    * a ``networkx.DiGraph`` or ``Graph``: its ``"weight"`` attribute (default 1, node order of
      ``G.nodes``; parallel edges of a multigraph refused);
    * a ``scipy.sparse`` matrix (duplicate entries refused) or a JAX sparse matrix: its dense
      form.

    Shapes and types are checked here (square, at least one node); the values (finite,
    non-negative) by the caller, which names what needs them.

    Args:
        graph: the directed graph in one of the forms above.
        name: the argument name used in error messages.

    Returns:
        ``(N, N)`` floating JAX array (integer and boolean input cast to the default float).

    Raises:
        TypeError: an unsupported type, non-integer ids, a weight that is not a real number.
        ValueError: a non-square array, bad edge ids or shapes, a repeated edge, parallel edges.
    """
    if isinstance(graph, jax.Array):
        if _checks.is_concrete(graph):
            _host.check_orientation(graph)
    elif _is_edge_list(graph):
        graph = _directed_edges(*_concrete_edges(graph, name), name)
    elif (type(graph).__module__ or "").startswith("networkx"):
        graph = _directed_networkx(graph, name)
    else:
        graph = _host.dense_form(graph)  # scipy / JAX sparse, NumPy, lists; other types refused
    adjacency = _checks.as_float_array(graph, name, normal=True)
    _checks.check_square(adjacency, name)
    return adjacency


def _directed_edges(senders, receivers, weights, num_nodes, name: str) -> np.ndarray:
    """Dense ``A[s, r] = w`` of a concrete directed edge list, built in NumPy."""
    dtype = _default_float()
    s, r, w, num_nodes = _host.host_edges(senders, receivers, weights, num_nodes, dtype)
    pairs = s.astype(np.int64) * num_nodes + r.astype(np.int64)
    unique, counts = np.unique(pairs, return_counts=True)
    if np.any(counts > 1):
        at = int(unique[np.argmax(counts > 1)])
        raise ValueError(
            f"the directed edge {at // num_nodes} -> {at % num_nodes} is listed "
            f"{int(counts[np.argmax(counts > 1)])} times in {name}; a directed graph lists each "
            "edge once: merge the repeats first (sum or max their weights)."
        )
    adjacency = np.zeros((num_nodes, num_nodes), dtype)
    adjacency[s, r] = w
    return adjacency


def _directed_networkx(graph, name: str) -> np.ndarray:
    """A networkx graph (directed or not) as its dense ``"weight"`` matrix, float64."""
    import networkx as nx

    _host.refuse_parallel_edges(graph, f"{name} is a networkx multigraph", "networkx.DiGraph")
    _checks.check_networkx_weights(graph)
    return nx.to_numpy_array(graph, weight="weight", nonedge=0.0, dtype=float)


def checked(fn):
    """Wrap ``fn`` so that jaxrg's value checks also run under ``jit`` and raise ``ValueError``.

    ``checked(jax.jit(f))(x)`` runs ``f`` functionalised by :func:`jax.experimental.checkify`
    with user checks enabled and raises the first failed check as ``ValueError``.

    Args:
        fn: any callable of arrays (jitted or not).

    Returns:
        A callable with the signature of ``fn`` whose outputs have the same shapes as those of
        ``fn``.
    """
    if not callable(fn):
        raise TypeError(f"checked(fn) needs a callable (a function of arrays, jitted or not); "
                        f"got {type(fn).__name__}. Use jaxrg.checked(f)(x), not checked(f(x)).")
    inner = checkify.checkify(fn, errors=checkify.user_checks)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        error, out = inner(*args, **kwargs)
        try:
            message = error.get()
        except jax.errors.ConcretizationTypeError:  # TracerBoolConversionError is one of these
            raise TypeError(
                "jaxrg.checked(f) was called inside jax.jit (or another transformation), where "
                "a failed check cannot raise; put jit inside it: jaxrg.checked(jax.jit(f))(x)."
            ) from None
        if message is not None:
            # drop checkify's location suffix (its wording differs across jax versions)
            raise ValueError(message.split(" (check failed at")[0].split(" (`check` failed")[0])
        return out

    return wrapper
