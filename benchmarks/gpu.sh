#!/bin/sh
# Every headline benchmark on an accelerator, one command (< 8 min): see benchmarks/gpu.py.
# Deterministic GPU reductions and no memory grab, so the numbers match the test-suite setup.
set -e
cd "$(dirname "$0")/.."
export XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_deterministic_ops=true"
export XLA_PYTHON_CLIENT_PREALLOCATE="${XLA_PYTHON_CLIENT_PREALLOCATE:-false}"
exec python benchmarks/gpu.py "$@"
