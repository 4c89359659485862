package ai.pela.spark.bench;

import java.nio.file.Path;

/**
 * How to run the benchmarks: the PyTorch reference (interpreter and script), threads on both sides, and how
 * many alternating rounds of how many repetitions, after how many warm-up repetitions.
 */
public record BenchSettings(Path python, Path script, int threads, int rounds, int reps, int warmup, Path workDir) {
}
