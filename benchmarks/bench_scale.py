"""Scale benchmarks P2–P4 of issue 9 and the SLQ accuracy table; ratios measured in one run.

Parts (``--parts``; all float64, CPU unless a GPU is present):

* ``p2``: many small graphs — ``--p2-graphs`` (default 10 000) Erdős–Rényi graphs with 16–64
  nodes, S, C (and Z) on 256 τ. Routes: jaxrg (padded chunks through one jitted ``vmap``,
  :func:`jaxrg.batch.stream_curves`), a Python loop of ``numpy.linalg.eigvalsh`` + the
  vectorised formula of ``bench_spectral.numpy_route``, and a loop of ``netlsd.heat`` (heat
  trace only) when NetLSD is installed.
* ``p3``: large sparse graphs by SLQ (:func:`jaxrg.sparse.entropy_curves`, defaults: 32 probes,
  100 Lanczos steps) — time and peak memory (each size in a fresh subprocess, ``ru_maxrss``) for
  ``--p3-sizes`` nodes at mean degree 10, and for 10^5 nodes at mean degree 5–40 (growth with
  edges); plus N = 4096 (the ``bench_spectral`` graph): relative heat-trace error over
  τ ∈ [1e-2, 1e2] against the exact spectrum and the time ratio to the exact route, with NetLSD's
  own approximation (150 + 150 extreme eigenvalues, linear interpolation) beside it.
* ``accuracy``: max |ΔS|, |ΔC| of SLQ against the exact curves on BA, ER, SBM, a 2-D lattice
  (4096 nodes) and Cora (2708 nodes, read from ``$JAXRG_DATA/planetoid``).
* ``p4``: ``batch_curves`` on a fixed chunk sharded over 1, 2, 4, 8 simulated CPU devices
  (each count in a subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count``); on a
  2-core machine this measures overhead, not speed-up.

Usage::

    python benchmarks/bench_scale.py --parts p2 p3 accuracy p4 [--out benchmarks/results]

Writes ``scale.jsonl`` (one record per measurement, with versions and device) and ``scale.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import pickle
import resource
import subprocess
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _harness import environment, median_time, write_jsonl  # noqa: E402
from bench_spectral import numpy_route, random_graph  # noqa: E402

import jaxrg  # noqa: E402
import jaxrg.batch as jb  # noqa: E402
import jaxrg.sparse as sp  # noqa: E402

NUM_TAUS = 256
TAUS = np.logspace(-2, 2, NUM_TAUS)
SCRIPT = pathlib.Path(__file__).resolve()

try:
    import netlsd
except ImportError:  # optional competitor
    netlsd = None


# ----------------------------------------------------------------------------- graphs


def small_graphs(count: int, seed: int = 0) -> list[np.ndarray]:
    """Erdős–Rényi graphs with 16..64 nodes and mean degree ~4, dense NumPy adjacency."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n = int(rng.integers(16, 65))
        upper = np.triu(rng.random((n, n)) < 4 / n, 1).astype(float)
        out.append(upper + upper.T)
    return out


