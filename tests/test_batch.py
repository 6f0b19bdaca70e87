"""Many small graphs: padded chunks, streaming, sharding over devices.

Oracle: numpy ``eigvalsh`` of each graph's Laplacian and the textbook formulas
S = (log Z + tau <lambda>) / log N, C = tau^2 Var(lambda) / log N, one graph at a time. The
sharded run happens in a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` (the flag must be set before JAX starts;
this test process keeps its own flags).
"""

import inspect
import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest
from tolerances import tol

import jaxrg
import jaxrg.batch as jb

TAUS = jnp.logspace(-2, 2, 12)


def small_graphs(count, seed=0):
    rng = np.random.default_rng(seed)
    for i in range(count):
        n = int(rng.integers(2, 17))
        yield nx.gnp_random_graph(n, 0.4, seed=seed * 1000 + i)


def numpy_curves(graph, taus):
    import scipy.special

    a = nx.to_numpy_array(graph)
    lam = np.linalg.eigvalsh(np.diag(a.sum(1)) - a).clip(0)
    logits = -np.asarray(taus)[:, None] * lam[None, :]
    log_z = scipy.special.logsumexp(logits, axis=1)
    mu = np.exp(logits - log_z[:, None])
    mean = mu @ lam
    var = np.sum(mu * (lam[None, :] - mean[:, None]) ** 2, axis=1)
    log_n = np.log(len(lam))
    return {
        "heat_trace": np.exp(log_z),
        "entropy": (log_z + taus * mean) / log_n,
        "specific_heat": taus**2 * var / log_n,
        "spectral_dimension": 2 * taus * mean,
    }


def test_padded_chunks_have_fixed_shapes_and_count_real_graphs():
    chunks = list(jb.padded_chunks(small_graphs(10), chunk_size=4, num_nodes=16))
    assert [c.num_valid for c in chunks] == [4, 4, 2]
    for chunk in chunks:
        assert chunk.batch.adjacency.shape == (4, 16, 16)
        assert chunk.batch.mask.shape == (4, 16)
    # fillers are one-node graphs
    np.testing.assert_array_equal(chunks[-1].batch.mask[2:].sum(1), [1, 1])


def test_pad_multiple_pads_each_chunk_to_its_largest_graph_rounded_up():
    graphs = [nx.path_graph(n) for n in (3, 5, 9, 17, 2, 2)]
    chunks = list(jb.padded_chunks(graphs, chunk_size=2, num_nodes=20, pad_multiple=8))
    assert [c.batch.adjacency.shape[1] for c in chunks] == [8, 20, 8]


def test_padded_chunks_reject_a_graph_larger_than_num_nodes():
    graphs = [nx.path_graph(3), nx.path_graph(9)]
    with pytest.raises(ValueError, match="graph 1 of the stream has 9 nodes"):
        list(jb.padded_chunks(graphs, chunk_size=2, num_nodes=8))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pad_multiple": 0}, ValueError, "pad_multiple must be an int >= 1"),  # ZeroDivisionError
        ({"pad_multiple": 0, "sort_chunks": 2}, ValueError, "pad_multiple"),  # was num_nodes
        ({"pad_multiple": 2.5}, TypeError, "pad_multiple must be an int >= 1"),
        ({"chunk_size": 2.5}, TypeError, "chunk_size must be an int >= 1"),
        ({"num_nodes": 3.0}, TypeError, "num_nodes must be an int >= 1"),
        ({"sort_chunks": 0}, ValueError, "sort_chunks must be an int >= 1"),
    ],
)
def test_stream_count_options_must_be_positive_integers(kwargs, error, match):
    options = {"chunk_size": 2, "num_nodes": 3, **kwargs}
    run = inspect.unwrap(jb.stream_curves)  # the library's own check (not the test-time typer)
    with pytest.raises(error, match=match):
        list(run([nx.path_graph(3)], TAUS, **options))
    with pytest.raises(TypeError if error is TypeError else ValueError, match=match.split()[0]):
        list(jb.stream_curves([nx.path_graph(3)], TAUS, **options))


