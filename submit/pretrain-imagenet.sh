#!/usr/bin/env bash
# A full PELA pre-training on a GPU cluster: spark-submit of the application jar with the GPU settings.
# Usage: SPARK_HOME=/opt/spark submit/pretrain-imagenet.sh conf/deit-base-imagenet.conf [--set key=value ...]
# Environment: MASTER (default yarn), EXECUTORS (default 4).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RECIPE="${1:?usage: $0 RECIPE.conf [--set key=value ...]}"; shift
: "${SPARK_HOME:?set SPARK_HOME to a Spark 3.5 installation}"
JAR="$ROOT/lib/pela-spark-app.jar" # the distribution's; in a source checkout, the build's
if [ ! -f "$JAR" ]; then
  JAR="$ROOT/spark-jobs/target/pela-spark-app.jar"
  [ -f "$JAR" ] || (cd "$ROOT" && mvn -q -B -DskipTests package -pl spark-jobs -am)
fi

exec "$SPARK_HOME/bin/spark-submit" \
  --master "${MASTER:-yarn}" \
  --deploy-mode client \
  --num-executors "${EXECUTORS:-4}" \
  --properties-file "$ROOT/conf/spark-defaults-gpu.conf" \
  --files "$ROOT/submit/gpu-discovery.sh,$ROOT/conf/log4j2.xml" \
  --conf spark.driver.extraJavaOptions="-Dlog4j2.configurationFile=$ROOT/conf/log4j2.xml" \
  --class ai.pela.cli.PelaCli \
  "$JAR" pretrain --recipe "$RECIPE" --set "train.workers=${EXECUTORS:-4}" "$@"
