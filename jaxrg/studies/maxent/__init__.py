"""Composable subnetworks by the maximum-entropy principle (Caso et al. 2025).

The loss itself is library maths (:mod:`jaxrg.maxent`, :mod:`jaxrg.merging`); here live the
models (``subnetworks``), the training loops (``train``), the runs and report (``experiment``),
the merge comparison (``merging``) and ``cli``: ``jaxrg study maxent run|merge|report``.
"""

__all__: list[str] = []
