"""jaxrg: scale and entropy in representation learning, in JAX."""

__version__ = "0.1.0"
