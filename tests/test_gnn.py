"""GCN/GAT layers against dense numpy formulas; equivariance, padding and masking invariances."""

import functools

import jax
import jax.numpy as jnp
import jraph
import numpy as np
import pytest
from flax import nnx
from tolerances import tol

from jaxrg.studies.node_classification import gnn, multiscale


def _random_graph(num_nodes=9, p=0.35, seed=0, isolated=True):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((num_nodes, num_nodes)) < p, 1)
    adjacency = (upper | upper.T).astype(np.float64)
    if isolated:
        adjacency[-1, :] = adjacency[:, -1] = 0.0
    senders, receivers = np.nonzero(adjacency)
    graph = jraph.GraphsTuple(nodes=None, edges=None, senders=senders.astype(np.int32),
                              receivers=receivers.astype(np.int32), globals=None,
                              n_node=np.array([num_nodes]), n_edge=np.array([senders.size]))
    return adjacency, graph


def _features(num_nodes, width, dtype, seed=1):
    return jnp.asarray(np.random.default_rng(seed).normal(size=(num_nodes, width)), dtype=dtype)


def _dense_gcn(adjacency, x, w, b):
    a_hat = adjacency + np.eye(adjacency.shape[0])
    d = 1.0 / np.sqrt(a_hat.sum(1))
    return (d[:, None] * a_hat * d[None, :]) @ x @ w + b


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_gcn_layer_equals_dense_symmetric_normalisation_with_self_loops(dtype):
    adjacency, graph = _random_graph()
    x = _features(9, 4, dtype)
    conv = gnn.GCNConv(4, 3, param_dtype=dtype, rngs=nnx.Rngs(0))
    conv.bias[...] = jnp.arange(3, dtype=dtype)
    expected = _dense_gcn(adjacency, np.asarray(x, np.float64), np.asarray(conv.kernel[...]),
                          np.arange(3.0))
    got = conv(x, graph)
    assert got.dtype == dtype
    np.testing.assert_allclose(np.asarray(got), expected, **tol(dtype))


def test_dense_operator_is_the_edge_list_propagation():
    """gcn_operator's matrix equals the dense normalisation of the test's own reference, and a
    GCN given it equals the GCN given the edge list: weighted, repeated and weight-0 (padding)
    edges and an isolated node included; stacked edge arrays give stacked matrices."""
    adjacency, graph = _random_graph(seed=4)
    rng = np.random.default_rng(5)
    weights = rng.uniform(0.2, 2.0, graph.senders.shape[0])
    weights[::5] = 0.0
    # a repeated edge adds its weight, as in the edge list
    senders, receivers = np.append(graph.senders, 2), np.append(graph.receivers, 3)
    weights = np.append(weights, 0.7)
    weighted = np.zeros((9, 9))
    np.add.at(weighted, (receivers, senders), weights)
    a_hat = weighted + np.eye(9)
    d = 1.0 / np.sqrt(a_hat.sum(1))
    matrix = gnn.gcn_operator(senders, receivers, weights, 9)
    assert matrix.dtype == np.float32 and matrix.shape == (9, 9)
    np.testing.assert_allclose(matrix, d[:, None] * a_hat * d[None, :], rtol=1e-6, atol=1e-7)
    edge_graph = graph._replace(senders=senders.astype(np.int32),
                                receivers=receivers.astype(np.int32), edges=jnp.asarray(weights),
                                n_edge=np.array([senders.size]))
    x = _features(9, 4, jnp.float32)
    conv = gnn.GCNConv(4, 3, rngs=nnx.Rngs(0))
    np.testing.assert_allclose(np.asarray(conv(x, gnn.DenseOperator(jnp.asarray(matrix)))),
                               np.asarray(conv(x, edge_graph)), **tol(jnp.float32))
    stacked = gnn.gcn_operator(np.stack([senders, senders]), np.stack([receivers, receivers]),
                               np.stack([weights, 0 * weights]), 9)
    np.testing.assert_array_equal(stacked[0], matrix)
    np.testing.assert_array_equal(stacked[1], np.eye(9, dtype=np.float32))
    x64 = _features(9, 4, jnp.float64)
    assert gnn.gcn_propagate(x64, gnn.DenseOperator(jnp.asarray(matrix))).dtype == jnp.float64


def test_gat_refuses_a_dense_operator_with_a_clear_error():
    conv = gnn.GATConv(4, 8, rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match="needs the graph's edge list"):
        conv(_features(9, 4, jnp.float32), gnn.DenseOperator(jnp.eye(9)))


