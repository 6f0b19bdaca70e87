"""Rényi entropies (4 orders) of [layers × tokens × 50 257] logits: streamed jaxrg vs usual routes.

The logits are those of a logit lens, ``z = h @ W`` with ``h`` a ``(rows, 64)`` block of hidden
states and ``W`` a fixed ``(64, V)`` unembedding, generated block by block (``--block`` rows at a
time), so no route ever holds all ``layers × tokens × V`` logits. Routes, float32, same blocks:

* ``numpy``: ``z = h @ W`` in numpy, ``scipy.special.softmax``, ``scipy.stats.entropy`` for
  α = 1 and ``log Σ p^α / (1 − α)`` for the other orders — the vectorised route users write;
* ``jax-full``: ``jaxrg.info.renyi_entropy(h @ W, α)`` — one JAX reduction over the whole
  vocabulary (holds ``len(α) × rows × V`` intermediates);
* ``jax-streamed``: ``jaxrg.lens.entropy_profile(h, W, α, chunk_size=C)`` — the vocabulary in
  chunks of ``C`` columns (``--chunks``, one run per size), logits produced chunk by chunk: never
  more than ``rows × C`` of them, so its memory grows with ``C``, not with ``V``.

Each route runs in its own subprocess, so its peak resident memory (``ru_maxrss`` minus the RSS
after setup) is its own; throughput is logits per second over all blocks (median of
``--repeats`` passes after a warm-up pass), and the ratio is to the numpy route of the same run.
Results are checked against each other before timing.

Usage::

    nice python benchmarks/bench_renyi.py            # 2 × 1024 tokens × 50 257 (about a minute)
    nice python benchmarks/bench_renyi.py --full     # the issue's 24 × 1024 × 50 257
"""

from __future__ import annotations

import argparse
import json
import pathlib
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

