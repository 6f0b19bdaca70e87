"""Multiscale node classification (Caso et al., IJCNN 2025) and the Kipf & Welling GCN baseline.

Protocol (docs/design.md §4, following the authors' code ``FrancescoCaso/RGR``): every graph is
reduced to its largest connected component; Planetoid keeps the public split (restricted to that
component), Amazon and Europe use a 70/15/15 split; one
:class:`~jaxrg.studies.node_classification.gnn.GraphEncoder` per input graph (SB: original; MB:
original twice; SR: renormalised; MR: original + renormalised at
τ*), embeddings concatenated, Linear → classes; Adam (lr 1e-4), full batch, cross-entropy, no
weight decay or dropout; during training every encoder sees only the subgraph induced by the
training nodes, validation and test use the full graphs; for each epoch budget B (the authors'
logarithmic budgets 10 … 1000) the test accuracy of the best-validation epoch among the first B.
Ten seeds train at once (``jax.vmap``). Widths as in the authors' code: GCN without input
projection (h = number of features), GAT with a projection to h (1024 for Cora and Citeseer, 64 for
Photo and Europe, 32 for PubMed, 16 for Computers), 4 heads.

The renormalised graph (SR/MR) is ``jaxrg.lrg.rewire(A, τ)`` on the largest component, at a given
τ or at τ* = the first peak of a specific heat on ``logspace(-2, 4, 100)``, by one of
:data:`SCALE_VARIANTS`: ``"exact"`` (the first peak of the exact C, refined by
:func:`jaxrg.characteristic_scales`), ``"authors"`` (the authors' pipeline, reproduced step by step
by :func:`jaxrg.scales.authors_pipeline_scales`: ``np.gradient`` of the heat trace, Gaussian
smoothing, first grid maximum — Cora and Citeseer τ* = 0.572, as they report) or
``"authors-analytic"`` (the peak of their quantity τ²Σλ²e^{−τλ} refined between grid points:
Cora 0.528, Citeseer 0.597 — not what their code trained on); all in float64.

Initialisation (``init``): ``"flax"`` (LeCun-normal, zero bias) or ``"torch"`` (PyTorch's
``nn.Linear`` default, what the authors' code gets;
:func:`jaxrg.studies._common.layers.linear`). Split (``split``): Planetoid's public split, or for
Amazon/Europe ``"ordered"`` (the authors'
``create_masks``: the first 70 % of the node ids train, the next 15 % validate, the rest test) or
``"random"`` (seeded 70/15/15).

Every finished seed is one JSON line per epoch budget in ``<out>/results.jsonl`` (dataset, variant,
encoder, τ, seed, epoch budget, validation/test accuracy, wall time, ...); a rerun skips finished
seeds, so a killed run resumes where it stopped. :func:`report
<jaxrg.studies.node_classification.report.report>` turns the file into a markdown table
(mean ± std over seeds; + / − when a one-sided exact Wilcoxon signed-rank test against SB, paired
by seed, gives p < 0.05).

References:
    F. Caso, G. Trappolini, A. Bacciu, P. Liò, F. Silvestri, "Renormalized graph representations
    for node classification", IJCNN 2025 (arXiv:2306.00707). T. Kipf, M. Welling, ICLR 2017.
"""

from __future__ import annotations

import importlib.util
import pathlib
import platform
from collections.abc import Sequence

import numpy as np

from jaxrg import _checks, _io

__all__ = [
    "EDGES",
    "EPOCH_BUDGETS",
    "GAT_HIDDEN",
    "GCN_REDUCED_HIDDEN",
    "INITS",
    "KEY_FIELDS",
    "KIPF_PUBLISHED",
    "SCALE_SOURCES",
    "SCALE_VARIANTS",
    "SUPPLEMENT_REWIRED_EDGES",
    "characteristic_tau",
    "decode_correct",
    "default_hidden",
    "default_split",
    "encode_correct",
    "prepare",
    "read_results",
    "run",
    "run_kipf",
    "scales_and_rewiring",
    "with_defaults",
]

EPOCH_BUDGETS = (10, 13, 19, 26, 37, 51, 71, 100, 138, 193, 268, 372, 517, 719, 1000)
GAT_HIDDEN = {"cora": 1024, "citeseer": 1024, "pubmed": 32, "photo": 64, "computers": 16,
              "europe": 64}
#: The authors' GCN width under ``new_train.py --dim_reduction`` (their ``h_dim_mapping`` for
#: GCN: an input projection to this width); without the flag their GCN has no projection. Their
#: GAT always projects (to :data:`GAT_HIDDEN`). The paper does not say which of the two GCN
#: widths each published cell used (``results/node_classification/README.md``, "Citeseer GCN").
GCN_REDUCED_HIDDEN = {"cora": 1024, "citeseer": 1024, "pubmed": 128, "photo": 64,
                      "computers": 24, "europe": 64}
