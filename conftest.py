"""Root pytest configuration: applies to tests/ and to the doctests inside jaxrg/.

x64 on, strict dtype promotion, rank promotion raises (STYLE.md habit 11); a headless
matplotlib backend; the hypothesis profile "ci" (derandomised, bounded examples, no deadline, no
example database), so property tests see the same examples on every run. A test's own
``@settings(max_examples=...)`` still applies; ``HYPOTHESIS_PROFILE=dev`` explores further with
random examples.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

# Shape annotations are checked (STYLE.md habit 16): the annotated functions of the numerical
# core run under beartype in the test suite (add a module here once its suites pass with it).
# The hook must be installed before jaxrg is imported; JAXRG_TYPECHECK=0 turns it off.
TYPECHECKED = [
    "jaxrg._components", "jaxrg._gibbs", "jaxrg._numerics", "jaxrg.batch", "jaxrg.cumulants",
    "jaxrg.eigenvalues", "jaxrg.graphs", "jaxrg.info", "jaxrg.lrg", "jaxrg.scales",
    "jaxrg.sparse", "jaxrg.spectral", "jaxrg.thermo",
]
if os.environ.get("JAXRG_TYPECHECK", "1") != "0":
    from jaxtyping import install_import_hook

    install_import_hook(TYPECHECKED, "beartype.beartype")

import jax  # noqa: E402

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
