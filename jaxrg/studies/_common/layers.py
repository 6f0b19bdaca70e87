"""Layers shared by the model families (GNNs, MLP/CNN subnetworks)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array


def dropout(x: Array, rate: float, key: Array | None) -> Array:
    r"""Inverted dropout: zero each entry with probability ``rate``, scale the rest by 1/(1−rate).

    :math:`y = x \cdot m/(1 - r)`, :math:`m \sim \mathrm{Bernoulli}(1 - r)` per entry. Identity
    when ``key`` is None (evaluation) or ``rate`` is 0.

    Args:
        x: array of any shape.
        rate: drop probability :math:`r \in [0, 1)`.
        key: PRNG key, or None for evaluation.

    Returns:
        Same shape and dtype as ``x``.
    """
    if key is None or rate == 0.0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / jnp.asarray(1.0 - rate, dtype=x.dtype), jnp.zeros_like(x))


INITS = ("flax", "torch")


def _torch_uniform(bound: float):
    """Initializer drawing from U(−bound, bound) (PyTorch's ``nn.Linear`` weights and biases)."""

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def linear(in_features: int, out_features: int, *, init: str = "flax", use_bias: bool = True,
           param_dtype=jnp.float32, rngs):
    r"""A dense layer ``x W + b`` (``flax.nnx.Linear``) with a named initialisation.

    ``init="flax"`` (the default of every jaxrg model): Flax's LeCun-normal weights,
    :math:`W \sim \mathcal N(0, 1/F_{in})` truncated, and zero bias. ``init="torch"``: PyTorch's
    ``nn.Linear`` default, ``kaiming_uniform(a=√5)``, i.e. weights **and** bias drawn from
    :math:`U(\pm 1/\sqrt{F_{in}})` — a spread :math:`1/\sqrt{3 F_{in}}`, √3 times smaller than
    Flax's. Reproductions of PyTorch papers use ``"torch"``: on Cora (Caso et al. 2025's
    classifier) it moved GCN_SB by about 4 points (see results/node_classification/README.md).

    Args:
        in_features: :math:`F_{in}`.
        out_features: :math:`F_{out}`.
        init: ``"flax"`` or ``"torch"``.
        use_bias: add a bias.
        param_dtype: parameter dtype.
        rngs: ``nnx.Rngs``.

    Returns:
        ``flax.nnx.Linear`` mapping ``(..., F_in)`` to ``(..., F_out)``.

    Raises:
        ValueError: unknown ``init``.

    Examples:
        >>> from flax import nnx
        >>> layer = linear(4, 3, init="torch", rngs=nnx.Rngs(0))
        >>> bool(jnp.all(jnp.abs(layer.kernel[...]) <= 0.5)), layer.bias[...].shape
        (True, (3,))
    """
    from flax import nnx

    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}; 'torch' reproduces "
                         "PyTorch's nn.Linear default")
    if init == "flax":
        return nnx.Linear(in_features, out_features, use_bias=use_bias, param_dtype=param_dtype,
                          rngs=rngs)
    bound = 1.0 / float(in_features) ** 0.5
    return nnx.Linear(in_features, out_features, use_bias=use_bias, param_dtype=param_dtype,
                      kernel_init=_torch_uniform(bound), bias_init=_torch_uniform(bound),
                      rngs=rngs)


def conv(in_features: int, out_features: int, kernel_size: tuple[int, int], *, padding=0,
         init: str = "flax", use_bias: bool = True, param_dtype=jnp.float32, rngs):
    r"""A 2-D convolution (``flax.nnx.Conv``, NHWC) with a named initialisation.

    ``init="flax"``: Flax's LeCun-normal kernel and zero bias. ``init="torch"``: PyTorch's
    ``nn.Conv2d`` default, ``kaiming_uniform(a=√5)`` on the kernel and the same bound on the
    bias: both from :math:`U(\pm 1/\sqrt{F_{in}})` with fan-in
    :math:`F_{in} = C_{in} k_h k_w` (as :func:`linear` does for a dense layer).

    Args:
        in_features: :math:`C_{in}`, input channels.
        out_features: output channels.
        kernel_size: :math:`(k_h, k_w)`.
        padding: as ``nnx.Conv`` (an int pads every side).
        init: ``"flax"`` or ``"torch"``.
        use_bias: add a bias.
        param_dtype: parameter dtype.
        rngs: ``nnx.Rngs``.

    Returns:
        ``flax.nnx.Conv`` mapping ``(n, H, W, C_in)`` to ``(n, H', W', C_out)``.

    Raises:
        ValueError: unknown ``init``.

    Examples:
        >>> from flax import nnx
        >>> layer = conv(2, 3, (2, 2), init="torch", rngs=nnx.Rngs(0))
        >>> bool(jnp.all(jnp.abs(layer.kernel[...]) <= 1 / 8 ** 0.5)), layer.kernel.shape
        (True, (2, 2, 2, 3))
    """
    from flax import nnx

    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}; 'torch' reproduces "
                         "PyTorch's nn.Conv2d default")
    kwargs = {}
    if init == "torch":
        bound = 1.0 / float(in_features * kernel_size[0] * kernel_size[1]) ** 0.5
        kwargs = {"kernel_init": _torch_uniform(bound), "bias_init": _torch_uniform(bound)}
    return nnx.Conv(in_features, out_features, kernel_size, padding=padding, use_bias=use_bias,
                    param_dtype=param_dtype, rngs=rngs, **kwargs)