KEY_FIELDS = ("dataset", "encoder", "variant", "tau", "hidden", "learning_rate", "seed",
              "epochs", "init", "split", "scale_source", "edges", "tau_rate", "propagation")
SCALE_VARIANTS = ("exact", "authors", "authors-analytic")
#: where τ* comes from: the structure-only C, or the feature-aware C_X (τ*_X)
SCALE_SOURCES = ("structure", "features")
INITS = ("flax", "torch")
#: the encoders' edges: both directions of every edge, or (Europe) each edge once as the file
#: stores it, the graph PyTorch Geometric's ``Airports`` gives the authors' code
EDGES = ("undirected", "as-stored")
KIPF_PUBLISHED = {"cora": 81.5, "citeseer": 70.3, "pubmed": 79.0}


def default_split(dataset: str) -> str:
    """``"public"`` for Planetoid, ``"random"`` for the others (the split of records that predate
    the ``split`` field)."""
    from jaxrg.datasets import PLANETOID, canonical_name

    return "public" if canonical_name(dataset) in PLANETOID else "random"


def with_defaults(record: dict) -> dict:
    """A results line with the fields older records lack filled in (``init``: ``"flax"``,
    ``split``: :func:`default_split`, ``scale_source``: ``"structure"``, ``edges``:
    ``"undirected"``, ``tau_rate``: 1, ``propagation``: ``"subgraph"``), so old and new
    records share one key."""
    out = dict(record)
    out.setdefault("init", "flax")
    out.setdefault("tau_rate", 1.0)
    out.setdefault("propagation", "subgraph")
    out.setdefault("scale_source", "structure")
    out.setdefault("edges", "undirected")
    if out.get("split") is None:
        out["split"] = default_split(out["dataset"])
    return out


def read_results(path) -> list[dict]:
    """The records of a ``results.jsonl`` with :func:`with_defaults` applied."""
    return [with_defaults(r) for r in _io.read_jsonl(path)]


def _seed_list(seeds) -> list[int]:
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive count or a list of seeds, got {seeds}")
        return list(range(seeds))
    return [int(s) for s in seeds]


def default_hidden(dataset: str, encoder: str, *, reduced: bool = False) -> int | None:
    """The authors' width: None (no projection) for GCN, ``GAT_HIDDEN[dataset]`` for GAT.

    With ``reduced``, their ``--dim_reduction`` width: :data:`GCN_REDUCED_HIDDEN` for GCN (GAT
    is unchanged: their code always reduces it).
    """
    if encoder == "gat":
        return GAT_HIDDEN[dataset]
    return GCN_REDUCED_HIDDEN[dataset] if reduced else None


def _environment() -> dict:
    import jax

    import jaxrg

    return {"device": jax.devices()[0].device_kind, "jax": jax.__version__,
            "jaxrg": jaxrg.__version__, "python": platform.python_version()}