def test_dense_is_preferred_for_dense_graphs_that_fit():
    assert gnn.prefers_dense(5355, 2_900_000)  # Photo's rewired training subgraph
    assert not gnn.prefers_dense(2485, 10_138)  # Cora
    assert not gnn.prefers_dense(7650, 238_162)  # Photo
    assert not gnn.prefers_dense(30_000, 400_000_000)  # 3.6 GB: over DENSE_MAX_BYTES
    assert gnn.prefers_dense(9626, 17_000_000) and not gnn.prefers_dense(
        9626, 17_000_000, copies=10)  # Computers' rewired subgraph: one seed, not ten


def _with_weights(graph, weights):
    return graph._replace(edges=jnp.asarray(weights))


def _drop_edges(graph, keep):
    return graph._replace(senders=graph.senders[keep], receivers=graph.receivers[keep],
                          n_edge=np.array([int(keep.sum())]))


@pytest.mark.parametrize("conv_cls", [gnn.GCNConv, gnn.GATConv])
def test_zero_edge_weight_is_the_same_as_removing_the_edge(conv_cls):
    _, graph = _random_graph(seed=2)
    keep = np.random.default_rng(3).random(graph.senders.shape[0]) < 0.6
    x = _features(9, 4, jnp.float64)
    conv = conv_cls(4, 8, param_dtype=jnp.float64, rngs=nnx.Rngs(0))
    masked = conv(x, _with_weights(graph, keep.astype(np.float64)))
    removed = conv(x, _drop_edges(graph, keep))
    np.testing.assert_allclose(np.asarray(masked), np.asarray(removed), **tol(jnp.float64))


def test_gat_attention_sums_to_one_over_incoming_edges_of_every_node():
    _, graph = _random_graph(seed=4)
    conv = gnn.GATConv(4, 8, num_heads=4, param_dtype=jnp.float64, rngs=nnx.Rngs(1))
    alpha, _, receivers, _ = conv.attention(_features(9, 4, jnp.float64), graph)
    totals = jax.ops.segment_sum(alpha, receivers, 9)
    assert alpha.shape == (graph.senders.shape[0] + 9, 4)
    np.testing.assert_allclose(np.asarray(totals), np.ones((9, 4)), **tol(jnp.float64))
    assert np.all(np.asarray(alpha) > 0)


def _dense_gat(adjacency, x, conv, negative_slope=0.2):
    heads, width = conv.num_heads, conv.head_features
    h = (x @ np.asarray(conv.kernel[...])).reshape(x.shape[0], heads, width)
    src = np.einsum("nhd,hd->nh", h, np.asarray(conv.att_src[...]))
    dst = np.einsum("nhd,hd->nh", h, np.asarray(conv.att_dst[...]))
    mask = (adjacency + np.eye(x.shape[0])) > 0  # mask[i, j]: j sends to i
    out = []
    for k in range(heads):
        logits = dst[:, k][:, None] + src[:, k][None, :]
        logits = np.where(logits > 0, logits, negative_slope * logits)
        logits = np.where(mask, logits, -np.inf)
        weights = np.exp(logits - logits.max(1, keepdims=True))
        weights /= weights.sum(1, keepdims=True)
        out.append(weights @ h[:, k, :])
    return np.concatenate(out, axis=1) + np.asarray(conv.bias[...])


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_gat_layer_equals_dense_masked_softmax_reference(dtype):
    adjacency, graph = _random_graph(seed=5)
    x = _features(9, 4, dtype)
    conv = gnn.GATConv(4, 8, num_heads=4, param_dtype=dtype, rngs=nnx.Rngs(2))
    conv.bias[...] = jnp.linspace(-1, 1, 8, dtype=dtype)
    expected = _dense_gat(adjacency, np.asarray(x, np.float64), conv)
    np.testing.assert_allclose(np.asarray(conv(x, graph)), expected, **tol(dtype))


@functools.lru_cache(maxsize=1)
def _models():
    """Each model built once, as a function (x, graph) -> output."""
    rngs = nnx.Rngs(3)
    f64 = {"param_dtype": jnp.float64, "rngs": rngs}
    gcn = gnn.GCNConv(4, 8, **f64)
    gat = gnn.GATConv(4, 8, **f64)
    mr_gat = multiscale.multiscale_classifier("MR", 4, 3, hidden=8, conv="gat", **f64)
    sb_gcn = multiscale.multiscale_classifier("SB", 4, 3, **f64)
    kipf = gnn.KipfGCN(4, 3, **f64)
    return {
        "gcn": gcn,
        "gat": gat,
        "mr_gat": lambda x, g: mr_gat(x, [g, g]),
        "sb_gcn_no_projection": lambda x, g: sb_gcn(x, [g]),
        "kipf": lambda x, g: kipf(x, [g]),
    }


