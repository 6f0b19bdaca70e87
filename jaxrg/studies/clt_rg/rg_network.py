r"""Small networks that approximate one CLT renormalisation step, and their exact cumulant maps.

The network maps two fine variables :math:`x = (\xi_1, \xi_2)` to one coarse variable,

.. math:: y = \sum_{j=1}^{H} v_j\, \phi(W_j \cdot x + b_j) + c,\qquad \phi(h) = h + \alpha h^2,

and should reproduce the RG step :math:`y = (\xi_1 + \xi_2)/\sqrt2` of :mod:`jaxrg.clt`.
``symmetric=True`` imposes the permutation symmetry :math:`\xi_1 \leftrightarrow \xi_2` by tying
hidden units in mirrored pairs, :math:`h_{k} = a_k\xi_1 + e_k\xi_2 + b_k`,
:math:`\tilde h_k = e_k\xi_1 + a_k\xi_2 + b_k`, with one output weight per pair. With ``width=2``
this is the talk's constrained network (docs/design.md §5): :math:`h_1 = w_1x_1 + w_0x_2 + b_1`,
:math:`h_2 = w_0x_1 + w_1x_2 + b_1`, :math:`y = w_2(\phi(h_1) + \phi(h_2)) + b_2`.

For linear :math:`\phi` the RG step is matched for every input distribution exactly on the
manifold :math:`w_2(w_0 + w_1) = 1/\sqrt2`, :math:`b_2 = -2w_2b_1`, i.e.
:math:`w_0 = 1/(w_2\sqrt2) - w_1` (:func:`solution_manifold_residuals`). For :math:`\alpha \ne 0`
the mean of :math:`y` picks up :math:`2\alpha w_2(w_0^2 + w_1^2)\,\kappa_2`, which must vanish,
which forces :math:`w_0 = w_1 = 0` and contradicts the variance condition: no finite parameters
satisfy the cumulant recursion for all inputs (the talk's "inconsistent" system). Mirrored pairs
with output weights of opposite signs (``width ≥ 4`` symmetric, or any unconstrained network)
can cancel the quadratic terms and are consistent again.

Because :math:`\phi` is a polynomial, :math:`y` is a quadratic polynomial in :math:`(\xi_1, \xi_2)`
(:func:`quadratic_coefficients`); with i.i.d. inputs its output moments and cumulants are exact
functions of the input moments (:func:`output_cumulants`, :func:`exact_map_error`), the
polynomial case of propagating cumulants through a network.

References:
    C. Ashworth, P. Liò, F. Caso, arXiv:2510.16591 (2025).

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> net = RGNetwork(width=2, symmetric=True, alpha=0.0, rngs=nnx.Rngs(0))
    >>> net(jnp.ones((5, 2))).shape
    (5,)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.signal
import numpy as np
from flax import nnx
from jaxtyping import Array, Float

from jaxrg._checks import as_float_array
from jaxrg.cumulants import moments_to_cumulants

__all__ = [
    "NetworkLayers",
    "RGNetwork",
    "TalkParameters",
    "cumulant_recursion_error",
    "exact_map_error",
    "output_cumulants",
    "output_moments",
    "quadratic_coefficients",
    "solution_manifold_residuals",
    "talk_parameters",
]

_INV_SQRT2 = 1.0 / math.sqrt(2.0)


class NetworkLayers(NamedTuple):
    """The expanded weights of an :class:`RGNetwork`.

    Attributes:
        kernel: ``(H, 2)`` first-layer weights.
        bias: ``(H,)`` first-layer biases.
        w_out: ``(H,)`` output weights.
        b_out: ``()`` output bias.
        alpha: ``()`` quadratic coefficient of :math:`\\phi` (fixed, not trained).
    """

    kernel: Array
    bias: Array
    w_out: Array
    b_out: Array
    alpha: Array


class TalkParameters(NamedTuple):
    r"""The five parameters of the talk's constrained network (symmetric, width 2).

    :math:`h_1 = w_1x_1 + w_0x_2 + b_1`, :math:`h_2 = w_0x_1 + w_1x_2 + b_1`,
    :math:`y = w_2(\phi(h_1) + \phi(h_2)) + b_2`.

    Attributes:
        w0: ``()`` cross weight :math:`w_0`.
        w1: ``()`` direct weight :math:`w_1`.
        w2: ``()`` output weight :math:`w_2`.
        b1: ``()`` hidden bias :math:`b_1`.
        b2: ``()`` output bias :math:`b_2`.
    """

    w0: Array
    w1: Array
    w2: Array
    b1: Array
    b2: Array


class RGNetwork(nnx.Module):
    r"""Two inputs → one output via ``width`` hidden units, :math:`\phi(h) = h + \alpha h^2`.

    Args:
        width: number of hidden units H (static; even when ``symmetric``).
        symmetric: tie hidden units in mirrored pairs so that :math:`y(\xi_1, \xi_2) =
            y(\xi_2, \xi_1)` for all parameters.
        alpha: quadratic coefficient of the activation (0 = linear). Stored as a non-trainable
            ``nnx.Variable``; optimisers that filter ``nnx.Param`` leave it alone.
        init_scale: standard deviation of the normal initial weights and first-layer biases
            (the output bias starts at 0).
        param_dtype: parameter dtype; defaults to JAX's default float (float64 under x64).
        rngs: ``nnx.Rngs`` (keyword-only).

    Raises:
        ValueError: for a non-positive width or an odd width with ``symmetric=True``.

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> net = RGNetwork(width=4, symmetric=True, alpha=0.5, rngs=nnx.Rngs(1))
        >>> x = jnp.array([[0.3, -1.2]])
        >>> bool(jnp.allclose(net(x), net(x[:, ::-1])))
        True
    """

    def __init__(
        self,
        *,
        width: int = 2,
        symmetric: bool = True,
        alpha: float = 0.0,
        init_scale: float = 0.5,
        param_dtype=None,
        rngs: nnx.Rngs,
    ):
        if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 1:
            raise ValueError(f"width must be a positive int; got {width!r}.")
        if symmetric and width % 2:
            raise ValueError(
                f"width must be even when symmetric=True (mirrored pairs); got {width}."
            )
        dtype = jnp.result_type(float) if param_dtype is None else param_dtype
        self.width, self.symmetric = width, bool(symmetric)

        def normal(shape):
            return nnx.Param(init_scale * jax.random.normal(rngs.params(), shape, dtype))

        if self.symmetric:
            pairs = width // 2
            self.w_self, self.w_other = normal((pairs,)), normal((pairs,))
        else:
            self.kernel = normal((width, 2))
        units = width // 2 if self.symmetric else width
        self.bias, self.w_out = normal((units,)), normal((units,))
        self.b_out = nnx.Param(jnp.zeros((), dtype))
        self.alpha = nnx.Variable(jnp.asarray(alpha, dtype))

    def layers(self) -> NetworkLayers:
        """The weights with the symmetric pairs expanded to ``H`` explicit hidden units."""
        if self.symmetric:
            a, e = self.w_self[...], self.w_other[...]
            kernel = jnp.concatenate([jnp.stack([a, e], -1), jnp.stack([e, a], -1)], axis=0)
            bias = jnp.concatenate([self.bias[...], self.bias[...]])
            w_out = jnp.concatenate([self.w_out[...], self.w_out[...]])
        else:
            kernel, bias, w_out = self.kernel[...], self.bias[...], self.w_out[...]
        return NetworkLayers(kernel, bias, w_out, self.b_out[...], self.alpha[...])

    def __call__(self, x: Float[Array, "... 2"]) -> Float[Array, "..."]:
        layers = self.layers()
        x = as_float_array(x, "x").astype(layers.kernel.dtype)
        if x.ndim < 1 or x.shape[-1] != 2:
            raise ValueError(f"x must have shape (..., 2) (pairs ξ1, ξ2); got {x.shape}.")
        expand = (1,) * (x.ndim - 1)
        h = jnp.einsum("...i,hi->...h", x, layers.kernel) + layers.bias.reshape(expand + (-1,))
        phi = h + layers.alpha * h**2
        return jnp.einsum("...h,h->...", phi, layers.w_out) + layers.b_out


def talk_parameters(model: RGNetwork) -> TalkParameters:
    """``(w0, w1, w2, b1, b2)`` of a symmetric width-2 network (the talk's notation).

    Args:
        model: an :class:`RGNetwork` with ``width=2, symmetric=True``.

    Returns:
        :class:`TalkParameters`, five scalars ``()``.

    Raises:
        ValueError: for any other architecture.
    """
    if not (model.symmetric and model.width == 2):
        raise ValueError(
            "talk_parameters needs the talk's network: RGNetwork(width=2, symmetric=True); "
            f"got width={model.width}, symmetric={model.symmetric}."
        )
    return TalkParameters(
        w0=model.w_other[...][0],
        w1=model.w_self[...][0],
        w2=model.w_out[...][0],
        b1=model.bias[...][0],
        b2=model.b_out[...],
    )


def solution_manifold_residuals(params: TalkParameters) -> tuple[Array, Array]:
    r"""Distances of the talk's parameters to the linear solution manifold.

    Returns :math:`(w_0 - [1/(w_2\sqrt2) - w_1],\; b_2 + 2w_2b_1)`; both vanish exactly when the
    linear network equals the RG step :math:`(\xi_1+\xi_2)/\sqrt2` for every input.

    Args:
        params: :class:`TalkParameters` (scalars, or arrays of one common shape).

    Returns:
        ``(r_w, r_b)``, two arrays of the shape of the parameters (scalars ``()`` for one
        network).

    Example:
        >>> w2 = 1 / (0.7 * 2**0.5)  # w0 + w1 = 0.7
        >>> p = TalkParameters(w0=0.2, w1=0.5, w2=w2, b1=0.3, b2=-0.6 * w2)
        >>> [round(abs(float(r)), 10) for r in solution_manifold_residuals(p)]
        [0.0, 0.0]
    """
    w0, w1, w2, b1, b2 = (jnp.asarray(v) for v in params)
    return w0 - (1.0 / (w2 * math.sqrt(2.0)) - w1), b2 + 2.0 * w2 * b1


def quadratic_coefficients(model: RGNetwork) -> Float[Array, "3 3"]:
    r"""Coefficients :math:`C_{ab}` of :math:`y = \sum_{a+b\le2} C_{ab}\,\xi_1^a\xi_2^b` (exact).

    For a unit :math:`h = a\xi_1 + e\xi_2 + b` with output weight :math:`v`,
    :math:`v\phi(h)` contributes :math:`v(b + \alpha b^2)` to :math:`C_{00}`,
    :math:`v(1 + 2\alpha b)(a, e)` to :math:`(C_{10}, C_{01})` and
    :math:`v\alpha(a^2, 2ae, e^2)` to :math:`(C_{20}, C_{11}, C_{02})`; the output bias adds to
    :math:`C_{00}`.

    Args:
        model: an :class:`RGNetwork`.

    Returns:
        ``(3, 3)`` array, entry ``[a, b]`` = :math:`C_{ab}` (zero for :math:`a + b > 2`).
    """
    k, b, v, c, alpha = model.layers()
    a, e = k[:, 0], k[:, 1]
    lin = v * (1.0 + 2.0 * alpha * b)
    coeffs = jnp.zeros((3, 3), k.dtype)
    coeffs = coeffs.at[0, 0].set(jnp.sum(v * (b + alpha * b**2)) + c)
    coeffs = coeffs.at[1, 0].set(jnp.sum(lin * a)).at[0, 1].set(jnp.sum(lin * e))
    coeffs = coeffs.at[2, 0].set(alpha * jnp.sum(v * a**2))
    coeffs = coeffs.at[1, 1].set(2.0 * alpha * jnp.sum(v * a * e))
    return coeffs.at[0, 2].set(alpha * jnp.sum(v * e**2))


def _poly_mul(p: Array, q: Array) -> Array:
    return jax.scipy.signal.convolve2d(p, q, mode="full")


def output_moments(
    coefficients: Float[Array, "d d"], input_moments: Float[Array, " m"], *, order: int
) -> Float[Array, " order"]:
    r"""Raw moments :math:`\langle y^r\rangle`, r = 1..order, of a polynomial of two i.i.d. inputs.

    :math:`y = \sum C_{ab}\xi_1^a\xi_2^b`; the powers :math:`y^r` are 2-D convolutions of ``C`` and
    :math:`\langle\xi_1^a\xi_2^b\rangle = m_am_b`. Needs input moments up to ``order * (d - 1)``.

    Args:
        coefficients: ``(d, d)`` array :math:`C_{ab}`.
        input_moments: ``(M,)`` raw moments :math:`m_1, m_2, ...` of one input (index 0 = order
            1), ``M >= order * (d - 1)``.
        order: number of output moments (static).

    Returns:
        ``(order,)`` raw moments :math:`\langle y\rangle, \dots, \langle y^{order}\rangle`.

    Raises:
        ValueError: if too few input moments are given.

    Example:
        >>> import jax.numpy as jnp
        >>> c = jnp.array([[0.0, 1.0], [1.0, 0.0]])  # y = xi1 + xi2
        >>> m = jnp.array([0.0, 1.0, 0.0, 3.0])  # standard normal inputs
        >>> [round(float(v), 4) for v in output_moments(c, m, order=2)]
        [0.0, 2.0]
    """
    coefficients = as_float_array(coefficients, "coefficients")
    m = as_float_array(input_moments, "input_moments").astype(coefficients.dtype)
    degree = coefficients.shape[0] - 1
    if m.ndim != 1 or m.shape[0] < order * degree:
        raise ValueError(
            f"input_moments must be 1-D with at least order*degree = {order * degree} entries; "
            f"got shape {m.shape}."
        )
    m0 = jnp.concatenate([jnp.ones((1,), m.dtype), m])
    out, power = [], jnp.ones((1, 1), coefficients.dtype)
    for _ in range(order):
        power = _poly_mul(power, coefficients)
        n = power.shape[0]
        out.append(m0[:n] @ power @ m0[:n])
    return jnp.stack(out)


def output_cumulants(
    model: RGNetwork, input_moments: Float[Array, " m"], *, order: int
) -> Float[Array, " order"]:
    r"""Exact cumulants of the network output for i.i.d. inputs with the given raw moments.

    :func:`output_moments` of :func:`quadratic_coefficients`, converted by
    :math:`\kappa_n = m_n - \sum_{k=1}^{n-1}\binom{n-1}{k-1}\kappa_k m_{n-k}`. Needs input
    moments up to ``2 * order`` (the output is quadratic in the inputs).

    Args:
        model: an :class:`RGNetwork`.
        input_moments: ``(M,)`` raw moments of one input, ``M >= 2 * order``.
        order: number of output cumulants (static).

    Returns:
        ``(order,)`` cumulants :math:`\kappa_1(y)..\kappa_{order}(y)`.

    Raises:
        ValueError: too few input moments.
    """
    return moments_to_cumulants(
        output_moments(quadratic_coefficients(model), input_moments, order=order)
    )


def exact_map_error(model: RGNetwork, input_moments: Float[Array, " m"]) -> Array:
    r"""Exact mean squared error :math:`\langle (y - (\xi_1+\xi_2)/\sqrt2)^2\rangle`, i.i.d. inputs.

    Needs input moments up to order 4.

    Args:
        model: an :class:`RGNetwork`.
        input_moments: ``(M,)`` raw moments :math:`m_1..m_M` of one input, ``M >= 4``.

    Returns:
        Scalar ``()`` mean squared error.

    Raises:
        ValueError: too few input moments.
    """
    coeffs = quadratic_coefficients(model)
    diff = coeffs.at[1, 0].add(-_INV_SQRT2).at[0, 1].add(-_INV_SQRT2)
    return output_moments(diff, input_moments, order=2)[1]


def cumulant_recursion_error(
    model: RGNetwork, input_moments: Float[Array, " m"], *, order: int = 4
) -> Float[Array, " order"]:
    r"""Exact recursion errors :math:`|\kappa_r(y) - 2^{1-r/2}\kappa_r(\xi)|`, r = 1..order.

    Needs input moments up to ``2 * order``.

    Args:
        model: an :class:`RGNetwork`.
        input_moments: ``(M,)`` raw moments of one input, ``M >= 2 * order``.
        order: highest cumulant order (static).

    Returns:
        ``(order,)`` absolute errors, index 0 = order 1.

    Raises:
        ValueError: too few input moments.
    """
    m = as_float_array(input_moments, "input_moments")
    kappa_in = moments_to_cumulants(m[:order])
    r = jnp.arange(1, order + 1, dtype=kappa_in.dtype)
    target = kappa_in * 2.0 ** (1.0 - r / 2.0)
    return jnp.abs(output_cumulants(model, m, order=order).astype(target.dtype) - target)
