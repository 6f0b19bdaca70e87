"""Learnable models (Flax nnx): graph encoders, networks that approximate RG maps, classifiers."""

__all__: list[str] = []