MODEL_NAMES = ["gcn", "gat", "mr_gat", "sb_gcn_no_projection", "kipf"]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_models_are_permutation_equivariant(name):
    model = _models()[name]
    adjacency, graph = _random_graph(seed=6)
    x = _features(9, 4, jnp.float64)
    perm = np.random.default_rng(7).permutation(9)
    inverse = np.argsort(perm)  # node i of the permuted graph is node perm[i] of the original
    permuted = graph._replace(senders=inverse[graph.senders].astype(np.int32),
                              receivers=inverse[graph.receivers].astype(np.int32))
    np.testing.assert_allclose(np.asarray(model(x[perm], permuted)),
                               np.asarray(model(x, graph))[perm], **tol(jnp.float64))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_padding_nodes_and_edges_leaves_real_nodes_unchanged(name):
    model = _models()[name]
    _, graph = _random_graph(seed=8)
    x = _features(9, 4, jnp.float64)
    padded = jraph.pad_with_graphs(graph._replace(nodes=np.asarray(x)), n_node=13,
                                   n_edge=graph.senders.shape[0] + 6)
    out = model(jnp.asarray(padded.nodes), padded)
    assert out.shape[0] == 13 and np.all(np.isfinite(np.asarray(out)))
    np.testing.assert_allclose(np.asarray(out[:9]), np.asarray(model(x, graph)),
                               **tol(jnp.float64))


def test_gat_gradients_are_finite_when_a_node_has_no_unmasked_edge():
    _, graph = _random_graph(seed=9)
    graph = _with_weights(graph, np.zeros(graph.senders.shape[0]))  # every edge masked
    conv = gnn.GATConv(4, 8, param_dtype=jnp.float64, rngs=nnx.Rngs(4))
    x = _features(9, 4, jnp.float64)
    grads = nnx.grad(lambda m: jnp.sum(m(x, graph) ** 2))(conv)
    assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in jax.tree.leaves(grads))
    # only the self-loops remain: alpha = 1 and out = x W + b
    expected = np.asarray(x) @ np.asarray(conv.kernel[...])
    np.testing.assert_allclose(np.asarray(conv(x, graph)), expected, **tol(jnp.float64))


def test_masked_segment_softmax_gives_zeros_for_empty_segments():
    logits = jnp.array([[1.0], [2.0], [3.0]])
    out = gnn.masked_segment_softmax(logits, jnp.array([0, 0, 1]), 3,
                                     jnp.array([True, True, False]))
    expected = np.array([np.exp(1) / (np.exp(1) + np.exp(2)), np.exp(2) / (np.exp(1) + np.exp(2)),
                         0.0])
    np.testing.assert_allclose(np.asarray(out[:, 0]), expected, **tol(jnp.float64))


def test_jit_gives_the_same_logits_as_eager():
    _, graph = _random_graph(seed=10)
    model = multiscale.multiscale_classifier("MB", 4, 3, hidden=8, conv="gat",
                                      param_dtype=jnp.float64, rngs=nnx.Rngs(5))
    x = _features(9, 4, jnp.float64)
    jitted = nnx.jit(lambda m, x, g: m(x, [g, g]))
    np.testing.assert_allclose(np.asarray(jitted(model, x, graph)),
                               np.asarray(model(x, [graph, graph])), **tol(jnp.float64))


def test_variants_read_the_documented_graphs_and_reject_missing_ones():
    assert multiscale.variant_graphs("sb", "g") == ("g",)
    assert multiscale.variant_graphs("MB", "g") == ("g", "g")
    assert multiscale.variant_graphs("SR", "g", ["r"]) == ("r",)
    assert multiscale.variant_graphs("MR", "g", ["r1", "r2"]) == ("g", "r1", "r2")
    assert [multiscale.num_graphs_of(v) for v in multiscale.VARIANTS] == [1, 2, 1, 2]
    with pytest.raises(ValueError, match="renormalised"):
        multiscale.variant_graphs("MR", "g")
    with pytest.raises(ValueError, match="exactly one"):
        multiscale.variant_graphs("SR", "g", ["r1", "r2"])
    with pytest.raises(ValueError, match="variant must be"):
        multiscale.variant_graphs("XX", "g")
    model = multiscale.multiscale_classifier("MB", 4, 3, hidden=8, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="2 encoder"):
        model(jnp.ones((2, 4), jnp.float32), [_random_graph(2, seed=0)[1]])