def characteristic_tau(adjacency, scale_variant: str = "authors", *,
                       laplacian: str = "combinatorial", features=None) -> float:
    """τ* of a graph as the protocol defines it: the first peak on ``logspace(-2, 4, 100)``.

    Args:
        adjacency: scipy sparse or dense ``(N, N)`` symmetric adjacency.
        scale_variant: one of :data:`SCALE_VARIANTS` (see the module docstring).
        laplacian: ``"combinatorial"`` (:math:`L = D - A`, the LRG's), ``"normalised"`` (the
            self-loop normalised Laplacian of the heat encoder,
            :func:`jaxrg.studies.node_classification.learned_scale.normalised_laplacian_eigenvalues`)
            or ``"in-degree"`` (:math:`L = D_{in} - A` of a directed ``adjacency``,
            what the authors' code takes of a PyG edge list that holds each edge once; its
            spectrum must be real, as on Europe, where :math:`L` is triangular).
        features: ``(N, F)`` node features: τ*_X, the first peak of the feature-aware
            :math:`C_X` (:func:`jaxrg.features.feature_characteristic_scales`; centred,
            unit-norm columns) instead of the structure-only C. Not with ``"authors"`` (their
            pipeline is defined for the structure-only curve) nor the normalised Laplacian.

    Returns:
        τ* (float).

    Raises:
        ValueError: unknown ``scale_variant``, or no peak on the grid.
    """
    import jax
    import jax.numpy as jnp

    import jaxrg
    from jaxrg.scales import authors_pipeline_scales

    if scale_variant not in SCALE_VARIANTS:
        raise ValueError(f"scale_variant must be one of {SCALE_VARIANTS}, got {scale_variant!r}")
    if laplacian not in ("combinatorial", "normalised", "in-degree"):
        raise ValueError("laplacian must be 'combinatorial', 'normalised' or 'in-degree', got "
                         f"{laplacian!r}")
    if features is not None and (scale_variant == "authors" or laplacian != "combinatorial"):
        raise ValueError("the feature-aware tau*_X is the first peak of C_X of L = D - A: use "
                         "scale_variant 'exact' or 'authors-analytic' and the combinatorial "
                         "Laplacian")
    dense = adjacency.toarray() if hasattr(adjacency, "toarray") else np.asarray(adjacency)
    formula = "heat-trace-curvature" if scale_variant == "authors-analytic" else "heat-capacity"
    with jax.enable_x64(True):
        grid = jnp.logspace(-2, 4, 100)
        if features is not None:
            from jaxrg.features import feature_characteristic_scales, feature_spectrum

            spectrum = feature_spectrum(jnp.asarray(dense, jnp.float64),
                                        jnp.asarray(features, jnp.float64))
            scales = feature_characteristic_scales(spectrum, grid, sort_by="tau",
                                                   formula=formula)
        else:
            if laplacian == "normalised":
                from jaxrg.studies.node_classification.learned_scale import (
                    normalised_laplacian_eigenvalues,
                )

                spectrum = jnp.asarray(normalised_laplacian_eigenvalues(dense))
            elif laplacian == "in-degree":
                spectrum = jnp.asarray(_in_degree_spectrum(dense))
            else:
                spectrum = jaxrg.laplacian_spectrum(jnp.asarray(dense, jnp.float64))
            if scale_variant == "authors":
                scales = authors_pipeline_scales(spectrum, grid)
            else:
                scales = jaxrg.characteristic_scales(spectrum, grid, sort_by="tau",
                                                     formula=formula)
        if not bool(scales.valid[0]):
            raise ValueError("the specific heat has no peak on logspace(-2, 4, 100); pass --tau")
        return float(scales.taus[0])


def _in_degree_spectrum(dense: np.ndarray) -> np.ndarray:
    """Sorted real eigenvalues of :math:`L = D_{in} - A` (column sums), float64."""
    laplacian = np.diag(dense.sum(axis=0)) - dense
    values = np.linalg.eigvals(laplacian.astype(np.float64))
    scale = max(1.0, float(np.abs(values).max()))
    if np.abs(values.imag).max() > 1e-9 * scale:
        raise ValueError("the in-degree Laplacian of this directed graph has complex eigenvalues; "
                         "its heat trace has no real characteristic scale here - pass tau")
    return np.sort(values.real)


#: Rewired-graph sizes in the authors' supplement (Table 3, directed edge counts at τ = 0.57).
SUPPLEMENT_REWIRED_EDGES = {"cora": 83660, "citeseer": 39040}


def scales_and_rewiring(dataset: str, *, out="results/node_classification", data_dir=None,
                        download: bool = False, progress: bool = True) -> dict:
    """τ* by every definition and the size of the rewired graph at the authors' τ*, one dataset.

    Graph-only (features are not read, so it runs on PubMed without ``ind.pubmed.allx``). The
    spectrum is one float64 ``numpy.linalg.eigvalsh`` of the largest component's Laplacian;
    the rewired graph is :func:`jaxrg.lrg.rewire_edges` (no N × N matrix) at the τ* of the
    authors' pipeline. Appends one line to ``<out>/scales.jsonl``; a dataset already there is
    returned without recomputing.

    Args:
        dataset: a dataset name (see :func:`jaxrg.datasets.load`).
        out: results folder.
        data_dir: data folder (default ``$JAXRG_DATA``).
        download: fetch missing files.
        progress: progress bars.

    Returns:
        The record: ``dataset``, ``nodes``, ``edges`` (undirected), ``tau_authors``
        (their pipeline), ``tau_authors_analytic``, ``tau_exact``, ``rewired_edges`` (directed
        count, both directions, as the supplement counts), ``supplement_rewired_edges`` (or
        None), wall time and environment.
    """
    import time

    import jax
    import jax.numpy as jnp

    import jaxrg
    import jaxrg.datasets as ds
    import jaxrg.lrg
    from jaxrg.scales import authors_pipeline_scales

    key = ds.canonical_name(dataset)
    if pathlib.Path(out).exists() and not pathlib.Path(out).is_dir():
        raise ValueError(f"out must be a folder; {out} is a file. Pass --out DIR.")
    path = pathlib.Path(out) / "scales.jsonl"
    for record in _io.read_jsonl(path):
        if record["dataset"] == key:
            return record
    start = time.perf_counter()
    data = ds.load(key, data_dir=data_dir, largest_component=True, features=False,
                   split="public" if key in ds.PLANETOID else "random", download=download,
                   progress=progress)
    adjacency = data.adjacency.astype(np.float64)
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    laplacian = np.diag(degree) - adjacency.toarray()
    spectrum = np.linalg.eigvalsh(laplacian)
    del laplacian
    grid = np.logspace(-2, 4, 100)
    with jax.enable_x64(True):
        lam = jnp.asarray(np.clip(spectrum, 0.0, None))
        taus = {"tau_authors": authors_pipeline_scales(lam, jnp.asarray(grid))}
        for name, formula in (("tau_authors_analytic", "heat-trace-curvature"),
                              ("tau_exact", "heat-capacity")):
            taus[name] = jaxrg.characteristic_scales(lam, jnp.asarray(grid), sort_by="tau",
                                                     formula=formula)
        taus = {k: float(v.taus[0]) if bool(v.valid[0]) else None for k, v in taus.items()}
        senders, _ = jaxrg.lrg.rewire_edges(data.adjacency, taus["tau_authors"],
                                            progress=progress)
    record = {"dataset": key, "nodes": int(data.num_nodes), "edges": int(data.num_edges),
              **taus, "rewired_edges": int(senders.size),
              "supplement_rewired_edges": SUPPLEMENT_REWIRED_EDGES.get(key),
              "wall_time_s": time.perf_counter() - start, **_environment()}
    _io.append_jsonl(path, record)
    return record