def test_numpy_integer_counts_pad_like_python_ints():
    graphs = [nx.path_graph(n) for n in (3, 5, 9, 17, 2, 2)]
    chunks = list(jb.padded_chunks(graphs, chunk_size=np.int64(2), num_nodes=np.int32(20),
                                   pad_multiple=np.int64(8)))
    assert [c.batch.adjacency.shape[1] for c in chunks] == [8, 20, 8]


def test_stream_curves_equal_the_single_graph_route_in_stream_order():
    graphs = list(small_graphs(11, seed=1))
    chunks = list(jb.stream_curves(iter(graphs), TAUS, chunk_size=4, num_nodes=16, pad_multiple=8))
    assert [c.entropy.shape[0] for c in chunks] == [4, 4, 3]
    got = [np.concatenate([getattr(c, f) for c in chunks]) for f in jaxrg.SpectralCurves._fields]
    for b, g in enumerate(graphs):
        exact = numpy_curves(g, np.asarray(TAUS))
        for field, values in zip(jaxrg.SpectralCurves._fields, got, strict=True):
            # two eigensolvers: agreement to eigh round-off (~1e-13), not bitwise
            np.testing.assert_allclose(
                values[b], exact[field], rtol=1e-9, atol=1e-11, err_msg=field
            )


def test_one_device_mesh_equals_no_mesh():
    chunk = next(jb.padded_chunks(small_graphs(4, seed=2), chunk_size=4, num_nodes=16))
    plain = jb.batch_curves(chunk.batch, TAUS)
    meshed = jb.batch_curves(chunk.batch, TAUS, mesh=jb.batch_mesh(jax.devices()[:1]))
    for a, b in zip(plain, meshed, strict=True):
        np.testing.assert_allclose(a, b, **tol("float64"))


def test_shard_batch_rejects_a_batch_not_divisible_by_the_devices():
    chunk = next(jb.padded_chunks(small_graphs(3), chunk_size=3, num_nodes=16))
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1] * 2), ("batch",))
    with pytest.raises(ValueError, match="multiple of 2"):
        jb.shard_batch(chunk.batch, mesh)


