"""Moved to ``jaxrg.studies.<study>.train``; this alias goes in the next release.

``jaxrg.train`` (and ``jaxrg.train.node_classification``) →
:mod:`jaxrg.studies.node_classification.train`; ``jaxrg.train.maxent`` →
:mod:`jaxrg.studies.maxent.train`. The old imports still work and give the moved modules.
"""

import sys

from jaxrg.studies.maxent import train as maxent
from jaxrg.studies.node_classification import train as node_classification
from jaxrg.studies.node_classification.train import (
    PROPAGATIONS,
    Trainer,
    TrainInputs,
    TrainResult,
    accuracy_at_budgets,
    fit,
    induced_subgraph,
    make_trainer,
    prepare_inputs,
    train_node_classifier,
)

sys.modules[f"{__name__}.maxent"] = maxent
sys.modules[f"{__name__}.node_classification"] = node_classification

__all__ = ["PROPAGATIONS", "TrainInputs", "TrainResult", "Trainer", "accuracy_at_budgets", "fit",
           "induced_subgraph", "make_trainer", "maxent", "node_classification", "prepare_inputs",
           "train_node_classifier"]