def _renormalised_adjacency(adjacency, tau: float | None, scale_variant: str, features=None):
    """(rewired dense 0/1 (N, N), tau) at ``tau``, or at τ* (:func:`characteristic_tau`)."""
    if importlib.util.find_spec("jaxrg.lrg") is None:
        raise ValueError("variants SR and MR need jaxrg.lrg (the renormalised graphs), which is "
                         "not available in this installation; run SB or MB")
    import jax
    import jax.numpy as jnp

    import jaxrg
    import jaxrg.lrg

    if not hasattr(jaxrg.lrg, "rewire"):
        raise ValueError("variants SR and MR need jaxrg.lrg.rewire, which this version of "
                         "jaxrg.lrg does not provide yet; run SB or MB")
    # Spectrum and meta-graph decisions need float64 (round-off at large tau): scoped x64.
    with jax.enable_x64(True):
        dense = jnp.asarray(adjacency.toarray(), jnp.float64)
        if tau is None:
            tau = characteristic_tau(adjacency, scale_variant, features=features)
        rewired = np.asarray(jaxrg.lrg.rewire(dense, tau))
    return rewired, tau


def _renormalised_directed(graph, tau: float | None, scale_variant: str):
    """(rewired directed 0/1 (N, N), tau) of a directed graph: the authors' code on a PyG edge
    list that holds each edge once (:func:`jaxrg.lrg.rewire_directed`, τ* of the in-degree
    Laplacian by :func:`characteristic_tau`)."""
    import jax
    import jax.numpy as jnp

    import jaxrg.lrg

    num_nodes = int(np.asarray(graph.n_node).sum())
    dense = np.zeros((num_nodes, num_nodes))
    dense[np.asarray(graph.senders), np.asarray(graph.receivers)] = 1.0
    with jax.enable_x64(True):
        if tau is None:
            tau = characteristic_tau(dense, scale_variant, laplacian="in-degree")
        rewired = np.asarray(jaxrg.lrg.rewire_directed(jnp.asarray(dense, jnp.float64), tau))
    return rewired, tau


def _stored_edges_graph(data, *, data_dir=None, download: bool = False, progress: bool = True):
    """Europe's graph with each edge once, as its file stores it (PyG's ``Airports`` graph)."""
    import scipy.sparse as sp

    import jaxrg.datasets as ds

    stored = ds.stored_europe_edges(data_dir=data_dir, download=download, progress=progress)
    new_id = np.full(int(max(stored.max(), data.node_ids.max())) + 1, -1, dtype=np.int64)
    new_id[data.node_ids] = np.arange(data.node_ids.size)
    pairs = new_id[stored]
    pairs = pairs[(pairs >= 0).all(axis=1)]  # edges of the kept component
    directed = sp.csr_array((np.ones(len(pairs), np.float32), (pairs[:, 0], pairs[:, 1])),
                            shape=(data.num_nodes, data.num_nodes))
    return ds.graphs_tuple(directed, data.graph.nodes)


