"""Ten seeds of node-classification training: one vmapped program against ten sequential runs.

Routes, measured in the same run (``jaxrg.studies.node_classification.train.make_trainer``):

* ``vmapped``: one program, all seeds in one ``jax.vmap`` (``seed_batch=None``);
* ``looped``: one program that loops over the seeds inside (``seed_batch=1``, ``lax.map``);
* ``sequential``: ten calls of the S = 1 program (compiled once, reused).

Correctness first: the per-seed training-loss curves of all routes must agree. Compilation is
excluded (a warm-up call per route), times are medians of ``--repeats`` runs; ratios are
sequential / route.

Workload: the protocol of Caso et al. (largest component, public split, training-subgraph
propagation, full-graph evaluation every epoch) with the SB model (GCN encoder).

Usage: ``JAXRG_DATA=../shared/data python benchmarks/bench_vmap_seeds.py [--dataset cora]
[--encoder gcn] [--hidden 64] [--epochs 100] [--seeds 10] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _harness import environment  # noqa: E402

from jaxrg.studies.node_classification.experiment import prepare  # noqa: E402
from jaxrg.studies.node_classification.multiscale import MultiscaleClassifier  # noqa: E402
from jaxrg.studies.node_classification.train import fit, make_trainer, prepare_inputs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cora")
    parser.add_argument("--encoder", choices=("gcn", "gat"), default="gcn")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path(__file__).parent / "results" / "vmap_seeds.jsonl",
    )
    args = parser.parse_args()

    data, graphs, _ = prepare(args.dataset, variant="SB", progress=False)

    def model_fn(rngs):
        return MultiscaleClassifier(
            data.features.shape[1],
            data.num_classes,
            num_graphs=1,
            hidden=args.hidden,
            conv=args.encoder,
            rngs=rngs,
        )

    trainer = make_trainer(model_fn, epochs=args.epochs, learning_rate=1e-3, chunk=args.epochs)
    looping = make_trainer(model_fn, epochs=args.epochs, learning_rate=1e-3, chunk=args.epochs,
                           seed_batch=1)
    masks = (data.train_mask, data.val_mask, data.test_mask)
    batch = prepare_inputs(data.features, data.labels, graphs, *masks, num_seeds=args.seeds)
    single = prepare_inputs(data.features, data.labels, graphs, *masks, num_seeds=1)
    keys = jnp.stack([jax.random.key(s) for s in range(args.seeds)])
    routes = {
        "vmapped": lambda: fit(trainer, keys, batch, progress=False),
        "looped": lambda: fit(looping, keys, batch, progress=False),
        "sequential": lambda: [fit(trainer, keys[i:i + 1], single, progress=False)
                               for i in range(args.seeds)],
    }

    # correctness (and warm-up: every program compiles here)
    first_call, losses = {}, {}
    for name, route in routes.items():
        start = time.perf_counter()
        out = route()
        first_call[name] = time.perf_counter() - start
        parts = out if isinstance(out, list) else [out]
        losses[name] = np.concatenate([r.train_loss for r in parts])
    for name in ("vmapped", "looped"):
        np.testing.assert_allclose(losses[name], losses["sequential"], rtol=1e-3, atol=1e-5)

    def median(fn):
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()  # fit returns host numpy arrays: the work is finished
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    times = {name: median(route) for name, route in routes.items()}
    record = {
        "benchmark": "vmap_seeds", "dataset": data.name, "encoder": args.encoder,
        "hidden": args.hidden, "num_nodes": data.num_nodes, "epochs": args.epochs,
        "seeds": args.seeds, "dtype": "float32", "repeats": args.repeats,
        **{f"{name}_s": t for name, t in times.items()},
        "ratio_sequential_over_vmapped": times["sequential"] / times["vmapped"],
        "ratio_sequential_over_looped": times["sequential"] / times["looped"],
        **{f"first_call_{name}_s": t for name, t in first_call.items()},
        "max_abs_loss_difference": float(np.max(np.abs(losses["vmapped"]
                                                       - losses["sequential"]))),
        "load_average_1min": os.getloadavg()[0], **environment()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
    print(f"{data.name} {args.encoder} h={args.hidden}, {args.epochs} epochs, {args.seeds} seeds: "
          + ", ".join(f"{name} {t:.2f} s" for name, t in times.items())
          + f"; sequential/vmapped {record['ratio_sequential_over_vmapped']:.2f}x, "
          f"sequential/looped {record['ratio_sequential_over_looped']:.2f}x (-> {args.out})")


if __name__ == "__main__":
    main()