ALPHAS = (0.5, 1.0, 2.0, 5.0)
WIDTH = 64
ROUTES = ("numpy", "jax-full", "jax-streamed")


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def _inputs(rows: int, vocab: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    w = (rng.normal(size=(WIDTH, vocab)) / np.sqrt(WIDTH) * 4).astype(np.float32)
    h = rng.normal(size=(rows, WIDTH)).astype(np.float32)
    return h, w


def numpy_route(h, w):
    import scipy.special
    import scipy.stats

    z = h @ w
    p = scipy.special.softmax(z, axis=-1)
    out = []
    for a in ALPHAS:
        if a == 1.0:
            out.append(scipy.stats.entropy(p, axis=-1))
        else:
            out.append(np.log(np.sum(p**a, axis=-1)) / (1 - a))
    return np.stack(out)


def worker(route: str, rows: int, vocab: int, block: int, chunk: int, repeats: int) -> dict:
    """Time one route in this (fresh) process; returns one JSON record."""
    import jax
    import jax.numpy as jnp
    from _harness import block as block_ready

    import jaxrg.info
    import jaxrg.lens

    h_all, w_np = _inputs(rows, vocab)
    alphas = jnp.asarray(ALPHAS, jnp.float32)
    w = jnp.asarray(w_np)
    block_ready(jnp.zeros(1))  # the runtime is up: the baseline includes it, not the route
    base = _rss_mb()
    if route == "numpy":
        fn = lambda hb: numpy_route(hb, w_np)  # noqa: E731
    elif route == "jax-full":
        fn = jax.jit(lambda hb: jaxrg.info.renyi_entropy(hb @ w, alphas))
    else:
        fn = jax.jit(lambda hb: jaxrg.lens.entropy_profile(hb, w, alphas, chunk_size=chunk))
    blocks = [h_all[i : i + block] for i in range(0, rows, block)]
    if route != "numpy":
        blocks = [jnp.asarray(b) for b in blocks]
    first = np.asarray(block_ready(fn(blocks[0])))  # warm-up (compiles)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for b in blocks:
            block_ready(fn(b))
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = statistics.median(times)
    return {
        "route": route,
        "rows": rows,
        "vocab": vocab,
        "block_rows": block,
        "chunk": chunk if route == "jax-streamed" else None,
        "alphas": list(ALPHAS),
        "dtype": "float32",
        "seconds": seconds,
        "logits_per_s": rows * vocab / seconds,
        "peak_rss_mb": peak,
        "setup_rss_mb": base,
        "extra_rss_mb": peak - base,
        "first_block": first[:, :4].tolist(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--vocab", type=int, default=50257)
    parser.add_argument("--full", action="store_true", help="24 layers (the issue's size)")
    parser.add_argument("--block", type=int, default=256, help="rows generated per block")
    parser.add_argument(
        "--chunks",
        type=int,
        nargs="+",
        default=[1024, 4096, 16384],
        help="vocabulary chunk sizes of the streamed route (one run each)",
    )
    parser.add_argument("--chunk", type=int, default=4096, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out", type=pathlib.Path, default=pathlib.Path(__file__).parent / "results"
    )
    parser.add_argument("--worker", choices=ROUTES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    layers = 24 if args.full else args.layers
    rows = layers * args.tokens
    if args.worker:
        rec = worker(args.worker, rows, args.vocab, args.block, args.chunk, args.repeats)
        print(json.dumps(rec))
        return 0

    from _harness import environment, write_jsonl

    env = environment()
    records = []
    runs = [("numpy", args.chunk), ("jax-full", args.chunk)]
    runs += [("jax-streamed", c) for c in args.chunks]
    for route, chunk in runs:
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            route,
            "--layers",
            str(layers),
            "--tokens",
            str(args.tokens),
            "--vocab",
            str(args.vocab),
            "--block",
            str(args.block),
            "--chunk",
            str(chunk),
            "--repeats",
            str(args.repeats),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        records.append(
            {
                **json.loads(done.stdout.strip().splitlines()[-1]),
                **env,
                "layers": layers,
                "tokens": args.tokens,
            }
        )
        print(f"{route:>13} (chunk {chunk}): {records[-1]['seconds']:.3f} s", flush=True)
    ref = np.asarray(records[0]["first_block"])
    for r in records[1:]:  # correctness before speed: every route gives the same entropies
        np.testing.assert_allclose(np.asarray(r["first_block"]), ref, rtol=2e-4, atol=2e-4)
    numpy_speed = records[0]["logits_per_s"]
    for r in records:
        r["ratio_vs_numpy"] = r["logits_per_s"] / numpy_speed
        r.pop("first_block")
        print(json.dumps(r, sort_keys=True))
    write_jsonl(args.out / "renyi.jsonl", records)
    (args.out / "renyi.md").write_text(table(records, env, layers, args), encoding="utf-8")
    return 0


def table(records, env, layers, args) -> str:
    lines = [
        "# Rényi entropies of logit-lens logits (4 orders)",
        "",
        f"{layers} layers × {args.tokens} tokens × {args.vocab} vocabulary, α = {list(ALPHAS)}, "
        f"float32, logits generated {args.block} rows at a time as `h @ W` (width {WIDTH}).",
        "",
        f"Date {env['date']}; {env['cpu']} ({env['cores']} cores, shared, run under `nice`); "
        f"{env['device']}; jax {env['jax']}, jaxlib {env['jaxlib']}, numpy {env['numpy']}, "
        f"python {env['python']}.",
        "",
        "| route | seconds (median) | logits / s | × numpy | peak RSS (MB) "
        "| RSS after setup (MB) | peak − setup (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in records:
        name = r["route"] + (f" (chunk {r['chunk']})" if r["chunk"] else "")
        lines.append(
            f"| {name} | {r['seconds']:.3f} | {r['logits_per_s']:.3g} | "
            f"{r['ratio_vs_numpy']:.1f} | {r['peak_rss_mb']:.0f} | {r['setup_rss_mb']:.0f} | "
            f"{r['extra_rss_mb']:.0f} |"
        )
    cmd = "nice python benchmarks/bench_renyi.py" + (" --full" if layers == 24 else "")
    lines += [
        "",
        f"Command: `{cmd}`. Peak RSS is the whole worker process (Python, JAX, inputs, compiled "
        "code); *setup* is its RSS after imports, inputs and runtime start, before the route ran, "
        "so peak − setup is what the route itself needed (one block of logits is "
        f"{args.block * args.vocab * 4 / 2**20:.0f} MB in float32).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