def prepare(dataset: str, *, variant: str = "SB", data_dir=None, tau: float | None = None,
            scale_variant: str = "exact", split: str | None = None, download: bool = False,
            progress: bool = True, scale_from: str = "structure", edges: str = "undirected"):
    """Load a dataset as the protocol wants (largest component, its split) and list its graphs.

    Returns:
        ``(data, graphs, tau)``: the reduced :class:`~jaxrg.datasets.Dataset`, the graphs the
        variant's encoders read (see
        :func:`jaxrg.studies.node_classification.multiscale.variant_graphs`) and τ (None for SB
        and MB). The learned-scale variants (SD, MD, SL, ML) read the original graph; their τ
        is the first peak of the normalised Laplacian's C (the heat encoder's units).
        ``scale_from="features"`` takes τ*_X, the first peak of the feature-aware C_X
        (:func:`characteristic_tau` with the dataset's features), for SR/MR.
        ``edges="as-stored"`` (Europe) gives the encoders the graph as
        ``europe-airports.edgelist`` stores it, each edge once and directed
        (:func:`jaxrg.datasets.stored_europe_edges`): the graph of PyG's ``Airports``, on which
        the authors trained; SR/MR then rewire it as their code does
        (:func:`jaxrg.lrg.rewire_directed` at τ* of the in-degree Laplacian).

    Raises:
        ValueError: ``edges`` is not one of :data:`EDGES`, or ``"as-stored"`` with another
            dataset than Europe, a learned-scale variant or ``scale_from="features"``.
    """
    import jaxrg.datasets as ds
    from jaxrg.studies.node_classification import learned_scale, multiscale

    key = ds.canonical_name(dataset)
    variant = variant.upper()
    split = split or default_split(key)
    if edges not in EDGES:
        raise ValueError(f"edges must be one of {EDGES}, got {edges!r}")
    if edges == "as-stored" and key != "europe":
        raise ValueError(f"edges='as-stored' is defined for europe only (its file stores each "
                         f"edge once, and PyG keeps it directed); the {key} files store both "
                         "directions of every edge: use edges='undirected'")
    if edges == "as-stored" and (variant not in ("SB", "MB", "SR", "MR")
                                 or scale_from != "structure"):
        raise ValueError(f"edges='as-stored' runs the paper's SB, MB, SR and MR at the "
                         f"structure-only tau*, not {variant} with scale_from={scale_from!r}: "
                         "use edges='undirected'")
    data = ds.load(key, data_dir=data_dir, largest_component=True, split=split,
                   download=download, progress=progress)
    renormalised = []
    if edges == "as-stored":
        data = data._replace(graph=_stored_edges_graph(data, data_dir=data_dir,
                                                       download=download, progress=progress))
    if variant in learned_scale.LEARNED_VARIANTS:
        if tau is None:
            tau = characteristic_tau(data.adjacency, scale_variant, laplacian="normalised")
        return data, (data.graph,), tau
    if variant in ("SR", "MR") and edges == "as-stored":
        rewired, tau = _renormalised_directed(data.graph, tau, scale_variant)
        import scipy.sparse as sp

        renormalised = [ds.graphs_tuple(sp.csr_array(rewired.astype(np.float32)))]
    elif variant in ("SR", "MR"):
        if scale_from not in SCALE_SOURCES:
            raise ValueError(f"scale_from must be one of {SCALE_SOURCES}, got {scale_from!r}")
        rewired, tau = _renormalised_adjacency(
            data.adjacency, tau, scale_variant,
            features=data.features if scale_from == "features" else None)
        import scipy.sparse as sp

        renormalised = [ds.graphs_tuple(sp.csr_array(rewired.astype(np.float32)))]
    else:
        tau = None
    return data, multiscale.variant_graphs(variant, data.graph, renormalised), tau


