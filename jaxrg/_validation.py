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
from jax.experimental import checkify

from jaxrg import _checks


def validate_adjacency(adjacency, mask=None, *, name: str = "adjacency"):
    """Check an adjacency (and optional mask); return it as a floating array.

    Shape, rank and dtype are checked always; values (finite, non-negative, symmetric) raise
    ``ValueError`` on concrete input and become checkify debug checks under tracing (see
    :func:`checked`).

    Args:
        adjacency: ``(N, N)`` array.
        mask: optional ``(N,)`` boolean node mask.
        name: the argument name used in error messages.

    Returns:
        The adjacency as a floating JAX array.

    Raises:
        ValueError, TypeError: with a message naming the argument and the fix.
    """
    adjacency = _checks.as_float_array(adjacency, name)
    n = _checks.check_square(adjacency, name)
    if mask is not None:
        _checks.check_mask(mask, n)
    _checks.check_adjacency_values(adjacency, name)
    return adjacency


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
