"""Node classification with multiscale GNNs on renormalised graphs (Caso et al., IJCNN 2025).

- ``gnn``, ``multiscale``: the GCN/GAT encoders and the SB/MB/SR/MR classifiers;
- ``train``: full-batch training with several seeds in one program;
- ``experiment``: the runs (one JSON line per seed, resumable); ``report``, ``stats``: the table
  with Wilcoxon tests; ``cli``: ``jaxrg study node-classification run|scales|kipf|report``.
"""

__all__: list[str] = []
