"""``jaxrg bench``: a quick, self-checking benchmark of the dense curve route on this machine.

Times ``jit(laplacian_spectrum + entropy_curves)`` (S and C on 256 τ) against the fastest route
one writes by hand (``numpy.linalg.eigvalsh`` + a vectorised log-domain formula) on the same
random connected graphs, after checking that both give the same curves. Prints the device, the
versions and the ratio for each size; ``--json`` keeps the records. The full suites (SLQ, many
small graphs, sharding, rewiring, Rényi) are the scripts in ``benchmarks/`` of a source checkout.
"""

from __future__ import annotations

import pathlib
import platform
import statistics
import time

import numpy as np

from jaxrg import _io
from jaxrg.cli import CLIError

NUM_TAUS = 256


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="time the dense S/C route against numpy eigvalsh + formula on this machine",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024],
                        help="numbers of nodes (default: 256 1024)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per route (median)")
    parser.add_argument("--json", type=pathlib.Path, help="write the records as JSON")
    parser.set_defaults(func=run)


def random_graph(n: int, seed: int = 0) -> np.ndarray:
    """Erdős–Rényi graph of mean degree ~8 plus a ring (so it is connected), dense float64."""
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n, n)) < 8 / n, 1).astype(float)
    adjacency = upper + upper.T
    index = np.arange(n)
    adjacency[index, (index + 1) % n] = adjacency[(index + 1) % n, index] = 1.0
    return adjacency


def numpy_curves(laplacian: np.ndarray, taus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S and C by hand: ``eigvalsh`` once, then log-sum-exp weights for every τ."""
    lam = np.linalg.eigvalsh(laplacian)
    lam = np.maximum(lam - lam.min(), 0.0)
    logits = -taus[:, None] * lam[None, :]
    top = logits.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    mu = np.exp(logits - log_z[:, None])
    mean = mu @ lam
    var = np.einsum("tk,tk->t", mu, (lam[None, :] - mean[:, None]) ** 2)
    log_n = np.log(lam.shape[0])
    return (log_z + taus * mean) / log_n, taus**2 * var / log_n


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(args) -> int:
    import jax
    import jax.numpy as jnp

    import jaxrg

    if any(n < 3 for n in args.sizes):
        raise CLIError(f"--sizes must be at least 3 nodes each; got {args.sizes}.")
    if args.repeats < 1:
        raise CLIError(f"--repeats must be >= 1; got {args.repeats}.")

    @jax.jit
    def route(adjacency, taus):
        curves = jaxrg.entropy_curves(jaxrg.laplacian_spectrum(adjacency), taus)
        return curves.entropy, curves.specific_heat

    dtype = jnp.zeros(()).dtype  # float64 unless --float32
    taus = np.logspace(-3, 3, NUM_TAUS)
    device = jax.devices()[0]
    print(f"jaxrg bench: {device.platform}:{device.id} ({platform.processor() or 'cpu'}), "
          f"jax {jax.__version__}, numpy {np.__version__}, {dtype}, {NUM_TAUS} τ")
    records = []
    for n in args.sizes:
        adjacency = random_graph(n)
        laplacian = np.diag(adjacency.sum(1)) - adjacency
        a_j, taus_j = jnp.asarray(adjacency, dtype), jnp.asarray(taus, dtype)
        start = time.perf_counter()
        entropy, heat = jax.block_until_ready(route(a_j, taus_j))  # compile + first run
        first = time.perf_counter() - start
        ref_s, ref_c = numpy_curves(laplacian, taus)
        error = float(max(np.max(np.abs(np.asarray(entropy) - ref_s)),
                          np.max(np.abs(np.asarray(heat) - ref_c))))
        tolerance = 1e-8 if dtype == jnp.float64 else 1e-3
        if not error < tolerance:
            raise CLIError(f"N={n}: jaxrg and numpy curves differ by {error:.2e} "
                           f"(tolerance {tolerance:.0e}); please report this.")
        ours = _median_seconds(lambda a=a_j, t=taus_j: jax.block_until_ready(route(a, t)),
                               args.repeats)
        theirs = _median_seconds(lambda lap=laplacian: numpy_curves(lap, taus), args.repeats)
        record = {"n": n, "jaxrg_s": ours, "jaxrg_first_call_s": first, "numpy_s": theirs,
                  "ratio_jaxrg_over_numpy": ours / theirs, "max_abs_difference": error,
                  "device": f"{device.platform}:{device.id}", "dtype": str(dtype),
                  "jax": jax.__version__, "numpy": np.__version__}
        records.append(record)
        print(f"N={n:6d}  jaxrg {ours * 1e3:9.2f} ms (first call {first:.2f} s)  "
              f"numpy {theirs * 1e3:9.2f} ms  jaxrg/numpy {ours / theirs:5.2f}  "
              f"max |ΔS|,|ΔC| {error:.1e}", flush=True)
    if args.json:
        _io.atomic_write_json(args.json, records, label="--json")
    return 0
