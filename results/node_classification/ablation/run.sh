#!/usr/bin/env bash
# Ablation (Caso et al., IJCNN 2025, DESIGN.md §4): the characteristic scale tau* against 30
# random scales drawn log-uniformly in 3 ranges (10 each): below tau* [0.05, 0.2], around it
# [0.2, 2] and above it [2, 20]. Cora, GCN, MR, width 64, lr 1e-3; CPU budget: 5 seeds,
# 300 epochs. Resumes where it stopped. Run from the repository root with JAXRG_DATA set.
set -euo pipefail
out=results/node_classification/ablation
common=(--dataset cora --encoder gcn --seeds 5 --epochs 300 --hidden 64 --lr 1e-3
        --seed-batch 1 --no-progress --out "$out")
jaxrg experiment node-classification "${common[@]}" --variant SB MR --scale-variant authors-analytic
for tau in $(python -c "
import numpy as np
rng = np.random.default_rng(0)
for lo, hi in ((0.05, 0.2), (0.2, 2.0), (2.0, 20.0)):
    print(' '.join(f'{t:.4g}' for t in np.exp(rng.uniform(np.log(lo), np.log(hi), 10))))
"); do
  jaxrg experiment node-classification "${common[@]}" --variant MR --tau "$tau"
done
