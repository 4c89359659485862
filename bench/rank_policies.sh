#!/usr/bin/env bash
# Issue 24's measurement: naive (SVD only) and PELA (short pretrain) students of the demo teacher under
# uniform / budget / budget + activation-aware ranks and SVD, at the uniform kappa-2 student's parameter count.
# Usage (repository root, after `submit/pela demo --prepare-only --out $OUT`):
#   bench/rank_policies.sh OUT ROUNDS        e.g. bench/rank_policies.sh /tmp/m24 40
# Prints one line per student: name, params, naive top-1, PELA top-1.
set -euo pipefail
OUT=${1:?output directory}
ROUNDS=${2:-40}
DATA=$OUT/data/fashion-mnist
T=conf/demo/teacher
# The uniform kappa-2 student's share of the decomposed Linears' parameters (16256 / 32768 for this teacher), so the
# budget students get the same parameters (up to less than one rank step).
SHARE=0.49609375
declare -A SURGERY=(
  [uniform]="--kappa 2"
  [uniform_aa]="--kappa 2 --svd-init activation-aware --calibration $DATA/train --calibration-images 256"
  [budget]="--rank-policy budget --param-budget $SHARE"
  [budget_aa]="--rank-policy budget --param-budget $SHARE --svd-init activation-aware --calibration $DATA/train --calibration-images 256"
)
declare -A RECIPE=(
  [uniform]="--set model.kappa=2"
  [uniform_aa]="--set model.kappa=2 --set model.svd-init=activation-aware --set model.calibration-images=256"
  [budget]="--set model.rank-policy=budget --set model.param-budget=$SHARE"
  [budget_aa]="--set model.rank-policy=budget --set model.param-budget=$SHARE --set model.svd-init=activation-aware --set model.calibration-images=256"
)
top1() { python3 -c "import json,sys; print('%.2f' % (100 * json.load(open(sys.argv[1]))['top1']))" "$1"; }
for name in uniform uniform_aa budget budget_aa; do
  # shellcheck disable=SC2086
  submit/pela compress --config $T/config.json --weights $T/model.safetensors ${SURGERY[$name]} --out "$OUT/naive-$name" >/dev/null
  submit/pela evaluate --recipe conf/demo.conf --set data.root="$DATA" --model "$OUT/naive-$name" --split val \
    --out "$OUT/naive-$name.json" >/dev/null 2>&1
  # shellcheck disable=SC2086
  submit/pela pretrain --recipe conf/demo.conf --set data.root="$DATA" --set run-dir="$OUT/pela-$name" \
    --set train.max-rounds="$ROUNDS" ${RECIPE[$name]} >"$OUT/pela-$name.log" 2>&1
  submit/pela evaluate --recipe conf/demo.conf --set data.root="$DATA" --model "$OUT/pela-$name/model" --split val \
    --out "$OUT/pela-$name.json" >/dev/null 2>&1
  params=$(submit/pela model-info --config "$OUT/naive-$name/config.json" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['teacher']['params'])")
  echo "$name params=$params naive_top1=$(top1 "$OUT/naive-$name.json") pela_top1=$(top1 "$OUT/pela-$name.json")"
done
