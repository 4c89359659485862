#!/usr/bin/env bash
# Builds the GPU application jar: ND4J's CUDA 11.6 backend instead of nd4j-native (the -Pcuda Maven profile).
# Not part of CI: the CUDA backend's native jars are large and CI machines have no GPU. The nodes need the CUDA 11.6
# runtime and cuDNN 8.3 (ND4J 1.0.0-M2.1's CUDA build); the jar is spark-jobs/target/pela-spark-app.jar as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -Pcuda -DskipTests package "$@"
# grep -c reads the whole listing: grep -q would close the pipe early and fail it under pipefail.
[ "$(unzip -Z1 spark-jobs/target/pela-spark-app.jar | grep -c '^org/nd4j/linalg/jcublas/JCublasBackend.class$')" = 1 ] \
  || { echo "build-cuda: the jar holds no CUDA backend" >&2; exit 1; }
echo "build-cuda: spark-jobs/target/pela-spark-app.jar (ND4J CUDA 11.6 backend)"
