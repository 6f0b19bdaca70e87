"""Vmapped multi-seed training: equals separate runs, respects the training subgraph, selects
the best-validation checkpoint; one short real-data smoke test."""

import jax
import jax.numpy as jnp
import jraph
import networkx as nx
import numpy as np
import pytest
from flax import nnx
from jax._src import dispatch, monitoring

from jaxrg.studies.node_classification import gnn
from jaxrg.studies.node_classification.multiscale import MultiscaleClassifier
from jaxrg.studies.node_classification.train import (
    accuracy_at_budgets,
    fit,
    induced_subgraph,
    make_trainer,
    prepare_inputs,
    train_node_classifier,
)

N, F, C = 24, 5, 3


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    graph = nx.connected_watts_strogatz_graph(N, 4, 0.3, seed=seed)
    edges = np.array(list(graph.edges()))
    senders = np.concatenate([edges[:, 0], edges[:, 1]]).astype(np.int32)
    receivers = np.concatenate([edges[:, 1], edges[:, 0]]).astype(np.int32)
    g = jraph.GraphsTuple(nodes=None, edges=None, senders=senders, receivers=receivers,
                          globals=None, n_node=np.array([N]), n_edge=np.array([senders.size]))
    labels = rng.integers(0, C, N).astype(np.int32)
    features = (np.eye(C)[labels] @ rng.normal(size=(C, F)) + 0.5 * rng.normal(size=(N, F)))
    order = rng.permutation(N)
    masks = [np.zeros(N, bool) for _ in range(3)]
    masks[0][order[:10]], masks[1][order[10:17]], masks[2][order[17:]] = True, True, True
    return features.astype(np.float32), labels, g, masks


def _model_fn(num_graphs=1, conv="gcn"):
    return lambda rngs: MultiscaleClassifier(F, C, num_graphs=num_graphs, hidden=8,
                                                 conv=conv, rngs=rngs)


def _keys(seeds):
    return jnp.stack([jax.random.key(s) for s in seeds])


def test_induced_subgraph_equals_networkx_subgraph_relabelled():
    _, _, g, _ = _problem()
    nodes = np.array([1, 3, 4, 8, 9, 15, 20])
    sub = induced_subgraph(g, nodes)
    full = nx.Graph(list(zip(g.senders.tolist(), g.receivers.tolist(), strict=True)))
    reference = nx.relabel_nodes(full.subgraph(nodes.tolist()),
                                 {int(v): i for i, v in enumerate(nodes)})
    got = set(zip(sub.senders.tolist(), sub.receivers.tolist(), strict=True))
    assert got == {(u, v) for u, v in reference.edges()} | {(v, u) for u, v in reference.edges()}
    assert int(sub.n_node[0]) == nodes.size and np.all(sub.edges == 1.0)


TRACE = dispatch.JAXPR_TRACE_EVENT  # JAX's event for "a function was traced"


@pytest.fixture(scope="module")
def trained():
    """One trainer, used for 3 seeds at once and for each seed alone; also returns how often
    ``run_chunk`` was traced (JAX's own trace events, not a private cache count, which depends
    on what other tests did to JAX's global caches)."""
    traces = []

    def listener(event, duration, **kwargs):
        if event == TRACE and kwargs.get("fun_name") == "run_chunk":
            traces.append(event)

    features, labels, g, masks = _problem(1)
    trainer = make_trainer(_model_fn(), epochs=10, learning_rate=3e-2)
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        together = fit(trainer, _keys([0, 1, 2]), prepare_inputs(features, labels, [g], *masks,
                                                                 num_seeds=3), progress=False)
        single = prepare_inputs(features, labels, [g], *masks, num_seeds=1)
        alone = [fit(trainer, _keys([s]), single, progress=False) for s in range(3)]
    finally:
        monitoring.unregister_event_duration_listener(listener)
    return trainer, together, alone, (features, labels, g, masks), len(traces)


def test_vmapped_seeds_equal_separate_runs_of_the_same_compiled_trainer(trained):
    _, together, alone, _, num_traces = trained
    for s in range(3):
        # float32 sums in a different order: agreement to float32 round-off
        np.testing.assert_allclose(together.train_loss[s], alone[s].train_loss[0], rtol=2e-4,
                                   atol=2e-5)
        np.testing.assert_array_equal(together.val_acc[s], alone[s].val_acc[0])
    assert not np.allclose(together.train_loss[0], together.train_loss[1])
    assert num_traces == 2  # one program for S = 3, one for S = 1; the later seeds reuse it