def test_multiscale_head_reads_the_concatenated_encoder_embeddings():
    _, graph = _random_graph(seed=11)
    x = _features(9, 4, jnp.float64)
    model = multiscale.multiscale_classifier("MB", 4, 3, hidden=8, param_dtype=jnp.float64,
                                      rngs=nnx.Rngs(6))
    parts = [np.asarray(enc(x, graph)) for enc in model.encoders]
    expected = (np.concatenate(parts, axis=1) @ np.asarray(model.head.kernel[...])
                + np.asarray(model.head.bias[...]))
    assert parts[0].shape == (9, 8) and not np.allclose(parts[0], parts[1])
    np.testing.assert_allclose(np.asarray(model(x, [graph, graph])), expected, **tol(jnp.float64))


def test_encoder_block_is_residual_layernorm_relu_of_the_conv():
    _, graph = _random_graph(seed=12)
    x = _features(9, 6, jnp.float64)
    enc = gnn.GraphEncoder(6, None, conv="gcn", num_layers=1, param_dtype=jnp.float64,
                           rngs=nnx.Rngs(7))
    c = np.asarray(enc.convs[0](x, graph))
    normed = (c - c.mean(1, keepdims=True)) / np.sqrt(c.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(np.asarray(enc(x, graph)),
                               np.asarray(x) + np.maximum(normed, 0.0), **tol(jnp.float64))


def test_gat_width_must_be_divisible_by_heads():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        gnn.GraphEncoder(10, None, conv="gat", rngs=nnx.Rngs(0))


def test_kipf_l2_loss_covers_only_the_first_layer_and_dropout_needs_a_key():
    model = gnn.KipfGCN(4, 3, param_dtype=jnp.float64, rngs=nnx.Rngs(8))
    w1 = np.asarray(model.conv1.kernel[...])
    np.testing.assert_allclose(float(model.l2_loss()), 0.5 * np.sum(w1**2), rtol=1e-6)
    _, graph = _random_graph(seed=13)
    x = _features(9, 4, jnp.float64)
    a, b = model(x, [graph]), model(x, [graph])
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.allclose(np.asarray(model(x, [graph], key=jax.random.key(0))), np.asarray(a))


def test_dropout_keeps_the_expectation():
    x = jnp.ones((200, 200), jnp.float64)
    out = np.asarray(gnn.dropout(x, 0.5, jax.random.key(1)))
    assert set(np.unique(out)) == {0.0, 2.0}
    assert abs(out.mean() - 1.0) < 0.02  # 40000 Bernoulli(1/2) draws: std of the mean 0.005


def test_torch_init_draws_weights_and_biases_from_pytorch_uniform_bound():
    from jaxrg.studies._common.layers import linear

    fan_in = 400
    layer = linear(fan_in, 300, init="torch", rngs=nnx.Rngs(0))
    w, b = np.asarray(layer.kernel[...]), np.asarray(layer.bias[...])
    bound = 1 / np.sqrt(fan_in)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(±a) has std a/sqrt(3): sqrt(3) times smaller than Flax's LeCun normal 1/sqrt(fan_in)
    assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)
    assert b.std() > 0.4 * bound / np.sqrt(3)
    flax_layer = linear(fan_in, 300, rngs=nnx.Rngs(0))
    assert np.all(np.asarray(flax_layer.bias[...]) == 0)
    assert np.asarray(flax_layer.kernel[...]).std() == pytest.approx(1 / np.sqrt(fan_in), rel=0.1)
    with pytest.raises(ValueError, match="init must be one of"):
        linear(3, 2, init="kaiming", rngs=nnx.Rngs(0))


def test_multiscale_classifier_init_option_reaches_projection_and_head():
    from jaxrg.studies.node_classification.multiscale import MultiscaleClassifier

    flax_model = MultiscaleClassifier(50, 4, num_graphs=2, hidden=16, rngs=nnx.Rngs(0))
    torch_model = MultiscaleClassifier(50, 4, num_graphs=2, hidden=16, init="torch",
                                       rngs=nnx.Rngs(0))
    assert np.all(np.asarray(flax_model.head.bias[...]) == 0)
    assert np.any(np.asarray(torch_model.head.bias[...]) != 0)
    for enc in torch_model.encoders:
        assert np.abs(np.asarray(enc.projection.kernel[...])).max() <= 1 / np.sqrt(50)
    # the default is unchanged: the same draws as a plain nnx.Linear
    plain = nnx.Linear(32, 4, rngs=nnx.Rngs(7))
    from jaxrg.studies._common.layers import linear

    np.testing.assert_array_equal(np.asarray(linear(32, 4, rngs=nnx.Rngs(7)).kernel[...]),
                                  np.asarray(plain.kernel[...]))
