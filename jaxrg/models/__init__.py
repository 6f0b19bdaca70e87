"""Learnable models (Flax nnx): graph encoders, networks that approximate RG maps, classifiers."""
