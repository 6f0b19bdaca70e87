r"""The classifiers of the maximum-entropy subnetwork study (Flax nnx): shallow/deep MLP, small CNN.

Configurations of Caso, Fonio, Saccomanno, Monaco, Silvestri (2025), docs/design.md §8:

- :class:`MLP` ``(784, 512, 10)`` (shallow) or ``(784, 512, 256, 10)`` (deep): Linear → ReLU →
  dropout per hidden layer; the last layer has **no bias**.
- :class:`SmallCNN`: Conv(64, 5×5, padding 1) → ReLU → MaxPool(2) → flatten → Linear 120 → ReLU →
  Linear 64 → ReLU → Linear(classes, no bias); dropout after each hidden dense layer.

Every model is called as ``model(x, *, key=None)``; a PRNG ``key`` turns dropout on (training).
``init`` names the initialisation of every layer: ``"flax"`` (the default, Flax's LeCun-normal
weights and zero biases; every recorded run before 2026-12-06 used it) or ``"torch"`` (PyTorch's
``nn.Linear``/``nn.Conv2d`` default, weights and biases from U(±1/√fan-in), the framework of the
paper's code; :func:`jaxrg.studies._common.layers.linear`).
The final layer is the attribute ``head``, which :mod:`jaxrg.studies.maxent.train` prunes at half
the rate.

References:
    F. Caso, S. Fonio, A. Saccomanno, A. Monaco, F. Silvestri, "Composable subnetworks by the
    maximum-entropy principle", NeurIPS 2025 workshop on mechanistic interpretability.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

from jaxrg.studies._common.layers import conv, dropout, linear

__all__ = ["MLP", "MODELS", "SmallCNN", "make_model"]

MODELS = ("shallow", "deep", "cnn")


class MLP(nnx.Module):
    """A ReLU MLP with dropout on the hidden layers and a bias-free output layer.

    Args:
        sizes: ``(in, hidden..., out)`` layer widths (at least two entries).
        dropout: dropout rate of the hidden activations.
        init: ``"flax"`` (default) or ``"torch"`` (module docstring).
        param_dtype: parameter dtype.
        rngs: ``nnx.Rngs`` (initialisation).

    Examples:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> net = MLP((4, 8, 3), rngs=nnx.Rngs(0))
        >>> net(jnp.ones((2, 4), jnp.float32)).shape
        (2, 3)
        >>> net.head.bias is None
        True
    """

    def __init__(self, sizes: Sequence[int], *, dropout: float = 0.5, init: str = "flax",
                 param_dtype=jnp.float32, rngs: nnx.Rngs):
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least (in, out), got {tuple(sizes)}")
        self.hidden = nnx.List([
            linear(a, b, init=init, param_dtype=param_dtype, rngs=rngs)
            for a, b in zip(sizes[:-2], sizes[1:-1], strict=True)
        ])
        self.head = linear(sizes[-2], sizes[-1], init=init, use_bias=False,
                           param_dtype=param_dtype, rngs=rngs)
        self.rate = dropout

    def __call__(self, x: Float[Array, "n d"], *, key: Array | None = None) -> Float[Array, "n c"]:
        x = x.reshape(x.shape[0], -1)
        keys = [None] * len(self.hidden) if key is None else list(
            jax.random.split(key, len(self.hidden)))
        for layer, k in zip(self.hidden, keys, strict=True):
            x = dropout(jax.nn.relu(layer(x)), self.rate, k)
        return self.head(x)


class SmallCNN(nnx.Module):
    """Conv(64, 5×5, pad 1) → ReLU → MaxPool 2 → 120 → 64 → classes (no output bias).

    Args:
        image_shape: ``(height, width)`` of the single-channel input (28×28 for MNIST).
        num_classes: output width.
        dropout: rate after each hidden dense layer.
        init: ``"flax"`` (default) or ``"torch"`` (module docstring).
        param_dtype: parameter dtype.
        rngs: ``nnx.Rngs``.

    Examples:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> cnn = SmallCNN((8, 8), 3, rngs=nnx.Rngs(0))
        >>> cnn(jnp.ones((2, 64), jnp.float32)).shape
        (2, 3)
    """

    def __init__(self, image_shape: tuple[int, int] = (28, 28), num_classes: int = 10, *,
                 dropout: float = 0.5, init: str = "flax", param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        self.image_shape = tuple(image_shape)
        self.conv = conv(1, 64, (5, 5), padding=1, init=init, param_dtype=param_dtype, rngs=rngs)
        h, w = ((s + 2 - 5 + 1) // 2 for s in self.image_shape)
        self.fc1 = linear(64 * h * w, 120, init=init, param_dtype=param_dtype, rngs=rngs)
        self.fc2 = linear(120, 64, init=init, param_dtype=param_dtype, rngs=rngs)
        self.head = linear(64, num_classes, init=init, use_bias=False, param_dtype=param_dtype,
                           rngs=rngs)
        self.rate = dropout

    def __call__(self, x: Float[Array, "n d"], *, key: Array | None = None) -> Float[Array, "n c"]:
        x = x.reshape(x.shape[0], *self.image_shape, 1)
        x = jax.nn.relu(self.conv(x))
        x = nnx.max_pool(x, (2, 2), strides=(2, 2))
        x = x.reshape(x.shape[0], -1)
        k1, k2 = (None, None) if key is None else tuple(jax.random.split(key))
        x = dropout(jax.nn.relu(self.fc1(x)), self.rate, k1)
        x = dropout(jax.nn.relu(self.fc2(x)), self.rate, k2)
        return self.head(x)


def make_model(name: str, num_features: int, num_classes: int, *, seed: int,
               dropout: float = 0.5, image_shape: tuple[int, int] | None = None,
               hidden: Sequence[int] | None = None, init: str = "flax") -> nnx.Module:
    """The model ``name`` (``"shallow"``, ``"deep"``, ``"cnn"``) for the given data shape.

    ``hidden`` overrides the hidden widths of the MLPs (default ``(512,)`` shallow and
    ``(512, 256)`` deep, the image/HAR configuration; Yeast uses ``(256,)`` / ``(128, 64)``).

    Args:
        name: ``"shallow"``, ``"deep"`` or ``"cnn"``.
        num_features: ``D``, the flattened input size.
        num_classes: ``C``.
        seed: seed of the ``nnx.Rngs`` for the initialisation.
        dropout: dropout rate.
        image_shape: ``(H, W)`` of the images (required for ``"cnn"``).
        hidden: hidden widths of the MLPs.
        init: ``"flax"`` (default) or ``"torch"`` (module docstring).

    Returns:
        An ``nnx.Module`` called as ``model(x, key=None)``, ``x`` ``(n, D)`` (or
        ``(n, H, W)``), returning ``(n, C)`` logits.

    Raises:
        ValueError: unknown ``name`` or ``init``, or ``"cnn"`` without ``image_shape``.
    """
    rngs = nnx.Rngs(seed)
    if name == "shallow":
        widths = tuple(hidden) if hidden is not None else (512,)
        return MLP((num_features, *widths, num_classes), dropout=dropout, init=init, rngs=rngs)
    if name == "deep":
        widths = tuple(hidden) if hidden is not None else (512, 256)
        return MLP((num_features, *widths, num_classes), dropout=dropout, init=init, rngs=rngs)
    if name == "cnn":
        if image_shape is None:
            raise ValueError("the CNN needs image data (image_shape); use 'shallow' or 'deep'")
        return SmallCNN(image_shape, num_classes, dropout=dropout, init=init, rngs=rngs)
    raise ValueError(f"unknown model {name!r}; choose one of {MODELS}")
