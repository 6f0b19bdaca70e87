"""Large sparse graphs: matrix-free Laplacians and stochastic Lanczos quadrature (SLQ).

The dense route (:func:`jaxrg.laplacian_spectrum` + :func:`jaxrg.entropy_curves`) needs one
``O(N^3)`` ``eigh``; this subpackage gives the same curves for graphs of ``10^4``–``10^7`` nodes in
``O(probes x matvecs x E)`` time, with error estimates:

* :func:`as_sparse_graph` — any graph form to a symmetric edge list (:class:`SparseGraph`);
* :func:`laplacian_matvec` — :math:`Lv` by one ``segment_sum``;
* :func:`entropy_curves` — ``Z``, ``S``, ``C``, ``d_S`` and their standard errors;
* :func:`lanczos_quadrature` / :func:`curves_from_quadrature` — the two halves of it
  (:func:`merge_quadratures` joins probe shares computed by different processes);
* :func:`extreme_eigenvalues` — Ritz values at both ends of the spectrum with residual bounds;
* :func:`characteristic_scales` — peaks of ``C`` from the quadrature;
* :func:`feature_quadrature` — the feature-aware measure (:mod:`jaxrg.features`), one run per
  feature column;
* :func:`read_edge_list` — a streaming edge-list reader that never forms a dense matrix.
"""

from jaxrg.sparse._edges import read_edge_list
from jaxrg.sparse._extremes import ExtremeEigenvalues, extreme_eigenvalues
from jaxrg.sparse._features import feature_quadrature
from jaxrg.sparse._graph import SparseGraph, as_sparse_graph, laplacian_matvec
from jaxrg.sparse._quadrature import SpectralQuadrature, lanczos_quadrature, merge_quadratures
from jaxrg.sparse._scales import characteristic_scales, default_taus
from jaxrg.sparse._slq import SparseCurves, curves_from_quadrature, entropy_curves

__all__ = [
    "ExtremeEigenvalues",
    "SparseCurves",
    "SparseGraph",
    "SpectralQuadrature",
    "as_sparse_graph",
    "characteristic_scales",
    "curves_from_quadrature",
    "default_taus",
    "entropy_curves",
    "extreme_eigenvalues",
    "feature_quadrature",
    "lanczos_quadrature",
    "laplacian_matvec",
    "merge_quadratures",
    "read_edge_list",
]