@_io.locks_folder("out")
def run(dataset: str, *, encoder: str = "gcn", variant: str = "SB", seeds=10,
        out="results/node_classification", data_dir=None, epochs: int = 1000,
        budgets: Sequence[int] | None = None, hidden: int | None | str = "auto",
        learning_rate: float = 1e-4, tau: float | None = None, scale_variant: str = "exact",
        init: str = "flax", split: str | None = None, seed_batch: int | None | str = "auto",
        save_every: int | None = None, scale_from: str = "structure", edges: str = "undirected",
        tau_rate: float = 1.0, propagation: str = "subgraph", operator: str = "auto",
        download: bool = False, progress: bool = True) -> list[dict]:
    """Train a variant for every unfinished seed (vmapped) and append the results.

    Args:
        dataset: a dataset name (see :func:`jaxrg.datasets.load`).
        encoder: ``"gcn"`` or ``"gat"``.
        variant: ``"SB"``, ``"MB"``, ``"SR"`` or ``"MR"``.
        seeds: a count n (seeds 0..n−1) or a list of seeds.
        out: results folder (``results.jsonl`` is appended there).
        data_dir: data folder (default ``$JAXRG_DATA``, else ``~/.cache/jaxrg``).
        epochs: training epochs T (the largest budget).
        budgets: epoch budgets to record (default: the authors' budgets up to ``epochs``, plus
            ``epochs``).
        hidden: encoder width; ``"auto"`` = the authors' (:func:`default_hidden`),
            ``"reduced"`` = their ``--dim_reduction`` width (:data:`GCN_REDUCED_HIDDEN` for
            GCN), None = no input projection.
        learning_rate: Adam step size.
        tau: scale of the renormalised graph (SR/MR); None = τ* (first peak of C).
        scale_variant: how τ* is found, one of :data:`SCALE_VARIANTS` (``"authors"``: the
            authors' pipeline, :func:`jaxrg.scales.authors_pipeline_scales`).
        init: ``"flax"`` or ``"torch"`` initialisation of the linear layers (the authors'
            PyTorch code gets ``"torch"``).
        split: ``"public"`` (Planetoid), ``"random"`` or ``"ordered"`` (the authors'
            Amazon/Europe split); default :func:`default_split`.
        seed_batch: seeds vmapped together (None: all; see
            :func:`jaxrg.studies.node_classification.train.train_node_classifier`);
            ``"auto"`` (default): 1 on a CPU,
            where looping over seeds inside the program is faster than one vmap, all on an
            accelerator.
        save_every: train the unfinished seeds in blocks of this many and append each block's
            records as soon as it finishes, so a kill loses at most one block (long runs on a
            CPU); None (default): one block of all seeds. The blocks share one compiled
            program; each seed's numbers do not depend on the blocking.
        scale_from: ``"structure"`` (τ* of C) or ``"features"`` (τ*_X of the feature-aware
            C_X, :func:`characteristic_tau`), for SR/MR when ``tau`` is None.
        edges: ``"undirected"`` (default) or ``"as-stored"`` (Europe: each edge once and
            directed as its file stores it, the authors' PyG graph; see :func:`prepare`).
        tau_rate: SL/ML only: Adam's step on τ's logit relative to the weights' (see
            :class:`~jaxrg.studies.node_classification.learned_scale.HeatEncoder`); recorded
            (and part of the key) when it is not 1.
        propagation: ``"subgraph"`` (the authors' protocol, default: while training, the
            encoders see only the subgraph induced by the training nodes — on Cora's public
            split 122 nodes and 15 edges, 97 of the nodes isolated) or ``"full"`` (transductive:
            every graph whole, as Kipf & Welling; the loss still reads the training nodes only).
            Recorded with every line and part of the key.
        operator: how the GCN encoders of SB/MB/SR/MR propagate over each graph, one of
            :data:`~jaxrg.studies.node_classification.train.OPERATORS`: ``"auto"`` (default:
            a dense matrix where the graph is dense enough for it to be faster, as the rewired
            Amazon graphs and Europe's 399-node graph; the edge list elsewhere, as the citation
            and Amazon graphs), ``"edges"``
            or ``"dense"``. The same numbers up to float rounding; the choice per graph is
            recorded (``operators``), not part of the key. GAT encoders and the heat-kernel
            variants always use the edge list (``"dense"`` is an error there).
        download: fetch missing data files.
        progress: tqdm progress bars.

    Returns:
        The records written by this call (empty when every seed was already finished).

    Raises:
        ValueError: bad names, or SR/MR while ``jaxrg.lrg.rewire`` is unavailable.
    """
    import jax

    from jaxrg.studies.node_classification import gnn, learned_scale, multiscale
    from jaxrg.studies.node_classification.train import (
        OPERATORS,
        PROPAGATIONS,
        accuracy_at_budgets,
        check_label_range,
        fit,
        make_trainer,
        prepare_inputs,
    )

    if encoder not in gnn.CONVS:
        raise ValueError(f"encoder must be one of {gnn.CONVS}, got {encoder!r}")
    variant = variant.upper()
    variants = multiscale.VARIANTS + learned_scale.LEARNED_VARIANTS
    if variant not in variants:
        raise ValueError(f"variant must be one of {variants}, got {variant!r}")
    if variant in ("SD", "SL") and encoder != "gcn":
        raise ValueError(f"{variant} is the heat encoder alone and reads no graph encoder, so "
                         f"encoder={encoder!r} would train the same model as 'gcn' under another "
                         f"label; run {variant} once with encoder='gcn' (the encoder applies to "
                         f"MD/ML, which put it beside the heat encoder)")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if operator not in OPERATORS:
        raise ValueError(f"operator must be one of {OPERATORS}, got {operator!r}")
    gcn_only = encoder == "gcn" and variant in multiscale.VARIANTS
    if operator == "dense" and not gcn_only:
        raise ValueError(f"operator='dense' is for the GCN encoders of SB/MB/SR/MR; "
                         f"{encoder.upper()}_{variant} needs the edge list (use 'auto' or "
                         "'edges')")
    if not gcn_only:
        operator = "edges"
    if scale_variant not in SCALE_VARIANTS:
        raise ValueError(f"scale_variant must be one of {SCALE_VARIANTS}, got {scale_variant!r}")
    if isinstance(hidden, str) and hidden not in ("auto", "reduced"):
        raise ValueError(f"hidden must be a positive int, None, 'auto' or 'reduced', got "
                         f"{hidden!r}")
    if hidden is not None and not isinstance(hidden, str):
        _checks.check_int(hidden, "hidden", minimum=1)
    split = split or default_split(dataset)
    if save_every is not None:
        _checks.check_int(save_every, "save_every", minimum=1)
    if seed_batch == "auto":
        seed_batch = 1 if jax.default_backend() == "cpu" else None
    if scale_from not in SCALE_SOURCES:
        raise ValueError(f"scale_from must be one of {SCALE_SOURCES}, got {scale_from!r}")
    if propagation not in PROPAGATIONS:
        raise ValueError(f"propagation must be one of {PROPAGATIONS}, got {propagation!r}")
    if not (isinstance(tau_rate, (int, float)) and 0 < tau_rate < float("inf")):
        raise ValueError(f"tau_rate must be a positive finite number, got {tau_rate!r}")
    if tau_rate != 1.0 and variant not in ("SL", "ML"):
        raise ValueError(f"tau_rate applies to the variants that learn tau (SL, ML), not "
                         f"{variant}; leave it at 1")
    from_features = scale_from == "features" and tau is None and variant in ("SR", "MR")
    data, graphs, tau = prepare(dataset, variant=variant, data_dir=data_dir, tau=tau,
                                scale_from=scale_from, edges=edges,
                                scale_variant=scale_variant, split=split, download=download,
                                progress=progress)
    if hidden in ("auto", "reduced"):
        hidden = default_hidden(data.name, encoder, reduced=hidden == "reduced")
    budgets = sorted({b for b in (budgets or EPOCH_BUDGETS) if b <= epochs} | {epochs})
    path = pathlib.Path(out) / "results.jsonl"
    done = _io.finished_keys(read_results(path), KEY_FIELDS)
    base = {"dataset": data.name, "encoder": encoder, "variant": variant, "tau": tau,
            "hidden": hidden, "learning_rate": learning_rate, "init": init, "split": split,
            "propagation": propagation}
    if from_features:
        base["scale_source"] = "features"
    if edges != "undirected":
        base["edges"] = edges
    if tau_rate != 1.0:
        base["tau_rate"] = float(tau_rate)

    def key_of(record: dict) -> tuple:
        return tuple(with_defaults(record)[f] for f in KEY_FIELDS)

    todo = [s for s in _seed_list(seeds)
            if any(key_of({**base, "seed": s, "epochs": b}) not in done for b in budgets)]
    if not todo:
        return []

    learned = variant in learned_scale.LEARNED_VARIANTS
    tau_max = None if tau is None else max(20.0, 4.0 * tau)

    def model_fn(rngs):
        if learned:
            return learned_scale.LearnedScaleClassifier(
                data.features.shape[1], data.num_classes, variant=variant, tau0=tau,
                tau_max=tau_max, hidden=hidden, conv=encoder, tau_rate=tau_rate, init=init,
                rngs=rngs)
        return multiscale.MultiscaleClassifier(data.features.shape[1], data.num_classes,
                                        num_graphs=len(graphs), hidden=hidden, conv=encoder,
                                        init=init, rngs=rngs)

    env = _environment()
    trainer = make_trainer(model_fn, epochs=epochs, learning_rate=learning_rate,
                           seed_batch=seed_batch, record_correct=True)
    block = len(todo) if save_every is None else save_every
    records, inputs = [], {}
    for first in range(0, len(todo), block):
        seeds_now = todo[first:first + block]
        if len(seeds_now) not in inputs:  # the masks are shared: one set of inputs per size
            inputs[len(seeds_now)] = prepare_inputs(
                data.features, data.labels, graphs, data.train_mask, data.val_mask,
                data.test_mask, num_seeds=len(seeds_now), propagation=propagation,
                operator=operator)
            check_label_range(model_fn, inputs[len(seeds_now)])
        keys = jax.numpy.stack([jax.random.key(s) for s in seeds_now])
        result = fit(trainer, keys, inputs[len(seeds_now)], progress=progress,
                     desc=f"{data.name} {encoder.upper()}_{variant} seeds "
                          f"{first + 1}-{first + len(seeds_now)} of {len(todo)}")
        test = accuracy_at_budgets(result.val_acc, result.test_acc, budgets)
        trained_tau = (learned_scale.trained_tau(result.params, tau_max, tau_rate) if learned
                       else None)
        new = []
        for i, seed in enumerate(seeds_now):
            for j, budget in enumerate(budgets):
                best = int(np.argmax(result.val_acc[i, :budget]))
                correct = np.unpackbits(result.correct_bits[i, best], count=data.num_nodes)
                new.append({
                    **base, "seed": seed, "epochs": budget, "max_epochs": epochs,
                    "val_acc": float(result.val_acc[i, best]), "test_acc": float(test[i, j]),
                    "best_epoch": best + 1, "wall_time_s": result.wall_time_s,
                    "seeds_in_batch": len(seeds_now), "num_nodes": data.num_nodes,
                    "operators": list(inputs[len(seeds_now)].operators),
                    "num_params": _num_params(result.params),
                    "scale_variant": scale_variant if tau is not None else None,
                    "test_correct": encode_correct(correct[np.asarray(data.test_mask)]),
                    **env})
                if learned:  # heat-encoder units; τ of the best checkpoint of the whole run
                    new[-1]["laplacian"] = "normalised"
                    if budget == epochs:
                        new[-1]["learned_tau"] = float(trained_tau[i])
        for record in new:
            if key_of(record) not in done:
                _io.append_jsonl(path, record)
        records.extend(new)
    return records


