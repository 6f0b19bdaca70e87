"""Root pytest configuration: applies to tests/ and to the doctests inside jaxrg/.

x64 on, strict dtype promotion, rank promotion raises (STYLE.md habit 11); deterministic GPU
reductions and no GPU memory preallocation (docs/accelerators.md); on a CPU, XLA flags that halve
the compile time (``_fast_cpu_compile_flags``); a headless matplotlib backend;
the CLI's compilation cache off; the hypothesis profile "ci" (derandomised, bounded examples, no
deadline, no example database), so property tests see the same examples on every run. A test's
own ``@settings(max_examples=...)`` still applies; ``HYPOTHESIS_PROFILE=dev`` explores further
with random examples.

The test session shares one persistent XLA compilation cache between its pytest-xdist workers
(a fresh temporary folder per session, removed at the end; see ``pytest_configure``): a program
that both workers, or several tests, compile is compiled once. It never outlives the session,
so every CI run compiles from scratch; ``JAXRG_TEST_COMPILE_CACHE=0`` turns it off.
"""

import os
import shutil
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")
# the CLI's persistent compilation cache stays out of the test process (and the user's home);
# tests/test_compile_cache.py runs the CLI and the API in fresh processes with the cache on
os.environ.setdefault("JAXRG_NO_COMPILE_CACHE", "1")
# On a GPU (docs/accelerators.md): deterministic scatter-adds, so "same key -> same bits" tests
# hold, and no 75 % memory grab per pytest-xdist worker. Both are no-ops on a CPU.
if "--xla_gpu_deterministic_ops" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_gpu_deterministic_ops=true"
    ).strip()
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


def _fast_cpu_compile_flags() -> str:
    """XLA CPU flags that halve the suite's compile time, or "" where they must not apply.

    The suite is dominated by compilation (hundreds of small programs, each compiled once), not
    by running them: with LLVM's optimisation level 0 and XLA's classic (non-"fusion emitter")
    CPU code generator, compiling a float32 ``laplacian_spectrum`` takes 1.2 s instead of 4.5 s
    and the heaviest test files run in half the time (2026-12-07, twenty-third session: the
    suite 31.6 min -> see CHANGELOG). The programs are the same JAX programs; only their
    machine code is less optimised (every assertion compares against an independent reference
    with a stated tolerance, and equality tests compare two runs of the same build).
    ``JAXRG_TEST_XLA_OPTIMISED=1`` runs the suite at XLA's default level instead (what users
    run); a GPU or TPU run (``JAX_PLATFORMS`` naming one, or an NVIDIA device present) keeps
    the defaults, since the optimisation level would also slow the device's kernels.
    """
    if os.environ.get("JAXRG_TEST_XLA_OPTIMISED", "0") not in ("", "0"):
        return ""
    platforms = os.environ.get("JAX_PLATFORMS", "")
    if any(name in platforms for name in ("cuda", "gpu", "rocm", "tpu")):
        return ""
    if not platforms and (os.path.exists("/dev/nvidiactl") or os.path.exists("/dev/kfd")):
        return ""
    return "--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false"


if "--xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " " + _fast_cpu_compile_flags()
    ).strip()

# Shape annotations are checked (STYLE.md habit 16): the annotated functions of the numerical
# core run under beartype in the test suite (add a module here once its suites pass with it).
# The hook must be installed before jaxrg is imported; JAXRG_TYPECHECK=0 turns it off.
TYPECHECKED = [
    "jaxrg._components", "jaxrg._numerics", "jaxrg.batch", "jaxrg.cumulants",
    "jaxrg.eigenvalues", "jaxrg.graphs", "jaxrg.info", "jaxrg.lrg", "jaxrg.scales",
    "jaxrg.sparse", "jaxrg.spectral", "jaxrg.thermo",
]
if os.environ.get("JAXRG_TYPECHECK", "1") != "0":
    from jaxtyping import install_import_hook

    install_import_hook(TYPECHECKED, "beartype.beartype")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")

try:
    from hypothesis import settings
except ImportError:  # hypothesis is a dev dependency: the doctests run without it
    pass
else:
    settings.register_profile("ci", derandomize=True, max_examples=25, deadline=None, database=None)
    settings.register_profile("dev", max_examples=300, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# --- one persistent compilation cache per test session, shared by the xdist workers ------------
_CACHE_KEY = "jaxrg_compile_cache_dir"
_CACHE_STASH = pytest.StashKey[str]()


def _session_cache(config):
    """The controller (or a run without xdist) makes the folder; the workers get its path."""
    if os.environ.get("JAXRG_TEST_COMPILE_CACHE", "1") == "0":
        return None
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return workerinput.get(_CACHE_KEY)
    path = tempfile.mkdtemp(prefix="jaxrg-test-xla-cache-")
    config.stash[_CACHE_STASH] = path
    return path


def pytest_configure(config):
    path = _session_cache(config)
    if path is None:
        return
    # every program is cached (the suite's are small and compiled by both workers); set before
    # the first compilation of the session, since JAX decides once whether the cache is used
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    # JAX writes entries without a lock (no eviction, so no filelock): a worker can read an entry
    # the other is still writing. JAX then warns and compiles the program itself (a correct
    # result, only slower); the warning is not the test's failure, so it is not an error here.
    for action in ("reading", "writing"):
        message = f"Error {action} persistent compilation cache entry"
        config.addinivalue_line("filterwarnings", f"ignore:{message}:UserWarning")


def pytest_unconfigure(config):
    path = config.stash.get(_CACHE_STASH, None)
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist controller: hand the session's cache folder to each worker."""
    path = node.config.stash.get(_CACHE_STASH, None)
    if path is not None:
        node.workerinput[_CACHE_KEY] = path
