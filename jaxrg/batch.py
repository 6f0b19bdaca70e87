r"""Many small graphs: padded chunks streamed through one compiled program, sharded over devices.

Three layers, each usable alone:

* :func:`padded_chunks` — host side: an iterable of graphs (a generator reading from disk is
  fine: nothing is held beyond one chunk) becomes fixed-shape :class:`jaxrg.PaddedBatch` chunks
  of ``chunk_size`` graphs padded to ``num_nodes``; the last chunk is filled with one-node
  graphs and reports how many entries are real. Fixed shapes mean one compilation for the whole
  dataset.
* :func:`batch_curves` — one chunk: ``vmap`` of :func:`jaxrg.laplacian_spectrum`, then
  :func:`jaxrg.entropy_curves` in cache-sized groups (``lax.map``), jitted once. With a ``mesh``
  (see :func:`batch_mesh`) the chunk is placed with ``NamedSharding(mesh, P("batch"))`` — the
  batch axis split over the devices, ``taus`` replicated — and ``jax.shard_map`` runs each
  device's share where it lies (no communication: the graphs are independent).
* :func:`stream_curves` — both together: yields the curves of each chunk as NumPy arrays while
  the next chunk is already dispatched (JAX dispatch is asynchronous, so host padding overlaps
  device work). Write each chunk out (e.g. :func:`jaxrg._io.append_jsonl` or ``np.save``) to
  process datasets larger than memory.

Several hosts (GPU clusters, TPU pods): start every process with
``jax.distributed.initialize()`` (coordinator address, number of processes and process id come
from the cluster environment or as arguments); :func:`batch_mesh` then spans ``jax.devices()``,
i.e. every device of every host. Each process reads *its own* part of the dataset (e.g. every
``jax.process_count()``-th chunk, offset ``jax.process_index()``) and assembles the global
chunk with ``jax.make_array_from_process_local_data(NamedSharding(mesh, P("batch")), local)``;
:func:`batch_curves` accepts such global arrays unchanged, and each process reads back its
addressable shards (``array.addressable_shards``). No home-made distribution layer is involved.
Test on one CPU with ``XLA_FLAGS=--xla_force_host_platform_device_count=8`` (set before JAX is
imported).

Example:
    >>> import jax.numpy as jnp, networkx as nx, jaxrg.batch as jb
    >>> graphs = (nx.path_graph(n) for n in range(2, 12))      # a stream of 10 graphs
    >>> taus = jnp.array([0.1, 1.0])
    >>> chunks = list(jb.stream_curves(graphs, taus, chunk_size=4, num_nodes=16))
    >>> [c.entropy.shape for c in chunks]                        # 4 + 4 + 2 real graphs
    [(4, 2), (4, 2), (2, 2)]
"""

from __future__ import annotations

import functools
import itertools
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxrg import _checks, _progress
from jaxrg._host import host_adjacency, pad_host
from jaxrg.graphs import PaddedBatch
from jaxrg.spectral import laplacian_spectrum
from jaxrg.thermo import SpectralCurves, entropy_curves

__all__ = [
    "AXIS",
    "CURVES_GROUP",
    "Chunk",
    "batch_curves",
    "batch_mesh",
    "padded_chunks",
    "shard_batch",
    "stream_curves",
]

AXIS = "batch"


class Chunk(NamedTuple):
    """A fixed-shape chunk of graphs.

    Attributes:
        batch: :class:`jaxrg.PaddedBatch` of ``chunk_size`` graphs (NumPy arrays, host side).
        num_valid: how many leading entries are real graphs (the rest are one-node fillers).
    """

    batch: PaddedBatch
    num_valid: int


