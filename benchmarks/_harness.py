"""Benchmark plumbing shared by the scripts in benchmarks/ (STYLE.md habit 12).

Correctness is checked before timing; compile time and run time are measured apart (warm-up,
``block_until_ready``, median of several runs); results are JSON lines with device, dtype and
versions.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import pathlib
import platform
import statistics
import time

import jax
import numpy as np


def block(x):
    return jax.tree_util.tree_map(
        lambda leaf: leaf.block_until_ready() if hasattr(leaf, "block_until_ready") else leaf, x
    )


def median_time(fn, *args, repeats: int = 5, min_total: float = 0.2) -> float:
    """Median wall time of ``fn(*args)`` (outputs blocked), over at least ``repeats`` runs."""
    times = []
    start_all = time.perf_counter()
    while len(times) < repeats or (time.perf_counter() - start_all < min_total and len(times) < 50):
        start = time.perf_counter()
        block(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compile_time(jitted, *args) -> float:
    """Seconds to lower and compile ``jitted`` for ``args`` (excluded from run times)."""
    start = time.perf_counter()
    jitted.lower(*args).compile()
    return time.perf_counter() - start


def environment() -> dict:
    import jaxlib

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "date": datetime.date.today().isoformat(),
        "device": str(jax.devices()[0]),
        "platform": jax.default_backend(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "numpy": np.__version__,
        "ml_dtypes": importlib.metadata.version("ml_dtypes"),
        "python": platform.python_version(),
    }


def write_jsonl(path: str | os.PathLike, records: list[dict]) -> None:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
