#!/usr/bin/env bash
# The published table under the authors' protocol (Caso et al., IJCNN 2025; FrancescoCaso/RGR):
# PyTorch initialisation of the linear layers (--init torch), Adam lr 1e-4, GCN without input
# projection (width = number of features), GAT with their projection width (--hidden auto),
# tau* from their pipeline (--scale-variant authors), Planetoid's public split and the ordered
# 70/15/15 split of their create_masks for Amazon and Europe, 10 seeds. Europe runs on the graph
# PyG's Airports gives their code (--edges as-stored: each edge once, directed as the file lists
# it; SR/MR rewire that directed graph as their RSLRG does, at tau* of its in-degree Laplacian).
# Epoch budgets: every budget of their logarithmic list is recorded up to EPOCHS; the paper does
# not say which budget its table reports (see the README for accuracy against budget). Cora and
# Citeseer: 200 (their cells are reached there); Europe, Photo, Computers: 1000 (still rising
# at 200: Photo GCN SB 94.6 at 200, 95.9 at 1000, published 96.0).
# Seeds: --seed-batch auto, i.e. looped inside one program on a CPU (as every recorded row ran),
# all seeds of a block in one vmap on a GPU (Photo and Computers: run this there, with
# SAVE_EVERY=all so that the block is all 10 seeds).
# Propagation: GCN encoders use a dense matrix on the rewired Amazon graphs (--operator auto:
# 10-19 % dense, 5.2x faster than the edge list on a CPU; the same numbers up to rounding) and
# the edge list everywhere else; GAT always uses the edge list.
# Width: HIDDEN=reduced gives their GCN's --dim_reduction width (h_dim_mapping: Cora/Citeseer
# 1024, Photo 64, Computers 24) instead of none; GAT is the same either way. The report takes
# a reduced-width cell only where the default width has fewer than 10 seeds, and says so.
# Resumable: rerun the same command after a kill (each seed is saved as it finishes).
# Run from the repository root, JAXRG_DATA set.
# Usage: bash results/node_classification/protocol.sh [DATASET ...]   (default: all five)
set -euo pipefail
out=results/node_classification
datasets=("${@:-europe cora citeseer photo computers}")
for ds in ${datasets[*]}; do
  case $ds in
    europe) epochs=1000; split=ordered; edges=as-stored ;;
    cora|citeseer) epochs=${EPOCHS:-200}; split=public; edges=undirected ;;
    photo|computers) epochs=${EPOCHS:-1000}; split=ordered; edges=undirected ;;
  esac
  for enc in gcn gat; do
    jaxrg experiment node-classification --dataset "$ds" --encoder "$enc" \
        --variant SB MB SR MR --scale-variant authors --init torch --hidden "${HIDDEN:-auto}" --lr 1e-4 \
        --split "$split" --edges "$edges" --seeds "${SEEDS:-10}" --epochs "$epochs" \
        --seed-batch "${SEED_BATCH:-auto}" \
        --save-every "${SAVE_EVERY:-1}" --no-progress --out "$out"
  done
done
# tau* by every definition and the rewired-graph sizes (graph-only, PubMed included):
#   jaxrg experiment node-scales --dataset cora citeseer europe photo computers pubmed --out "$out"
