"""Figures of the Laplacian renormalisation group: the flow and the coarse graph.

Import as ``jaxrg.plots.lrg`` (matplotlib is imported lazily, headless).
"""

from __future__ import annotations

import numpy as np

from jaxrg.plots._common import pyplot

__all__ = ["layout", "plot_coarse_graph", "plot_flow"]


def plot_flow(taus, counts, *, specific_heat=None, scales=(), title: str | None = None):
    """Number of macro-nodes against :math:`\\tau` (log axis), with ``C(τ)`` and scales marked.

    Args:
        taus: ``(T,)`` diffusion times.
        counts: ``(T,)`` macro-node counts (:func:`jaxrg.lrg.macro_node_counts`).
        specific_heat: optional ``(T,)`` :math:`C(\\tau)` on the same grid (right axis).
        scales: diffusion times to mark (e.g. the characteristic scales).
        title: figure title.

    Returns:
        ``matplotlib.figure.Figure``.
    """
    plt = pyplot()
    taus, counts = np.asarray(taus), np.asarray(counts)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.step(taus, counts, where="post", color="tab:blue", label="macro-nodes")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"diffusion time $\tau$")
    ax.set_ylabel("number of macro-nodes", color="tab:blue")
    if specific_heat is not None:
        twin = ax.twinx()
        twin.semilogx(taus, np.asarray(specific_heat), color="tab:red", alpha=0.7)
        twin.set_ylabel(r"$C(\tau)$", color="tab:red")
    for tau in np.atleast_1d(np.asarray(scales, float)):
        if np.isfinite(tau):
            ax.axvline(tau, color="0.4", linestyle=":", linewidth=1)
            ax.annotate(f"τ*={tau:.3g}", (tau, counts.max()), textcoords="offset points",
                        xytext=(4, -12), fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def layout(adjacency, *, iterations: int = 40, seed: int = 0) -> np.ndarray:
    """2-D positions: spectral start, then Fruchterman–Reingold steps (host-side NumPy).

    The start is the top non-trivial eigenvectors of :math:`D^{-1/2}AD^{-1/2}` (scipy's sparse
    ``eigsh`` when available); each step costs ``O(N^2)`` in float32, in row chunks.

    Args:
        adjacency: ``(N, N)`` adjacency (any array; non-zero entries are edges).
        iterations: Fruchterman–Reingold steps.
        seed: seed of the small jitter added to the start.

    Returns:
        ``(N, 2)`` positions.
    """
    a = np.asarray(adjacency) != 0
    n = a.shape[0]
    if n <= 3:
        return np.stack([np.arange(n, dtype=float), np.zeros(n)], axis=1)
    degree = a.sum(1).astype(float)
    inv = np.where(degree > 0, 1 / np.sqrt(np.maximum(degree, 1)), 0)
    pos = _spectral_start(a, inv, seed)
    # ranks, not values: a few far-out spectral coordinates would squash everything else
    pos = (np.argsort(np.argsort(pos, axis=0), axis=0) / n - 0.5).astype(np.float32)
    weights = a.astype(np.float32)
    k = np.float32(1 / np.sqrt(n))
    temperature = 0.1 * float(np.ptp(pos))
    chunk = max(1, 2**22 // n)
    for _ in range(iterations):
        move = np.empty_like(pos)
        for lo in range(0, n, chunk):
            delta = pos[lo : lo + chunk, None, :] - pos[None, :, :]
            dist = np.maximum(np.sqrt((delta**2).sum(-1)), np.float32(1e-3))
            strength = k * k / dist**2 - weights[lo : lo + chunk] * dist / k
            move[lo : lo + chunk] = (strength[:, :, None] * delta).sum(1)
        length = np.maximum(np.linalg.norm(move, axis=1, keepdims=True), 1e-12)
        pos += move / length * np.minimum(length, temperature)
        temperature *= 0.93
    return pos.astype(float)


def _spectral_start(a, inv, seed):
    rng = np.random.default_rng(seed)
    n = a.shape[0]
    try:
        import scipy.sparse
        import scipy.sparse.linalg

        matrix = scipy.sparse.diags(inv) @ scipy.sparse.csr_matrix(a, dtype=float)
        matrix = matrix @ scipy.sparse.diags(inv)
        _, vectors = scipy.sparse.linalg.eigsh(matrix, k=3, which="LA", v0=rng.random(n))
        start = vectors[:, :2]
    except (ImportError, ArithmeticError, ValueError, RuntimeError):
        _, vectors = np.linalg.eigh(inv[:, None] * a * inv[None, :])
        start = vectors[:, -3:-1]
    return start + 1e-3 * rng.standard_normal((n, 2))


def plot_coarse_graph(adjacency, index, coarse_adjacency, count, *, tau=None,
                      title: str | None = None, positions=None):
    """Two panels: the graph coloured by macro-node, and the coarse graph at the same places.

    Coarse nodes sit at the mean position of their members, sized by the number of members, in
    the colour of their members on the left (``tab20``; with more than 20 macro-nodes colours
    repeat).

    Args:
        adjacency: ``(N, N)`` original graph.
        index: ``(N,)`` macro-node of each node (:class:`jaxrg.lrg.CoarseGraph` ``index``).
        coarse_adjacency: ``(N, N)`` (or ``(n, n)``) coarse graph; its first ``count`` rows
            are used.
        count: number of macro-nodes ``n``.
        tau: the scale (for the title).
        title: figure title.
        positions: optional ``(N, 2)`` node positions (default :func:`layout`).

    Returns:
        ``matplotlib.figure.Figure``.
    """
    from matplotlib.collections import LineCollection

    plt = pyplot()
    a = np.asarray(adjacency)
    index = np.asarray(index)
    count = int(count)
    coarse = np.asarray(coarse_adjacency)[:count, :count]
    pos = layout(a) if positions is None else np.asarray(positions)
    sizes = np.bincount(index, minlength=count)
    centre = np.zeros((count, 2))
    np.add.at(centre, index, pos)
    centre /= np.maximum(sizes, 1)[:, None]
    # one colour per macro-node, used by both panels (shuffled so that neighbouring macro-nodes,
    # which have neighbouring ids, get contrasting colours); RGBA, so no colour normalisation
    # can map the same macro-node to different colours in the two panels
    palette = plt.get_cmap("tab20")(np.random.default_rng(1).permutation(count) % 20)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5.2))
    for ax, p, mat in ((left, pos, a), (right, centre, coarse)):
        rows, cols = np.nonzero(np.triu(mat, 1))
        ax.add_collection(LineCollection(np.stack([p[rows], p[cols]], 1), colors="0.6",
                                         linewidths=0.4, alpha=0.5, zorder=1))
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    left.scatter(pos[:, 0], pos[:, 1], c=palette[index], s=8, zorder=2)
    left.set_title(f"graph: {a.shape[0]} nodes, coloured by macro-node")
    right.scatter(centre[:, 0], centre[:, 1], c=palette, s=8 + 12 * np.sqrt(sizes), zorder=2)
    right.set_xlim(left.get_xlim())  # the same frame: each macro-node sits where its members are
    right.set_ylim(left.get_ylim())
    scale = "" if tau is None else f" at τ = {float(tau):.3g}"
    right.set_title(f"coarse graph{scale}: {count} macro-nodes")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