def test_looping_over_seed_blocks_inside_the_program_equals_vmapping_them(trained):
    _, together, _, (features, labels, g, masks), _ = trained
    looped = make_trainer(_model_fn(), epochs=10, learning_rate=3e-2, seed_batch=2)
    result = fit(looped, _keys([0, 1, 2]), prepare_inputs(features, labels, [g], *masks,
                                                          num_seeds=3), progress=False)
    np.testing.assert_allclose(result.train_loss, together.train_loss, rtol=2e-4, atol=2e-5)
    np.testing.assert_array_equal(result.val_acc, together.val_acc)


def test_best_validation_checkpoint_is_the_first_best_epoch_and_is_returned(trained):
    _, result, _, (features, labels, g, masks), _ = trained
    for s in range(3):
        best = int(np.argmax(result.val_acc[s]))
        assert result.best_epoch[s] == best
        assert result.best_val_acc[s] == result.val_acc[s, best]
        assert result.best_test_acc[s] == result.test_acc[s, best]
        model = nnx.merge(result.graphdef, jax.tree.map(lambda a, s=s: a[s], result.params))
        pred = np.argmax(np.asarray(model(jnp.asarray(features), [g])), axis=1)
        assert np.mean(pred[masks[1]] == labels[masks[1]]) == pytest.approx(
            float(result.best_val_acc[s]), abs=1e-6)
    budgets = accuracy_at_budgets(result.val_acc, result.test_acc, [10])
    np.testing.assert_array_equal(budgets[:, 0], result.best_test_acc)


def test_subgraph_training_never_sees_non_training_nodes_or_their_edges():
    features, labels, g, masks = _problem()
    train = masks[0]
    others = np.flatnonzero(~train)
    # change everything outside the training set: features, labels and edges among/to others
    features2 = features.copy()
    features2[others] = np.random.default_rng(5).normal(size=(others.size, F))
    labels2 = labels.copy()
    labels2[others] = (labels[others] + 1) % C
    # rewire every edge end outside the training set (same edge count, so same shapes)
    relabel = np.arange(N)
    relabel[others] = np.random.default_rng(6).permutation(others)
    g2 = g._replace(senders=relabel[g.senders].astype(np.int32),
                    receivers=relabel[g.receivers].astype(np.int32))
    assert not np.array_equal(g2.senders, g.senders)
    trainer = make_trainer(_model_fn(), epochs=4, learning_rate=1e-2)
    keys = _keys([0, 1])

    def run(x, y, graph, propagation="subgraph"):
        inputs = prepare_inputs(x, y, [graph], *masks, num_seeds=2, propagation=propagation)
        return fit(trainer, keys, inputs, progress=False).train_loss

    a = run(features, labels, g)
    np.testing.assert_array_equal(a, run(features2, labels2, g2))
    assert not np.allclose(a, run(features2, labels2, g2, "full"))  # full propagation sees them


def test_accuracy_at_budgets_matches_a_loop_over_prefixes():
    rng = np.random.default_rng(0)
    val = rng.integers(0, 5, (3, 20)) / 4
    test = rng.random((3, 20))
    got = accuracy_at_budgets(val, test, [1, 7, 20])
    for s in range(3):
        for j, b in enumerate([1, 7, 20]):
            best = max(range(b), key=lambda t: (val[s, t], -t))  # first maximum
            assert got[s, j] == test[s, best]
    with pytest.raises(ValueError, match="budgets"):
        accuracy_at_budgets(val, test, [21])


def test_early_stopping_freezes_a_seed_after_its_stop_epoch():
    features, labels, g, masks = _problem(2)
    result = train_node_classifier(
        lambda rngs: gnn.KipfGCN(F, C, hidden=16, rngs=rngs), features, labels, [g], *masks,
        keys=_keys([0, 1, 2]), epochs=40, learning_rate=0.5, weight_decay=5e-4,
        propagation="full", early_stopping=3, progress=False)
    assert np.any(result.stop_epoch < 39)
    for s in range(3):
        stop = result.stop_epoch[s]
        loss = result.val_loss[s]
        assert stop == 39 or loss[stop] > loss[stop - 3:stop].mean()  # Kipf's rule fired
        assert np.all(result.val_acc[s, stop:] == result.val_acc[s, stop])
        assert result.last_test_acc[s] == result.test_acc[s, stop]


