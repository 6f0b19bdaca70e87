"""S(τ) and C(τ) on 256 log-spaced τ: jaxrg against the routes users write by hand.

Routes, all in float64 on the same graph, measured in the same run:

* ``jaxrg``: ``jit(laplacian_spectrum + entropy_curves)`` — one eigendecomposition, then the
  log-domain formulas for every τ;
* ``numpy``: ``numpy.linalg.eigvalsh`` once + a vectorised numpy formula (the fastest route by
  hand on this machine);
* ``scipy-expm``: per τ, ``scipy.linalg.expm(-τL)``, normalise, ``eigvalsh`` of ρ for
  S = -Σ p log p, and C by a centred finite difference of S in log τ (two more expm) — the route
  most users write. Timed on a few τ and extrapolated to 256; only up to ``--expm-max`` nodes;
* ``netlsd``: ``netlsd.heat(A, timescales)`` (heat-trace signature only, of the normalised
  Laplacian, ``eigenvalues="full"``, i.e. exact) when NetLSD is installed.

Also reported: ``jnp.linalg.eigvalsh`` (on CPU it computes eigenvectors and drops them) and
:func:`jaxrg.eigenvalues.eigvalsh` (values-only, what ``laplacian_spectrum`` uses) against numpy's.

Usage: ``python benchmarks/bench_spectral.py [--sizes 512 1024 2048 4096]``
(writes ``benchmarks/results/spectral.jsonl``; ``--out`` another folder)
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
from jaxrg.cli._bench import numpy_curves as numpy_route  # noqa: E402
from jaxrg.cli._bench import random_graph  # noqa: E402
from jaxrg.eigenvalues import eigvalsh as values_only_eigvalsh  # noqa: E402

try:
    import netlsd
except ImportError:  # optional competitor
    netlsd = None

NUM_TAUS = 256
EXPM_TAUS = 3  # scipy-expm route: timed on this many τ, extrapolated to NUM_TAUS


@jax.jit
def jaxrg_route(adjacency, taus):
    ev = jaxrg.laplacian_spectrum(adjacency)
    curves = jaxrg.entropy_curves(ev, taus)
    return curves.entropy, curves.specific_heat


def netlsd_route(adjacency, taus):
    """NetLSD's exact heat-trace signature (``eigenvalues="full"``: every eigenvalue)."""
    return netlsd.heat(adjacency, timescales=taus, eigenvalues="full")


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


def bench(n: int, expm_max: int) -> dict:
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
    if n <= expm_max:
        s_e, c_e = expm_route(lap, sub)
        s_ref, c_ref = numpy_route(lap, sub)
        err_expm = float(max(np.max(np.abs(s_e - s_ref)), np.max(np.abs(c_e - c_ref))))
    else:
        err_expm = float("nan")

    t_jaxrg = median_time(jaxrg_route, a_j, taus_j)
    t_numpy = median_time(numpy_route, lap, taus)
    t_expm = (median_time(expm_route, lap, sub, repeats=1) * NUM_TAUS / len(sub)
              if n <= expm_max else float("nan"))
    t_netlsd = (median_time(netlsd_route, a, taus) if netlsd is not None else float("nan"))
    t_eig_jax = median_time(jax.jit(jnp.linalg.eigvalsh), jnp.asarray(lap))
    t_eig_values = median_time(jax.jit(values_only_eigvalsh), jnp.asarray(lap))
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
        "netlsd_heat_s": t_netlsd,
        "jax_eigvalsh_s": t_eig_jax,
        "jaxrg_values_only_eigvalsh_s": t_eig_values,
        "numpy_eigvalsh_s": t_eig_np,
        "numpy_eigh_s": t_eigh_np,
        "ratio_jaxrg_over_numpy": t_jaxrg / t_numpy,
        "speedup_vs_expm": t_expm / t_jaxrg,
        "speedup_vs_netlsd": t_netlsd / t_jaxrg,
        "max_abs_err_vs_numpy": max(err_s, err_c),
        "expm_route_max_abs_err": err_expm,
        **environment(),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048, 4096])
    parser.add_argument("--expm-max", type=int, default=2048,
                        help="largest N for the (slow) scipy-expm route")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("benchmarks/results"))
    args = parser.parse_args(argv)
    records = []
    for n in args.sizes:
        record = bench(n, args.expm_max)
        records.append(record)
        print(
            f"N={n:5d}  jaxrg {record['jaxrg_s'] * 1e3:9.1f} ms"
            f" (compile {record['jaxrg_compile_s']:.1f} s)"
            f"  numpy {record['numpy_eigvalsh_formula_s'] * 1e3:9.1f} ms"
            f"  expm/τ ×256 {record['scipy_expm_per_tau_s_extrapolated']:8.1f} s"
            f"  jaxrg/numpy {record['ratio_jaxrg_over_numpy']:.2f}"
            f"  expm/jaxrg {record['speedup_vs_expm']:.0f}×"
            f"  netlsd/jaxrg {record['speedup_vs_netlsd']:.2f}×"
            f"  eigvalsh jax/numpy {record['jax_eigvalsh_s'] / record['numpy_eigvalsh_s']:.2f}",
            flush=True,
        )
    write_jsonl(args.out / "spectral.jsonl", records)


if __name__ == "__main__":
    main()