def _chunk_options(chunk_size, num_nodes, pad_multiple) -> tuple[int, int, int | None]:
    """The chunking counts as Python ints (floats are refused, not truncated)."""
    chunk_size = _checks.check_int(chunk_size, "chunk_size", meaning="graphs per chunk")
    num_nodes = _checks.check_int(num_nodes, "num_nodes", meaning="the padded size")
    if pad_multiple is not None:
        pad_multiple = _checks.check_int(
            pad_multiple, "pad_multiple", meaning="chunks are padded to a multiple of it; None: "
            "always to num_nodes"
        )
    return chunk_size, num_nodes, pad_multiple


def padded_chunks(
    graphs: Iterable,
    *,
    chunk_size: int | np.integer,
    num_nodes: int | np.integer,
    pad_multiple: int | np.integer | None = None,
    dtype=None,
) -> Iterator[Chunk]:
    """Group a stream of graphs into fixed-shape padded chunks (host side, lazily).

    Args:
        graphs: any iterable of graphs :func:`jaxrg.as_adjacency` takes; consumed lazily.
        chunk_size: graphs per chunk (static shape ``B``; a multiple of the device count when
            sharding).
        num_nodes: padded size ``N`` (static); a larger graph raises.
        pad_multiple: pad each chunk only to its largest graph rounded up to this multiple
            (capped at ``num_nodes``): at most ``num_nodes / pad_multiple`` shapes to compile,
            and much less work per chunk when the stream is sorted by size. ``None``: always
            ``num_nodes``.
        dtype: floating dtype (default: JAX's default float).

    Yields:
        :class:`Chunk` with ``(B, N, N)`` adjacency and ``(B, N)`` mask.

    Raises:
        ValueError: ``chunk_size``/``num_nodes``/``pad_multiple`` < 1, or a graph with more
            than ``num_nodes`` nodes (the message gives its position in the stream).
        TypeError: ``chunk_size``/``num_nodes``/``pad_multiple`` not an integer.
    """
    chunk_size, num_nodes, pad_multiple = _chunk_options(chunk_size, num_nodes, pad_multiple)
    dtype = np.dtype(dtype or jnp.result_type(float))
    iterator = iter(graphs)
    start = 0
    while True:
        group = [host_adjacency(g, dtype=dtype) for g in itertools.islice(iterator, chunk_size)]
        if not group:
            return
        sizes = [a.shape[0] for a in group]
        if max(sizes) > num_nodes:
            b = int(np.argmax(np.asarray(sizes) > num_nodes))
            raise ValueError(
                f"graph {start + b} of the stream has {sizes[b]} nodes > num_nodes={num_nodes}; "
                "raise num_nodes."
            )
        size = num_nodes
        if pad_multiple is not None:
            size = min(num_nodes, -(-max(sizes) // pad_multiple) * pad_multiple)
        # fillers: one isolated node (S = C = 0, never NaN)
        group += [np.zeros((1, 1), dtype)] * (chunk_size - len(group))
        adjacency, mask = pad_host(group, num_nodes=size, name="the stream", offset=start)
        yield Chunk(PaddedBatch(adjacency, mask), len(sizes))
        start += len(sizes)


def batch_mesh(devices=None) -> Mesh:
    """A one-axis ``Mesh`` named ``"batch"`` over ``devices`` (default: all, on every host).

    Args:
        devices: sequence of ``D`` JAX devices; ``None`` for ``jax.devices()``.

    Returns:
        A ``jax.sharding.Mesh`` of shape ``(D,)`` with axis name ``"batch"``.
    """
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.asarray(devices), (AXIS,))


def shard_batch(batch: PaddedBatch, mesh: Mesh) -> PaddedBatch:
    """Place a batch with its leading axis split over ``mesh`` (``NamedSharding``, ``P("batch")``).

    Args:
        batch: :class:`jaxrg.PaddedBatch` with ``B`` graphs (adjacency ``(B, N, N)``, mask
            ``(B, N)``), ``B`` a multiple of the number of devices ``D``.
        mesh: a mesh from :func:`batch_mesh`.

    Returns:
        The same :class:`jaxrg.PaddedBatch` (same shapes), every field sharded ``B / D`` graphs
        per device.

    Raises:
        ValueError: the batch size is not a multiple of the number of devices.
    """
    size, devices = batch.adjacency.shape[0], mesh.devices.size
    if size % devices:
        raise ValueError(
            f"the batch of {size} graphs cannot be split over {devices} devices; use a "
            f"chunk_size that is a multiple of {devices}."
        )
    sharding = NamedSharding(mesh, P(AXIS))
    return PaddedBatch(*(jax.device_put(x, sharding) for x in batch))


CURVES_GROUP = 16  # graphs whose (T, N) curve arrays are evaluated together (cache-sized)


def _chunk_curves(adjacency, mask, taus):
    """Spectra of the whole chunk in one batched call, then the curves group by group.

    One ``vmap`` over the chunk for the eigenvalues (one batched LAPACK call on CPU); the
    ``(T, N)`` curve arrays of a large chunk do not fit in cache, so they are evaluated
    ``CURVES_GROUP`` graphs at a time (``lax.map``), about 5x faster on a CPU than one
    ``(B, T, N)`` pass.
    """
    eigenvalues = jax.vmap(laplacian_spectrum)(adjacency, mask)
    size = min(CURVES_GROUP, eigenvalues.shape[0])
    curves = jax.lax.map(lambda ev: entropy_curves(ev, taus), eigenvalues, batch_size=size)
    # a graph without a real node has no curves: NaN, not S = C = 0 (eager calls raise)
    empty = ~jnp.any(mask, axis=-1)
    return jax.tree.map(
        lambda v: jnp.where(empty.reshape(empty.shape + (1,) * (v.ndim - 1)), jnp.nan, v), curves
    )


_curves = jax.jit(_chunk_curves)


@functools.cache
def _sharded_curves(mesh: Mesh):
    """``_chunk_curves`` run by every device on its own rows (``shard_map``: no communication).

    ``check_vma=False``: the CPU branch of :func:`jaxrg.eigenvalues.eigvalsh` is a host callback
    and the component labelling's ``while_loop`` mixes per-device and replicated values in its
    carry; neither carries a varying-axes annotation, and every row is independent.
    """
    spec = P(AXIS)
    return jax.jit(
        jax.shard_map(
            _chunk_curves, mesh=mesh, in_specs=(spec, spec, P()), out_specs=spec, check_vma=False
        )
    )


def batch_curves(batch: PaddedBatch, taus, *, mesh: Mesh | None = None) -> SpectralCurves:
    """Curves of every graph of a padded batch: one compiled program, optionally sharded.

    Args:
        batch: :class:`jaxrg.PaddedBatch` (``(B, N, N)``, ``(B, N)``), host or device arrays
            (also global arrays assembled across hosts).
        taus: ``(T,)`` diffusion times (replicated over the mesh).
        mesh: optional :class:`jax.sharding.Mesh` with an axis ``"batch"``
            (:func:`batch_mesh`); ``None`` runs on the default device.

    Returns:
        :class:`jaxrg.SpectralCurves` with fields ``(B, T)`` (sharded like the batch).

    Raises:
        ValueError: ``taus`` not finite and ``> 0``; a concrete batch with negative, non-finite
            or asymmetric weights, or a graph with no real node (checked once, before the
            compiled program runs; under ``jit`` such a graph's curves are NaN).

    Example:
        >>> import jax.numpy as jnp, jaxrg, jaxrg.batch as jb
        >>> batch = jaxrg.pad_adjacency([([0], [1]), ([0, 1], [1, 2])])
        >>> jb.batch_curves(batch, jnp.array([1e8])).entropy.round(6).tolist()
        [[0.0], [0.0]]
    """
    # values checked once here, on concrete input: inside the compiled program they are only
    # checkify debug checks, and a negative weight or tau <= 0 would pass silently
    taus = _checks.check_taus(taus)
    if taus.size == 0:
        raise ValueError("taus is empty; pass at least one diffusion time > 0.")
    if _checks.is_concrete(batch.adjacency):
        adjacency = _checks.as_float_array(batch.adjacency, "batch.adjacency")
        if adjacency.ndim != 3 or adjacency.shape[1] != adjacency.shape[2]:
            raise ValueError(
                f"batch.adjacency must be (B, N, N); got shape {adjacency.shape}. Build the "
                "batch with jaxrg.pad_adjacency."
            )
        _checks.check_adjacency_values(adjacency, "batch.adjacency")
    # a global array of several processes cannot be read here: its rows are checked by the
    # process that holds them (and give NaN curves under jit)
    if _checks.is_concrete(batch.mask) and getattr(batch.mask, "is_fully_addressable", True):
        empty = ~np.asarray(batch.mask).any(axis=-1)
        if empty.any():
            raise ValueError(
                f"graph {int(np.argmax(empty))} of the batch has no real node (its mask row is "
                "all False); every graph needs at least one node: drop it, or build the batch "
                "with jaxrg.pad_adjacency."
            )
    if mesh is not None:
        batch = shard_batch(PaddedBatch(*batch), mesh)
        taus = jax.device_put(taus, NamedSharding(mesh, P()))
        return _sharded_curves(mesh)(batch.adjacency, batch.mask, taus)
    return _curves(batch.adjacency, batch.mask, taus)


def stream_curves(
    graphs: Iterable,
    taus,
    *,
    chunk_size: int | np.integer = 1024,
    num_nodes: int | np.integer,
    pad_multiple: int | np.integer | None = None,
    sort_chunks: int | np.integer = 1,
    mesh: Mesh | None = None,
    dtype=None,
    progress: bool = False,
) -> Iterator[SpectralCurves]:
    """Curves of a stream of graphs, chunk by chunk, through one compiled (sharded) ``vmap``.

    Host and device work overlap: a background thread converts, validates and pads the next
    chunk (NumPy, :mod:`jaxrg._host`) and copies it to the device while the current chunk
    computes; chunk ``i + 1`` is dispatched before the results of chunk ``i`` are copied back.
    Memory holds about three chunks at a time (``sort_chunks + 2`` with size buckets).

    Size buckets: with ``pad_multiple`` and ``sort_chunks = k > 1``, the stream is read ``k``
    chunks at a time and the graphs of each such window are sorted by size, so every chunk
    holds graphs of similar size padded only to its largest one (rounded up to
    ``pad_multiple``): much less eigenvalue work than padding everything to ``num_nodes``,
    and at most ``num_nodes / pad_multiple`` chunk shapes to compile. Results come back in
    stream order, one window per yield.

    Args:
        graphs: iterable of graphs (lazily consumed; may be larger than memory).
        taus: ``(T,)`` diffusion times.
        chunk_size: graphs per chunk (a multiple of the device count with a ``mesh``).
        num_nodes: padded size (the largest graph of the stream).
        pad_multiple: per-chunk padding to a multiple of this (see :func:`padded_chunks`).
        sort_chunks: chunks per size-sorted window (``1``: no sorting; needs ``pad_multiple``
            to pay off).
        mesh: optional device mesh (:func:`batch_mesh`).
        dtype: floating dtype.
        progress: show a tqdm progress bar (graphs done).

    Yields:
        :class:`jaxrg.SpectralCurves` of NumPy ``(b, T)`` arrays for the ``b`` real graphs of
        each chunk (of each window of ``sort_chunks`` chunks), in stream order.

    Raises:
        ValueError: ``sort_chunks`` < 1, or what :func:`padded_chunks` raises.
        TypeError: ``sort_chunks`` (or a count of :func:`padded_chunks`) not an integer.
    """
    chunk_size, num_nodes, pad_multiple = _chunk_options(chunk_size, num_nodes, pad_multiple)
    sort_chunks = _checks.check_int(
        sort_chunks, "sort_chunks", meaning="chunks per size-sorted window; 1: no sorting"
    )
    if sort_chunks == 1:
        chunks = (
            (chunk, None, True)
            for chunk in padded_chunks(
                graphs,
                chunk_size=chunk_size,
                num_nodes=num_nodes,
                pad_multiple=pad_multiple,
                dtype=dtype,
            )
        )
    else:
        chunks = _sorted_chunks(
            graphs, chunk_size, num_nodes, pad_multiple or num_nodes, dtype, sort_chunks
        )
    bar = None
    if _checks.check_flag(progress, "progress"):
        bar = _progress.progress_bar(unit="graph", desc="curves")
    place = (lambda x: x) if mesh is not None else jax.device_put
    pending, window = None, []
    with _Prefetch(chunks, place) as ready:
        for chunk, order, window_ends in ready:
            window.append((batch_curves(chunk.batch, taus, mesh=mesh), chunk.num_valid, order))
            if window_ends:
                if pending is not None:
                    yield _finish(pending, bar)
                pending, window = window, []
    if pending is not None:
        yield _finish(pending, bar)
    if bar is not None:
        bar.close()


def _sorted_chunks(graphs, chunk_size, num_nodes, pad_multiple, dtype, sort_chunks):
    """``(Chunk, stream positions in the window, window ends)``: windows sorted by size."""
    dtype = np.dtype(dtype or jnp.result_type(float))
    iterator = iter(graphs)
    start = 0
    while True:
        window = [
            host_adjacency(g, dtype=dtype)
            for g in itertools.islice(iterator, chunk_size * sort_chunks)
        ]
        if not window:
            return
        sizes = np.fromiter((a.shape[0] for a in window), int, len(window))
        if sizes.max() > num_nodes:
            b = int(np.argmax(sizes > num_nodes))
            raise ValueError(
                f"graph {start + b} of the stream has {sizes[b]} nodes > num_nodes={num_nodes}; "
                "raise num_nodes."
            )
        order = np.argsort(sizes, kind="stable")
        for first in range(0, len(window), chunk_size):
            part = order[first : first + chunk_size]
            size = min(num_nodes, -(-int(sizes[part].max()) // pad_multiple) * pad_multiple)
            group = [window[i] for i in part]
            group += [np.zeros((1, 1), dtype)] * (chunk_size - len(group))
            adjacency, mask = pad_host(group, num_nodes=size, name="the stream", offset=start)
            ends = first + chunk_size >= len(window)
            yield Chunk(PaddedBatch(adjacency, mask), len(part)), part, ends
        start += len(window)


class _Prefetch:
    """Run a chunk generator in a background thread, one item ahead (``with`` block).

    The thread converts and pads (NumPy releases the GIL in its loops) and places the chunk
    on the device with ``place``; errors are re-raised in the consumer; leaving the block
    early stops the thread.
    """

    def __init__(self, items, place):
        self._items, self._place = items, place
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            for chunk, order, ends in self._items:
                batch = PaddedBatch(*(self._place(x) for x in chunk.batch))
                if not self._put((Chunk(batch, chunk.num_valid), order, ends)):
                    return
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, re-raised there
            self._put(err)
            return
        self._put(None)

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __enter__(self):
        self._thread.start()
        return self

    def __iter__(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


def _finish(window, bar) -> SpectralCurves:
    parts = [SpectralCurves(*(np.asarray(x)[:n] for x in curves)) for curves, n, _ in window]
    out = SpectralCurves(*(np.concatenate(fields) for fields in zip(*parts, strict=True)))
    if window[0][2] is not None:  # size-sorted window: back to stream order
        order = np.concatenate([order for _, _, order in window])
        out = SpectralCurves(*(_unsort(x, order) for x in out))
    if bar is not None:
        bar.update(out.entropy.shape[0])
    return out


def _unsort(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Rows ``values[i]`` moved to position ``order[i]`` (the inverse of ``x[order]``)."""
    out = np.empty_like(values)
    out[order] = values
    return out
