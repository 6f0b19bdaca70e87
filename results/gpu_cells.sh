#!/usr/bin/env bash
# The heavy cells that a 2-core CPU cannot finish (issues #16, #20, #21), as one prepared
# command for a lent GPU: each call of the device tool may run 10 minutes and a session has 15
# minutes of device time in all, so the cells run in priority order until a time budget is
# spent, every finished seed block is saved at once, and only the new records come back.
#
#   1. here:        bash results/gpu_cells.sh prepare photo computers mnist
#                   -> .devcarry/ (git-ignored): the named datasets from $JAXRG_DATA (49 MB of
#                   Amazon graphs pack to 5 MB) and the jraph wheel the GPU image lacks
#   2. on the GPU:  the device tool's run with command "bash results/gpu_cells.sh run",
#                   carry [".devcarry"], timeout_s 600 (BUDGET, default 480 s, stops starting
#                   new cells; a cell is stopped at the budget, losing at most its open block)
#   3. here:        bash results/gpu_cells.sh collect DIR   (DIR: the folder the files came
#                   back to) -> `jaxrg study node-classification|maxent collect` into results/
#
# CELLS (space-separated, run in this order; default: DEFAULT_CELLS below):
#   nc:DATASET:ENCODER:VARIANTS:BLOCK  the authors' protocol of protocol.sh (torch init, lr
#       1e-4, tau* of their pipeline, Planetoid's public split or the ordered 70/15/15 one,
#       EPOCHS=1000, SEEDS=10); GCN at their --dim_reduction width (the committed
#       Photo/Computers SB/MB rows), GAT at theirs;
#       VARIANTS comma-separated; BLOCK seeds per vmapped block ("all" or a number: the
#       rewired Computers graph has 34.8 M edges, 3.3 GB per message array per seed)
#   ls:DATASET:ENCODER:VARIANTS:BLOCK  learned_scale/run.sh's setting (width 64, flax init, lr
#       1e-3, tau* of the authors' C in analytic form): SD, MD, SL, ML and SR/MR
#   me:DATASET:MODEL:CLASSES          maxent Table 1, ME loss, 5 seeds (ME_SEEDS), e.g. the CNN
# Outputs in $OUT (the device tool's folder; default ./gpu_out): node_classification.jsonl and
# maxent.jsonl (the new records only, rewritten after every cell), log.txt (the steps, times
# and errors), cells.log (everything the cells printed). WORK (default /tmp/gpu_cells) holds
# the runs' folders, CARRY (default .devcarry) the prepared files.
set -uo pipefail
cd "$(dirname "$0")/.."
# (Photo GCN SR/MR ran on the CPU in the eleventh session; a finished cell would be skipped.)
DEFAULT_CELLS="nc:computers:gcn:SR,MR:2 nc:photo:gat:SB,MB:all nc:computers:gat:SB,MB:all \
nc:photo:gat:SR,MR:2 nc:computers:gat:SR,MR:1"
carry=${CARRY:-.devcarry}

