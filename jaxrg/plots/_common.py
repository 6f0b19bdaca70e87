"""Shared plotting plumbing: a headless backend and atomic PNG writes."""

from __future__ import annotations

import os
import pathlib
import tempfile

from jaxrg import _io, _optional


def pyplot():
    """``matplotlib.pyplot`` with the headless Agg backend (unless one is already chosen)."""
    matplotlib = _optional.require("matplotlib", purpose="jaxrg.plots (figures)")

    if "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: str | os.PathLike, *, dpi: int = 120) -> pathlib.Path:
    """Write ``fig`` to ``path`` (format from the suffix) atomically and close it.

    The figure goes to a temporary file beside ``path`` first, so a failure never leaves a
    half-written image; missing parent folders are created.

    Args:
        fig: ``matplotlib.figure.Figure``.
        path: destination (``.png``, ``.pdf``, ``.svg``, ...).
        dpi: resolution of raster formats.

    Returns:
        ``path`` as a ``pathlib.Path``.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
        _io.publish(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        pyplot().close(fig)
    return path


def panel_grid(count: int, *, panel: tuple[float, float] = (3.4, 2.9), max_columns: int = 3):
    """A figure of ``count`` panels laid out in a grid, never a long strip.

    Rows hold at most ``max_columns`` panels and are balanced (5 panels: 3 + 2; 4 panels: 2 + 2),
    so a figure stays readable at the width a page shows it; unused cells are hidden.

    Args:
        count: number of panels (>= 1).
        panel: ``(width, height)`` of one panel in inches.
        max_columns: most panels per row.

    Returns:
        ``(fig, axes)``: the ``matplotlib.figure.Figure`` and a list of ``count`` Axes in reading
        order.
    """
    rows = -(-count // max_columns)
    columns = -(-count // rows)
    fig, axes = pyplot().subplots(rows, columns, figsize=(panel[0] * columns, panel[1] * rows),
                                  squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]
