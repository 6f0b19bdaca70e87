"""Where the raw dataset files live: an explicit folder, else ``$JAXRG_DATA``, else a user cache."""

from __future__ import annotations

import os
import pathlib

ENV_VAR = "JAXRG_DATA"


def default_cache_dir() -> pathlib.Path:
    """The user cache folder: ``$XDG_CACHE_HOME/jaxrg``, else ``~/.cache/jaxrg``.

    Returns:
        A ``pathlib.Path`` (not created).
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "jaxrg"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> pathlib.Path:
    """The data folder to read from (and download into).

    Args:
        data_dir: an explicit folder; wins when given.

    Returns:
        ``data_dir`` if given, else the folder named by the environment variable ``JAXRG_DATA``,
        else :func:`default_cache_dir`. The folder need not exist yet.

    Examples:
        >>> str(resolve_data_dir("/tmp/graphs"))
        '/tmp/graphs'
    """
    if data_dir is not None:
        return pathlib.Path(data_dir).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return pathlib.Path(env).expanduser()
    return default_cache_dir()