SHARDED = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp, networkx as nx, numpy as np
    import jaxrg.batch as jb
    assert len(jax.devices()) == 8, jax.devices()
    rng = np.random.default_rng(3)
    graphs = [nx.gnp_random_graph(int(rng.integers(2, 17)), 0.4, seed=i) for i in range(20)]
    taus = jnp.logspace(-2, 2, 12)
    mesh = jb.batch_mesh()
    chunk = next(jb.padded_chunks(graphs[:16], chunk_size=16, num_nodes=16))
    sharded = jb.batch_curves(chunk.batch, taus, mesh=mesh)
    devices = len(sharded.entropy.sharding.device_set)
    streamed = list(jb.stream_curves(graphs, taus, chunk_size=8, num_nodes=16, mesh=mesh))
    json.dump({
        "devices": devices,
        "sharded": np.asarray(sharded.specific_heat).tolist(),
        "streamed": np.concatenate([c.specific_heat for c in streamed]).tolist(),
    }, sys.stdout)
    """
)


def test_sharded_over_eight_cpu_devices_equals_single_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8")
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run(
        [sys.executable, "-c", SHARDED], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["devices"] == 8
    rng = np.random.default_rng(3)
    graphs = [nx.gnp_random_graph(int(rng.integers(2, 17)), 0.4, seed=i) for i in range(20)]
    chunk = next(jb.padded_chunks(graphs[:16], chunk_size=16, num_nodes=16))
    single = jb.batch_curves(chunk.batch, TAUS).specific_heat
    np.testing.assert_allclose(result["sharded"], single, **tol("float64"))
    stream = np.concatenate(
        [c.specific_heat for c in jb.stream_curves(graphs, TAUS, chunk_size=8, num_nodes=16)]
    )
    np.testing.assert_allclose(result["streamed"], stream, **tol("float64"))


def test_size_sorted_windows_give_the_numpy_curves_in_stream_order():
    graphs = list(small_graphs(23, seed=4))
    chunks = list(
        jb.stream_curves(graphs, TAUS, chunk_size=4, num_nodes=16, pad_multiple=4, sort_chunks=3)
    )
    assert [c.entropy.shape[0] for c in chunks] == [12, 11]  # one yield per window
    heat = np.concatenate([c.specific_heat for c in chunks])
    for b, g in enumerate(graphs):
        exact = numpy_curves(g, np.asarray(TAUS))["specific_heat"]
        np.testing.assert_allclose(heat[b], exact, rtol=1e-9, atol=1e-11)


def test_a_bad_graph_in_the_stream_raises_from_the_prefetch_thread():
    bad = np.array([[0.0, 1.0], [0.0, 0.0]])
    graphs = [nx.path_graph(3)] * 5 + [bad]
    with pytest.raises(ValueError, match="graph 5 of the stream is not symmetric"):
        list(jb.stream_curves(graphs, TAUS, chunk_size=2, num_nodes=4))


def test_stopping_early_stops_the_prefetch_thread():
    import threading

    before = threading.active_count()
    stream = jb.stream_curves(small_graphs(40), TAUS, chunk_size=2, num_nodes=16)
    next(stream)
    stream.close()
    assert threading.active_count() == before


def test_batch_curves_of_any_taus_shape_equal_the_single_graph_route():
    # a (1, 1) grid once broadcast the empty-graph marker into a (B, B, ...) result
    graphs = [nx.path_graph(3), nx.complete_graph(3)]
    batch = jaxrg.pad_adjacency(graphs)
    for taus in (jnp.array(1.0), jnp.array([0.5, 2.0]), jnp.array([[1.0]])):
        got = jb.batch_curves(batch, taus)
        for b, g in enumerate(graphs):
            want = jaxrg.entropy_curves(jaxrg.laplacian_spectrum(nx.to_numpy_array(g)), taus)
            assert got.entropy[b].shape == want.entropy.shape
            np.testing.assert_allclose(got.entropy[b], want.entropy, **tol(float))
            np.testing.assert_allclose(got.specific_heat[b], want.specific_heat, **tol(float))


def test_a_graph_without_nodes_gives_nan_curves_under_jit_and_the_others_are_untouched():
    adjacency = jnp.zeros((2, 3, 3)).at[1, 0, 1].set(1.0).at[1, 1, 0].set(1.0)
    mask = jnp.array([[False, False, False], [True, True, False]])
    curves = jax.jit(jb.batch_curves)(jaxrg.PaddedBatch(adjacency, mask), jnp.array([1.0, 2.0]))
    assert np.isnan(curves.entropy[0]).all() and np.isnan(curves.specific_heat[0]).all()
    want = jaxrg.entropy_curves(jnp.array([0.0, 2.0]), jnp.array([1.0, 2.0]))
    np.testing.assert_allclose(curves.entropy[1], want.entropy, **tol(float))


def test_a_nan_tau_gives_nan_curves_under_jit_also_for_a_single_node_graph():
    """Before: a one-node graph had S = C = 0 whatever tau, so tau = NaN gave 0 under jit."""
    batch = jaxrg.pad_adjacency([np.zeros((1, 1)), np.array([[0.0, 1.0], [1.0, 0.0]])])
    curves = jax.jit(jb.batch_curves)(batch, jnp.array([1.0, jnp.nan]))
    for field in (curves.entropy, curves.specific_heat, curves.spectral_dimension):
        assert np.isnan(field[:, 1]).all()
    np.testing.assert_array_equal(curves.entropy[0, 0], 0.0)
    np.testing.assert_array_equal(curves.specific_heat[0, 0], 0.0)
    p = 1 / (1 + np.exp(2.0))  # two nodes, one edge: eigenvalues 0, 2 at tau = 1
    s = -(p * np.log(p) + (1 - p) * np.log(1 - p)) / np.log(2)
    np.testing.assert_allclose(curves.entropy[1, 0], s, **tol(float))
    np.testing.assert_allclose(curves.specific_heat[1, 0], 4 * p * (1 - p) / np.log(2),
                               **tol(float))
