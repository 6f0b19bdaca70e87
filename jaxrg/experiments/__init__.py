"""Reproductions of published studies: one module per study, each runnable from the CLI."""

from jaxrg import _optional

for _package in ("flax", "optax", "jraph", "tqdm"):  # one line naming the extra when missing
    _optional.require(_package, purpose="jaxrg.experiments")

__all__: list[str] = []
