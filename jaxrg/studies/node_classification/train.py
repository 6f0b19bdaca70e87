"""Full-batch node classification, several seeds at once (``jax.vmap`` over PRNG keys).

One compiled program trains S models (one per seed) in lock-step: parameters are initialised by
a vmapped model factory, every epoch is a vmapped Adam step on the training propagation graph
followed by a vmapped evaluation on the full graphs, and epochs run inside ``lax.scan`` (in
chunks, so a tqdm bar can report progress). Two training propagations:

- ``"subgraph"`` (Caso et al. 2025): the encoders see only the subgraph induced by the training
  nodes (features and edges of the training nodes only); validation and test use the full graphs.
- ``"full"`` (Kipf & Welling 2017, transductive): the full graphs in training too; the loss is
  taken on the training nodes.

Selection: the best-validation checkpoint (first epoch with the highest validation accuracy, as a
strict ``>`` over epochs), the last epoch, and, for any epoch budget B, the test accuracy of the
best-validation epoch among the first B (:func:`accuracy_at_budgets`); optional early stopping
with Kipf's rule (stop when the validation loss exceeds the mean of the previous ``window``).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import jraph
import numpy as np
import optax
from flax import nnx

from jaxrg.studies._common.engine import map_seeds, optimizer_step, tree_where, with_x64
from jaxrg.studies.node_classification.gnn import DenseOperator, gcn_operator, prefers_dense

__all__ = [
    "OPERATORS",
    "PROPAGATIONS",
    "TrainInputs",
    "TrainResult",
    "Trainer",
    "accuracy_at_budgets",
    "check_label_range",
    "fit",
    "induced_subgraph",
    "make_trainer",
    "prepare_inputs",
    "train_node_classifier",
]

PROPAGATIONS = ("subgraph", "full")
#: how a GCN propagates over each graph: its edge list (gather and scatter), a dense matrix
#: (:class:`~jaxrg.studies.node_classification.gnn.DenseOperator`), or whichever
#: :func:`~jaxrg.studies.node_classification.gnn.prefers_dense` picks per graph
OPERATORS = ("edges", "dense", "auto")


class TrainResult(NamedTuple):
    """Per-seed training curves and selected accuracies (leading axis: seed; T = epochs).

    Attributes:
        train_loss, val_loss, val_acc, test_acc: float (S, T); epoch t is measured after the
            update of epoch t (frozen values after an early stop).
        best_epoch: int (S,), 0-based epoch of the best-validation checkpoint.
        best_val_acc, best_test_acc: float (S,), its validation/test accuracy.
        stop_epoch: int (S,), the last epoch whose update was applied (T − 1 without early
            stopping).
        last_test_acc: float (S,), test accuracy of the model at ``stop_epoch``.
        params: the best-validation parameters (``nnx.State``, leading axis S); rebuild a model
            with ``nnx.merge(graphdef, jax.tree.map(lambda a: a[s], params))``.
        graphdef: the model's ``nnx.GraphDef``.
        wall_time_s: seconds for the whole call (compilation included).
        correct_bits: uint8 ``(S, T, ceil(N/8))``, per epoch the nodes whose prediction was
            right, bit-packed along nodes (``np.unpackbits(..., count=N)``); None unless the
            trainer was built with ``record_correct=True``. Per-node correctness is what the
            authors' significance test pools over seeds.
    """

    train_loss: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    test_acc: np.ndarray
    best_epoch: np.ndarray
    best_val_acc: np.ndarray
    best_test_acc: np.ndarray
    stop_epoch: np.ndarray
    last_test_acc: np.ndarray
    params: Any
    graphdef: Any
    wall_time_s: float
    correct_bits: np.ndarray | None = None


def induced_subgraph(graph: jraph.GraphsTuple, nodes: np.ndarray) -> jraph.GraphsTuple:
    """The subgraph induced by ``nodes`` (sorted ids), relabelled 0..k−1 in their order.

    Keeps every edge whose two ends are in ``nodes``; ``edges`` becomes float32 ones (weights).

    Args:
        graph: ``jraph.GraphsTuple`` holding one graph of ``N`` nodes (``senders``/``receivers``
            ``(E,)``).
        nodes: ``(k,)`` sorted node ids to keep.

    Returns:
        ``jraph.GraphsTuple`` with ``n_node = [k]``, int32 ``senders``/``receivers`` and float32
        ``edges`` of shape ``(E',)`` (the ``E'`` kept edges), ``nodes``/``globals`` None.

    Examples:
        >>> g = jraph.GraphsTuple(nodes=None, edges=None, senders=np.array([0, 1, 1, 2]),
        ...                       receivers=np.array([1, 0, 2, 1]), globals=None,
        ...                       n_node=np.array([3]), n_edge=np.array([4]))
        >>> sub = induced_subgraph(g, np.array([1, 2]))
        >>> sub.senders.tolist(), sub.receivers.tolist()
        ([0, 1], [1, 0])
    """
    nodes = np.asarray(nodes)
    num_nodes = int(np.asarray(graph.n_node).sum())
    new_id = np.full(num_nodes, -1, dtype=np.int64)
    new_id[nodes] = np.arange(nodes.size)
    senders, receivers = np.asarray(graph.senders), np.asarray(graph.receivers)
    keep = (new_id[senders] >= 0) & (new_id[receivers] >= 0)
    return jraph.GraphsTuple(
        nodes=None, globals=None, senders=new_id[senders[keep]].astype(np.int32),
        receivers=new_id[receivers[keep]].astype(np.int32),
        edges=np.ones(int(keep.sum()), dtype=np.float32),
        n_node=np.array([nodes.size], dtype=np.int32),
        n_edge=np.array([int(keep.sum())], dtype=np.int32))


def _stack_padded(graphs: Sequence[jraph.GraphsTuple]) -> jraph.GraphsTuple:
    """Stack same-node-count graphs along a new seed axis, padding edges with weight-0 edges."""
    num_edges = max(g.senders.shape[0] for g in graphs)

    def pad(a, value):
        return np.concatenate([a, np.full(num_edges - a.shape[0], value, dtype=a.dtype)])

    return jraph.GraphsTuple(
        nodes=None, globals=None,
        senders=np.stack([pad(g.senders, 0) for g in graphs]),
        receivers=np.stack([pad(g.receivers, 0) for g in graphs]),
        edges=np.stack([pad(g.edges, 0.0) for g in graphs]),
        n_node=np.stack([g.n_node for g in graphs]), n_edge=np.stack([g.n_edge for g in graphs]))


def _device_graph(graph: jraph.GraphsTuple) -> jraph.GraphsTuple:
    """Edge structure only (``nodes``/``globals`` dropped), as jax arrays."""
    edges = None if graph.edges is None else jnp.asarray(graph.edges, jnp.float32)
    return jraph.GraphsTuple(nodes=None, globals=None, edges=edges,
                             senders=jnp.asarray(graph.senders, jnp.int32),
                             receivers=jnp.asarray(graph.receivers, jnp.int32),
                             n_node=jnp.asarray(graph.n_node), n_edge=jnp.asarray(graph.n_edge))


def _per_seed_masks(mask, num_seeds: int, num_nodes: int, name: str) -> np.ndarray:
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim == 1 and mask.shape[0] == num_nodes:
        mask = np.broadcast_to(mask, (num_seeds, num_nodes))
    if mask.shape != (num_seeds, num_nodes):
        raise ValueError(f"{name} must be (N,) = ({num_nodes},) or (S, N) = ({num_seeds}, "
                         f"{num_nodes}), got shape {mask.shape}")
    return mask


def _train_inputs(graphs, train_mask: np.ndarray, propagation: str):
    """Per-seed training node ids (S, k), loss mask (S, k) and training graphs (or None)."""
    num_seeds, num_nodes = train_mask.shape
    if propagation == "full":
        idx = np.broadcast_to(np.arange(num_nodes), (num_seeds, num_nodes))
        return np.ascontiguousarray(idx, dtype=np.int32), train_mask, None
    counts = train_mask.sum(axis=1)
    if np.any(counts != counts[0]) or counts[0] == 0:
        raise ValueError(f"every seed needs the same positive number of training nodes for "
                         f"subgraph propagation, got {sorted(set(counts.tolist()))}")
    idx = np.stack([np.flatnonzero(m) for m in train_mask]).astype(np.int32)
    subgraphs = tuple(_stack_padded([induced_subgraph(g, nodes) for nodes in idx])
                      for g in graphs)
    return idx, np.ones(idx.shape, dtype=bool), subgraphs


def _masked_mean(values, mask):
    weights = mask.astype(values.dtype)
    return jnp.sum(values * weights) / jnp.maximum(jnp.sum(weights), 1.0)


class TrainInputs(NamedTuple):
    """Device arrays of one training problem (see :func:`prepare_inputs`); leading S = seeds.

    ``N`` nodes, ``F`` features, ``k`` training nodes per seed (``k = N`` under ``"full"``
    propagation).

    Attributes:
        features: float32 ``(N, F)``.
        labels: int32 ``(N,)``, -1 for unlabelled nodes.
        eval_graphs: tuple of ``jraph.GraphsTuple`` (one per encoder, ``N`` nodes each), used for
            validation and test.
        train_graphs: tuple of stacked, padded training subgraphs (leading axis S), one per
            encoder; None under ``"full"`` propagation.
        train_idx: int32 ``(S, k)`` node ids each seed trains on.
        loss_mask: bool ``(S, k)``, the entries of ``train_idx`` that enter the loss.
        val_mask, test_mask: bool ``(S, N)``.
        operators: ``"edges"`` or ``"dense"`` per graph: how a GCN propagates over it (the
            graphs of a ``"dense"`` entry are :class:`DenseOperator` s).
    """

    features: Any
    labels: Any
    eval_graphs: tuple
    train_graphs: tuple | None
    train_idx: Any
    loss_mask: Any
    val_mask: Any
    test_mask: Any
    operators: tuple = ()


def prepare_inputs(features, labels, graphs: Sequence[jraph.GraphsTuple], train_mask, val_mask,
                   test_mask, *, num_seeds: int, propagation: str = "subgraph",
                   operator: str = "edges") -> TrainInputs:
    """Validate and move a problem to the device (training subgraphs built on the host).

    Args:
        features: float ``(N, F)``.
        labels: int ``(N,)``, -1 for unlabelled nodes.
        graphs: the full graphs, one per encoder (``jraph.GraphsTuple``, ``N`` nodes each).
        train_mask, val_mask, test_mask: bool ``(N,)`` shared by all seeds, or ``(S, N)``.
        num_seeds: ``S``.
        propagation: ``"subgraph"`` or ``"full"`` (see :func:`train_node_classifier`).
        operator: one of :data:`OPERATORS`, for every graph: ``"edges"`` (default),
            ``"dense"`` (a :class:`DenseOperator` per graph; for GCN encoders only), or
            ``"auto"`` (dense where :func:`prefers_dense` says so for the full graph and, for
            the ``S`` training subgraphs, their memory).

    Returns:
        :class:`TrainInputs` with leading seed axis ``S`` on the per-seed fields.

    Raises:
        ValueError: bad ``propagation`` or ``operator``, mask shapes, overlapping
            train/val/test masks, label ids below -1, graphs of the wrong size, unlabelled
            training nodes, or unequal training-set sizes across seeds under subgraph
            propagation.
    """
    if propagation not in PROPAGATIONS:
        raise ValueError(f"propagation must be one of {PROPAGATIONS}, got {propagation!r}")
    if operator not in OPERATORS:
        raise ValueError(f"operator must be one of {OPERATORS}, got {operator!r}")
    features = jnp.asarray(features, jnp.float32)
    labels_np = np.asarray(labels, dtype=np.int32)
    num_nodes = features.shape[0]
    for g in graphs:
        if int(np.asarray(g.n_node).sum()) != num_nodes:
            raise ValueError(f"every graph must have N = features.shape[0] = {num_nodes} nodes")
    if labels_np.shape != (num_nodes,):
        raise ValueError(f"labels must be (N,) = ({num_nodes},) class ids, got shape "
                         f"{labels_np.shape}")
    if labels_np.size and labels_np.min() < -1:
        raise ValueError(f"labels must be class ids 0..C-1 or -1 (unlabelled), got "
                         f"{int(labels_np.min())}; relabel the classes to 0..C-1")
    train_mask = _per_seed_masks(train_mask, num_seeds, num_nodes, "train_mask")
    val_mask = _per_seed_masks(val_mask, num_seeds, num_nodes, "val_mask")
    test_mask = _per_seed_masks(test_mask, num_seeds, num_nodes, "test_mask")
    for (name_a, a), (name_b, b) in itertools.combinations(
            (("train_mask", train_mask), ("val_mask", val_mask), ("test_mask", test_mask)), 2):
        shared = a & b
        if np.any(shared):
            seed, node = (int(i[0]) for i in np.nonzero(shared))
            raise ValueError(f"{name_a} and {name_b} overlap ({int(shared.sum())} node(s), e.g. "
                             f"node {node} of seed {seed}); the splits must be disjoint - build "
                             "them with jaxrg.datasets.random_split")
    if np.any(train_mask & (labels_np[None, :] < 0)):
        raise ValueError("train_mask selects unlabelled nodes (label -1)")
    idx, loss_mask, train_graphs = _train_inputs(graphs, train_mask, propagation)
    dense = [operator == "dense" or (operator == "auto" and prefers_dense(
        num_nodes, g.senders.shape[0]) and (train_graphs is None or prefers_dense(
            idx.shape[1], g.senders.shape[0], copies=num_seeds))) for g in graphs]

    def device(graph, as_dense, nodes):
        if not as_dense:
            return _device_graph(graph)
        return DenseOperator(jnp.asarray(gcn_operator(graph.senders, graph.receivers,
                                                      graph.edges, nodes)))

    return TrainInputs(
        features=features, labels=jnp.asarray(labels_np),
        eval_graphs=tuple(device(g, d, num_nodes) for g, d in zip(graphs, dense, strict=True)),
        train_graphs=None if train_graphs is None else tuple(
            device(g, d, idx.shape[1]) for g, d in zip(train_graphs, dense, strict=True)),
        train_idx=jnp.asarray(idx), loss_mask=jnp.asarray(loss_mask),
        val_mask=jnp.asarray(val_mask), test_mask=jnp.asarray(test_mask),
        operators=tuple("dense" if d else "edges" for d in dense))


def check_label_range(model_fn: Callable[[nnx.Rngs], nnx.Module], inputs: TrainInputs) -> int:
    """The model's number of classes C (abstract evaluation); labels >= C raise ``ValueError``.

    An id >= C would make the cross-entropy read past the logits (NaN loss, silently).

    Args:
        model_fn: ``rngs -> model``, as for :func:`make_trainer`.
        inputs: the :class:`TrainInputs` whose labels are checked.

    Returns:
        C, the number of classes the model outputs.

    Raises:
        ValueError: a label id is >= C.
    """
    def forward():
        return model_fn(nnx.Rngs(0))(inputs.features, inputs.eval_graphs)

    num_classes = int(jax.eval_shape(forward).shape[-1])
    top = int(jnp.max(inputs.labels))
    if top >= num_classes:
        raise ValueError(f"labels hold class id {top} but the model outputs {num_classes} "
                         f"classes; labels must lie in 0..{num_classes - 1} (-1 = unlabelled): "
                         f"build the model with num_classes = labels.max() + 1 = {top + 1}")
    return num_classes


class Trainer(NamedTuple):
    """Compiled training program (see :func:`make_trainer`).

    Reuse it across calls of :func:`fit` with inputs of the same shapes to compile once.

    Attributes:
        graphdef: the model's ``nnx.GraphDef``.
        init: ``init(keys)``, keys ``(S,)``: the seed-vmapped initial training state.
        run_chunk: jitted ``run_chunk(carry, keys, train_idx, loss_mask, train_graphs, val_mask,
            test_mask, epoch0, features, labels, eval_graphs)`` running ``chunk`` epochs; returns
            the new carry and per-epoch curves of shape ``(S, chunk)``.
        epochs: total number of epochs ``T`` (int).
        chunk: epochs per ``run_chunk`` call (int).
        num_chunks: calls needed to cover ``T`` epochs (int).
        record_correct: whether ``run_chunk`` also returns per-node correctness (S, chunk, N).
    """

    graphdef: Any
    init: Callable
    run_chunk: Callable
    epochs: int
    chunk: int
    num_chunks: int
    record_correct: bool = False


def make_trainer(model_fn: Callable[[nnx.Rngs], nnx.Module], *, epochs: int,
                 learning_rate: float = 1e-3, weight_decay: float = 0.0,
                 early_stopping: int = 0, chunk: int = 50,
                 seed_batch: int | None = None, record_correct: bool = False) -> Trainer:
    """Build the jitted, seed-vmapped programs: ``init(keys)`` and ``run_chunk(carry, ...)``.

    Args:
        model_fn: builds a model from ``nnx.Rngs`` (see :func:`train_node_classifier`).
        epochs: number of full-batch steps ``T``.
        learning_rate: Adam step size.
        weight_decay: coefficient of ``l2_loss()`` in the loss.
        early_stopping: Kipf's window (0 = off).
        chunk: epochs per compiled ``lax.scan`` call (evened out over the chunks).
        seed_batch: seeds vmapped together (None: all).
        record_correct: also return, per epoch, which nodes are predicted right.

    Returns:
        A :class:`Trainer`.

    Raises:
        ValueError: ``epochs < 1``.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    window = max(int(early_stopping), 1)
    num_chunks = -(-epochs // chunk)
    chunk = -(-epochs // num_chunks)  # even chunks: at most num_chunks - 1 wasted steps
    graphdef = nnx.graphdef(nnx.eval_shape(lambda: model_fn(nnx.Rngs(0))))
    optimizer = optax.adam(learning_rate)

    def init_one(key):
        params = nnx.state(model_fn(nnx.Rngs(key)), nnx.Param)
        zero = jnp.zeros((), jnp.float32)
        best = (params, zero - 1.0, jnp.asarray(-1, jnp.int32), zero)
        return (params, optimizer.init(params), best, jnp.zeros((), bool),
                jnp.zeros((window,), jnp.float32))

    def objective(p, x, graphs_, y, mask, key):
        model = nnx.merge(graphdef, p)
        logits = model(x, graphs_, key=key)
        ce = _masked_mean(optax.softmax_cross_entropy_with_integer_labels(
            logits, jnp.maximum(y, 0)), mask)
        reg = model.l2_loss() if weight_decay else jnp.zeros((), jnp.float32)
        return ce + weight_decay * reg, logits

    def seed_chunk(carry, key, idx_s, loss_mask_s, train_graphs_s, val_s, test_s, epoch0,
                   features, labels, eval_graphs):
        graphs_s = eval_graphs if train_graphs_s is None else train_graphs_s
        x_train, y_train = features[idx_s], labels[idx_s]

        def step(carry, epoch):
            p, opt_state, best, stopped, history = carry
            (loss, _), grads = jax.value_and_grad(objective, has_aux=True)(
                p, x_train, graphs_s, y_train, loss_mask_s, jax.random.fold_in(key, epoch))
            new_p, new_opt = optimizer_step(optimizer, grads, opt_state, p)
            active = jnp.logical_and(jnp.logical_not(stopped), epoch < epochs)
            p = tree_where(active, new_p, p)
            opt_state = tree_where(active, new_opt, opt_state)
            val_obj, logits = objective(p, features, eval_graphs, labels, val_s, None)
            correct = (jnp.argmax(logits, axis=-1).astype(labels.dtype) == labels).astype(
                jnp.float32)
            val_acc = _masked_mean(correct, val_s)
            test_acc = _masked_mean(correct, test_s)
            best_p, best_val, best_epoch, best_test = best
            improved = jnp.logical_and(active, val_acc > best_val)
            best = (tree_where(improved, p, best_p), jnp.where(improved, val_acc, best_val),
                    jnp.where(improved, epoch, best_epoch),
                    jnp.where(improved, test_acc, best_test))
            if early_stopping:  # Kipf: stop when the loss exceeds the mean of the last window
                stop_now = jnp.logical_and(epoch > window, val_obj > jnp.mean(history))
                stopped = jnp.logical_or(stopped, jnp.logical_and(active, stop_now))
            history = jnp.where(active, jnp.roll(history, -1).at[-1].set(val_obj), history)
            out = (loss, val_obj, val_acc, test_acc, active)
            if record_correct:
                out = out + (correct > 0,)
            return (p, opt_state, best, stopped, history), out

        return jax.lax.scan(step, carry, epoch0 + jnp.arange(chunk, dtype=jnp.int32))

    def run_chunk(carry, keys, idx, loss_mask, train_graphs, val, test, epoch0, features,
                  labels, eval_graphs):
        def one(per_seed):
            return seed_chunk(*per_seed, epoch0, features, labels, eval_graphs)

        return map_seeds(one, (carry, keys, idx, loss_mask, train_graphs, val, test),
                         batch=seed_batch)

    # init runs once per fit: op-by-op dispatch (cached per primitive) beats compiling it
    return Trainer(graphdef, jax.vmap(init_one), jax.jit(run_chunk), epochs, chunk, num_chunks,
                   record_correct)


@with_x64
def fit(trainer: Trainer, keys, inputs: TrainInputs, *, progress: bool = True,
        desc: str = "training") -> TrainResult:
    """Run a :class:`Trainer` for one model per key on ``inputs``.

    See :func:`train_node_classifier` for the loss, the checkpoint selection and early stopping.
    The training runs with ``jax_enable_x64`` on, whatever the caller's setting
    (:func:`jaxrg.studies._common.engine.with_x64`: the only float64 operation is Adam's bias
    correction, rounded to float32), so a Python session and the CLI give the same numbers for
    the same seed.

    Args:
        trainer: from :func:`make_trainer`.
        keys: ``(S,)`` PRNG keys (typed keys, or raw key data ``(S, 2)`` uint32).
        inputs: :class:`TrainInputs` prepared for ``S`` seeds.
        progress: show a tqdm bar.
        desc: the bar's label.

    Returns:
        :class:`TrainResult` with curves ``(S, T)`` and per-seed values ``(S,)``.

    Raises:
        ValueError: ``inputs`` prepared for another number of seeds than ``len(keys)``.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    keys = jnp.asarray(keys)
    if not jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        keys = jax.random.wrap_key_data(keys)
    num_seeds = keys.shape[0]
    if inputs.train_idx.shape[0] != num_seeds:
        raise ValueError(f"inputs were prepared for {inputs.train_idx.shape[0]} seeds but "
                         f"{num_seeds} keys were given")
    curves, bits = [], []
    epochs, chunk = trainer.epochs, trainer.chunk
    with tqdm(total=epochs, desc=desc, disable=not progress, unit="epoch", leave=False) as bar:
        carry = trainer.init(keys)
        for c in range(trainer.num_chunks):
            carry, out = trainer.run_chunk(
                carry, keys, inputs.train_idx, inputs.loss_mask, inputs.train_graphs,
                inputs.val_mask, inputs.test_mask, jnp.asarray(c * chunk, jnp.int32),
                inputs.features, inputs.labels, inputs.eval_graphs)
            out = jax.tree.map(np.asarray, out)
            if trainer.record_correct:  # (S, chunk, N) bool, packed at once to keep memory low
                bits.append(np.packbits(out[-1], axis=-1))
                out = out[:-1]
            curves.append(out)
            bar.update(min(chunk, epochs - c * chunk))
    loss, val_obj, val_acc, test_acc, active = (np.concatenate(parts, axis=1)[:, :epochs]
                                                for parts in zip(*curves, strict=True))
    best_p, best_val, best_epoch, best_test = carry[2]
    stop_epoch = active.sum(axis=1) - 1
    rows = np.arange(num_seeds)
    return TrainResult(
        train_loss=loss, val_loss=val_obj, val_acc=val_acc, test_acc=test_acc,
        best_epoch=np.asarray(best_epoch), best_val_acc=np.asarray(best_val),
        best_test_acc=np.asarray(best_test), stop_epoch=stop_epoch,
        last_test_acc=test_acc[rows, stop_epoch], params=best_p, graphdef=trainer.graphdef,
        wall_time_s=time.perf_counter() - start,
        correct_bits=np.concatenate(bits, axis=1)[:, :epochs] if bits else None)


def train_node_classifier(model_fn: Callable[[nnx.Rngs], nnx.Module], features, labels,
                          graphs: Sequence[jraph.GraphsTuple], train_mask, val_mask, test_mask,
                          *, keys, epochs: int, learning_rate: float = 1e-3,
                          weight_decay: float = 0.0, propagation: str = "subgraph",
                          early_stopping: int = 0, chunk: int = 50,
                          seed_batch: int | None = None, progress: bool = True,
                          desc: str = "training", record_correct: bool = False) -> TrainResult:
    """Train one model per PRNG key, all at once (one compiled, vmapped program).

    Loss: mean cross-entropy over the training nodes + ``weight_decay`` × ``model.l2_loss()``
    (½ Σ w² over the weights the model chooses). Optimiser: ``optax.adam(learning_rate)``.

    Args:
        model_fn: builds a model from ``nnx.Rngs``; the model is called as
            ``model(x, graphs, *, key=None) -> logits (N, C)`` (``key`` turns dropout on) and,
            when ``weight_decay > 0``, has ``l2_loss()``. Models must hold only ``nnx.Param``
            state.
        features: float (N, F).
        labels: int (N,), -1 for unlabelled nodes.
        graphs: the full graphs, one per encoder (``jraph.GraphsTuple``, N nodes each).
        train_mask, val_mask, test_mask: bool (N,) shared by all seeds, or (S, N) per seed.
        keys: (S,) PRNG keys (e.g. ``jnp.stack([jax.random.key(s) for s in seeds])``); each
            seeds the initialisation and the dropout of one model.
        epochs: number of full-batch steps T.
        learning_rate: Adam step size.
        weight_decay: coefficient of ``l2_loss()`` in the loss.
        propagation: ``"subgraph"`` or ``"full"`` (see the module docstring).
        early_stopping: Kipf's window (0 = off): stop a seed when its validation loss (the
            training objective evaluated on the validation nodes) exceeds the mean of its
            previous ``early_stopping`` values, after epoch ``early_stopping``.
        chunk: epochs per compiled ``lax.scan`` call (the progress bar advances per chunk).
        seed_batch: seeds vmapped together. None (default): all seeds in one ``jax.vmap``;
            b: ``jax.lax.map(..., batch_size=b)`` vmaps blocks of b seeds and loops over the
            blocks inside the same compiled program (on a CPU, b = 1 keeps each seed's arrays
            in cache and is faster; on an accelerator, vmap all seeds).
        progress: show a tqdm bar.
        desc: the bar's label.
        record_correct: also keep, per epoch, which nodes are predicted right
            (``TrainResult.correct_bits``).

    Returns:
        A :class:`TrainResult`.

    Raises:
        ValueError: bad ``propagation`` or ``epochs``, mask shapes, overlapping masks, label
            ids outside 0..C-1 (C = the model's outputs), or unequal training-set sizes across
            seeds under subgraph propagation.
    """
    num_seeds = jnp.asarray(keys).shape[0]
    inputs = prepare_inputs(features, labels, graphs, train_mask, val_mask, test_mask,
                            num_seeds=num_seeds, propagation=propagation)
    check_label_range(model_fn, inputs)
    trainer = make_trainer(model_fn, epochs=epochs, learning_rate=learning_rate,
                           weight_decay=weight_decay, early_stopping=early_stopping, chunk=chunk,
                           seed_batch=seed_batch, record_correct=record_correct)
    return fit(trainer, keys, inputs, progress=progress, desc=desc)


def accuracy_at_budgets(val_acc: np.ndarray, test_acc: np.ndarray,
                        budgets: Sequence[int]) -> np.ndarray:
    """Test accuracy of the best-validation epoch among the first B epochs, for each budget B.

    Matches a run that trains for B epochs and keeps the first epoch with the highest validation
    accuracy (Caso et al.'s ``new_train.py`` evaluates its epoch budgets this way).

    Args:
        val_acc, test_acc: (S, T) per-epoch curves.
        budgets: epoch budgets, each in 1..T.

    Returns:
        float (S, len(budgets)).

    Examples:
        >>> val = np.array([[0.1, 0.5, 0.5, 0.9]])
        >>> test = np.array([[0.2, 0.6, 0.7, 0.8]])
        >>> accuracy_at_budgets(val, test, [1, 3, 4]).tolist()
        [[0.2, 0.6, 0.8]]
    """
    val_acc, test_acc = np.asarray(val_acc), np.asarray(test_acc)
    out = np.empty((val_acc.shape[0], len(budgets)), dtype=test_acc.dtype)
    for j, budget in enumerate(budgets):
        if not 1 <= budget <= val_acc.shape[1]:
            raise ValueError(f"budgets must lie in 1..{val_acc.shape[1]}, got {budget}")
        best = np.argmax(val_acc[:, :budget], axis=1)
        out[:, j] = test_acc[np.arange(val_acc.shape[0]), best]
    return out
