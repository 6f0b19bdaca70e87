"""Moved to ``jaxrg.studies.<study>``; this alias goes in the next release.

``jaxrg.experiments.node_classification`` → :mod:`jaxrg.studies.node_classification.experiment`
(``node_classification_report`` → ``.report``, ``stats`` → ``.stats``);
``jaxrg.experiments.maxent`` → :mod:`jaxrg.studies.maxent.experiment` (``maxent_merging`` →
``.merging``); ``jaxrg.experiments.clt_rg`` → :mod:`jaxrg.studies.clt_rg.experiment`;
``jaxrg.experiments.entropy_lens`` → :mod:`jaxrg.studies.entropy_lens.experiment`
(``entropy_lens_families`` → ``.families``, ``lens_report`` → ``.report``, ``lens_tasks`` →
``.tasks``). The old imports still work and give the moved modules.
"""

import sys

from jaxrg.studies.clt_rg import experiment as clt_rg
from jaxrg.studies.entropy_lens import experiment as entropy_lens
from jaxrg.studies.entropy_lens import families as entropy_lens_families
from jaxrg.studies.entropy_lens import report as lens_report
from jaxrg.studies.entropy_lens import tasks as lens_tasks
from jaxrg.studies.maxent import experiment as maxent
from jaxrg.studies.maxent import merging as maxent_merging
from jaxrg.studies.node_classification import experiment as node_classification
from jaxrg.studies.node_classification import report as node_classification_report
from jaxrg.studies.node_classification import stats

__all__ = ["clt_rg", "entropy_lens", "entropy_lens_families", "lens_report", "lens_tasks",
           "maxent", "maxent_merging", "node_classification", "node_classification_report",
           "stats"]

for _name in __all__:
    sys.modules[f"{__name__}.{_name}"] = globals()[_name]
