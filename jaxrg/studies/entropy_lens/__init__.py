"""Entropy-Lens (Ali et al. 2025) on small transformers trained here.

The lens maths (entropy profiles, k-NN protocol) is library (:mod:`jaxrg.lens`); here live the
transformer families (``transformer``), the synthetic tasks (``tasks``), the first reproduction
(``experiment``), the families design and ablation (``families``), the report and figures
(``report``, ``figures``) and ``cli``: ``jaxrg study entropy-lens run|families|report``.
"""

__all__: list[str] = []
