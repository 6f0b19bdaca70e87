"""JAX's persistent compilation cache, turned on by the ``jaxrg`` command and on request.

Most of a short computation's first-call time is XLA compilation (``jaxrg demo``: about 7 s of
7.5 s before the cache). With the persistent cache, a second process with the same shapes loads
the compiled programs from disk instead (``benchmarks/bench_cli_cache.py`` measures it). The
``jaxrg`` command turns it on for every run; the library never does so by itself (STYLE.md: no
global state at import) — a Python program opts in with :func:`enable_compile_cache`.

Where: the ``directory`` argument, else ``$JAXRG_CACHE_DIR``, else
``$XDG_CACHE_HOME/jaxrg/compile``, else ``~/.cache/jaxrg/compile`` (beside the datasets' default
folder, never mixed with its files). Off: ``jaxrg --no-compile-cache ...`` or
``JAXRG_NO_COMPILE_CACHE=1`` (the variable also makes :func:`enable_compile_cache` a no-op).
Deleting the folder is always safe.
"""

from __future__ import annotations

import os
import pathlib

__all__ = ["cache_dir", "disabled", "enable_compile_cache"]

ENV_DIR = "JAXRG_CACHE_DIR"
ENV_OFF = "JAXRG_NO_COMPILE_CACHE"


def cache_dir() -> pathlib.Path:
    """The default folder of the compilation cache (see the module docstring for the order).

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


def enable_compile_cache(directory: str | os.PathLike | None = None) -> pathlib.Path | None:
    """Turn on JAX's persistent compilation cache for this process (what ``jaxrg`` does).

    Every compiled program is cached (JAX's minimum compile time and size are set to 0), because
    jaxrg's many small programs are what a short computation spends its time on; a later process
    that calls this again loads them from disk instead of compiling. This changes global JAX
    settings (``jax_compilation_cache_dir`` and the two minima) for the whole process, which is
    why jaxrg never calls it on import. A folder that cannot be created leaves the cache off
    rather than failing.

    Args:
        directory: the cache folder; default :func:`cache_dir` (``$JAXRG_CACHE_DIR``, else
            ``$XDG_CACHE_HOME/jaxrg/compile``, else ``~/.cache/jaxrg/compile``).

    Returns:
        The cache folder, or None when the cache stays off (``JAXRG_NO_COMPILE_CACHE`` set, or the
        folder cannot be created).

    Example:
        >>> import jaxrg
        >>> folder = jaxrg.enable_compile_cache()   # doctest: +SKIP
    """
    if disabled():
        return None
    import jax

    path = cache_dir() if directory is None else pathlib.Path(directory).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
