"""Progress bars that advance from inside a compiled program.

A jitted loop (``lax.map``/``lax.scan``) calls :func:`tick` through ``jax.debug.callback`` once per
finished item; the innermost :func:`bar` open on the host advances. With no bar open a tick does
nothing, so a program compiled with ticks is safe to call anywhere.
"""

from __future__ import annotations

import contextlib

import numpy as np

_open: list = []


def tick(done) -> None:
    """Advance the innermost open bar by the number of items in ``done`` (one per element)."""
    if _open:
        _open[-1].update(int(np.size(done)))


@contextlib.contextmanager
def bar(total: int, desc: str, unit: str):
    """A tqdm bar that :func:`tick` advances while the ``with`` block runs."""
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit=unit, leave=False) as progress:
        _open.append(progress)
        try:
            yield progress
        finally:
            _open.remove(progress)
