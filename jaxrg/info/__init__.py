r"""Information measures of categorical distributions: exact, batched, streamed, in log domain.

Entropies (nats) of :math:`p = \mathrm{softmax}(z)` from logits :math:`z` (or from probabilities),
never forming :math:`p` itself:

.. math::
    H_\alpha = \frac{\operatorname{lse}(\alpha z) - \alpha\operatorname{lse}(z)}{1-\alpha},\qquad
    H_1 = \operatorname{lse}(z) - \langle z\rangle_p,\qquad
    S_q = \frac{e^{(1-q)H_q} - 1}{1-q},

with exact limits at :math:`\alpha = 0, 1, \infty`, finite gradients at :math:`\alpha = 1`, and
bf16/f16 logits reduced in float32. The ``*_chunked`` and ``streamed_*`` variants reduce the
category axis chunk by chunk through :class:`EntropyStats`, whose partial results merge exactly in
any order, so [layers × tokens × 50k-vocabulary] tensors never materialise probabilities.

Example:
    >>> import jax.numpy as jnp, jaxrg.info
    >>> z = jnp.array([[0.0, 0.0, 0.0, 0.0], [1e4, 0.0, 0.0, 1e4]])   # uniform on 4, on 2
    >>> jaxrg.info.renyi_entropy(z, jnp.array([0.5, 1.0, 5.0])).round(6).tolist()
    [[1.386294, 0.693147], [1.386294, 0.693147], [1.386294, 0.693147]]
"""

from jaxrg.info._core import EntropyStats
from jaxrg.info._divergence import (
    cross_entropy,
    cross_entropy_from_probs,
    js_divergence,
    js_divergence_from_probs,
    kl_divergence,
    kl_divergence_from_probs,
)
from jaxrg.info._entropy import (
    renyi_entropy,
    renyi_entropy_from_probs,
    shannon_entropy,
    shannon_entropy_from_probs,
    tsallis_entropy,
    tsallis_entropy_from_probs,
)
from jaxrg.info._stream import (
    chunked_entropy_stats,
    entropy_stats,
    merge_entropy_stats,
    renyi_entropy_chunked,
    renyi_entropy_from_stats,
    shannon_entropy_chunked,
    shannon_entropy_from_stats,
    streamed_entropy_stats,
    tsallis_entropy_chunked,
    tsallis_entropy_from_stats,
)

__all__ = [
    "EntropyStats",
    "chunked_entropy_stats",
    "cross_entropy",
    "cross_entropy_from_probs",
    "entropy_stats",
    "js_divergence",
    "js_divergence_from_probs",
    "kl_divergence",
    "kl_divergence_from_probs",
    "merge_entropy_stats",
    "renyi_entropy",
    "renyi_entropy_chunked",
    "renyi_entropy_from_probs",
    "renyi_entropy_from_stats",
    "shannon_entropy",
    "shannon_entropy_chunked",
    "shannon_entropy_from_probs",
    "shannon_entropy_from_stats",
    "streamed_entropy_stats",
    "tsallis_entropy",
    "tsallis_entropy_chunked",
    "tsallis_entropy_from_probs",
    "tsallis_entropy_from_stats",
]
