"""jaxrg: scale and entropy in representation learning, in JAX.

The spectral core is re-exported here (its modules ``jaxrg.graphs``, ``jaxrg.spectral``,
``jaxrg.thermo`` and ``jaxrg.scales`` are implementation details). Topic namespaces:
``jaxrg.lrg`` (Laplacian renormalisation group: meta-graph, coarse-graining, rewiring),
``jaxrg.sparse`` (stochastic Lanczos quadrature for large sparse graphs), ``jaxrg.batch``
(padded, streamed and sharded batches of small graphs), ``jaxrg.eigenvalues`` (values-only
``eigvalsh``), ``jaxrg.cumulants`` and ``jaxrg.clt`` (cumulants, the CLT as an RG flow),
``jaxrg.info`` (Shannon/Rényi/Tsallis entropies and divergences from logits, streamed),
``jaxrg.matrix_entropy`` (von Neumann, Vendi, diffusion spectral entropy) and ``jaxrg.lens``
(Entropy-Lens profiles). Datasets (scipy) and the studies — each reproduction's models, training,
runs and reports (Flax, optax, jraph) — load on demand: ``jaxrg.datasets``,
``jaxrg.studies.<study>``.
"""

from jaxrg import batch, clt, cumulants, eigenvalues, info, lens, lrg, matrix_entropy, sparse
from jaxrg._compile_cache import enable_compile_cache
from jaxrg._validation import checked, validate_adjacency
from jaxrg.features import (
    FeatureSpectrum,
    feature_characteristic_scales,
    feature_entropy_curves,
    feature_spectrum,
)
from jaxrg.graph_io import read_graph
from jaxrg.graphs import (
    Components,
    PaddedBatch,
    as_adjacency,
    circulation,
    connected_components,
    from_edge_list,
    largest_connected_component,
    pad_adjacency,
    to_graphs_tuple,
)
from jaxrg.scales import (
    CharacteristicScales,
    authors_pipeline_scales,
    characteristic_scales,
    default_taus,
)
from jaxrg.spectral import (
    density_matrix,
    heat_kernel,
    heat_trace,
    laplacian,
    laplacian_spectrum,
    log_heat_trace,
)
from jaxrg.thermo import (
    SpectralCurves,
    entropy_curves,
    specific_heat,
    spectral_dimension,
    spectral_entropy,
)

__version__ = "0.1.0"

__all__ = [
    "CharacteristicScales",
    "Components",
    "FeatureSpectrum",
    "PaddedBatch",
    "SpectralCurves",
    "as_adjacency",
    "authors_pipeline_scales",
    "characteristic_scales",
    "checked",
    "circulation",
    "batch",
    "clt",
    "cumulants",
    "eigenvalues",
    "info",
    "lens",
    "lrg",
    "matrix_entropy",
    "sparse",
    "connected_components",
    "default_taus",
    "density_matrix",
    "enable_compile_cache",
    "entropy_curves",
    "feature_characteristic_scales",
    "feature_entropy_curves",
    "feature_spectrum",
    "from_edge_list",
    "heat_kernel",
    "heat_trace",
    "laplacian",
    "laplacian_spectrum",
    "largest_connected_component",
    "log_heat_trace",
    "pad_adjacency",
    "read_graph",
    "spectral_dimension",
    "spectral_entropy",
    "specific_heat",
    "to_graphs_tuple",
    "validate_adjacency",
]
