"""Learnable models (Flax nnx): graph encoders, networks that approximate RG maps, classifiers."""

from jaxrg import _optional

for _package in ("flax", "jraph"):  # one line naming the extra, not a traceback, when missing
    _optional.require(_package, purpose="jaxrg.models")

__all__: list[str] = []
