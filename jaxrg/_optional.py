"""Optional dependencies: import them on demand, or say which extra installs them."""

from __future__ import annotations

import importlib
import types


class MissingDependency(ImportError):
    """An optional package is not installed; the message names the ``pip install`` that fixes it.

    The CLI prints it as one line with exit code 2.
    """


def require(module: str, *, extra: str, purpose: str) -> types.ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming ``jaxrg[extra]``.

    Args:
        module: dotted module name, e.g. ``"networkx"``.
        extra: the jaxrg extra that installs it (``pyproject.toml``).
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
        raise MissingDependency(
            f"{purpose} needs {package}, which is not installed: pip install 'jaxrg[{extra}]' "
            f"(or pip install {package})."
        ) from err
