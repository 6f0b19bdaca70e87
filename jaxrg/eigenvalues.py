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

__all__ = ["eigvalsh"]

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
        return jnp.asarray(_host((matrix + np.swapaxes(matrix, -1, -2)) / 2))
    matrix = (matrix + jnp.swapaxes(matrix, -1, -2)) / 2
    return jax.lax.platform_dependent(matrix, cpu=_cpu, default=_JNP_EIGVALSH)


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
    values, vectors = jnp.linalg.eigh(matrix)  # d lambda_i = u_i^T dA u_i needs u_i
    tangent = (tangent + jnp.swapaxes(tangent, -1, -2)) / 2
    return values, jnp.einsum("...ji,...jk,...ki->...i", vectors, tangent, vectors)
