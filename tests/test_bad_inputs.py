"""The bad-input catalogue (docs/bad_inputs.md): one case per row, each a clear error.

Every case asserts the exception type and, with ``match=``, that the message names the argument
and says how to fix it. Cases whose value check also runs inside ``jit`` are run again through
the documented checked path (``jaxrg.checked(jax.jit(f))``, i.e. ``checkify``); shape and dtype
errors are raised at trace time, so plain ``jax.jit`` raises them too. The table in
docs/bad_inputs.md and the case ids below are kept in step by
``test_catalogue_table_lists_every_case``.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.experimental.sparse
import jax.numpy as jnp
import jraph
import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.stats

import jaxrg
import jaxrg.batch
import jaxrg.clt
import jaxrg.cumulants
import jaxrg.knn
import jaxrg.sparse
from jaxrg import _checks, info

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "bad_inputs.md"

PATH3 = jnp.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
EDGE = jnp.array([[0.0, 1.0], [1.0, 0.0]])
ASYMMETRIC = jnp.array([[0.0, 1.0], [0.5, 0.0]])
NEGATIVE = jnp.array([[0.0, -1.0], [-1.0, 0.0]])
NAN_ADJ = jnp.array([[0.0, jnp.nan], [jnp.nan, 0.0]])
INF_ADJ = jnp.array([[0.0, jnp.inf], [jnp.inf, 0.0]])
SPECTRUM = jnp.array([0.0, 2.0])
LOGITS = jnp.array([0.0, 1.0, 2.0])
_RING5 = np.roll(np.eye(5), 1, axis=1) + np.roll(np.eye(5), -1, axis=1)


def _unchecked(fn):
    """``fn`` without the jaxtyping runtime checker that tests/conftest.py installs."""
    return getattr(fn, "__wrapped__", fn)


class Case(NamedTuple):
    """One catalogue row: ``fn(*args)`` raises ``error`` matching ``match``.

    ``jit``: ``"checked"`` (value check: ``jaxrg.checked(jax.jit(fn))`` raises ValueError with
    the same message), ``"trace"`` (shape/dtype: plain ``jax.jit(fn)`` raises at trace time) or
    ``None`` (host-side input: files, Python containers, ragged lists).
    """

    fn: Callable
    args: tuple
    error: type[Exception]
    match: str
    jit: str | None


def _pad_small():
    return jaxrg.pad_adjacency([PATH3, jnp.ones((4, 4)) - jnp.eye(4)], num_nodes=3)


def _edge_list(senders, receivers):
    return jaxrg.from_edge_list(senders, receivers, num_nodes=3)


def _renyi(logits, alpha):
    return info.renyi_entropy(logits, alpha)


def _heat(laplacian, taus):
    return jaxrg.heat_kernel(laplacian, taus)


CASES: dict[str, Case] = {
    # ---- graphs: shape, rank, dtype (trace time) -------------------------------------------
    "non_square": Case(
        jaxrg.laplacian_spectrum,
        (jnp.ones((2, 3)),),
        ValueError,
        r"^adjacency must be square \(N, N\).*jaxrg\.as_adjacency builds it",
        "trace",
    ),
    "wrong_rank_batch": Case(
        jaxrg.laplacian_spectrum,
        (jnp.ones((2, 3, 3)),),
        ValueError,
        r"^adjacency must be a 2-D \(N, N\) array.*jax\.vmap over the leading axis",
        "trace",
    ),
    "wrong_rank_vector": Case(
        jaxrg.laplacian_spectrum,
        (jnp.ones(3),),
        ValueError,
        r"^adjacency must be a 2-D \(N, N\) array.*Pass one square matrix",
        "trace",
    ),
    "empty_graph": Case(
        jaxrg.laplacian_spectrum,
        (jnp.zeros((0, 0)),),
        ValueError,
        r"^adjacency is empty \(0 nodes\).*skip empty graphs",
        "trace",
    ),
    "mask_wrong_shape": Case(
        jaxrg.laplacian_spectrum,
        (EDGE, jnp.array([True, True, False])),
        ValueError,
        r"^mask must have shape \(2,\).*jaxrg\.pad_adjacency",
        "trace",
    ),
    "mask_wrong_dtype": Case(
        jaxrg.laplacian_spectrum,
        (EDGE, jnp.array([1, 1])),
        TypeError,
        r"^mask must be a boolean array.*mask\.astype\(bool\)",
        "trace",
    ),
    "complex_dtype": Case(
        jaxrg.laplacian_spectrum,
        (jnp.array([[0, 1j], [1j, 0]]),),
        TypeError,
        r"^adjacency must be real.*Pass its real part",
        "trace",
    ),
    "non_numeric_dtype": Case(
        jaxrg.laplacian_spectrum,
        (np.array([["0", "1"], ["1", "0"]]),),
        TypeError,
        r"^adjacency must be a numeric array.*np\.asarray\(adjacency, dtype=float\)",
        None,
    ),
    "float_node_ids": Case(
        _edge_list,
        (jnp.array([0.0, 1.0]), jnp.array([1.0, 2.0])),
        TypeError,
        r"^senders must be integer node ids.*senders\.astype\(int\)",
        "trace",
    ),
    "ragged_nested_list": Case(
        jaxrg.laplacian_spectrum,
        ([[0.0, 1.0], [1.0]],),
        ValueError,
        r"^adjacency is ragged.*jaxrg\.pad_adjacency",
        None,
    ),
    "ragged_batch_too_small": Case(
        _pad_small,
        (),
        ValueError,
        r"^num_nodes=3 is smaller than the largest graph \(4 nodes\); pass num_nodes >= 4",
        None,
    ),
    # ---- graphs: values (concrete: eager; traced: checkify via jaxrg.checked) ----------------
    "asymmetric": Case(
        jaxrg.laplacian_spectrum,
        (ASYMMETRIC,),
        ValueError,
        r"^adjacency is not symmetric.*symmetrise with \(A \+ A\.T\) / 2",
        "checked",
    ),
    "negative_weights": Case(
        jaxrg.laplacian_spectrum,
        (NEGATIVE,),
        ValueError,
        r"^adjacency has negative weights.*drop those edges or take jnp\.abs\(A\)",
        "checked",
    ),
    "nan_entries": Case(
        jaxrg.laplacian_spectrum,
        (NAN_ADJ,),
        ValueError,
        r"^adjacency has NaN or inf entries; replace them \(e\.g\. jnp\.nan_to_num\)",
        "checked",
    ),
    "inf_entries": Case(
        jaxrg.laplacian_spectrum,
        (INF_ADJ,),
        ValueError,
        r"^adjacency has NaN or inf entries; replace them \(e\.g\. jnp\.nan_to_num\)",
        "checked",
    ),
    "node_ids_out_of_range": Case(
        _edge_list,
        (jnp.array([0, 5]), jnp.array([1, 2])),
        ValueError,
        r"^node ids must lie in \[0, num_nodes=3\).*Relabel the nodes to 0\.\.N-1",
        "checked",
    ),
    "laplacian_not_psd": Case(
        _heat,
        (PATH3, 1.0),
        ValueError,
        r"^laplacian is not positive semi-definite.*jaxrg\.laplacian\(adjacency\), not the "
        "adjacency",
        "checked",
    ),
    "laplacian_asymmetric": Case(
        _heat,
        (jnp.array([[1.0, -1.0], [0.0, 0.0]]), 1.0),
        ValueError,
        r"^laplacian is not symmetric.*jaxrg\.laplacian of a symmetric adjacency",
        "checked",
    ),
    "laplacian_nan": Case(
        jaxrg.density_matrix,
        (jnp.array([[1.0, jnp.nan], [jnp.nan, 1.0]]), 1.0),
        ValueError,
        r"^laplacian has NaN or inf entries; build it with jaxrg\.laplacian",
        "checked",
    ),
    # ---- graph containers and sparse formats (host side) ------------------------------------
    "unsupported_container": Case(
        jaxrg.laplacian_spectrum,
        ({"indptr": [0, 1]},),
        TypeError,
        r"^unsupported graph type dict; pass a dense \(N, N\) array",
        None,
    ),
    "directed_graph": Case(
        jaxrg.laplacian_spectrum,
        (nx.DiGraph([(0, 1)]),),
        TypeError,
        r"^graph is a directed networkx graph.*G\.to_undirected\(\)",
        None,
    ),
    "batched_graphs_tuple": Case(
        jaxrg.as_adjacency,
        (
            jraph.GraphsTuple(
                nodes=None,
                edges=None,
                globals=None,
                senders=np.array([0, 2]),
                receivers=np.array([1, 3]),
                n_node=np.array([2, 2]),
                n_edge=np.array([1, 1]),
            ),
        ),
        ValueError,
        r"^the GraphsTuple holds 2 graphs; convert one at a time \(jraph\.unbatch\)",
        None,
    ),
    "unsupported_sparse_format": Case(
        jaxrg.sparse.as_sparse_graph,
        (jax.experimental.sparse.BCOO.fromdense(EDGE),),
        TypeError,
        r"^unsupported graph type BCOO.*scipy\.sparse\.coo_array\(\(m\.data, m\.indices\.T\)",
        None,
    ),
    "sparse_asymmetric": Case(
        jaxrg.sparse.as_sparse_graph,
        (sp.csr_array(np.array([[0.0, 1.0], [0.0, 0.0]])),),
        ValueError,
        r"^adjacency is not symmetric.*\(A \+ A\.T\) / 2",
        None,
    ),
    # ---- diffusion times and spectra ------------------------------------------------------
    "tau_zero": Case(
        jaxrg.spectral_entropy,
        (SPECTRUM, 0.0),
        ValueError,
        r"^taus must be > 0 \(diffusion time\).*jnp\.logspace",
        "checked",
    ),
    "tau_negative": Case(
        _heat,
        (jaxrg.laplacian(EDGE), jnp.array([1.0, -2.0])),
        ValueError,
        r"^taus must be > 0 \(diffusion time\).*jnp\.logspace",
        "checked",
    ),
    "tau_nan": Case(
        jaxrg.specific_heat,
        (SPECTRUM, jnp.nan),
        ValueError,
        r"^taus must be finite; got NaN or inf\. Use e\.g\. jnp\.logspace",
        "checked",
    ),
    "tau_inf": Case(
        jaxrg.spectral_entropy,
        (SPECTRUM, jnp.inf),
        ValueError,
        r"^taus must be finite; got NaN or inf\. Use e\.g\. jnp\.logspace",
        "checked",
    ),
    "eigenvalues_nan": Case(
        jaxrg.spectral_entropy,
        (jnp.array([0.0, jnp.nan]), 1.0),
        ValueError,
        r"^eigenvalues contain NaN; compute them with jaxrg\.laplacian_spectrum",
        "checked",
    ),
    "eigenvalues_batch": Case(
        jaxrg.spectral_entropy,
        (jnp.zeros((2, 3)), 1.0),
        ValueError,
        r"^eigenvalues must be a non-empty 1-D array.*jax\.vmap over the leading axis",
        "trace",
    ),
    # ---- distributions: logits, probabilities, Rényi orders ---------------------------------
    "alpha_negative": Case(
        _renyi,
        (LOGITS, -0.5),
        ValueError,
        r"^alpha must be >= 0.*use 0 for the Hartley entropy.*jnp\.inf for the min-entropy",
        "checked",
    ),
    "alpha_nan": Case(
        _renyi,
        (LOGITS, jnp.nan),
        ValueError,
        r"^alpha contains NaN; orders must be numbers in \[0, inf\]",
        "checked",
    ),
    "logits_nan": Case(
        info.shannon_entropy,
        (jnp.array([0.0, jnp.nan]),),
        ValueError,
        r"^logits contain NaN; check the model output \(e\.g\. jnp\.nan_to_num\)",
        "checked",
    ),
    "logits_posinf": Case(
        info.shannon_entropy,
        (jnp.array([0.0, jnp.inf]),),
        ValueError,
        r"^logits contain \+inf; clip them \(e\.g\. jnp\.clip\(logits, max=1e30\)\)",
        "checked",
    ),
    "logits_empty_row": Case(
        info.shannon_entropy,
        (jnp.array([-jnp.inf, -jnp.inf]),),
        ValueError,
        r"^logits have a row where every entry is -inf.*at least one finite logit",
        None,
    ),
    "probs_not_normalised": Case(
        info.shannon_entropy_from_probs,
        (jnp.array([0.5, 0.6]),),
        ValueError,
        r"^probs must sum to 1 along axis -1.*Normalise with probs / probs\.sum",
        "checked",
    ),
    "probs_negative": Case(
        info.shannon_entropy_from_probs,
        (jnp.array([1.2, -0.2]),),
        ValueError,
        r"^probs contain negative entries.*clip them at 0 and renormalise",
        "checked",
    ),
    "probs_nan": Case(
        info.shannon_entropy_from_probs,
        (jnp.array([0.5, jnp.nan]),),
        ValueError,
        r"^probs contain NaN or inf; probabilities must be finite",
        "checked",
    ),
}


# ---- values out of range (issue 17): tolerances at the data's scale, overflow, options --------


def _scales_with(**options):
    def fn(eigenvalues):
        return jaxrg.characteristic_scales(eigenvalues, **options)

    return fn


def _meta_graph_rtol(rtol):
    return jaxrg.lrg.meta_graph(PATH3, 1.0, rtol=rtol)


def _kl_loss(logits, targets, temperature):
    from jaxrg.maxent import kl_loss

    return kl_loss(logits, targets, temperature=temperature)


def _rewarded_accuracy(logits, labels):
    from jaxrg.maxent import rewarded_accuracy

    return rewarded_accuracy(logits, labels, jnp.array([True, False]))


def _clt_step(density):
    from jaxrg.clt import clt_rg_step

    return clt_rg_step(density, jnp.linspace(-4.0, 4.0, 64))


def _batch_curves(adjacency, taus):
    import jaxrg.batch

    # built by hand: pad_adjacency would refuse a bad graph before batch_curves sees it
    batch = jaxrg.PaddedBatch(jnp.stack([adjacency, PATH3]), jnp.ones((2, 3), bool))
    return jaxrg.batch.batch_curves(batch, taus)


def _maxent_config(options):
    from jaxrg.studies.maxent.experiment import MaxEntConfig

    return MaxEntConfig(**options).resolved()


def _lanczos_int_key():
    import jaxrg.sparse

    return jaxrg.sparse.lanczos_quadrature(nx.path_graph(6), key=0)


def _scales_num_taus(num_taus):
    return jaxrg.characteristic_scales(jnp.array([0.0, 1.0, 3.0]), num_taus=num_taus)


def _as_adjacency_num_nodes(num_nodes):
    return jaxrg.as_adjacency(np.asarray(PATH3), num_nodes=num_nodes)


def _as_adjacency_int():
    return jaxrg.as_adjacency(np.asarray(PATH3) * 0.5, dtype=jnp.int32)


def _complex_weight_graph():
    graph = nx.Graph()
    graph.add_edge(0, 1, weight=1 + 1j)
    return graph


def _batch_without_nodes():
    empty = jaxrg.PaddedBatch(jnp.zeros((1, 3, 3)), jnp.zeros((1, 3), bool))
    return jaxrg.batch.batch_curves(empty, jnp.array([1.0]))


def _matvec_wrong_length():
    graph = jaxrg.sparse.as_sparse_graph(sp.csr_array(np.asarray(PATH3)))
    return jaxrg.sparse.laplacian_matvec(graph, jnp.ones(2))


def _clt_flow_steps(steps):
    x = jnp.linspace(-4.0, 4.0, 64)
    return jaxrg.clt.clt_flow(jnp.exp(-(x**2) / 2), x, steps=steps)


def _pad_int():
    return jaxrg.pad_adjacency([PATH3], dtype=np.int32)


def _sparse_graph(matrix, num_nodes=None):
    return jaxrg.sparse.as_sparse_graph(matrix, num_nodes=num_nodes)


def _one_way(adjacency):
    """``adjacency`` with one extra one-way edge of weight 1e-9 (far below any tolerance)."""
    adjacency = np.array(adjacency, float)
    adjacency[0, 2] = 1e-9
    return adjacency


def _chebyshev_huge_tau():
    return jaxrg.lrg.meta_graph_edges(nx.path_graph(6), 1e14, method="chebyshev")


ONE_WAY_F32 = jnp.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1e-6], [0.0, 0.0, 0.0]], jnp.float32)
HUGE = jnp.full((3, 3), 1e308) - jnp.diag(jnp.full(3, 1e308))
DENSITY = jnp.exp(-jnp.linspace(-4.0, 4.0, 64) ** 2 / 2)

CASES.update(
    {
        "one_way_edge": Case(
            jaxrg.laplacian_spectrum,
            (ONE_WAY_F32,),
            ValueError,
            r"^adjacency is not symmetric: it has a one-way edge \(A\[i, j\] = 1e-06 but "
            r"A\[j, i\] = 0\).*symmetrise with jnp\.maximum\(A, A\.T\)",
            "checked",
        ),
        "weights_overflow": Case(
            jaxrg.laplacian_spectrum,
            (HUGE,),
            ValueError,
            r"^adjacency weights are too large: a node's degree overflows float64.*rescale",
            "checked",
        ),
        "eigenvalues_negative": Case(
            jaxrg.spectral_entropy,
            (jnp.array([-1.0, 0.0, 1.0]), 1.0),
            ValueError,
            r"^eigenvalues must be >= 0 \(a Laplacian spectrum\); got min -1\. Compute them",
            "checked",
        ),
        "eigenvalues_minus_inf": Case(
            jaxrg.specific_heat,
            (jnp.array([-jnp.inf, 0.0, 1.0]), 1.0),
            ValueError,
            r"^eigenvalues must be >= 0 \(a Laplacian spectrum\); got min -inf",
            "checked",
        ),
        "tau_overflows_float32": Case(
            jaxrg.entropy_curves,
            (jnp.array([0.0, 2.0], jnp.float32), jnp.array([1.0, 1e39])),
            ValueError,
            r"^taus overflow float32 \(largest 1e\+39 > 3\.4e\+38\).*compute in float64",
            "checked",
        ),
        "meta_graph_rtol_nan": Case(
            _meta_graph_rtol,
            (float("nan"),),
            ValueError,
            r"^rtol must be a finite number >= 0.*got nan\. Leave it None for default_rtol",
            None,
        ),
        "meta_graph_rtol_negative": Case(
            _meta_graph_rtol,
            (-1e-3,),
            ValueError,
            r"^rtol must be a finite number >= 0.*got -0\.001",
            None,
        ),
        "zeta_float": Case(
            jaxrg.lrg.macro_nodes,
            (jnp.full((3, 3), 0.5),),
            TypeError,
            r"^zeta must be a boolean \(N, N\) relation.*got dtype float64\. Threshold it",
            "trace",
        ),
        "num_taus_too_small": Case(
            _scales_with(num_taus=2),
            (SPECTRUM,),
            ValueError,
            r"^num_taus must be an int >= 3 \(a peak needs a grid point on each side\); got 2",
            "trace",
        ),
        "min_prominence_nan": Case(
            _scales_with(min_prominence=float("nan")),
            (SPECTRUM,),
            ValueError,
            r"^min_prominence must be a number in \[0, 1\].*got nan",
            "trace",
        ),
        "max_peaks_zero": Case(
            _scales_with(max_peaks=0),
            (SPECTRUM,),
            ValueError,
            r"^max_peaks must be an int >= 1 \(the size of the output\); got 0",
            "trace",
        ),
        "label_out_of_range": Case(
            _rewarded_accuracy,
            (jnp.zeros((2, 2)), jnp.array([0, 5])),
            ValueError,
            r"^labels must be class ids 0\.\.1 or -1 \(unlabelled\); got ids in \[0, 5\]",
            "checked",
        ),
        "temperature_inf": Case(
            _kl_loss,
            (jnp.zeros((1, 2)), jnp.array([[0.5, 0.5]]), jnp.inf),
            ValueError,
            r"^temperature must be a finite number > 0; got inf",
            "checked",
        ),
        "density_negative": Case(
            _clt_step,
            (DENSITY.at[3].set(-0.5),),
            ValueError,
            r"^density must be finite and >= 0 with a positive mass.*got min -0\.5",
            "checked",
        ),
        "density_zero_mass": Case(
            _clt_step,
            (jnp.zeros(64),),
            ValueError,
            r"^density must be finite and >= 0 with a positive mass.*sum 0\b",
            "checked",
        ),
        "batch_negative_weights": Case(
            _batch_curves,
            (-PATH3, jnp.array([1.0])),
            ValueError,
            r"^batch\.adjacency has negative weights \(min -1\)",
            None,
        ),
        "batch_tau_negative": Case(
            _batch_curves,
            (PATH3, jnp.array([1.0, -1.0])),
            ValueError,
            r"^taus must be > 0 \(diffusion time\); got min -1",
            None,
        ),
        "maxent_lr_zero": Case(
            _maxent_config,
            ({"learning_rate": 0.0},),
            ValueError,
            r"^learning_rate must be a finite number > 0 \(CLI --lr\), got 0\.0",
            None,
        ),
        "maxent_train_limit_negative": Case(
            _maxent_config,
            ({"train_limit": -5},),
            ValueError,
            r"^train_limit must be >= 1 \(CLI --train-limit\), got -5",
            None,
        ),
        "sparse_int_key": Case(
            _lanczos_int_key,
            (),
            TypeError,
            r"^key must be a JAX PRNG key; got 0\. Pass jax\.random\.key\(0\)",
            None,
        ),
        "chebyshev_huge_tau": Case(
            _chebyshev_huge_tau,
            (),
            ValueError,
            r"^tau=1e\+14 needs about \d+ Chebyshev terms.*use method='eigh' or 'auto'",
            None,
        ),
        "subnormal_weight": Case(
            jaxrg.laplacian_spectrum,
            (np.asarray(PATH3) * 5e-324,),
            ValueError,
            r"^adjacency holds subnormal values \(e\.g\. 4\.94e-324, below 2\.23e-308.*XLA "
            r"flushes them to zero\. Rescale adjacency",
            None,
        ),
        "subnormal_edge_weight": Case(
            jaxrg.from_edge_list,
            (np.array([0]), np.array([1]), np.array([5e-324])),
            ValueError,
            r"^weights holds subnormal values.*Rescale weights",
            None,
        ),
        "subnormal_tau": Case(
            jaxrg.entropy_curves,
            (np.array([0.0, 1.0, 3.0]), np.array([5e-324])),
            ValueError,
            r"^taus holds subnormal values.*Diffusion times must be normal numbers > 0",
            None,
        ),
        "subnormal_weight_batch": Case(
            jaxrg.pad_adjacency,
            ([np.asarray(PATH3) * 5e-324],),
            ValueError,
            r"^adjacency holds subnormal values",
            None,
        ),
        "subnormal_weight_sparse": Case(
            _sparse_graph,
            (sp.csr_array(np.asarray(PATH3) * 5e-324),),
            ValueError,
            r"^adjacency holds subnormal values",
            None,
        ),
        "sparse_num_nodes_mismatch": Case(
            _sparse_graph,
            (sp.csr_array(np.asarray(PATH3)), 2),
            ValueError,
            r"^num_nodes=2 does not match the adjacency, which has 3 nodes; num_nodes is for "
            r"edge lists only: drop it",
            None,
        ),
        "sparse_one_way_tiny_edge": Case(
            _sparse_graph,
            (sp.csr_array(_one_way(PATH3)),),
            ValueError,
            r"^adjacency is not symmetric: it has 1 one-way edge\(s\), e\.g\. A\[0, 2\] = 1e-09 "
            r"but A\[2, 0\] = 0.*A\.maximum\(A\.T\)",
            None,
        ),
        "num_nodes_float": Case(
            _checks.check_num_nodes,  # the public functions' annotations catch it first in tests
            (2.5,),
            TypeError,
            r"^num_nodes must be an integer >= 1 \(the number of nodes\); got 2\.5\.",
            None,
        ),
        "num_nodes_negative": Case(
            _sparse_graph,
            (([0], [1]), -1),
            ValueError,
            r"^num_nodes must be >= 1 \(the number of nodes\); got -1\. Leave it None",
            None,
        ),
        "pad_integer_dtype": Case(
            _pad_int,
            (),
            TypeError,
            r"^dtype must be a floating dtype \(adjacencies hold weights\); got int32",
            None,
        ),
        "edge_id_beyond_memory": Case(
            jaxrg.as_adjacency,
            ((np.array([0]), np.array([2**40])),),
            ValueError,
            r"^the edge list: 1099511627777 nodes need ~.* GiB as a dense matrix.*sparse route",
            None,
        ),
        "num_taus_beyond_memory": Case(
            _scales_num_taus,
            (10**6,),
            ValueError,
            r"^num_taus=1000000 needs ~.* GiB for the peak search \(O\(T\^2\)\); use at most 8192",
            None,
        ),
        "num_nodes_for_a_matrix": Case(
            _as_adjacency_num_nodes,
            (5,),
            ValueError,
            r"^num_nodes=5 does not match the adjacency, which has 3 nodes",
            None,
        ),
        "integer_dtype": Case(
            _as_adjacency_int,
            (),
            TypeError,
            r"^dtype must be a floating dtype",
            None,
        ),
        "networkx_complex_weight": Case(
            jaxrg.as_adjacency,
            (_complex_weight_graph(),),
            TypeError,
            r"^graph edge \(0, 1\) has weight \(1\+1j\); edge weights must be real numbers",
            None,
        ),
        "batch_repeated_edge": Case(
            jaxrg.pad_adjacency,
            ([(np.array([0, 0]), np.array([1, 1]))],),
            ValueError,
            r"^edge \(0, 1\) is listed 2 times",
            None,
        ),
        "batch_graph_without_nodes": Case(
            _batch_without_nodes,
            (),
            ValueError,
            r"^graph 0 of the batch has no real node \(its mask row is all False\)",
            None,
        ),
        "matvec_vector_shape": Case(
            _matvec_wrong_length,
            (),
            ValueError,
            r"^vector must have shape \(3,\), one entry per node of the graph; got \(2,\)",
            "trace",
        ),
        "cumulant_order_overflow": Case(
            jaxrg.cumulants.sample_cumulants,
            (jnp.asarray(np.random.default_rng(1).normal(size=200) * 2 + 1), 300),
            ValueError,
            r"^sample cumulants overflow float64 from order \d+ on.*ask for a lower order",
            None,  # order is static: under jaxrg.checked(jax.jit(partial(f, order=200))) too
        ),
        "roc_auc_non_binary_labels": Case(
            jaxrg.knn.roc_auc,
            (np.array([2, 2, 3, 3, 3]), np.array([0.1, 0.4, 0.35, 0.8, 0.4])),
            ValueError,
            r"^labels must be binary \(bool or 0/1\); got values \[2, 3\]",
            None,
        ),
        "metric_length_mismatch": Case(
            jaxrg.knn.macro_f1,
            (np.array([0, 1]), np.array([0, 1, 1])),
            ValueError,
            r"^labels and predictions must be 1-D with one entry per example; got shapes",
            None,
        ),
        "clt_float_steps": Case(
            _clt_flow_steps,
            (2.5,),
            ValueError,
            r"^steps must be an int >= 0 \(the number of RG steps\); got 2\.5",
            None,
        ),
        "family_order_zero": Case(
            jaxrg.clt.family_cumulants,
            ("gaussian", 0),
            ValueError,
            r"^order must be an int >= 1 \(the highest order\); got 0",
            None,
        ),
        "family_negative_shape": Case(
            jaxrg.clt.family_sample,
            ("gaussian", jax.random.key(0), (-1,)),
            ValueError,
            r"^shape must be a tuple of ints >= 0 \(the sample shape\); got \(-1,\)",
            None,
        ),
        # issue 17, probe 3: silent or unclear before
        "masked_array_masked_entries": Case(
            jaxrg.laplacian_spectrum,
            (np.ma.masked_array(np.asarray(PATH3) + 5 * np.eye(3)[::-1] * (1 - np.eye(3)),
                                mask=np.eye(3)[::-1] * (1 - np.eye(3)) > 0),),
            ValueError,
            r"^adjacency is a masked array with 2 masked entries.*adjacency\.filled\(0\)",
            None,
        ),
        "flag_not_a_bool": Case(
            # the user's path: this suite's jaxtyping checker would refuse the str first
            lambda: _unchecked(jaxrg.as_adjacency)(PATH3 + jnp.eye(3), remove_self_loops="no"),
            (),
            TypeError,
            r"^remove_self_loops must be True or False; got 'no'",
            None,
        ),
        "dtype_not_a_dtype": Case(
            lambda: jaxrg.as_adjacency(PATH3, dtype="banana"),
            (),
            TypeError,
            r"^dtype must be a floating dtype such as jnp\.float32 or 'float64'; got 'banana'",
            None,
        ),
        "uint64_2x2_huge_entries": Case(
            jaxrg.laplacian_spectrum,
            (np.array([[0, 2**63], [2**63, 0]], np.uint64),),
            ValueError,
            r"is ambiguous: an integer \(2, 2\) array may be an adjacency or two edges",
            None,
        ),
        "networkx_weight_none": Case(
            jaxrg.laplacian_spectrum,
            (nx.Graph([(0, 1, {"weight": None}), (1, 2)]),),
            TypeError,
            r"^graph edge \(0, 1\) has weight None; set G\[u\]\[v\]\['weight'\] to a number",
            None,
        ),
        "empty_edge_list_lists": Case(
            jaxrg.as_adjacency,
            (([], []),),
            ValueError,
            r"^the edge list is empty; pass num_nodes",
            None,
        ),
        "rewire_edges_several_taus": Case(
            lambda: __import__("jaxrg.lrg").lrg.rewire_edges(
                sp.csr_array(np.asarray(PATH3)), [0.5, 1.0]),
            (),
            ValueError,
            r"^tau must be one diffusion time \(a scalar\); got shape \(2,\)",
            None,
        ),
        "cumulant_value_overflow": Case(
            jaxrg.cumulants.sample_cumulants,
            (jnp.array([1.0, -1.0, 3.0, 0.5]) * 1e200, 4),
            ValueError,
            r"^sample cumulants overflow float64 from order 2 on.*order=1.*divide the data",
            None,  # order is static; tests/test_extremes.py runs it under jaxrg.checked
        ),
        # issue 17, probe 4: silent or unclear before
        "merge_quadratures_of_two_graphs": Case(
            lambda: jaxrg.sparse.merge_quadratures(
                [jaxrg.sparse.lanczos_quadrature(g, key=jax.random.key(0), num_probes=2,
                                                 num_matvecs=3, num_deflate=0)
                 for g in (sp.csr_array(np.asarray(PATH3)), sp.csr_array(_RING5))]),
            (),
            ValueError,
            r"^parts come from graphs of different sizes \(\[3, 5\] nodes\)",
            None,
        ),
        "graphs_tuple_node_rows": Case(
            lambda: jaxrg.to_graphs_tuple(PATH3, nodes=np.zeros((5, 2))),
            (),
            ValueError,
            r"^nodes must have one row per node, shape \(3, F\); got shape \(5, 2\)",
            None,
        ),
        "rg_flow_float_steps": Case(
            lambda: _unchecked(__import__("jaxrg.lrg").lrg.rg_flow)(PATH3, steps=1.5),
            (),
            TypeError,
            r"^steps must be an int >= 1 \(RG steps\); got 1\.5",
            None,
        ),
        "progress_flag_not_a_bool": Case(
            lambda: list(_unchecked(jaxrg.batch.stream_curves)(
                [np.asarray(PATH3)], jnp.array([1.0]), num_nodes=3, progress="no")),
            (),
            TypeError,
            r"^progress must be True or False; got 'no'",
            None,
        ),
        "max_peaks_beyond_any_grid": Case(
            lambda: jaxrg.characteristic_scales(SPECTRUM, max_peaks=10**8),
            (),
            ValueError,
            r"^max_peaks=100000000 exceeds the number of peaks any allowed grid can hold",
            None,
        ),
        "measure_shapes_differ": Case(
            lambda: jaxrg.thermo.measure_moments(jnp.array([0.0, 1.0, 3.0]), jnp.zeros(2), 1.0),
            (),
            ValueError,
            r"^nodes and log_weights must be 1-D of one length \(K,\).*\(3,\) and \(2,\)",
            None,
        ),
        "authors_sigma_inf": Case(
            lambda: jaxrg.scales.authors_pipeline_scales(SPECTRUM, sigma=float("inf")),
            (),
            ValueError,
            r"^sigma must be a finite number >= 0 \(grid steps; 0: no smoothing\), got inf",
            None,
        ),
        "extreme_eigenvalues_too_many": Case(
            lambda: jaxrg.sparse.extreme_eigenvalues(sp.csr_array(np.asarray(PATH3)),
                                                     key=jax.random.key(0), num_eigenvalues=5,
                                                     num_matvecs=8),
            (),
            ValueError,
            r"^num_eigenvalues=5 is too many for a graph of 3 nodes.*laplacian_spectrum",
            None,
        ),
        "default_rtol_negative_nodes": Case(
            lambda: __import__("jaxrg.lrg").lrg.default_rtol(-5, jnp.float64),
            (),
            ValueError,
            r"^num_nodes must be an int >= 1 \(the number of nodes\); got -5",
            None,
        ),
        "checked_inside_jit": Case(
            lambda: jax.jit(jaxrg.checked(jaxrg.spectral_entropy))(jnp.array([0.0, 1.0]), 1.0),
            (),
            TypeError,
            r"^jaxrg\.checked\(f\) was called inside jax\.jit.*jaxrg\.checked\(jax\.jit\(f\)\)",
            None,
        ),
        "batch_one_way_tiny_edge": Case(
            jaxrg.pad_adjacency,
            ([_one_way(PATH3)],),
            ValueError,
            r"^graph 0 of graphs is not symmetric: it has a one-way edge \(A\[0, 2\] = 1e-09 but "
            r"A\[2, 0\] = 0\).*np\.maximum\(A, A\.T\)",
            None,
        ),
    }
)


# ---- data files, labels and splits: built in fixtures (they need a folder or a model) --------


def _europe_folder(tmp_path, *, labels: bytes | None, edges: bytes | None = b"0 1\n"):
    root = tmp_path / "data"
    (root / "europe").mkdir(parents=True)
    if labels is not None:
        (root / "europe" / "labels-europe-airports.txt").write_bytes(labels)
    if edges is not None:
        (root / "europe" / "europe-airports.edgelist").write_bytes(edges)
    return root


def _published_size(key):
    from jaxrg.datasets._files import FILES

    return FILES["europe"][key].size


FILE_CASES = {
    # kind: (files in the folder, load kwargs, error, match)
    "data_file_missing": (
        dict(labels=None, edges=None),
        {},
        FileNotFoundError,
        r"(?s)^dataset 'europe': 2 file\(s\) missing from the data folder.*"
        r"pass download=True",
    ),
    "data_file_corrupt": (
        "corrupt",
        {},
        ValueError,
        r"europe-airports\.edgelist: corrupt or not the published file "
        r"\(sha256 .*Delete it and download it again",
    ),
    "data_file_truncated": (
        dict(labels=b"node label\n0 1\n", edges=b"0 1\n1 2\n"),
        {},
        ValueError,
        r"europe-airports\.edgelist: corrupt or not the published file "
        r"\(8 bytes instead of 40007 \(truncated or replaced\)\)\. Delete it",
    ),
    "data_file_truncated_unverified": (
        dict(labels=b"node label\n0 1\n1 2\n2"),
        {"verify": False},
        ValueError,
        r"labels-europe-airports\.txt: not lines of two "
        r"integers .*; the file is corrupt - delete it and "
        "download it again",
    ),
}


@pytest.mark.parametrize("kind", sorted(FILE_CASES))
def test_bad_data_files_raise_a_clear_error(kind, tmp_path):
    from jaxrg.datasets.europe import load_europe

    files, kwargs, error, match = FILE_CASES[kind]
    if files == "corrupt":  # the published size, other bytes: only the checksum can tell
        files = dict(labels=b"node label\n0 1\n", edges=b"9" * _published_size("edgelist"))
    root = _europe_folder(tmp_path, **files)
    with pytest.raises(error, match=match):
        load_europe(data_dir=root, progress=False, **kwargs)


GRAPH_FILE_CASES = {
    "graph_file_missing": (None, FileNotFoundError, r"^graph file not found: .*missing\.edgelist"),
    "graph_file_corrupt": (
        b"0 1\n1 x\n",
        ValueError,
        r"g\.edgelist, line 2: expected 'u v' or 'u v weight' with integer "
        "node ids",
    ),
    # issue 17, probe 4: "'-1' is not an integer" was false
    "graph_file_negative_id": (
        b"-1 0\n0 1\n",
        ValueError,
        r"g\.edgelist, line 1: node id '-1' is negative; node ids are integers >= 0",
    ),
    "graph_file_asymmetric_npy": ("npy", ValueError, r"g\.npy: adjacency is not symmetric"),
    # issue 17, probe 2: scipy would add the repeats (a weight-2 edge) or call it asymmetric
    "graph_file_npz_entry_stored_twice": (
        lambda p: _save_coo(p, [0, 0, 1, 1, 1, 2], [1, 1, 0, 0, 2, 1]),
        ValueError,
        r"g\.npz: entry \(0, 1\) is stored 2 times in the sparse matrix",
    ),
    "graph_file_npz_one_direction_twice": (
        lambda p: _save_coo(p, [0, 0, 1, 1, 2], [1, 1, 0, 2, 1]),
        ValueError,
        r"g\.npz: entry \(0, 1\) is stored 2 times in the sparse matrix",
    ),
    "graph_file_repeated_edge_line": (
        b"0 1\n1 2\n\n# a comment\n0 1\n",
        ValueError,
        r"g\.edgelist, line 5: edge \(0, 1\) is listed 2 times",
    ),
    "graph_file_directions_disagree_line": (
        b"% ids from 1\n1 2 1\n2 3 1\n2 1 2\n",
        ValueError,
        r"g\.edgelist, line 4: edge \(1, 2\) has weight 1 one way and 2 the other",
    ),
}


def _save_coo(path, rows, cols):
    """A ``scipy.sparse.save_npz`` COO file that stores some entries more than once."""
    import scipy.sparse

    path = path.with_suffix(".npz")
    matrix = scipy.sparse.coo_array((np.ones(len(rows)), (rows, cols)), shape=(3, 3))
    scipy.sparse.save_npz(path, matrix)
    return path


@pytest.mark.parametrize("kind", sorted(GRAPH_FILE_CASES))
def test_bad_graph_files_raise_and_the_cli_exits_2(kind, tmp_path, capsys):
    from jaxrg.cli import main
    from jaxrg.graph_io import read_graph

    content, error, match = GRAPH_FILE_CASES[kind]
    path = tmp_path / ("missing.edgelist" if content is None else "g.edgelist")
    if content == "npy":
        path = tmp_path / "g.npy"
        np.save(path, np.asarray(ASYMMETRIC))
    elif callable(content):
        path = content(path)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=match):
        read_graph(path)
    assert main(["curve", str(path), "--num-taus", "8"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxrg curve: error: ") and re.search(match.lstrip("^"), err)


CLI_OPTION_CASES = {
    # kind: (arguments, message); each was silently replaced or accepted before (issue 17)
    "cli_lr_zero": (["study", "maxent", "run", "--lr", "0"],
                    r"--lr must be a finite number > 0; got 0"),
    "cli_lr_negative": (["study", "maxent", "run", "--lr", "-1"],
                        r"--lr must be a finite number > 0"),
    "cli_temperature_inf": (
        ["study", "maxent", "run", "--temperature", "inf"],
        r"--temperature must be a finite number > 0; got inf",
    ),
    "cli_train_limit_negative": (
        ["study", "maxent", "run", "--train-limit", "-5"],
        r"--train-limit must be >= 1; got -5",
    ),
    "cli_node_lr_negative": (
        ["study", "node-classification", "run", "--dataset", "cora", "--lr", "-1"],
        r"--lr must be a finite number > 0; got -1",
    ),
    # issue 17, probe 2: accepted before, then trained (or ran) on nonsense
    "cli_kipf_early_stopping_negative": (
        ["experiment", "kipf-gcn", "--dataset", "cora", "--early-stopping", "-1", "--epochs",
         "1"],
        r"--early-stopping must be >= 0 \(0: off\); got -1",
    ),
    "cli_kipf_seeds_zero": (["experiment", "kipf-gcn", "--seeds", "0"],
                            r"--seeds must be >= 1; got 0"),
    "cli_node_epochs_zero": (["experiment", "node-classification", "--epochs", "0"],
                             r"--epochs must be >= 1; got 0"),
    "cli_node_lr_nan": (["experiment", "node-classification", "--lr", "nan"],
                        r"--lr must be a finite number > 0; got nan"),
    "cli_report_epochs_zero": (["report", "results", "--epochs", "0"],
                               r"--epochs must be >= 1; got 0"),
    "cli_clt_alpha_nan": (["clt-rg", "--alpha", "nan"], r"--alpha must be finite .*; got nan"),
    "cli_clt_alpha_inf": (["clt-rg", "--alpha=-inf"], r"--alpha must be finite .*; got -inf"),
    "cli_clt_steps_zero": (["clt-rg", "--steps", "0"], r"--steps must be >= 1; got 0"),
    "cli_lens_steps_zero": (["entropy-lens", "--steps", "0"], r"--steps must be >= 1; got 0"),
    "cli_lens_folds_one": (
        ["entropy-lens", "analyse", "p.npy", "--labels", "a", "--folds", "1"],
        r"--folds must be >= 2; got 1",
    ),
}


@pytest.mark.parametrize("kind", sorted(CLI_OPTION_CASES))
def test_cli_option_out_of_range_exits_2(kind, tmp_path, capsys):
    """Checked before any data is read: one line on stderr, exit status 2, no traceback."""
    from jaxrg.cli import main

    argv, match = CLI_OPTION_CASES[kind]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert re.search(match, err) and "Traceback" not in err and err.count("\n") == 1, err


def _result(seed, epochs, test_acc):
    return {"dataset": "cora", "encoder": "gcn", "variant": "SB", "tau": None, "hidden": 64,
            "learning_rate": 1e-4, "seed": seed, "epochs": epochs, "test_acc": test_acc}


def test_report_refuses_a_nan_accuracy_and_a_budget_no_run_has(tmp_path, capsys):
    import json

    from jaxrg.cli import main

    lines = [_result(0, 10, 0.7), _result(1, 10, 0.8), _result(0, 20, 0.75)]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert main(["report", str(tmp_path), "--epochs", "10"]) == 0
    assert "| 10 | 2 | 75.0 ± 5.0 |" in capsys.readouterr().out  # 2 seeds: mean, std of 70, 80
    assert main(["report", str(tmp_path), "--epochs", "7"]) == 2
    err = capsys.readouterr().err
    assert "has an epoch budget of 7 (--epochs); the budgets there are 10, 20." in err, err
    with open(tmp_path / "results.jsonl", "a") as handle:
        handle.write(json.dumps(_result(1, 20, float("nan"))) + "\n")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"results\.jsonl, line 4: test_acc is nan, not a finite number", err), err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_truncated_array_file_names_the_file(suffix, tmp_path, capsys):
    from jaxrg.cli import main

    path = tmp_path / f"z{suffix}"
    (np.save if suffix == ".npy" else np.savez)(path, np.zeros((4, 8)))
    path.write_bytes(path.read_bytes()[:-10])
    assert main(["entropy", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.search(rf"z\{suffix}: cannot read the \{suffix} file .*truncated", err), err
    assert err.count("\n") == 1


# ---- labels and splits (training entry point) ---------------------------------------------


def _node_problem():
    from jaxrg.studies.node_classification.multiscale import MultiscaleClassifier

    n = 6
    senders = np.array([0, 1, 1, 2, 2, 3, 3, 4, 4, 5], np.int32)
    receivers = np.array([1, 0, 2, 1, 3, 2, 4, 3, 5, 4], np.int32)
    graph = jraph.GraphsTuple(
        nodes=None,
        edges=None,
        globals=None,
        senders=senders,
        receivers=receivers,
        n_node=np.array([n]),
        n_edge=np.array([senders.size]),
    )
    features = np.eye(n, dtype=np.float32)
    labels = np.array([0, 1, 0, 1, 0, 1], np.int32)
    masks = [
        np.array(m, bool) for m in ([1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1])
    ]

    def model_fn(rngs):
        return MultiscaleClassifier(n, 2, num_graphs=1, hidden=4, conv="gcn", rngs=rngs)

    return model_fn, features, labels, graph, masks


def test_label_ids_out_of_range_raise_before_training():
    from jaxrg.studies.node_classification.train import train_node_classifier

    model_fn, features, labels, graph, masks = _node_problem()
    labels = labels.copy()
    labels[3] = 2  # the model has 2 classes: id 2 would index past the logits (NaN loss)
    with pytest.raises(
        ValueError,
        match=r"^labels hold class id 2 but the model outputs 2 "
        r"classes.*num_classes = labels\.max\(\) \+ 1 = 3",
    ):
        train_node_classifier(
            model_fn,
            features,
            labels,
            [graph],
            *masks,
            keys=jnp.stack([jax.random.key(0)]),
            epochs=1,
            progress=False,
        )


def test_label_ids_below_minus_one_raise():
    from jaxrg.studies.node_classification.train import prepare_inputs

    _, features, labels, graph, masks = _node_problem()
    labels = labels.copy()
    labels[0] = -3
    with pytest.raises(ValueError, match=r"^labels must be class ids 0\.\.C-1 or -1.*relabel"):
        prepare_inputs(features, labels, [graph], *masks, num_seeds=1)


@pytest.mark.parametrize(("first", "second"), [(0, 1), (0, 2), (1, 2)])
def test_overlapping_split_masks_raise(first, second):
    from jaxrg.studies.node_classification.train import prepare_inputs

    _, features, labels, graph, masks = _node_problem()
    names = ("train_mask", "val_mask", "test_mask")
    masks = [m.copy() for m in masks]
    shared = int(np.flatnonzero(masks[first])[-1])
    masks[second][shared] = True
    with pytest.raises(
        ValueError,
        match=rf"^{names[first]} and {names[second]} overlap \(1 "
        rf"node\(s\), e\.g\. node {shared} of seed 0\); the splits must be "
        "disjoint",
    ):
        prepare_inputs(features, labels, [graph], *masks, num_seeds=1)


# ---- the table-driven cases -------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(CASES))
def test_bad_input_raises_a_clear_error(kind):
    case = CASES[kind]
    with pytest.raises(case.error, match=case.match):
        case.fn(*case.args)


@pytest.mark.parametrize("kind", sorted(k for k, c in CASES.items() if c.jit == "checked"))
def test_checked_path_catches_the_same_value_error_under_jit(kind):
    case = CASES[kind]
    jitted = jax.jit(case.fn)
    with pytest.raises(ValueError, match=case.match):
        jaxrg.checked(jitted)(*case.args)


@pytest.mark.parametrize("kind", sorted(k for k, c in CASES.items() if c.jit == "trace"))
def test_shape_and_dtype_errors_are_raised_at_trace_time_under_jit(kind):
    case = CASES[kind]
    with pytest.raises(case.error, match=case.match):
        jax.jit(case.fn)(*case.args)


def test_checked_path_passes_good_inputs_through():
    """The checked path is not trivially raising: good inputs give the plain jit result."""
    good: dict[str, tuple[Callable, tuple[Any, ...]]] = {
        "spectrum": (jaxrg.laplacian_spectrum, (EDGE,)),
        "heat": (_heat, (jaxrg.laplacian(PATH3), 1.0)),
        "renyi": (_renyi, (LOGITS, 2.0)),
        "probs": (info.shannon_entropy_from_probs, (jnp.array([0.25, 0.75]),)),
        "edges": (_edge_list, (jnp.array([0, 1]), jnp.array([1, 2]))),
    }
    for fn, args in good.values():
        np.testing.assert_allclose(jaxrg.checked(jax.jit(fn))(*args), jax.jit(fn)(*args))


# ---- accepted on purpose: defined results, not errors ---------------------------------------


@jax.jit
def _spectrum_and_curves(adjacency, mask, taus):
    ev = jaxrg.laplacian_spectrum(adjacency, mask)
    return ev, jaxrg.entropy_curves(ev, taus)


def test_accepted_inputs_have_the_documented_results():
    one, two_paths = np.zeros((1, 1)), np.kron(np.eye(2), np.asarray(PATH3))
    batch = jaxrg.pad_adjacency([one, two_paths, np.array([[0, 1], [1, 0]])], num_nodes=6)
    assert batch.adjacency.dtype == jnp.float64  # integer adjacency: cast to float
    taus = jnp.array([1, 3, 100_000_000])  # integer taus: cast to float
    ev, curves = jax.vmap(_spectrum_and_curves, in_axes=(0, 0, None))(*batch, taus)
    # single node: S = C = 0 exactly (never 0/0 = NaN)
    np.testing.assert_array_equal(curves.entropy[0], 0.0)
    np.testing.assert_array_equal(curves.specific_heat[0], 0.0)
    # disconnected: exactly one zero eigenvalue per component, S(tau -> inf) = log c / log N
    assert int(jnp.sum(ev[1] == 0)) == 2
    np.testing.assert_allclose(curves.entropy[1, -1], np.log(2) / np.log(6), rtol=1e-12)
    # one edge (integer input): spectrum {0, 2}, S = H(1, e^{-2 tau}) / log 2 in closed form
    p = np.stack([np.ones(3), np.exp(-2.0 * np.array([1, 3, 1e8]))]) / (
        1 + np.exp(-2.0 * np.array([1, 3, 1e8]))
    )
    np.testing.assert_allclose(
        curves.entropy[2], scipy.stats.entropy(p) / np.log(2), rtol=1e-12, atol=1e-300
    )
    # self-loops: cancel in L = D - A (networkx agrees)
    loops = np.asarray(PATH3) + np.diag([2.0, 0.0, 1.0])
    np.testing.assert_allclose(
        jaxrg.laplacian(loops), nx.laplacian_matrix(nx.from_numpy_array(loops)).toarray()
    )


def test_foreign_byte_order_numpy_integers_and_unmasked_arrays_are_accepted():
    """Probe 3: valid inputs that were refused with raw errors; each gives the plain answer."""
    expected = np.linalg.eigvalsh(np.diag(np.asarray(PATH3).sum(1)) - np.asarray(PATH3))
    for form in (np.asarray(PATH3).astype(">f8"), np.asarray(PATH3).astype(">i4"),
                 np.ma.masked_array(np.asarray(PATH3))):
        np.testing.assert_allclose(jaxrg.laplacian_spectrum(form), expected, atol=1e-12)
    # NumPy integers, as a user passes them (the suite's jaxtyping checker reads `int` strictly)
    grid = _unchecked(jaxrg.default_taus)(jnp.array([0.0, 1.0, 3.0]), num_taus=np.int64(10))
    assert grid.shape == (10,)
    kappa = _unchecked(jaxrg.cumulants.sample_cumulants)(jnp.array([0.0, 0.0, 1.0, 3.0]),
                                                         np.int64(3))
    np.testing.assert_allclose(kappa, [1.0, 1.5, 1.5], rtol=1e-12)  # mean, var, third: by hand


def test_unwritable_outputs_name_the_option_and_the_path(tmp_path, capsys):
    """A parent that is a file, or a folder in place of the file: the option and path, exit 2."""
    from jaxrg.cli import main

    graph = tmp_path / "tri.txt"
    graph.write_text("0 1\n1 2\n2 0\n")
    logits = tmp_path / "z.npy"
    np.save(logits, np.zeros((2, 3)))
    (tmp_path / "folder.csv").mkdir()
    for argv, match in (
        (["curve", str(graph), "--num-taus", "16", "--json", str(graph / "x.json")],
         rf"cannot write --json {re.escape(str(graph / 'x.json'))}: "
         rf"{re.escape(str(graph))} is a file, not a folder"),
        (["curve", str(graph), "--num-taus", "16", "--csv", str(tmp_path / "folder.csv")],
         r"cannot write --csv .*folder\.csv: it is a folder"),
        (["entropy", str(logits), "--out", str(logits / "e.csv")],
         r"cannot write --out .*z\.npy/e\.csv: .*z\.npy is a file, not a folder"),
        (["entropy", str(tmp_path)], rf"{re.escape(str(tmp_path))} is a folder; give a \.npy"),
        (["entropy", str(graph)], r"tri\.txt: unsupported file type '\.txt'"),
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert re.search(match, err) and "Traceback" not in err and err.count("\n") == 1, err
    assert not list((tmp_path / "folder.csv").iterdir())  # no temp file left behind


def test_sparse_containers_are_never_edge_arrays_and_roundoff_negative_zero_modes_are_zero():
    """Probe 4: an int (2, 2) scipy matrix was refused as ambiguous; eigh's -4e-16 gave
    d_S = -4e284 at tau = 1e300 (the shift by lambda_min multiplied by tau)."""
    coo = sp.coo_array(np.array([[0, 5], [5, 0]]))
    np.testing.assert_allclose(jaxrg.laplacian_spectrum(coo), [0.0, 10.0], atol=1e-12)
    a = nx.to_numpy_array(nx.karate_club_graph(), weight=None)
    ev = np.linalg.eigvalsh(np.diag(a.sum(1)) - a)  # numpy's, with a round-off zero mode
    curves = jaxrg.entropy_curves(jnp.asarray(ev), jnp.array([1e2, 1e300]))
    # at large tau only the zero mode is left: Z -> 1 (one component), d_S -> 0
    np.testing.assert_allclose(curves.heat_trace, [1.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(curves.spectral_dimension, [0.0, 0.0], atol=1e-10)
    with_nan = jnp.asarray(np.r_[np.nan, ev[1:]])  # NaN in, NaN out under jit (the clip kept it)
    assert bool(jnp.isnan(jax.jit(jaxrg.spectral_dimension)(with_nan, 1.0)))


def test_entropy_lens_analyse_names_the_profile_file_of_the_wrong_shape(tmp_path, capsys):
    from jaxrg.cli import main

    bad = tmp_path / "prof_bad.npy"
    np.save(bad, np.zeros((3, 4)))
    labels = tmp_path / "labels.npy"
    np.save(labels, np.array(["a", "b", "a"]))
    assert main(["entropy-lens", "analyse", str(bad), "--labels", str(labels)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"prof_bad\.npy: profiles must have shape \(N, \.\.\., layers, tokens\)"
                     r".*got shape \(3, 4\)", err) and err.count("\n") == 1, err


# ---- round thirteen: values the cast to the computing dtype would change ---------------------


def _two_triangles(bridge: float) -> tuple[np.ndarray, tuple]:
    """Two triangles joined by one edge of weight ``bridge``: float64 matrix and edge tuple."""
    edges = [(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5), (2, 3)]
    weights = np.array([1.0] * 6 + [bridge])
    senders, receivers = np.array(edges).T
    matrix = np.zeros((6, 6))
    matrix[senders, receivers] = matrix[receivers, senders] = weights
    return matrix, (senders, receivers, weights)


def _both_ways(edges: tuple) -> tuple:
    senders, receivers, weights = edges
    return (np.concatenate([senders, receivers]), np.concatenate([receivers, senders]),
            np.concatenate([weights, weights]))


CAST_ROUTES = {
    "dense": lambda a, e: jaxrg.as_adjacency(a),
    "nested_list": lambda a, e: jaxrg.as_adjacency(a.tolist()),
    "edge_tuple": lambda a, e: jaxrg.as_adjacency(e),
    "from_edge_list": lambda a, e: jaxrg.from_edge_list(*e),
    "scipy": lambda a, e: jaxrg.as_adjacency(sp.csr_array(a)),
    "networkx": lambda a, e: jaxrg.as_adjacency(nx.from_numpy_array(a)),
    "pad_adjacency": lambda a, e: jaxrg.pad_adjacency([a, a[:3, :3]])[0][0],
    "laplacian_spectrum": lambda a, e: jaxrg.laplacian_spectrum(a),
    "sparse_edges": lambda a, e: jaxrg.sparse.as_sparse_graph(e).weights,
    "sparse_scipy": lambda a, e: jaxrg.sparse.as_sparse_graph(sp.coo_array(a)).weights,
    "sparse_networkx": lambda a, e: jaxrg.sparse.as_sparse_graph(nx.from_numpy_array(a)).weights,
    "sparse_dense": lambda a, e: jaxrg.sparse.as_sparse_graph(a).weights,
    "circulation_dense": lambda a, e: jaxrg.circulation(a),
    "circulation_edges": lambda a, e: jaxrg.circulation(_both_ways(e)),
    "circulation_networkx": lambda a, e: jaxrg.circulation(nx.from_numpy_array(a,
                                                           create_using=nx.DiGraph)),
}


@pytest.mark.parametrize("route", sorted(CAST_ROUTES))
@pytest.mark.parametrize(
    ("bridge", "match"),
    [(1e-50, r"holds values too small for float32 \(e\.g\. 1e-50 < 1\.18e-38"),
     (1e-40, r"holds values too small for float32 \(e\.g\. 1e-40 < 1\.18e-38"),
     (1e39, r"holds values too large for float32 \(e\.g\. 1e\+39 > 3\.4e\+38")],
)
def test_a_weight_that_float32_cannot_hold_is_refused_on_every_route(route, bridge, match):
    """Round thirteen: a NumPy float64 weight cast to JAX's default float32 (x64 off).

    1e-50 became 0 and 1e-40 a subnormal that XLA flushes to 0: the bridge vanished and the
    graph fell in two (two zero eigenvalues, S(τ → ∞) = log 2 / log 6 for 0), silently; 1e39
    became inf and was reported as "NaN or inf entries", which the input does not hold. In
    float64 the same graph is connected and finite: that is the answer float32 cannot give.
    """
    matrix, edges = _two_triangles(bridge)
    spectrum = jaxrg.laplacian_spectrum(matrix)  # the suite runs in float64
    # connected (one zero mode), finite; λ₂ (6.7e-41 for 1e-40) lies below float64 eigh's
    # resolution, so only its size is asserted: its sign is LAPACK's round-off (positive on one
    # CPU, -1.7e-31 on another: the assertion "> 0" passed on luck)
    assert int(jaxrg.connected_components(matrix).count) == 1
    assert bool(jnp.all(jnp.isfinite(spectrum)))
    if bridge < 1:
        assert abs(float(spectrum[1])) < 1e-12
    else:  # 1e39: a strong bridge, λ₂ of order 1
        assert float(spectrum[1]) > 0.5
    with jax.enable_x64(False):
        with pytest.raises(ValueError, match=match + r".*compute in float64"):
            CAST_ROUTES[route](matrix, edges)


@pytest.mark.parametrize("route", sorted(CAST_ROUTES))
def test_weights_at_float32s_limits_are_accepted_and_kept_on_every_route(route):
    """Its smallest normal number and 1e38 are float32 values: kept as they are, no error."""
    tiny = float(np.finfo(np.float32).tiny)
    for bridge in (tiny, 1e38):
        matrix, edges = _two_triangles(bridge)
        with jax.enable_x64(False):
            out = np.asarray(CAST_ROUTES[route](matrix, edges))
        assert np.all(np.isfinite(out)), (route, bridge)
        if route in ("dense", "nested_list", "edge_tuple", "from_edge_list", "scipy",
                     "networkx", "pad_adjacency"):
            assert out[2, 3] == np.float32(bridge) and out[3, 2] == np.float32(bridge), route


def test_an_explicit_float32_dtype_refuses_what_it_cannot_hold_with_x64_on():
    """The same rule for ``dtype=float32`` requested in a float64 session (JAX input too)."""
    matrix, edges = _two_triangles(1e-50)
    fix = r"holds values too small for float32.*compute in float64"
    with pytest.raises(ValueError, match=fix):
        jaxrg.from_edge_list(*edges, dtype=jnp.float32)
    with pytest.raises(ValueError, match=fix):
        jaxrg.sparse.as_sparse_graph(edges, dtype=np.float32)
    with pytest.raises(ValueError, match=fix):
        jaxrg.as_adjacency(jnp.asarray(matrix), dtype=jnp.float32)
    assert float(jaxrg.as_adjacency(jnp.asarray(matrix))[2, 3]) == 1e-50  # float64 keeps it


# ---- counts given as non-integers (round sixteen) --------------------------------------------


def _integer_option_calls():
    from jaxrg import info, lens, scales

    h = np.random.default_rng(0).normal(size=(2, 3, 4))
    w = np.random.default_rng(1).normal(size=(4, 7))
    z = np.random.default_rng(2).normal(size=(2, 3, 7))
    return {
        "num_chunks": lambda n: _unchecked(info.streamed_entropy_stats)(
            lambda i: jnp.zeros(4), 1.0, num_chunks=n),
        "chunk_size": lambda n: lens.entropy_profile(h, w, 1.0, chunk_size=n),
        "logit_profiles": lambda n: lens.logit_profiles(z, 1.0, chunk_size=n),
        "max_peaks": lambda n: _unchecked(scales.authors_pipeline_scales)(
            np.array([0.0, 1.0, 3.0]), max_peaks=n),
    }


@pytest.mark.parametrize("option", ["num_chunks", "chunk_size", "logit_profiles", "max_peaks"])
def test_a_non_integer_count_is_refused_not_truncated(option):
    """Before: num_chunks=2.7 ran 3 chunks, chunk_size=2.5 ran chunks of 2, max_peaks=2.5 raised
    a raw TypeError from inside jnp. Now the package's integer-option check (a TypeError and a
    ValueError) names the option; NumPy integers stay accepted."""
    call = _integer_option_calls()[option]
    name = "chunk_size" if option == "logit_profiles" else option
    with pytest.raises(TypeError, match=rf"^{name} must be an int >= 1 .*got 2\.5"):
        call(2.5)
    with pytest.raises(ValueError, match=rf"^{name} must be an int >= 1"):
        call(0)
    call(np.int64(2))


# ---- the docs table and these cases stay in step ---------------------------------------------


def _documented_tests() -> set[str]:
    rows = [
        line
        for line in DOCS.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and "`test_" in line
    ]
    return {m for row in rows for m in re.findall(r"`(test_[a-z0-9_]+(?:\[[a-z0-9_-]+\])?)`", row)}


def test_catalogue_table_lists_every_case():
    expected = {f"test_bad_input_raises_a_clear_error[{k}]" for k in CASES}
    expected |= {f"test_bad_data_files_raise_a_clear_error[{k}]" for k in FILE_CASES}
    expected |= {f"test_bad_graph_files_raise_and_the_cli_exits_2[{k}]" for k in GRAPH_FILE_CASES}
    expected |= {f"test_cli_option_out_of_range_exits_2[{k}]" for k in CLI_OPTION_CASES}
    expected |= {
        "test_label_ids_out_of_range_raise_before_training",
        "test_label_ids_below_minus_one_raise",
        "test_overlapping_split_masks_raise",
        "test_accepted_inputs_have_the_documented_results",
        "test_foreign_byte_order_numpy_integers_and_unmasked_arrays_are_accepted",
        "test_unwritable_outputs_name_the_option_and_the_path",
        "test_sparse_containers_are_never_edge_arrays_and_roundoff_negative_zero_modes_are_zero",
        "test_entropy_lens_analyse_names_the_profile_file_of_the_wrong_shape",
        "test_a_weight_that_float32_cannot_hold_is_refused_on_every_route",
        "test_weights_at_float32s_limits_are_accepted_and_kept_on_every_route",
        "test_an_explicit_float32_dtype_refuses_what_it_cannot_hold_with_x64_on",
    }
    documented = _documented_tests()
    assert expected <= documented, sorted(expected - documented)
    # every case that the checked path covers is marked in the table's jit column
    for kind, case in CASES.items():
        row = next(
            line for line in DOCS.read_text(encoding="utf-8").splitlines() if f"[{kind}]`" in line
        )
        jit_column = row.split("|")[-3]  # | kind | example | function(s) | error | jit | test |
        assert ("checked" in jit_column) == (case.jit == "checked"), kind
    assert len(expected) >= 20


def test_every_test_the_catalogue_names_exists():
    """A row of docs/bad_inputs.md that cites a test which was renamed or removed is stale."""
    here = pathlib.Path(__file__).resolve().parent
    defined = {m for path in here.rglob("test_*.py")
               for m in re.findall(r"^\s*def (test_[a-z0-9_]+)\(", path.read_text("utf-8"), re.M)}
    cited = {name.split("[")[0] for name in _documented_tests()}
    assert cited - defined == set(), sorted(cited - defined)
