"""Optional dependencies: import them on demand, or say which extra installs them.

The core (``pip install jaxrg``) needs only jax, numpy and jaxtyping. :data:`EXTRAS` names the
extra of ``pyproject.toml`` that installs each optional package; the subpackages that need one
(``jaxrg.datasets``, ``jaxrg.studies``, ``jaxrg.plots``; and the previous release's aliases
``jaxrg.models``, ``jaxrg.train``, ``jaxrg.experiments``, through ``jaxrg.studies``) call
:func:`require` first, so a missing package is one line naming the ``pip install`` to run.
"""

from __future__ import annotations

import importlib
import types

__all__ = ["EXTRAS", "MissingDependency", "require"]

#: top-level package -> the jaxrg extra that installs it
EXTRAS = {
    "flax": "studies",
    "optax": "studies",
    "jraph": "studies",
    "tqdm": "studies",
    "matplotlib": "plots",
    "scipy": "sparse",
    "matfree": "sparse",
    "networkx": "graphs",
}


class MissingDependency(ImportError):
    """An optional package is not installed; the message names the ``pip install`` that fixes it.

    The CLI prints it as one line with exit code 2.
    """


def require(module: str, *, extra: str | None = None, purpose: str) -> types.ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming ``jaxrg[extra]``.

    Args:
        module: dotted module name, e.g. ``"networkx"``.
        extra: the jaxrg extra that installs it (``pyproject.toml``); default from
            :data:`EXTRAS`.
        purpose: what needs it, for the message (e.g. ``"reading GraphML files"``).

    Returns:
        The imported module.

    Raises:
        MissingDependency: ``module`` cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        package = module.split(".")[0]
        extra = extra or EXTRAS[package]
        raise MissingDependency(
            f"{purpose} needs {package}, which is not installed: pip install 'jaxrg[{extra}]' "
            f"(or pip install {package})."
        ) from err
