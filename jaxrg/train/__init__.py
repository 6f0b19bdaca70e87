"""Training loops: full-batch node classification with several seeds vmapped into one program.

Examples:
    >>> from jaxrg.train import accuracy_at_budgets, train_node_classifier
"""

from jaxrg import _optional

for _package in ("flax", "optax", "jraph"):  # one line naming the extra, not a traceback
    _optional.require(_package, purpose="jaxrg.train")

from jaxrg.train.node_classification import (  # noqa: E402
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

__all__ = ["PROPAGATIONS", "TrainInputs", "TrainResult", "Trainer", "accuracy_at_budgets", "fit",
           "induced_subgraph", "make_trainer", "prepare_inputs", "train_node_classifier"]
