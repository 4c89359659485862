#!/usr/bin/env bash
# Before/after of one optimisation, side by side: runs `pela bench-step` from two application jars in alternating
# order (A B, B A, ...) and prints each side's median step time, their ratio and the load average around the runs.
# Usage: bench/ab_step.sh BEFORE.jar AFTER.jar ROUNDS [bench-step options...]
# A_ENV / B_ENV (e.g. B_ENV="OMP_WAIT_POLICY=PASSIVE") set environment variables for one side only.
# Example: bench/ab_step.sh /tmp/base.jar spark-jobs/target/pela-spark-app.jar 3 --config conf/demo/teacher/config.json --batch 64
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
A="$1"; B="$2"; ROUNDS="$3"; shift 3
OPENS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
--add-opens=java.base/java.lang.invoke=ALL-UNNAMED"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}" MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-4294967296}"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-4}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"  # as submit/pela sets it

one() { # env jar -> median step seconds (the table's 4th column)
  local envs="$1"; shift
  # shellcheck disable=SC2086
  env $envs java -Xmx"${PELA_HEAP:-8g}" $OPENS ${PELA_JAVA_OPTS:-} -Dlog4j2.configurationFile="$ROOT/conf/log4j2.xml" \
    -cp "$1:$ROOT/spark-jobs/target/lib/*" ai.pela.cli.PelaCli bench-step "${@:2}" 2>/dev/null | awk 'NR==2 {print $4}'
}

a=(); b=(); loads=()
for ((r = 0; r < ROUNDS; r++)); do
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  if ((r % 2 == 0)); then a+=("$(one "${A_ENV:-}" "$A" "$@")"); b+=("$(one "${B_ENV:-}" "$B" "$@")")
  else b+=("$(one "${B_ENV:-}" "$B" "$@")"); a+=("$(one "${A_ENV:-}" "$A" "$@")"); fi
  echo "round $r: before ${a[-1]} s, after ${b[-1]} s, load $(cut -d' ' -f1 /proc/loadavg)" >&2
done
loads+=("$(cut -d' ' -f1 /proc/loadavg)")
python3 - "${a[*]}" "${b[*]}" "${loads[*]}" <<'PY'
import statistics as s, sys
a, b, l = ([float(x) for x in arg.split()] for arg in sys.argv[1:4])
ma, mb = s.median(a), s.median(b)
print(f"before {ma:.3f} s  after {mb:.3f} s  speed-up {ma / mb:.2f}x  (runs before {a}, after {b}; load {l})")
PY
