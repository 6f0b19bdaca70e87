"""Train/validation/test splits and the largest-connected-component reduction."""

from __future__ import annotations

import numpy as np

from jaxrg._checks import check_int
from jaxrg.datasets._graph import Dataset, make_dataset

__all__ = ["largest_connected_component", "ordered_split", "random_split"]


def _split_sizes(n: int, fractions: tuple[float, float, float]) -> tuple[int, int]:
    if len(fractions) != 3 or min(fractions) < 0 or sum(fractions) > 1 + 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to at most 1, "
                         f"got {fractions}")
    return int(fractions[0] * n), int(fractions[1] * n)


def _labels(labels) -> np.ndarray:
    """``labels`` as a 1-D NumPy array (one class id per node), or a ValueError naming it."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(
            f"labels must be 1-D, one class id per node (-1 = unlabelled); got shape "
            f"{labels.shape}. For one-hot labels pass labels.argmax(axis=1)."
        )
    return labels


def _masks(num_nodes: int, order: np.ndarray, fractions) -> tuple[np.ndarray, ...]:
    n_train, n_val = _split_sizes(order.size, fractions)
    n_test = order.size - n_train - n_val
    if fractions[0] + fractions[1] + fractions[2] < 1 - 1e-9:
        n_test = int(fractions[2] * order.size)
    masks = [np.zeros(num_nodes, dtype=bool) for _ in range(3)]
    masks[0][order[:n_train]] = True
    masks[1][order[n_train:n_train + n_val]] = True
    masks[2][order[n_train + n_val:n_train + n_val + n_test]] = True
    return tuple(masks)


def random_split(labels: np.ndarray, *, seed: int = 0,
                 fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)):
    """A seeded random split of the labelled nodes (label ≥ 0) into train/validation/test masks.

    Sizes: ``floor(f_train n)``, ``floor(f_val n)`` and the rest (n = number of labelled nodes;
    when the fractions sum to less than 1, test gets ``floor(f_test n)``). Not stratified.

    Args:
        labels: int (N,), -1 for unlabelled nodes (never put in a split).
        seed: seed of ``numpy.random.default_rng`` (the same seed gives the same split).
        fractions: (train, validation, test).

    Returns:
        ``(train_mask, val_mask, test_mask)``, disjoint bool (N,) arrays.

    Raises:
        ValueError: ``labels`` not 1-D, a negative ``seed``, or bad ``fractions``.
        TypeError: ``seed`` not an integer (``True`` is not a seed).

    Examples:
        >>> train, val, test = random_split(np.zeros(20, dtype=int), seed=0)
        >>> int(train.sum()), int(val.sum()), int(test.sum())
        (14, 3, 3)
    """
    labels = _labels(labels)
    seed = check_int(seed, "seed", minimum=0, meaning="random seed")
    labelled = np.flatnonzero(labels >= 0)
    order = labelled[np.random.default_rng(seed).permutation(labelled.size)]
    return _masks(labels.shape[0], order, fractions)


def ordered_split(labels: np.ndarray, *,
                  fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)):
    """The split of the authors' code for Amazon and Europe: labelled nodes taken in id order.

    Caso et al. (``graph_dataset.create_masks``) give the first 70 % of the node ids to
    training, the next 15 % to validation and the rest to test, without shuffling. Sizes as in
    :func:`random_split`: ``floor(f_train n)``, ``floor(f_val n)`` and the rest.

    Args:
        labels: int ``(N,)``, -1 for unlabelled nodes (never put in a split).
        fractions: (train, validation, test).

    Returns:
        ``(train_mask, val_mask, test_mask)``, disjoint bool ``(N,)`` arrays.

    Raises:
        ValueError: ``fractions`` not three non-negative numbers summing to at most 1, or
            ``labels`` not 1-D.

    Examples:
        >>> train, val, test = ordered_split(np.zeros(20, dtype=int))
        >>> np.flatnonzero(val).tolist()
        [14, 15, 16]
    """
    labels = _labels(labels)
    return _masks(labels.shape[0], np.flatnonzero(labels >= 0), fractions)


def largest_connected_component(dataset: Dataset) -> Dataset:
    """Restrict a dataset to its largest connected component.

    Nodes are kept in their original order and relabelled 0..n-1 (``node_ids`` records the
    original ids); features, labels and masks are carried over (split nodes outside the
    component are dropped). Ties between equally large components go to the one holding the
    smallest node id.

    Args:
        dataset: a :class:`~jaxrg.datasets.Dataset` with ``N`` nodes.

    Returns:
        The reduced :class:`~jaxrg.datasets.Dataset` (its ``graph`` rebuilt) with ``n <= N``
        nodes: adjacency ``(n, n)``, features ``(n, F)``, labels and masks ``(n,)``.
    """
    from scipy.sparse.csgraph import connected_components

    _, component = connected_components(dataset.adjacency, directed=False)
    sizes = np.bincount(component)
    keep = np.flatnonzero(component == np.argmax(sizes))
    adjacency = dataset.adjacency[keep][:, keep].tocsr()
    adjacency.sort_indices()
    features = None if dataset.features is None else dataset.features[keep]
    return make_dataset(dataset.name, adjacency, features, dataset.labels[keep],
                        dataset.train_mask[keep], dataset.val_mask[keep], dataset.test_mask[keep],
                        dataset.num_classes, dataset.node_ids[keep])