def encode_correct(correct) -> str:
    """Per-node 0/1 correctness (test nodes in node order) as a compact base64 string.

    Args:
        correct: bool ``(n,)``.

    Returns:
        base64 text of ``numpy.packbits(correct)`` (zero-padded to whole bytes).
    """
    import base64

    return base64.b64encode(np.packbits(np.asarray(correct, dtype=bool)).tobytes()).decode()


def decode_correct(text: str, count: int) -> np.ndarray:
    """Inverse of :func:`encode_correct`.

    Args:
        text: base64 text from :func:`encode_correct`.
        count: number of nodes to unpack.

    Returns:
        bool ``(count,)``.
    """
    import base64

    bits = np.frombuffer(base64.b64decode(text), dtype=np.uint8)
    return np.unpackbits(bits, count=count).astype(bool)


def _num_params(stacked_params) -> int:
    import jax

    return int(sum(np.prod(leaf.shape[1:]) for leaf in jax.tree.leaves(stacked_params)))


@_io.locks_folder("out")
def run_kipf(dataset: str = "cora", *, seeds=10, out="results/node_classification",
             data_dir=None, epochs: int = 200, early_stopping: int = 10,
             download: bool = False, progress: bool = True) -> list[dict]:
    """Kipf & Welling's GCN on the public split: the sanity baseline (published Cora 81.5 %).

    2 layers, hidden 16, dropout 0.5, weight decay 5e-4 on the first layer, Adam lr 0.01,
    ``epochs`` epochs with their early stopping (window 10 on the validation loss), row-normalised
    features, full-graph propagation (all nodes, no component reduction); the reported test
    accuracy is that of the final model, as in their code. Appends to ``<out>/kipf_gcn.jsonl``
    (resumable per seed).
    """
    import jax

    import jaxrg.datasets as ds
    from jaxrg.studies.node_classification import gnn
    from jaxrg.studies.node_classification.train import train_node_classifier

    data = ds.load(dataset, data_dir=data_dir, download=download, progress=progress)
    path = pathlib.Path(out) / "kipf_gcn.jsonl"
    fields = ("dataset", "seed", "epochs", "early_stopping")
    done = _io.finished_keys(_io.read_jsonl(path), fields)
    todo = [s for s in _seed_list(seeds)
            if (data.name, s, epochs, early_stopping) not in done]
    if not todo:
        return []
    rowsum = data.features.sum(axis=1, keepdims=True)
    features = data.features / np.where(rowsum > 0, rowsum, 1.0).astype(np.float32)
    result = train_node_classifier(
        lambda rngs: gnn.KipfGCN(features.shape[1], data.num_classes, rngs=rngs), features,
        data.labels, [data.graph], data.train_mask, data.val_mask, data.test_mask,
        keys=jax.numpy.stack([jax.random.key(s) for s in todo]), epochs=epochs,
        learning_rate=0.01, weight_decay=5e-4, propagation="full",
        early_stopping=early_stopping, progress=progress, desc=f"{data.name} Kipf GCN")
    env = _environment()
    records = []
    for i, seed in enumerate(todo):
        record = {"dataset": data.name, "seed": seed, "epochs": epochs,
                  "early_stopping": early_stopping, "stop_epoch": int(result.stop_epoch[i]) + 1,
                  "test_acc": float(result.last_test_acc[i]),
                  "best_val_test_acc": float(result.best_test_acc[i]),
                  "wall_time_s": result.wall_time_s, "seeds_in_batch": len(todo), **env}
        _io.append_jsonl(path, record)
        records.append(record)
    return records
