"""Moved to ``jaxrg.studies.<study>``; this alias goes in the next release.

Every model served one study, so each now lives in that study's folder:
``jaxrg.models.gnn`` and ``.multiscale`` → :mod:`jaxrg.studies.node_classification`,
``.subnetworks`` → :mod:`jaxrg.studies.maxent`, ``.rg_network`` → :mod:`jaxrg.studies.clt_rg`,
``.transformer`` → :mod:`jaxrg.studies.entropy_lens`. ``import jaxrg.models.gnn`` still works and
gives the moved module itself.
"""

import sys

from jaxrg.studies.clt_rg import rg_network
from jaxrg.studies.entropy_lens import transformer
from jaxrg.studies.maxent import subnetworks
from jaxrg.studies.node_classification import gnn, multiscale

for _module in (gnn, multiscale, rg_network, subnetworks, transformer):
    sys.modules[f"{__name__}.{_module.__name__.rpartition('.')[2]}"] = _module

__all__ = ["gnn", "multiscale", "rg_network", "subnetworks", "transformer"]
