r"""Extreme eigenvalues of a sparse graph Laplacian by Lanczos, with residual bounds.

:math:`C(\tau)` at large :math:`\tau` is set by the smallest non-zero eigenvalues
(:math:`C \approx (\tau\lambda_2)^2 m_2 e^{-\tau\lambda_2}/(c\log N)` for :math:`m_2` copies of
:math:`\lambda_2`), at small :math:`\tau` by the largest. A block Krylov space (block size 4,
full re-orthogonalisation) of the deflated Laplacian :math:`PLP` gives Ritz pairs
:math:`(\theta_j, u_j)`; each :math:`\theta_j` lies within its residual
:math:`\|PLu_j - \theta_j u_j\|` of an eigenvalue (a rigorous bound for symmetric matrices), and
the outermost ones converge first. Multiplicities up to the block size are resolved. The smallest
non-zero eigenvalues of large graphs converge slowly (their gaps are tiny relative to
:math:`\lambda_{\max}`): check the residuals, or raise ``num_matvecs``.

Example:
    >>> import jax, networkx as nx, jaxrg.sparse as sp
    >>> cube = nx.convert_node_labels_to_integers(nx.hypercube_graph(7))  # lambda = 2k
    >>> ext = sp.extreme_eigenvalues(cube, key=jax.random.key(0), num_matvecs=48)
    >>> ext.smallest.round(6).tolist(), ext.largest.round(6).tolist()
    ([2.0, 2.0, 2.0, 2.0], [14.0, 12.0, 12.0, 12.0])
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from jaxrg import _checks
from jaxrg.sparse._graph import as_sparse_graph, deflate
from jaxrg.sparse._lanczos import block_krylov_ritz
from jaxrg.sparse._quadrature import BLOCK, deflated_laplacian, operator_setup


class ExtremeEigenvalues(NamedTuple):
    """Ritz values at both ends of the non-zero spectrum.

    Attributes:
        smallest: ``(r,)`` ascending estimates of the smallest non-zero eigenvalues.
        smallest_residual: ``(r,)`` bounds: an eigenvalue lies within this of each estimate.
        largest: ``(r,)`` descending estimates of the largest eigenvalues.
        largest_residual: ``(r,)`` their bounds.
        num_components: scalar int, the exact multiplicity of the eigenvalue 0.
    """

    smallest: Float[Array, " r"]
    smallest_residual: Float[Array, " r"]
    largest: Float[Array, " r"]
    largest_residual: Float[Array, " r"]
    num_components: Int[Array, ""]


def extreme_eigenvalues(
    adjacency,
    *,
    key,
    num_matvecs: int | np.integer = 200,
    num_eigenvalues: int | np.integer = 4,
    num_nodes: int | None = None,
) -> ExtremeEigenvalues:
    """Smallest non-zero and largest Laplacian eigenvalues (Lanczos, full re-orthogonalisation).

    Args:
        adjacency: anything :func:`jaxrg.sparse.as_sparse_graph` takes, or a ``SparseGraph``.
        key: ``jax.random`` key for the start vector.
        num_matvecs: Lanczos steps (static; memory ``num_matvecs x N``).
        num_eigenvalues: ``r`` values at each end (static, ``<= num_matvecs``).
        num_nodes: ``N`` for edge lists with isolated trailing nodes.

    Returns:
        :class:`ExtremeEigenvalues`. When the Krylov space is exhausted before ``r`` values
        (tiny graphs, few distinct eigenvalues) the missing slots hold NaN.

    Raises:
        ValueError: ``num_eigenvalues`` outside ``[1, num_matvecs]``.
        TypeError: ``key`` is not a PRNG key (e.g. ``key=0``: pass ``jax.random.key(0)``), or
            ``num_matvecs``/``num_eigenvalues`` not an integer (a float is not truncated).
    """
    num_matvecs = _checks.check_int(num_matvecs, "num_matvecs", meaning="Lanczos steps")
    num_eigenvalues = _checks.check_int(
        num_eigenvalues, "num_eigenvalues", meaning="values at each end"
    )
    if not num_eigenvalues <= num_matvecs:
        raise ValueError(
            f"num_eigenvalues must lie in [1, num_matvecs={num_matvecs}]; got {num_eigenvalues}."
        )
    key = _checks.check_key(key)
    graph = as_sparse_graph(adjacency, num_nodes=num_nodes)
    if num_eigenvalues > graph.num_nodes - 1:  # the Krylov block lives beside the zero mode
        raise ValueError(
            f"num_eigenvalues={num_eigenvalues} is too many for a graph of {graph.num_nodes} "
            f"nodes: at most N - 1 = {graph.num_nodes - 1} non-zero eigenvalues exist at each end; "
            "for a graph this small use jaxrg.laplacian_spectrum (all of them, exactly)."
        )
    return _extremes(graph, key, num_matvecs, num_eigenvalues)


@functools.partial(jax.jit, static_argnums=(2, 3))  # jitted: eager scans re-trace per call
def _extremes(graph, key, num_matvecs, num_eigenvalues) -> ExtremeEigenvalues:
    setup = operator_setup(graph)
    n = graph.num_nodes
    block = min(BLOCK, num_eigenvalues)
    steps = max(1, min(num_matvecs, n - 1) // block)
    start = jax.random.normal(key, (block, n), setup.graph.degree.dtype)
    operator = deflated_laplacian(setup)
    ritz = block_krylov_ritz(
        operator, start, steps, bound=setup.bound, project=functools.partial(deflate, setup.null)
    )
    r = min(num_eigenvalues, ritz.values.shape[0])

    def residuals(values, vectors):
        # exact residual norms (dead slots: +inf value, zero vector -> reported as NaN)
        res = jnp.sqrt(jnp.sum((jax.vmap(operator)(vectors) - values[:, None] * vectors) ** 2, 1))
        return jnp.where(jnp.isfinite(values), res, jnp.nan)

    high = jnp.argsort(jnp.where(ritz.live, -ritz.values, jnp.inf))[:r]
    low_v, low_u = ritz.values[:r], ritz.vectors[:r]
    high_v, high_u = jnp.where(ritz.live[high], ritz.values[high], jnp.nan), ritz.vectors[high]
    low_v = jnp.where(ritz.live[:r], low_v, jnp.nan)
    s = setup.scale  # the operator is L / s (operator_setup)
    return ExtremeEigenvalues(
        low_v * s,
        residuals(low_v, low_u) * s,
        high_v * s,
        residuals(high_v, high_u) * s,
        setup.null.count,
    )
