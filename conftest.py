"""Root pytest configuration: applies to tests/ and to the doctests inside jaxrg/.

x64 on, strict dtype promotion, rank promotion raises (STYLE.md habit 11); a headless
matplotlib backend.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")
