#!/usr/bin/env bash
# Choosing the renormalisation scale with features (issue 21, part 3), beside the committed
# width-64 rows of results/node_classification (SB, MB, SR, MR at tau* of the authors' C,
# analytic form; flax init, Adam lr 1e-3, 1000 epochs, 10 seeds), in the same results file so
# that every new cell is paired by seed with the same SB for the one-sided Wilcoxon test:
#   SR, MR at tau*_X  -- the first peak of the feature-aware C_X (jaxrg.features), before training
#   SD, MD            -- heat-kernel diffusion e^{-tau L^} at tau* of the normalised Laplacian
#   SL, ML            -- the same with tau trained jointly with the weights, from that tau*
# Resumable (each seed is saved as it finishes). Run from the repository root, JAXRG_DATA set.
# Usage: bash results/learned_scale/run.sh [DATASET ...]   (default: europe cora citeseer)
# Photo and Computers need a GPU (millions of rewired edges, 48 Chebyshev terms per layer).
set -euo pipefail
out=results/node_classification
datasets=("${@:-europe cora citeseer}")
for ds in ${datasets[*]}; do
  for enc in ${ENCODERS:-gcn gat}; do
    common=(--dataset "$ds" --encoder "$enc" --hidden 64 --lr 1e-3 --init flax
            --scale-variant authors-analytic --seeds "${SEEDS:-10}" --epochs "${EPOCHS:-1000}"
            --save-every 1 --no-progress --out "$out")
    # SD/SL are the heat encoder alone (no GCN/GAT): run once, under gcn
    if [ "$enc" = gcn ]; then variants=(SD MD SL ML); else variants=(MD ML); fi
    jaxrg study node-classification run "${common[@]}" --variant "${variants[@]}"
    if [ "$ds" != europe ]; then  # Europe's features are the identity: tau*_X = tau* there
      jaxrg study node-classification run "${common[@]}" --variant SR MR --scale-from features
    fi
  done
done
jaxrg study node-classification report "$out" --out "$out/table.md"
