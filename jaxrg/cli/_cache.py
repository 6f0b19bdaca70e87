"""The persistent compilation cache of the ``jaxrg`` command line.

Most of a short command's time is XLA compilation (``jaxrg demo``: about 7 s of 7.5 s). The CLI
turns on JAX's persistent compilation cache, so a second run with the same shapes loads the
compiled programs from disk instead (``benchmarks/bench_cli_cache.py`` measures it).

Where: ``$JAXRG_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/jaxrg/compile``, else
``~/.cache/jaxrg/compile`` (beside the datasets' default folder, never mixed with its files).
Off: ``jaxrg --no-compile-cache ...`` or ``JAXRG_NO_COMPILE_CACHE=1``. Deleting the folder is
always safe. The library itself never touches this setting (STYLE.md: no global state at import).
"""

from __future__ import annotations

import os
import pathlib

ENV_DIR = "JAXRG_CACHE_DIR"
ENV_OFF = "JAXRG_NO_COMPILE_CACHE"


def cache_dir() -> pathlib.Path:
    """The folder of the compilation cache (see the module docstring for the order of choices).

    Returns:
        The folder as a ``pathlib.Path`` (not created here).
    """
    if os.environ.get(ENV_DIR):
        return pathlib.Path(os.environ[ENV_DIR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base).expanduser() / "jaxrg" / "compile"


def disabled(flag: bool = False) -> bool:
    """Whether the cache is off: the ``--no-compile-cache`` flag or ``JAXRG_NO_COMPILE_CACHE``.

    Args:
        flag: the value of ``--no-compile-cache``.

    Returns:
        True when the cache must not be used (the variable set to anything but ``""``/``0``).
    """
    return flag or os.environ.get(ENV_OFF, "") not in ("", "0")


def enable(*, off: bool = False) -> pathlib.Path | None:
    """Turn on JAX's persistent compilation cache for this process, unless switched off.

    Every compiled program is cached (no minimum compile time or size), because the CLI's many
    small programs are what a short command spends its time on. A folder that cannot be created
    leaves the cache off rather than failing the command.

    Args:
        off: the value of ``--no-compile-cache``.

    Returns:
        The cache folder, or None when the cache is off.
    """
    if disabled(off):
        return None
    import jax

    path = cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
