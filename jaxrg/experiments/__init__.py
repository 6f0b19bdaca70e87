"""Reproductions of published studies: one module per study, each runnable from the CLI."""

__all__: list[str] = []
