r"""Eigenvalues of symmetric matrices without eigenvectors on CPU; ``jit``/``vmap``/``grad`` safe.

JAX's CPU ``eigvalsh`` calls LAPACK's ``syevd`` *with* eigenvectors and discards them, about
2–3 times the work of the values-only driver that ``numpy.linalg.eigvalsh`` uses. :func:`eigvalsh`
routes CPU computations through ``jax.pure_callback`` to NumPy (values only, one C loop over a
whole batch: ``vmap_method="broadcast_all"``) and every other platform to
``jnp.linalg.eigvalsh`` (``jax.lax.platform_dependent`` picks the branch when lowering). A
concrete CPU array outside ``jit`` goes to NumPy directly: no program is compiled, so an eager
first call costs the eigendecomposition alone (JAX never stores a program holding a callback in
its persistent compilation cache).

Derivatives: :math:`d\lambda_i = u_i^\top\,dA\,u_i` needs the eigenvectors, so the custom JVP
runs the full ``eigh`` — gradients cost what they cost with ``jnp.linalg.eigh``; only the
forward pass is faster. Input is symmetrised as ``(A + A^T)/2`` like ``jnp.linalg.eigvalsh``.
:func:`projected_spectrum` is the spectral measure of a set of vectors with the measure's own
derivative, exact at repeated eigenvalues; :func:`eigh_subspaces` is ``eigh`` whose derivative
leaves the vectors of a repeated eigenvalue unrotated (for results that depend on whole
eigenspaces only).

Example:
    >>> import jax, jax.numpy as jnp
    >>> from jaxrg.eigenvalues import eigvalsh
    >>> a = jnp.array([[2.0, -1.0], [-1.0, 2.0]])
    >>> jax.jit(eigvalsh)(a).round(6).tolist()
    [1.0, 3.0]
    >>> jax.grad(lambda m: eigvalsh(m)[1])(a).round(6).tolist()   # u u^T, u = (1, -1)/sqrt 2
    [[0.5, -0.5], [-0.5, 0.5]]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from jaxrg._numerics import scaled_eigh, symmetrised
from jaxrg._refine import refined_eigh, refines

__all__ = ["eigh_subspaces", "eigvalsh", "projected_spectrum"]

_JNP_EIGVALSH = jnp.linalg.eigvalsh  # bound at import: benchmarks may patch jnp.linalg


def _host(matrix: np.ndarray | jax.Array) -> np.ndarray:  # JAX passes its arrays to callbacks
    matrix = np.asarray(matrix)
    finite = np.all(np.isfinite(matrix), axis=(-2, -1))
    if np.all(finite):
        return np.linalg.eigvalsh(matrix).astype(matrix.dtype)
    # LAPACK does not converge on NaN/inf entries: those matrices get NaN eigenvalues (NaN in,
    # NaN out under jit; jaxrg.checked then reports the input check), the others their values
    safe = np.where(finite[..., None, None], matrix, 0)
    values = np.linalg.eigvalsh(safe).astype(matrix.dtype)
    return np.where(finite[..., None], values, np.nan).astype(matrix.dtype)


def _cpu(matrix):
    shape = jax.ShapeDtypeStruct(matrix.shape[:-1], matrix.dtype)
    return jax.pure_callback(_host, shape, matrix, vmap_method="broadcast_all")


@jax.custom_jvp
def eigvalsh(matrix) -> Float[Array, "*b n"]:  # input checked below: ValueError, not a hint
    """Ascending eigenvalues of a symmetric matrix (or a batch), values-only LAPACK on CPU.

    Args:
        matrix: ``(..., N, N)`` real symmetric (floating; it is symmetrised).

    Returns:
        ``(..., N)`` eigenvalues, ascending.

    Raises:
        ValueError: not a square floating matrix.
    """
    if matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2]:
        raise ValueError(f"matrix must be (..., N, N); got shape {matrix.shape}.")
    if not jnp.issubdtype(matrix.dtype, jnp.floating):
        raise ValueError(f"matrix must be floating; got dtype {matrix.dtype}.")
    if jnp.finfo(matrix.dtype).bits < 32:  # LAPACK has no float16/bfloat16: solve in float32
        return eigvalsh(matrix.astype(jnp.float32)).astype(matrix.dtype)
    if _concrete_on_cpu(matrix):  # eager call: NumPy at once, no callback program to compile
        matrix = np.asarray(matrix)  # symmetrised by NumPy too (no eager XLA op to compile)
        return jnp.asarray(_host(matrix / 2 + np.swapaxes(matrix, -1, -2) / 2))
    # at a power-of-two scale: (M + M^T) / 2 overflowed for weights of 1e38 (float32), and
    # M / 2 + M^T / 2 flushed weights of 2e-38 to 0 (subnormal halves on XLA's CPU)
    unit, scale = symmetrised(matrix)
    return jax.lax.platform_dependent(unit, cpu=_cpu, default=_JNP_EIGVALSH) * scale


def _concrete_on_cpu(matrix) -> bool:
    """A value (not traced) that lives on the CPU: a NumPy array, or a jax.Array on a CPU device."""
    if isinstance(matrix, jax.core.Tracer):
        return False
    if isinstance(matrix, jax.Array):
        return all(device.platform == "cpu" for device in matrix.devices())
    return jax.default_backend() == "cpu"


@eigvalsh.defjvp
def _eigvalsh_jvp(primals, tangents):
    (matrix,), (tangent,) = primals, tangents
    values, vectors = scaled_eigh(matrix)  # d lambda_i = u_i^T dA u_i needs u_i
    tangent = (tangent + jnp.swapaxes(tangent, -1, -2)) / 2
    return values, jnp.einsum("...ji,...jk,...ki->...i", vectors, tangent, vectors)


@jax.custom_jvp
def projected_spectrum(matrix, x, moving, edges=None):
    r"""Eigenvalues :math:`\lambda_i` and weights :math:`w_i = \|u_i^\top X\|^2`, ``(N,)`` each:
    the spectral measure :math:`\sum_i w_i \delta_{\lambda_i}` of the columns of ``x``.

    The one home of this measure's derivative, used by the feature measure
    (:mod:`jaxrg.features`: ``x`` the features) and by the Gauss quadrature of a Lanczos run
    (:mod:`jaxrg.sparse._lanczos`: ``matrix`` the tridiagonal ``T``, ``x`` its first unit
    vector). Differentiating through ``eigh``'s vectors divides by :math:`\lambda_i - \lambda_j`:
    NaN at a repeated eigenvalue (a ring, a grid, a complete graph, a Lanczos breakdown) and a
    finite, wrong number where it repeats up to round-off (a star).

    Every quantity computed from the measure is built from sums
    :math:`\Phi_h = \sum_i w_i h(\lambda_i) = \mathrm{Tr}(h(M)\,XX^\top)`, whose derivative along
    :math:`E = \mathrm dM` is :math:`\sum_{ij} h[\lambda_i, \lambda_j]\,\tilde E_{ij}\tilde M_{ij}`
    (Daleckii-Krein; :math:`\tilde E = U^\top E U`, :math:`\tilde M = U^\top XX^\top U`,
    :math:`h[\cdot,\cdot]` the divided difference). A pair in different eigenspaces contributes
    :math:`(h_i - h_j)\,2\tilde E_{ij}\tilde M_{ij}/(\lambda_i - \lambda_j)`: a change of the
    weights. A pair within one eigenspace (gap under :math:`\sqrt\epsilon \max|M|`, where
    :math:`1/(\lambda_i - \lambda_j)` would amplify round-off; the error of the merge is of that
    order; between two small eigenvalues that ``edges`` refined, under
    :math:`\sqrt\epsilon \max(|\lambda_i|, |\lambda_j|)`: :func:`_same_eigenspace`) contributes
    :math:`h'(\lambda)\,\tilde E_{ij}\tilde M_{ij}`: a shift of the atoms,
    :math:`w_i\,\mathrm d\lambda_i = \sum_{j \sim i}\tilde E_{ij}\tilde M_{ij}`
    (the weighted mean of how the eigenspace splits). So the tangent of the eigenvalues is that of
    the measure's atoms: exact for every :math:`\Phi_h`, and :math:`u_i^\top E u_i` at a simple
    eigenvalue. (For a function of the eigenvalues alone, use :func:`eigvalsh`.)

    Args:
        matrix: ``(N, N)`` symmetric matrix :math:`M` (symmetrised by ``eigh``).
        x: ``(N, f)`` vectors :math:`X`.
        moving: ``(N,)`` bool, the modes whose weights and atoms the derivative follows
            (the feature measure excludes the zero modes: their weight is in closed form in
            the caller). A moving mode's weight still changes with its coupling to the fixed
            ones (the normalised Laplacian's zero modes :math:`D^{1/2}\mathbf 1_c` move with
            the weights).
        edges: ``matrix``'s :class:`jaxrg._refine.EdgeForm` when it is a graph Laplacian: in
            float32 its small eigenpairs are then refined (:func:`jaxrg._refine.refined_eigh`)
            for the value and for the derivative below; ``None`` (a Lanczos ``T``): ``eigh``.

    Returns:
        ``(eigenvalues, weights)``, ascending eigenvalues and :math:`w_i`.
    """
    eigenvalues, vectors = refined_eigh(matrix, edges)
    return eigenvalues, jnp.sum((vectors.T @ x) ** 2, axis=1)


@projected_spectrum.defjvp
def _projected_spectrum_jvp(primals, tangents):
    matrix, x, moving, edges = primals
    d_lap, d_x = tangents[:2]  # the edge form describes `matrix`: its tangent is d_lap's
    eigenvalues, vectors = refined_eigh(matrix, edges)
    hi = jax.lax.Precision.HIGHEST
    projected = jnp.matmul(vectors.T, x, precision=hi)  # (N, f): U^T X
    weights = jnp.sum(projected**2, axis=1)
    d_sym = (d_lap + d_lap.T) / 2  # eigh reads a symmetric matrix
    rotated = jnp.matmul(vectors.T, jnp.matmul(d_sym, vectors, precision=hi), precision=hi)
    gram = jnp.matmul(projected, projected.T, precision=hi)  # U^T X X^T U
    coupling = rotated * gram  # E~_ij M~_ij, symmetric
    gap = eigenvalues[:, None] - eigenvalues[None, :]
    near = _same_eigenspace(eigenvalues, gap, matrix, edges is not None)
    same = moving[:, None] & moving[None, :] & near
    # a moving mode's weight changes by its coupling to every mode of another eigenspace, the
    # fixed ones included: the normalised Laplacian's zero modes D^{1/2} 1_c move with the
    # weights (L = D - A's indicators do not, and there the coupling is 0)
    apart = moving[:, None] & ~near
    # double where: no NaN gradient where a division is masked out
    d_weights = 2 * jnp.sum(jnp.where(apart, coupling / jnp.where(apart, gap, 1), 0), axis=1)
    d_weights = d_weights + 2 * jnp.sum(
        projected * jnp.matmul(vectors.T, d_x, precision=hi), axis=1
    )
    shift = jnp.sum(jnp.where(same, coupling, 0), axis=1)
    has = weights > 0
    d_values = jnp.where(
        moving, jnp.where(has, shift / jnp.where(has, weights, 1), 0), jnp.diagonal(rotated)
    )
    return (eigenvalues, weights), (d_values, d_weights)


def _same_eigenspace(eigenvalues, gap, matrix, refined: bool):
    r"""``(N, N)`` bool: the pairs whose gap is below what the eigenvalues resolve.

    ``eigh``'s eigenvalues carry an absolute error of about :math:`N\varepsilon\max|M|`: below
    :math:`\sqrt\varepsilon\max|M|` a gap is round-off as much as spectrum, and
    :math:`1/(\lambda_i - \lambda_j)` would amplify it. The eigenvalues below that bound are
    the ones :func:`jaxrg._refine.refined_eigh` refines (it runs when the first non-zero one is
    below it, :func:`jaxrg._refine.needs_ritz`, and sets the zero modes to exact 0; when it does
    not run, only the zero modes, which do not move, are below it): Rayleigh–Ritz through the
    edges gives them a small *relative* error, so between two of them the bound is relative,
    :math:`\sqrt\varepsilon\max(|\lambda_i|, |\lambda_j|)`. A pair with an eigenvalue above
    the bound (``eigh``'s) keeps the absolute one. With the absolute bound alone (4.5e-3), three
    communities chained by bridges of 1e-5 and 3e-5 had their refined λ₂ = 6.8e-7 and
    λ₃ = 3.3e-6 merged into one eigenspace in float32: the pair's coupling went into an atom
    shift, the weights' derivative between them was dropped, and :math:`\mathrm dS_X/\mathrm db`
    came out 319 for 4482 (52 for the normalised Laplacian: 14).

    Args:
        eigenvalues: ``(N,)`` ascending, as :func:`jaxrg._refine.refined_eigh` returns them.
        gap: ``(N, N)`` :math:`\lambda_i - \lambda_j`.
        matrix: ``(N, N)`` the matrix :math:`M`.
        refined: whether ``refined_eigh`` had an edge form to refine with.
    """
    root_eps = jnp.sqrt(jnp.finfo(matrix.dtype).eps)
    close = root_eps * jnp.max(jnp.abs(matrix))
    if not (refined and refines(matrix.dtype)):
        return jnp.abs(gap) <= close
    small = eigenvalues < close  # refined to relative accuracy (a NaN is not: absolute bound)
    size = jnp.maximum(jnp.abs(eigenvalues)[:, None], jnp.abs(eigenvalues)[None, :])
    bound = jnp.where(small[:, None] & small[None, :], root_eps * size, close)
    return jnp.abs(gap) <= bound


@jax.custom_jvp
def eigh_subspaces(matrix):
    r"""``jnp.linalg.eigh(matrix)`` whose derivative leaves every repeated eigenvalue's vectors
    unrotated among themselves.

    Within an eigenspace the vectors are arbitrary, and ``eigh``'s derivative of them divides by
    :math:`\lambda_j - \lambda_i`: NaN when the eigenvalue repeats exactly, a large wrong number
    when round-off splits it. For a result that depends on the eigenvectors only through the
    spans of whole eigenspaces (the Ritz vectors that deflate SLQ: the estimator depends on the
    deflated subspace, not on its basis), that rotation is irrelevant, and this derivative drops
    it: :math:`\mathrm dU = U (F \circ U^\top \mathrm dA\,U)` with
    :math:`F_{ij} = 1/(\lambda_j - \lambda_i)` across eigenspaces and 0 within one (gap under
    :math:`\sqrt\epsilon \max|A|`). Where a result *splits* an eigenspace it is not
    differentiable, and this derivative is then one of many.

    Args:
        matrix: ``(N, N)`` symmetric matrix (symmetrised by ``eigh``).

    Returns:
        ``(eigenvalues, vectors)`` as ``jnp.linalg.eigh``: ascending, vectors in columns.
    """
    values, vectors = scaled_eigh(matrix)
    return values, vectors


@eigh_subspaces.defjvp
def _eigh_subspaces_jvp(primals, tangents):
    (matrix,), (d_matrix,) = primals, tangents
    values, vectors = scaled_eigh(matrix)
    hi = jax.lax.Precision.HIGHEST
    d_sym = (d_matrix + d_matrix.T) / 2
    rotated = jnp.matmul(vectors.T, jnp.matmul(d_sym, vectors, precision=hi), precision=hi)
    # below sqrt(eps) max|M| the gap is round-off as much as spectrum: 1/gap amplifies noise
    close = jnp.sqrt(jnp.finfo(matrix.dtype).eps) * jnp.max(jnp.abs(matrix))
    gap = values[None, :] - values[:, None]  # lambda_j - lambda_i
    apart = jnp.abs(gap) > close
    inverse = jnp.where(apart, 1 / jnp.where(apart, gap, 1), 0)
    d_vectors = jnp.matmul(vectors, inverse * rotated, precision=hi)
    return (values, vectors), (jnp.diagonal(rotated), d_vectors)
