"""Progress bars, also advanced from inside a compiled program.

A jitted loop (``lax.map``/``lax.scan``) calls :func:`tick` through ``jax.debug.callback`` once per
finished item; the innermost :func:`bar` open on the host advances. With no bar open a tick does
nothing, so a program compiled with ticks is safe to call anywhere.

Bars are cosmetic: without tqdm (the ``studies`` extra) :func:`progress_bar` returns a bar that
draws nothing, so the numerics run the same with the core install alone.
"""

from __future__ import annotations

import contextlib

import numpy as np

__all__ = ["bar", "progress_bar", "tick"]

_open: list = []


class _Silent:
    """The part of tqdm's interface jaxrg uses, drawing nothing."""

    def update(self, n=1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress_bar(**options):
    """``tqdm.auto.tqdm(**options)``, or a silent stand-in when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Silent()
    return tqdm(**options)


def tick(done) -> None:
    """Advance the innermost open bar by the number of items in ``done`` (one per element)."""
    if _open:
        _open[-1].update(int(np.size(done)))


@contextlib.contextmanager
def bar(total: int, desc: str, unit: str):
    """A tqdm bar that :func:`tick` advances while the ``with`` block runs."""
    with progress_bar(total=total, desc=desc, unit=unit, leave=False) as progress:
        _open.append(progress)
        try:
            yield progress
        finally:
            _open.remove(progress)
