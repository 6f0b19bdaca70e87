"""S(τ) and C(τ) on 256 log-spaced τ: jaxrg against the routes users write by hand.

Routes, all in float64 on the same graph, measured in the same run:

* ``jaxrg``: ``jit(laplacian_spectrum + entropy_curves)`` — one eigendecomposition, then the
  log-domain formulas for every τ;
* ``numpy``: ``numpy.linalg.eigvalsh`` once + a vectorised numpy formula (the fastest route by
  hand on this machine);
* ``scipy-expm``: per τ, ``scipy.linalg.expm(-τL)``, normalise, ``eigvalsh`` of ρ for
  S = -Σ p log p, and C by a centred finite difference of S in log τ (two more expm) — the route
  most users write. Timed on a few τ and extrapolated to 256.

Also reported: JAX's ``eigvalsh`` against numpy's (JAX's CPU ``eigvalsh`` computes eigenvectors).

Usage: ``python benchmarks/bench_spectral.py [--sizes 256 1024 2048] [--out benchmarks/results]``
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.special  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _harness import compile_time, environment, median_time, write_jsonl  # noqa: E402

import jaxrg  # noqa: E402

NUM_TAUS = 256
EXPM_TAUS = 3  # scipy-expm route: timed on this many τ, extrapolated to NUM_TAUS


def random_graph(n: int, seed: int = 0) -> np.ndarray:
    """Connected Erdős–Rényi-like graph with mean degree ~8 plus a ring (connectivity)."""
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n, n)) < 8 / n, 1).astype(float)
    a = upper + upper.T
    idx = np.arange(n)
    a[idx, (idx + 1) % n] = a[(idx + 1) % n, idx] = 1.0
    return a


@jax.jit
def jaxrg_route(adjacency, taus):
    ev = jaxrg.laplacian_spectrum(adjacency)
    curves = jaxrg.entropy_curves(ev, taus)
    return curves.entropy, curves.specific_heat


def numpy_route(lap, taus):
    lam = np.linalg.eigvalsh(lap)
    lam = np.maximum(lam - lam.min(), 0.0)
    logits = -taus[:, None] * lam[None, :]
    log_z = scipy.special.logsumexp(logits, axis=1)
    mu = np.exp(logits - log_z[:, None])
    mean = mu @ lam
    var = np.einsum("tk,tk->t", mu, (lam[None, :] - mean[:, None]) ** 2)
    log_n = np.log(lam.shape[0])
    return (log_z + taus * mean) / log_n, taus**2 * var / log_n


def expm_entropy(lap, tau):
    k = scipy.linalg.expm(-tau * lap)
    p = np.clip(np.linalg.eigvalsh(k / np.trace(k)), 0, None)
    return float(scipy.special.entr(p).sum() / np.log(lap.shape[0]))


def expm_route(lap, taus, h=1e-4):
    s = np.array([expm_entropy(lap, t) for t in taus])
    c = np.array(
        [
            -(expm_entropy(lap, t * np.exp(h)) - expm_entropy(lap, t * np.exp(-h))) / (2 * h)
            for t in taus
        ]
    )
    return s, c


def bench(n: int) -> dict:
    a = random_graph(n)
    lap = np.diag(a.sum(1)) - a
    taus = np.logspace(-3, 3, NUM_TAUS)
    a_j, taus_j = jnp.asarray(a), jnp.asarray(taus)

    t_compile = compile_time(jaxrg_route, a_j, taus_j)  # first, before any cached call
    # correctness next
    s_j, c_j = jaxrg_route(a_j, taus_j)
    s_n, c_n = numpy_route(lap, taus)
    err_s, err_c = float(np.max(np.abs(s_j - s_n))), float(np.max(np.abs(c_j - c_n)))
    assert err_s < 1e-9 and err_c < 1e-9, (err_s, err_c)
    sub = taus[:: NUM_TAUS // EXPM_TAUS][:EXPM_TAUS]
    s_e, c_e = expm_route(lap, sub)
    s_ref, c_ref = numpy_route(lap, sub)
    err_expm = float(max(np.max(np.abs(s_e - s_ref)), np.max(np.abs(c_e - c_ref))))

    t_jaxrg = median_time(jaxrg_route, a_j, taus_j)
    t_numpy = median_time(numpy_route, lap, taus)
    t_expm = median_time(expm_route, lap, sub, repeats=1) * NUM_TAUS / len(sub)
    t_eig_jax = median_time(jax.jit(jnp.linalg.eigvalsh), jnp.asarray(lap))
    t_eig_np = median_time(np.linalg.eigvalsh, lap)
    t_eigh_np = median_time(np.linalg.eigh, lap)
    return {
        "benchmark": "spectral_curves",
        "n": n,
        "num_taus": NUM_TAUS,
        "dtype": "float64",
        "jaxrg_s": t_jaxrg,
        "jaxrg_compile_s": t_compile,
        "numpy_eigvalsh_formula_s": t_numpy,
        "scipy_expm_per_tau_s_extrapolated": t_expm,
        "jax_eigvalsh_s": t_eig_jax,
        "numpy_eigvalsh_s": t_eig_np,
        "numpy_eigh_s": t_eigh_np,
        "ratio_jaxrg_over_numpy": t_jaxrg / t_numpy,
        "speedup_vs_expm": t_expm / t_jaxrg,
        "max_abs_err_vs_numpy": max(err_s, err_c),
        "expm_route_max_abs_err": err_expm,
        **environment(),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 2048])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("benchmarks/results"))
    args = parser.parse_args(argv)
    records = []
    for n in args.sizes:
        record = bench(n)
        records.append(record)
        print(
            f"N={n:5d}  jaxrg {record['jaxrg_s'] * 1e3:9.1f} ms"
            f" (compile {record['jaxrg_compile_s']:.1f} s)"
            f"  numpy {record['numpy_eigvalsh_formula_s'] * 1e3:9.1f} ms"
            f"  expm/τ ×256 {record['scipy_expm_per_tau_s_extrapolated']:8.1f} s"
            f"  jaxrg/numpy {record['ratio_jaxrg_over_numpy']:.2f}"
            f"  expm/jaxrg {record['speedup_vs_expm']:.0f}×"
            f"  eigvalsh jax/numpy {record['jax_eigvalsh_s'] / record['numpy_eigvalsh_s']:.2f}",
            flush=True,
        )
    write_jsonl(args.out / "spectral.jsonl", records)


if __name__ == "__main__":
    main()