def random_edges(n: int, degree: float, seed: int = 0):
    """``n * degree / 2`` uniform random edges plus a ring (connected), as an edge list."""
    rng = np.random.default_rng(seed)
    m = int(n * degree / 2) - n
    senders = np.concatenate([rng.integers(0, n, m), np.arange(n)])
    receivers = np.concatenate([rng.integers(0, n, m), (np.arange(n) + 1) % n])
    # a simple graph: jaxrg refuses repeated edges, so drop self-loops and repeats here
    lo, hi = np.minimum(senders, receivers), np.maximum(senders, receivers)
    keep = lo != hi
    pairs = np.unique(np.stack([lo[keep], hi[keep]], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def cora_adjacency(data_dir: pathlib.Path) -> np.ndarray:
    """Cora's citation graph (2708 nodes, undirected, no self-loops) from the Planetoid pickle."""
    with open(data_dir / "planetoid" / "ind.cora.graph", "rb") as handle:
        lists = pickle.load(handle, encoding="latin1")
    n = max(max(lists), max(v for vs in lists.values() for v in vs)) + 1
    a = np.zeros((n, n))
    for u, vs in lists.items():
        for v in vs:
            if u != v:
                a[u, v] = a[v, u] = 1.0
    return a


def exact_spectrum(a: np.ndarray) -> np.ndarray:
    lam = np.linalg.eigvalsh(np.diag(a.sum(1)) - a)
    c = int(jaxrg.connected_components(jnp.asarray(a)).count)
    lam[:c] = 0.0
    return lam


# ----------------------------------------------------------------------------- P2


def netlsd_loop(graphs, taus):
    return [
        netlsd.heat(a, taus, eigenvalues="full", normalization=None, normalized_laplacian=False)
        for a in graphs
    ]


def numpy_loop(graphs, taus):
    return [numpy_route(np.diag(a.sum(1)) - a, taus) for a in graphs]


def jaxrg_stream(graphs, taus, chunk_size, pad_multiple=None, sort_chunks=1):
    return list(
        jb.stream_curves(
            graphs,
            taus,
            chunk_size=chunk_size,
            num_nodes=64,
            pad_multiple=pad_multiple,
            sort_chunks=sort_chunks,
        )
    )


BUCKETS = {"chunk_size": 500, "pad_multiple": 8, "sort_chunks": 10}  # the size-bucketed route


def bench_p2(count: int, chunk_size: int) -> list[dict]:
    graphs = small_graphs(count)
    taus = jnp.asarray(TAUS)
    # correctness first (on the first 200 graphs)
    ours = np.concatenate([c.entropy for c in jaxrg_stream(graphs[:200], taus, chunk_size)])
    ref = np.stack([s for s, _ in numpy_loop(graphs[:200], TAUS)])
    err = float(np.max(np.abs(ours - ref)))
    assert err < 1e-9, err
    start = time.perf_counter()
    jaxrg_stream(graphs[:chunk_size], taus, chunk_size)  # compile (one shape for all chunks)
    t_compile = time.perf_counter() - start
    # one pre-padded chunk: the device part alone
    chunk = next(jb.padded_chunks(graphs, chunk_size=chunk_size, num_nodes=64))
    batch = jaxrg.PaddedBatch(*(jnp.asarray(x) for x in chunk.batch))
    t_chunk = median_time(jb.batch_curves, batch, taus, repeats=3)
    t_jaxrg = median_time(jaxrg_stream, graphs, taus, chunk_size, repeats=3)
    t_numpy = median_time(numpy_loop, graphs, TAUS, repeats=2)
    # the same graphs sorted by size, each chunk padded to its largest graph (multiple of 16)
    ordered = sorted(graphs, key=len)
    jaxrg_stream(ordered, taus, chunk_size, 16)  # compiles the few chunk shapes
    t_sorted = median_time(jaxrg_stream, ordered, taus, chunk_size, 16, repeats=3)
    # the unsorted stream, sorted into size buckets by stream_curves itself (windows of 5000)
    bucket_args = (BUCKETS["chunk_size"], BUCKETS["pad_multiple"], BUCKETS["sort_chunks"])
    bucketed = jaxrg_stream(graphs[:1000], taus, *bucket_args)  # compiles the bucket shapes
    ours_b = np.concatenate([c.entropy for c in bucketed])[:200]
    assert float(np.max(np.abs(ours_b - ref))) < 1e-9
    jaxrg_stream(graphs, taus, *bucket_args)
    t_buckets = median_time(jaxrg_stream, graphs, taus, *bucket_args, repeats=3)
    record = {
        "benchmark": "p2_many_small_graphs",
        "graphs": count,
        "nodes": "16-64 (padded to 64)",
        "num_taus": NUM_TAUS,
        "chunk_size": chunk_size,
        "dtype": "float64",
        "jaxrg_stream_s": t_jaxrg,
        "jaxrg_compile_s": t_compile,
        "jaxrg_device_only_s_extrapolated": t_chunk * count / chunk_size,
        "numpy_loop_s": t_numpy,
        "speedup_vs_numpy_loop": t_numpy / t_jaxrg,
        "jaxrg_stream_sorted_pad16_s": t_sorted,
        "speedup_sorted_pad16_vs_numpy_loop": t_numpy / t_sorted,
        "max_abs_err_S_vs_numpy": err,
        "jaxrg_stream_buckets_s": t_buckets,
        "buckets": BUCKETS,
        "speedup_buckets_vs_numpy_loop": t_numpy / t_buckets,
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "load_average_1min_at_end": os.getloadavg()[0],
    }
    if netlsd is not None:
        z_ref = netlsd_loop(graphs[:50], TAUS)
        z_ours = np.concatenate([c.heat_trace for c in jaxrg_stream(graphs[:50], taus, 50)])
        record["max_rel_err_Z_vs_netlsd"] = float(np.max(np.abs(z_ours / np.stack(z_ref) - 1)))
        t_netlsd = median_time(netlsd_loop, graphs, TAUS, repeats=1)
        record["netlsd_loop_s"] = t_netlsd
        record["speedup_vs_netlsd_loop"] = t_netlsd / t_jaxrg
    return [record]


# ----------------------------------------------------------------------------- P3


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; unlike ru_maxrss it restarts at exec)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p3_one(n: int, degree: float) -> dict:
    """One size in this (fresh) process: build, compile, time, peak memory."""
    rss0 = peak_rss_mb()
    start = time.perf_counter()
    graph = sp.as_sparse_graph(random_edges(n, degree), num_nodes=n)
    t_build = time.perf_counter() - start
    rss_graph = peak_rss_mb()
    taus = jnp.asarray(TAUS)
    run = jax.jit(lambda g, key: sp.entropy_curves(g, taus, key=key))
    start = time.perf_counter()
    jax.block_until_ready(run(graph, jax.random.key(0)))
    t_first = time.perf_counter() - start
    start = time.perf_counter()
    curves = jax.block_until_ready(run(graph, jax.random.key(1)))
    t_run = time.perf_counter() - start
    rss_peak = peak_rss_mb()
    return {
        "benchmark": "p3_slq_scaling",
        "nodes": n,
        "mean_degree": degree,
        "edges": int(graph.senders.shape[0] // 2),
        "num_probes": 32,
        "num_matvecs": 100,
        "num_deflate": 16 if n <= 20_000 else 0,
        "build_s": t_build,
        "compile_plus_first_run_s": t_first,
        "run_s": t_run,
        "peak_rss_mb": rss_peak,
        "rss_after_graph_mb": rss_graph,
        "rss_after_imports_mb": rss0,
        "max_entropy_error_estimate": float(np.max(curves.entropy_error)),
        "max_specific_heat_error_estimate": float(np.max(curves.specific_heat_error)),
    }


def bench_p3(sizes, degrees) -> list[dict]:
    records = []
    runs = [(n, 10.0) for n in sizes] + [(100_000, d) for d in degrees if d != 10.0]
    for n, degree in runs:
        out = subprocess.run(
            [sys.executable, str(SCRIPT), "--p3-one", str(n), str(degree)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(out.stderr[-3000:], file=sys.stderr)
            raise RuntimeError(f"p3 run for n={n} failed")
        record = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"  P3 n={n:>8} degree={degree:>4}: edges {record['edges']:>9}  run "
            f"{record['run_s']:7.2f} s  peak RSS {record['peak_rss_mb']:7.0f} MB",
            flush=True,
        )
        records.append(record)
    return records


def bench_p3_exact(n: int = 4096) -> list[dict]:
    a = random_graph(n)
    lap = np.diag(a.sum(1)) - a
    lam = exact_spectrum(a)
    taus = jnp.asarray(TAUS)
    exact = jaxrg.entropy_curves(jnp.asarray(lam), taus)
    graph = sp.as_sparse_graph(scipy.sparse.csr_array(a))
    run = jax.jit(lambda g, key: sp.entropy_curves(g, taus, key=key))
    jax.block_until_ready(run(graph, jax.random.key(0)))
    approx = run(graph, jax.random.key(0))
    rel_z = np.abs(np.asarray(approx.heat_trace) / np.asarray(exact.heat_trace) - 1)
    dense = jax.jit(lambda adj: jaxrg.entropy_curves(jaxrg.laplacian_spectrum(adj), taus))
    jax.block_until_ready(dense(jnp.asarray(a)))
    t_slq = median_time(run, graph, jax.random.key(0), repeats=3)
    t_numpy = median_time(numpy_route, lap, TAUS, repeats=3)
    t_dense = median_time(dense, jnp.asarray(a), repeats=3)
    record = {
        "benchmark": "p3_slq_vs_exact",
        "nodes": n,
        "edges": int(graph.senders.shape[0] // 2),
        "num_taus": NUM_TAUS,
        "tau_range": [1e-2, 1e2],
        "slq_s": t_slq,
        "numpy_eigvalsh_formula_s": t_numpy,
        "jaxrg_dense_s": t_dense,
        "ratio_slq_over_numpy_exact": t_slq / t_numpy,
        "ratio_slq_over_jaxrg_dense": t_slq / t_dense,
        "slq_max_rel_err_Z": float(rel_z.max()),
        "slq_max_abs_err_S": float(np.max(np.abs(approx.entropy - exact.entropy))),
        "slq_max_abs_err_C": float(np.max(np.abs(approx.specific_heat - exact.specific_heat))),
        "slq_max_rel_err_Z_estimate": float(
            np.max(np.asarray(approx.heat_trace_error) / np.asarray(exact.heat_trace))
        ),
    }
    if netlsd is not None:
        sparse_a = scipy.sparse.csr_matrix(a)

        def netlsd_auto():
            return netlsd.heat(
                sparse_a, TAUS, eigenvalues="auto", normalization=None, normalized_laplacian=False
            )

        z_netlsd = netlsd_auto()
        record["netlsd_auto_s"] = median_time(netlsd_auto, repeats=3)
        record["netlsd_auto_max_rel_err_Z"] = float(
            np.max(np.abs(z_netlsd / np.asarray(exact.heat_trace) - 1))
        )
    return [record]


# ----------------------------------------------------------------------------- accuracy


def accuracy_graphs(data_dir):
    import networkx as nx

    n = 4096
    graphs = {
        "BA (m=3)": nx.to_numpy_array(nx.barabasi_albert_graph(n, 3, seed=0)),
        "ER (<k>=8)": nx.to_numpy_array(nx.gnp_random_graph(n, 8 / n, seed=0)),
        "SBM (4 x 1024)": nx.to_numpy_array(
            nx.stochastic_block_model(
                [n // 4] * 4,
                [[0.02 if i == j else 0.0005 for j in range(4)] for i in range(4)],
                seed=0,
            )
        ),
        "2-D lattice 64x64": nx.to_numpy_array(nx.grid_2d_graph(64, 64)),
    }
    if data_dir is not None and (data_dir / "planetoid" / "ind.cora.graph").exists():
        graphs["Cora"] = cora_adjacency(data_dir)
    return graphs


def bench_accuracy(data_dir) -> list[dict]:
    records = []
    for name, a in accuracy_graphs(data_dir).items():
        lam = exact_spectrum(a)
        taus = jaxrg.default_taus(jnp.asarray(lam), num_taus=NUM_TAUS)
        exact = jaxrg.entropy_curves(jnp.asarray(lam), taus)
        graph = sp.as_sparse_graph(scipy.sparse.csr_array(a))
        run = jax.jit(lambda g, key, t: sp.entropy_curves(g, t, key=key))
        approx = jax.block_until_ready(run(graph, jax.random.key(0), taus))
        t_slq = median_time(run, graph, jax.random.key(0), taus, repeats=3)
        lap = np.diag(a.sum(1)) - a
        t_numpy = median_time(numpy_route, lap, np.asarray(taus), repeats=1)
        d_s = np.abs(np.asarray(approx.entropy - exact.entropy))
        d_c = np.abs(np.asarray(approx.specific_heat - exact.specific_heat))
        in_range = (np.asarray(taus) >= 1e-2) & (np.asarray(taus) <= 1e2)
        rel_z = np.abs(np.asarray(approx.heat_trace / exact.heat_trace) - 1)[in_range]
        record = {
            "benchmark": "slq_accuracy",
            "graph": name,
            "nodes": int(a.shape[0]),
            "edges": int(np.count_nonzero(np.triu(a, 1))),
            "components": int(np.sum(lam == 0)),
            "num_taus": NUM_TAUS,
            "tau_grid": "1e-2/lambda_max .. 1e2/lambda_2",
            "max_abs_err_S": float(d_s.max()),
            "max_abs_err_C": float(d_c.max()),
            "max_se_S": float(np.max(approx.entropy_error)),
            "max_se_C": float(np.max(approx.specific_heat_error)),
            "max_rel_err_Z_tau_1e-2_1e2": float(rel_z.max()),
            "slq_s": t_slq,
            "numpy_eigvalsh_formula_s": t_numpy,
            "ratio_slq_over_numpy_exact": t_slq / t_numpy,
        }
        print(
            f"  accuracy {name:18s} |dS| {record['max_abs_err_S']:.1e}  |dC| "
            f"{record['max_abs_err_C']:.1e}  relZ {record['max_rel_err_Z_tau_1e-2_1e2']:.1e}  "
            f"time SLQ/exact {record['ratio_slq_over_numpy_exact']:.2f}",
            flush=True,
        )
        records.append(record)
    return records


# ----------------------------------------------------------------------------- P4


def p4_one(devices: int, graphs: int) -> dict:
    assert len(jax.devices()) == devices, jax.devices()
    chunk = next(jb.padded_chunks(small_graphs(graphs, seed=1), chunk_size=graphs, num_nodes=64))
    taus = jnp.asarray(TAUS)
    mesh = jb.batch_mesh()
    batch = jb.shard_batch(jaxrg.PaddedBatch(*chunk.batch), mesh)
    jax.block_until_ready(jb.batch_curves(batch, taus, mesh=mesh))
    return {
        "benchmark": "p4_devices",
        "devices": devices,
        "graphs": graphs,
        "batch_curves_s": median_time(lambda: jb.batch_curves(batch, taus, mesh=mesh), repeats=3),
    }


def bench_p4(graphs: int) -> list[dict]:
    records = []
    for devices in (1, 2, 4, 8):
        env = dict(
            os.environ,
            XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
            JAX_PLATFORMS="cpu",
        )
        out = subprocess.run(
            [sys.executable, str(SCRIPT), "--p4-one", str(devices), str(graphs)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if out.returncode != 0:
            print(out.stderr[-3000:], file=sys.stderr)
            raise RuntimeError(f"p4 run with {devices} devices failed")
        records.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = records[0]["batch_curves_s"]
    for r in records:
        r["speedup_vs_1_device"] = base / r["batch_curves_s"]
        print(
            f"  P4 {r['devices']} simulated devices: {r['batch_curves_s']:.3f} s "
            f"(x{r['speedup_vs_1_device']:.2f})",
            flush=True,
        )
    return records


# ----------------------------------------------------------------------------- report


def markdown(records: list[dict], env: dict, command: str) -> str:
    lines = [
        "# Scale benchmarks (issue 9)",
        "",
        f"Date {env['date']}; {env['cpu']} ({env['cores']} cores, shared with other jobs: "
        "compare ratios, not absolute times); device `{}`; jax {}, jaxlib {}, numpy {}, python "
        "{}.".format(env["device"], env["jax"], env["jaxlib"], env["numpy"], env["python"]),
        "",
        f"Command: `{command}`",
        "",
    ]
    by = {}
    for r in records:
        by.setdefault(r["benchmark"], []).append(r)
    if "p2_many_small_graphs" in by:
        lines += [
            "## P2: many small graphs (S, C, Z on 256 τ)",
            "",
            "| graphs | jaxrg stream (s) | sorted by size, chunks padded to 16k (s) | "
            "size buckets (`sort_chunks`) (s) | numpy loop (s) | "
            "NetLSD loop (s) | × numpy | × numpy (sorted) | × numpy (buckets) | × NetLSD | "
            "compile (s) | max \\|ΔS\\| vs numpy |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in by["p2_many_small_graphs"]:
            lines.append(
                f"| {r['graphs']} | {r['jaxrg_stream_s']:.2f} | "
                f"{r.get('jaxrg_stream_sorted_pad16_s', float('nan')):.2f} | "
                f"{r.get('jaxrg_stream_buckets_s', float('nan')):.2f} | "
                f"{r['numpy_loop_s']:.2f} | "
                f"{r.get('netlsd_loop_s', float('nan')):.2f} | {r['speedup_vs_numpy_loop']:.1f} | "
                f"{r.get('speedup_sorted_pad16_vs_numpy_loop', float('nan')):.1f} | "
                f"{r.get('speedup_buckets_vs_numpy_loop', float('nan')):.1f} | "
                f"{r.get('speedup_vs_netlsd_loop', float('nan')):.1f} | "
                f"{r['jaxrg_compile_s']:.1f} | {r['max_abs_err_S_vs_numpy']:.1e} |"
            )
        lines.append("")
    if "p3_slq_vs_exact" in by:
        lines += [
            "## P3: SLQ against the exact route at N = 4096 (τ ∈ [1e-2, 1e2], 256 τ)",
            "",
            "| route | time / numpy eigvalsh+formula | max rel. error of Z |",
            "|---|---|---|",
        ]
        for r in by["p3_slq_vs_exact"]:
            lines.append(
                f"| jaxrg SLQ (32 probes, 100 steps, 16 deflated) | "
                f"{r['ratio_slq_over_numpy_exact']:.2f} | {r['slq_max_rel_err_Z']:.1e} "
                f"(estimate {r['slq_max_rel_err_Z_estimate']:.1e}) |"
            )
            lines.append(
                f"| jaxrg dense (eigvalsh) | "
                f"{r['jaxrg_dense_s'] / r['numpy_eigvalsh_formula_s']:.2f} | exact |"
            )
            if "netlsd_auto_s" in r:
                lines.append(
                    f"| NetLSD approximation (150+150 eigenvalues) | "
                    f"{r['netlsd_auto_s'] / r['numpy_eigvalsh_formula_s']:.2f} | "
                    f"{r['netlsd_auto_max_rel_err_Z']:.1e} |"
                )
        lines.append("")
    if "p3_slq_scaling" in by:
        lines += [
            "## P3: SLQ time and memory against size (32 probes × 100 steps, 256 τ)",
            "",
            "| nodes | mean degree | edges | deflated modes | run (s) | compile + first run (s) "
            "| peak RSS (MB) | RSS after imports (MB) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in by["p3_slq_scaling"]:
            lines.append(
                f"| {r['nodes']} | {r['mean_degree']:.0f} | {r['edges']} | "
                f"{r['num_deflate']} | {r['run_s']:.2f} | "
                f"{r['compile_plus_first_run_s']:.1f} | {r['peak_rss_mb']:.0f} | "
                f"{r['rss_after_imports_mb']:.0f} |"
            )
        lines.append("")
    if "slq_accuracy" in by:
        lines += [
            "## SLQ accuracy against the exact curves (default settings, 256 τ on "
            "1e-2/λ_max … 1e2/λ_2)",
            "",
            "| graph | N | edges | max \\|ΔS\\| | max \\|ΔC\\| | max s.e. S | max s.e. C | "
            "max rel. ΔZ on [1e-2, 1e2] | time SLQ / exact |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in by["slq_accuracy"]:
            lines.append(
                f"| {r['graph']} | {r['nodes']} | {r['edges']} | {r['max_abs_err_S']:.1e} | "
                f"{r['max_abs_err_C']:.1e} | {r['max_se_S']:.1e} | {r['max_se_C']:.1e} | "
                f"{r['max_rel_err_Z_tau_1e-2_1e2']:.1e} | {r['ratio_slq_over_numpy_exact']:.2f} |"
            )
        lines.append("")
    if "p4_devices" in by:
        lines += [
            "## P4: sharding a chunk over simulated CPU devices",
            "",
            "| devices | batch_curves (s) | speed-up |",
            "|---|---|---|",
        ]
        for r in by["p4_devices"]:
            lines.append(
                f"| {r['devices']} | {r['batch_curves_s']:.3f} | {r['speedup_vs_1_device']:.2f} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["p2", "p3", "accuracy", "p4"],
        choices=["p2", "p3", "accuracy", "p4"],
    )
    parser.add_argument("--p2-graphs", type=int, default=10_000)
    parser.add_argument("--p2-chunk", type=int, default=2000)
    parser.add_argument("--p3-sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--p3-degrees", type=float, nargs="+", default=[5.0, 10.0, 20.0, 40.0])
    parser.add_argument("--p4-graphs", type=int, default=2048)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("benchmarks/results"))
    parser.add_argument(
        "--merge",
        type=pathlib.Path,
        nargs="+",
        help="only rebuild scale.jsonl/scale.md in --out from these per-part JSON-lines files",
    )
    parser.add_argument("--p3-one", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--p4-one", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.p3_one:
        print(json.dumps(p3_one(int(args.p3_one[0]), float(args.p3_one[1]))))
        return
    if args.p4_one:
        print(json.dumps(p4_one(*args.p4_one)))
        return
    if args.merge:
        records = [json.loads(line) for f in args.merge for line in f.read_text().splitlines()]
        commands = sorted({r["command"] for r in records if "command" in r})
        write_jsonl(args.out / "scale.jsonl", records)
        text = markdown(records, records[0], "`; `".join(commands))
        (args.out / "scale.md").write_text(text + "\n")
        return
    env = environment()
    data = os.environ.get("JAXRG_DATA")
    data_dir = pathlib.Path(data) if data else None
    command = "python benchmarks/bench_scale.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    name = (
        "scale"
        if set(args.parts) == {"p2", "p3", "accuracy", "p4"}
        else "scale_" + "_".join(args.parts)
    )
    records = []

    def save(new):  # after every part, so a stopped run keeps what it finished
        records.extend({**r, **env, "command": command.strip()} for r in new)
        write_jsonl(args.out / f"{name}.jsonl", records)
        (args.out / f"{name}.md").write_text(markdown(records, env, command.strip()) + "\n")

    if "p2" in args.parts:
        save(bench_p2(args.p2_graphs, args.p2_chunk))
        r = records[-1]
        print(
            f"  P2 {r['graphs']} graphs: jaxrg {r['jaxrg_stream_s']:.2f} s, numpy loop "
            f"{r['numpy_loop_s']:.2f} s (x{r['speedup_vs_numpy_loop']:.1f}), NetLSD loop "
            f"{r.get('netlsd_loop_s', float('nan')):.2f} s "
            f"(x{r.get('speedup_vs_netlsd_loop', float('nan')):.1f})",
            flush=True,
        )
    if "accuracy" in args.parts:
        save(bench_accuracy(data_dir))
    if "p4" in args.parts:
        save(bench_p4(args.p4_graphs))
    if "p3" in args.parts:
        save(bench_p3_exact())
        r = records[-1]
        print(
            f"  P3 N=4096: SLQ/numpy exact time {r['ratio_slq_over_numpy_exact']:.2f}, rel Z "
            f"err {r['slq_max_rel_err_Z']:.1e}; NetLSD approx rel Z err "
            f"{r.get('netlsd_auto_max_rel_err_Z', float('nan')):.1e}",
            flush=True,
        )
        for size in args.p3_sizes:
            save(bench_p3([size], []))
        for degree in args.p3_degrees:
            save(bench_p3([], [degree]))


if __name__ == "__main__":
    main()