prepare() {
  [ $# -gt 0 ] || { echo "usage: $0 prepare DATASET_FOLDER... (e.g. amazon mnist)" >&2; exit 2; }
  : "${JAXRG_DATA:?set JAXRG_DATA to the data folder (e.g. ../shared/data)}"
  grep -qx "/$carry/" .git/info/exclude 2>/dev/null || echo "/$carry/" >> .git/info/exclude
  rm -rf "$carry" && mkdir -p "$carry/whl"
  local folders=()
  for name in "$@"; do
    case $name in photo|computers) name=amazon ;; fashion-mnist) name=fashion_mnist ;; esac
    [ -d "$JAXRG_DATA/$name" ] || { echo "no $JAXRG_DATA/$name" >&2; exit 2; }
    folders+=("$name")
  done
  tar -czf "$carry/data.tar.gz" -C "$JAXRG_DATA" $(printf '%s\n' "${folders[@]}" | sort -u)
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp -d "$carry/whl" "jraph==0.0.6.dev0"
  du -sh "$carry"/* && echo "carry $carry (with the tracked tree: under 64 MiB)"
}

run() {
  OUT=${OUT:-$PWD/gpu_out}
  mkdir -p "$OUT"
  exec > >(tee -a "$OUT/log.txt") 2>&1
  local start budget=${BUDGET:-480} work=${WORK:-/tmp/gpu_cells}
  start=$(date +%s)
  if compgen -G "$carry/whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site "$carry"/whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
  fi
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
  export XLA_PYTHON_CLIENT_PREALLOCATE=false
  if [ -f "$carry/data.tar.gz" ]; then
    mkdir -p /tmp/jaxrg_data && tar -xzf "$carry/data.tar.gz" -C /tmp/jaxrg_data
    export JAXRG_DATA=/tmp/jaxrg_data
  fi
  nvidia-smi -L 2>/dev/null || true
  python3 -c "import jax; print('jax', jax.__version__, jax.devices())" || exit 1
  rm -rf "$work" && mkdir -p "$work/nc" "$work/ls" "$work/me"
  cp results/node_classification/results.jsonl "$work/nc/"
  cp results/node_classification/results.jsonl "$work/ls/"
  cp results/maxent/results.jsonl "$work/me/"
  local size_nc size_me
  size_nc=$(wc -c < "$work/nc/results.jsonl")
  size_me=$(wc -c < "$work/me/results.jsonl")
  for cell in ${CELLS:-$DEFAULT_CELLS}; do
    local left=$(( budget - ($(date +%s) - start) ))
    if [ "$left" -lt 20 ]; then echo "== $cell: not started, the budget ($budget s) is spent"; continue; fi
    IFS=: read -r kind ds a b c <<< "$cell"
    local t0 cmd
    t0=$(date +%s)
    case $kind in
      nc) local hidden=auto split=ordered
          [ "$a" = gcn ] && hidden=reduced
          case $ds in cora|citeseer|pubmed) split=public ;; esac
          cmd=(python3 -m jaxrg study node-classification run --dataset "$ds" --encoder "$a"
               --variant ${b//,/ } --scale-variant authors --init torch --hidden "$hidden"
               --lr 1e-4 --split "$split" --edges undirected --seeds "${SEEDS:-10}"
               --epochs "${EPOCHS:-1000}" --save-every "$c" --no-progress --out "$work/nc") ;;
      ls) cmd=(python3 -m jaxrg study node-classification run --dataset "$ds" --encoder "$a"
               --variant ${b//,/ } --hidden 64 --lr 1e-3 --init flax
               --scale-variant authors-analytic --seeds "${SEEDS:-10}" --epochs "${EPOCHS:-1000}"
               --save-every "$c" --no-progress --out "$work/ls") ;;
      me) cmd=(python3 -m jaxrg study maxent run --dataset "$ds" --model "$a" --loss me
               --rewarded "$b" --seeds "${ME_SEEDS:-5}" --quiet --out "$work/me"
               ${ME_EPOCHS:+--epochs "$ME_EPOCHS"}) ;;
      *) echo "== $cell: unknown kind $kind (nc, ls or me)"; continue ;;
    esac
    echo "== $cell: ${cmd[*]} (budget left $left s)"
    timeout -s INT -k 15 "$left" "${cmd[@]}" > "$work/cell.log" 2>&1
    local rc=$?
    cat "$work/cell.log" >> "$OUT/cells.log"
    [ "$rc" -eq 0 ] || tail -n 5 "$work/cell.log"  # the error (all output: cells.log)
    echo "== $cell: exit $rc after $(( $(date +%s) - t0 )) s"
    # the new records so far (learned-scale runs share the node-classification file here)
    { new_lines "$work/nc/results.jsonl" "$size_nc"
      new_lines "$work/ls/results.jsonl" "$size_nc"; } > "$OUT/node_classification.jsonl"
    new_lines "$work/me/results.jsonl" "$size_me" > "$OUT/maxent.jsonl"
  done
  echo "== done after $(( $(date +%s) - start )) s: $(wc -l < "$OUT/node_classification.jsonl")" \
    "node-classification and $(wc -l < "$OUT/maxent.jsonl") maxent records in $OUT"
}

new_lines() {  # the complete lines of file $1 after its first $2 bytes (a killed write: cut)
  python3 -c 'import sys; d = open(sys.argv[1], "rb").read()[int(sys.argv[2]):]
sys.stdout.buffer.write(d[:d.rfind(b"\n") + 1])' "$1" "$2"
}

collect() {  # collect DIR [RESULTS]: the returned files into RESULTS (default results)
  [ $# -ge 1 ] && [ -d "$1" ] || { echo "usage: $0 collect DIR [RESULTS]" >&2; exit 2; }
  local root=${2:-results}
  if [ -s "$1/node_classification.jsonl" ]; then
    python3 -m jaxrg study node-classification collect "$1/node_classification.jsonl" \
      --out "$root/node_classification" || exit 1
  fi
  if [ -s "$1/maxent.jsonl" ]; then
    python3 -m jaxrg study maxent collect "$1/maxent.jsonl" --out "$root/maxent" || exit 1
  fi
}

case ${1:-} in
  prepare) shift; prepare "$@" ;;
  run) run ;;
  collect) shift; collect "$@" ;;
  *) echo "usage: $0 prepare DATASET... | run | collect DIR [RESULTS]" >&2; exit 2 ;;
esac
