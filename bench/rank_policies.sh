#!/usr/bin/env bash
# Issue 24's measurement: naive (SVD only) and PELA (short pretrain) students of the demo teacher under
# uniform / budget ranks and plain / activation-aware SVD, every budget student at the uniform student's share of the
# decomposed Linears' parameters (so the same parameters up to less than one rank step).
# Usage (repository root, after `submit/pela demo --prepare-only --out $OUT`; env TEACHER: another teacher dir, a
# ViT's or a Swin's):
#   bench/rank_policies.sh OUT KAPPA ROUNDS [NAMES]   ROUNDS: pretrain rounds (0 = the demo's one epoch; none = naive
#   only); NAMES: a subset of "uniform uniform_aa budget budget_aa" (default all four)
# Prints one line per student: name, params, naive top-1 (and PELA top-1) on the 10,000 test images.
set -euo pipefail
OUT=${1:?output directory}
KAPPA=${2:-2}
ROUNDS=${3:-0}
NAMES=${4:-uniform uniform_aa budget budget_aa}
DATA=$OUT/data/fashion-mnist
T=${TEACHER:-conf/demo/teacher}   # the teacher's directory (config.json, model.safetensors)
CAL="--calibration $DATA/train --calibration-images 256"
top1() { python3 -c "import json,sys; print('%.2f' % (100 * json.load(open(sys.argv[1]))['top1']))" "$1"; }
evaluate() { submit/pela evaluate --recipe conf/demo.conf --set data.root="$DATA" --model "$1" --split val --out "$2" >/dev/null 2>&1; }
params() { submit/pela model-info --config "$1/config.json" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['teacher']['params'])"; }
# The uniform student's share: its factors' parameters over the dense weights of the Linears it decomposes
# (a ViT's or a Swin's config.json: shapes from its dims).
share() {
  python3 - "$1/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
def shapes(d, h):
    return {"attn.qkv": (d, 3 * d), "attn.proj": (d, d), "mlp.fc1": (d, h), "mlp.fc2": (h, d),
            "downsample.reduction": (4 * d, 2 * d)}
dense = factors = 0
for name, r in c["lowrank"]["ranks"].items():
    if "depths" in c:  # Swin: layers.{s}.blocks.{j}.<linear> or layers.{s}.downsample.reduction
        d = c["embed_dim"] * 2 ** int(name.split(".")[1])
        linear = name.split(".", 4)[4] if ".blocks." in name else name.split(".", 2)[2]
    else:              # ViT: blocks.{i}.<linear>
        d = c["embed_dim"]
        linear = name.split(".", 2)[2]
    din, dout = shapes(d, int(d * c["mlp_ratio"]))[linear]
    dense += din * dout
    factors += r * (din + dout)
print(repr(factors / dense))
PY
}
submit/pela compress --config $T/config.json --weights $T/model.safetensors --kappa "$KAPPA" --out "$OUT/k$KAPPA-naive-uniform" >/dev/null
SHARE=$(share "$OUT/k$KAPPA-naive-uniform")
declare -A SURGERY=(
  [uniform]="--kappa $KAPPA"
  [uniform_aa]="--kappa $KAPPA --svd-init activation-aware $CAL"
  [budget]="--rank-policy budget --param-budget $SHARE"
  [budget_aa]="--rank-policy budget --param-budget $SHARE --svd-init activation-aware $CAL"
)
declare -A RECIPE=(
  [uniform]="--set model.kappa=$KAPPA"
  [uniform_aa]="--set model.kappa=$KAPPA --set model.svd-init=activation-aware --set model.calibration-images=256"
  [budget]="--set model.rank-policy=budget --set model.param-budget=$SHARE"
  [budget_aa]="--set model.rank-policy=budget --set model.param-budget=$SHARE --set model.svd-init=activation-aware --set model.calibration-images=256"
)
echo "kappa $KAPPA: uniform share $SHARE"
for name in $NAMES; do
  dir="$OUT/k$KAPPA-naive-$name"
  # shellcheck disable=SC2086
  submit/pela compress --config $T/config.json --weights $T/model.safetensors ${SURGERY[$name]} --out "$dir" >/dev/null
  evaluate "$dir" "$dir.json"
  line="$name params=$(params "$dir") naive_top1=$(top1 "$dir.json")"
  if [ "$ROUNDS" != none ]; then
    run="$OUT/k$KAPPA-pela-$name"
    # shellcheck disable=SC2086
    submit/pela pretrain --recipe conf/demo.conf --set data.root="$DATA" --set run-dir="$run" \
      --set model.config="$T/config.json" --set model.weights="$T/model.safetensors" \
      --set train.max-rounds="$ROUNDS" ${RECIPE[$name]} >"$run.log" 2>&1
    evaluate "$run/model" "$run.json"
    line="$line pela_top1=$(top1 "$run.json")"
  fi
  echo "$line"
done
