"""The studies: reproductions of published work, one folder each.

Each study folder holds everything that serves only that study — its models, training, run,
report, figures and its command line (``jaxrg study <name> run|report``, registered by the
folder's ``cli.py``):

- ``node_classification``: multiscale GNNs on renormalised graphs (Caso et al., IJCNN 2025);
- ``maxent``: composable subnetworks by the maximum-entropy principle (Caso et al. 2025);
- ``clt_rg``: the central limit theorem as a renormalisation-group flow;
- ``entropy_lens``: Entropy-Lens profiles of small transformers (Ali et al. 2025).

The mathematics they use (spectral core, LRG, cumulants, the MaxEnt loss, the lens maths) lives in
the library layer, which never imports a study. Studies need the ``studies`` extra
(flax, optax, jraph, tqdm).
"""

from jaxrg import _optional

for _package in ("flax", "optax", "jraph", "tqdm"):  # one line naming the extra when missing
    _optional.require(_package, purpose="jaxrg.studies")

#: the study folders, in the order ``jaxrg study --help`` lists them
STUDIES = ("node_classification", "maxent", "clt_rg", "entropy_lens")

__all__ = ["STUDIES"]