@pytest.mark.parametrize("conv", ["gcn", "gat"])
def test_training_does_not_depend_on_the_callers_x64_setting(conv):
    features, labels, g, masks = _problem(3)
    runs = []
    for x64 in (False, True):
        with jax.enable_x64(x64):
            runs.append(train_node_classifier(
                _model_fn(conv=conv), features, labels, [g], *masks, keys=_keys([0, 1]),
                epochs=60, learning_rate=1e-2, progress=False))
    # before: Adam's bias correction 1 - b**t was float64 under x64, and the curves drifted
    np.testing.assert_array_equal(runs[0].train_loss, runs[1].train_loss)
    np.testing.assert_array_equal(runs[0].val_loss, runs[1].val_loss)
    assert runs[0].train_loss.dtype == np.float32


def test_bad_inputs_are_rejected_with_the_argument_named():
    features, labels, g, masks = _problem()
    kwargs = dict(keys=_keys([0, 1]), epochs=2, progress=False)
    with pytest.raises(ValueError, match="propagation"):
        train_node_classifier(_model_fn(), features, labels, [g], *masks, propagation="x",
                              **kwargs)
    with pytest.raises(ValueError, match="train_mask"):
        train_node_classifier(_model_fn(), features, labels, [g], masks[0][:5], *masks[1:],
                              **kwargs)
    unequal = np.stack([masks[0], masks[0] & (np.arange(N) > 3)])
    with pytest.raises(ValueError, match="same positive number"):
        train_node_classifier(_model_fn(), features, labels, [g], unequal, *masks[1:], **kwargs)


@pytest.mark.slow
def test_smoke_cora_sb_gcn_learns_in_a_few_epochs(data_dir):
    from jaxrg.studies.node_classification.experiment import prepare

    data, graphs, _ = prepare("cora", variant="SB", data_dir=data_dir, progress=False)
    result = train_node_classifier(
        lambda rngs: MultiscaleClassifier(data.features.shape[1], data.num_classes,
                                              hidden=16, rngs=rngs),
        data.features, data.labels, graphs, data.train_mask, data.val_mask, data.test_mask,
        keys=_keys([0, 1]), epochs=25, learning_rate=1e-2, progress=False)
    # chance level is 1/7; the largest class holds 30 % of the test nodes
    assert np.all(result.best_test_acc > 0.55)


def test_dense_operators_train_the_same_models_as_edge_lists(monkeypatch):
    """operator='dense' (and 'auto' on a dense graph) gives the training curves of the edge
    list to float32 round-off, under subgraph and full propagation, for two graphs (MR-like);
    'auto' keeps a sparse graph's edge list; the choice is reported per graph."""
    # at 24 nodes every graph is small enough for dense; a stricter rule makes g "sparse"
    monkeypatch.setattr(gnn, "DENSE_EDGE_FACTOR", 5)
    features, labels, g, masks = _problem(3)
    dense_g = jraph.GraphsTuple(  # every pair: the shape of an LRG-rewired graph
        nodes=None, edges=None, globals=None, n_node=np.array([N]),
        senders=np.repeat(np.arange(N), N).astype(np.int32),
        receivers=np.tile(np.arange(N), N).astype(np.int32), n_edge=np.array([N * N]))
    trainer = make_trainer(_model_fn(num_graphs=2), epochs=6, learning_rate=3e-2)
    for propagation in ("subgraph", "full"):
        curves = {}
        for operator in ("edges", "dense", "auto"):
            inputs = prepare_inputs(features, labels, [g, dense_g], *masks, num_seeds=2,
                                    propagation=propagation, operator=operator)
            curves[operator] = fit(trainer, _keys([0, 1]), inputs, progress=False)
            expected = {"edges": ("edges", "edges"), "dense": ("dense", "dense"),
                        "auto": ("edges", "dense")}[operator]
            assert inputs.operators == expected
            dense_graphs = [isinstance(x, gnn.DenseOperator) for x in inputs.eval_graphs]
            assert tuple("dense" if d else "edges" for d in dense_graphs) == expected
        for operator in ("dense", "auto"):
            np.testing.assert_allclose(curves[operator].train_loss, curves["edges"].train_loss,
                                       rtol=2e-5, atol=1e-6)
            np.testing.assert_array_equal(curves[operator].val_acc, curves["edges"].val_acc)
    with pytest.raises(ValueError, match="operator must be one of"):
        prepare_inputs(features, labels, [g], *masks, num_seeds=1, operator="sparse")
