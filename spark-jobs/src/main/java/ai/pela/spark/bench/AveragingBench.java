package ai.pela.spark.bench;

import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.data.Sample;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.spark.train.BatchSource;
import ai.pela.spark.train.Checkpoints;
import ai.pela.spark.train.LoadedBatch;
import ai.pela.spark.train.MetricsLog;
import ai.pela.spark.train.ModelSpec;
import ai.pela.spark.train.ParameterAveraging;
import ai.pela.spark.train.RoundMetrics;
import ai.pela.spark.train.TrainState;
import ai.pela.spark.train.RingThroughput;
import ai.pela.spark.train.WirePrecision;
import ai.pela.spark.train.WireSecurity;
import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.train.Flat;
import ai.pela.zoo.vit.VitLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * (d) Parameter averaging in local mode: the real {@link ParameterAveraging} rounds (tree: broadcast of parameters
 * and AdamW moments, k PELA steps per worker, treeAggregate; ring: a barrier stage whose tasks all-reduce their
 * parameter changes) on synthetic batches, for N workers and k local steps.
 * The first round (building the step, loading the teacher) is left out; the rest give medians of the time split
 * the trainer itself logs to metrics.jsonl.
 */
public final class AveragingBench {
    private AveragingBench() {
    }

    /** Medians of one (N, k) configuration. */
    public record Split(int workers, int k, double broadcast, double compute, double aggregate, double total,
            double imagesPerS, long payloadBytes, double load) {
        public double overhead() {
            return (broadcast + aggregate) / total;
        }
    }

    /** Random images with labels from the plan: the pipeline is benchmarked apart, here only the rounds count. */
    record SyntheticBatches(int chans, int size) implements BatchSource {
        @Override
        public LoadedBatch load(List<Sample> samples, long seed) {
            Nd4j.getRandom().setSeed(seed);
            int[] labels = samples.stream().mapToInt(Sample::label).toArray();
            return new LoadedBatch(Nd4j.randn(DataType.FLOAT, samples.size(), chans, size, size), labels, List.of());
        }
    }

    public static List<Split> run(StepFixture f, int[] workerCounts, int[] ks, int rounds, Path workDir,
            ParameterAveraging.Exchange exchange, WirePrecision precision, WireSecurity security) {
        Path teacherFile = workDir.resolve("teacher.safetensors");
        Safetensors.write(f.teacherWeights(), teacherFile);
        List<Split> out = new ArrayList<>();
        // One ND4J thread per task, as `pela pretrain` runs in local mode (OMP_NUM_THREADS=1).
        int threads = Nd4j.getEnvironment().maxThreads();
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);
        try {
            for (int n : workerCounts) {
                try (JavaSparkContext sc = SparkContexts.create("pela-bench", null, n)) {
                    for (int k : ks) {
                        out.add(runOne(sc, f, teacherFile, n, k, rounds, workDir.resolve("avg-" + n + "-" + k + "-" + exchange
                                + "-" + precision + "-" + security), exchange, precision, security));
                    }
                }
            }
        } finally {
            Nd4j.getEnvironment().setMaxThreads(threads);
            Nd4j.factory().blas().setMaxThreads(threads);
        }
        return out;
    }

    private static Split runOne(JavaSparkContext sc, StepFixture f, Path teacherFile, int n, int k, int rounds, Path dir,
            ParameterAveraging.Exchange exchange, WirePrecision precision, WireSecurity security) {
        ModelSpec spec = new ModelSpec(f.studentConfig(), f.teacherConfig(), teacherFile.toString(), StepFixture.hyper(),
                new SerializableConf(sc.hadoopConfiguration()));
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < (rounds + 1) * n * k * f.batch(); i++) {
            samples.add(Sample.file("synthetic:" + i, i % f.teacherConfig().numClasses()));
        }
        EpochPlan plan = new EpochPlan(samples, 1, n, k, f.batch());
        Storage storage = Storage.local();
        org.apache.hadoop.fs.Path run = Storage.path(dir.toString());
        List<RoundMetrics> seen = new ArrayList<>();
        double load0 = Machine.load();
        new ParameterAveraging(sc, spec, new SyntheticBatches(f.teacherConfig().inChans(), f.teacherConfig().imgSize()),
                plan, new ParameterAveraging.Settings(n, k, rounds, Integer.MAX_VALUE, 1, exchange, precision,
                        security),
                new Checkpoints(storage, run, 1), new MetricsLog(storage, run, 0))
                .listener((m, s) -> seen.add(m)).run(initial(f));
        List<RoundMetrics> timed = seen.subList(1, seen.size());
        long params = ModelInfo.of(f.studentConfig()).params();
        return new Split(n, k, med(timed, RoundMetrics::broadcastS), med(timed, RoundMetrics::computeS),
                med(timed, RoundMetrics::aggregateS), med(timed, RoundMetrics::totalS), med(timed, RoundMetrics::imagesPerS),
                3 * 4 * params, (load0 + Machine.load()) / 2);
    }

    private static TrainState initial(StepFixture f) {
        List<String> order = new ArrayList<>(VitLayout.parameterShapes(f.studentConfig()).keySet());
        float[] p = Flat.flatten(f.studentWeights().asMap(), order).toFloatVector();
        return new TrainState(p, new float[p.length], new float[p.length], 0, 0);
    }

    private static double med(List<RoundMetrics> ms, java.util.function.ToDoubleFunction<RoundMetrics> f) {
        return Timing.median(ms.stream().mapToDouble(f).toArray());
    }

    /** The ring all-reduce alone: 2 ranks on loopback, median of 5 (see {@link RingThroughput}). */
    public static BenchRow ringAlone(int values, WirePrecision precision, WireSecurity security, String exchange) {
        double load0 = Machine.load();
        double s;
        try {
            s = RingThroughput.seconds(2, values, precision, security, 5);
        } catch (Exception e) {
            throw new IllegalStateException("ring all-reduce benchmark: " + e, e);
        }
        double bytesPerLink = 2.0 * (2 - 1) / 2 * values * (precision == WirePrecision.BF16 ? 2 : 4);
        return new BenchRow("averaging", String.format("ring all-reduce alone, 2 ranks on loopback, %.1f M values, %s",
                values / 1e6, exchange), s, Double.NaN, "s", (load0 + Machine.load()) / 2,
                String.format("%.0f MB/s per link (%.1f MB each way per rank)", bytesPerLink / s / 1e6, bytesPerLink / 1e6));
    }

    public static List<BenchRow> rows(StepFixture f, List<Split> splits, String exchange) {
        List<BenchRow> rows = new ArrayList<>();
        for (Split s : splits) {
            double one = splits.stream().filter(o -> o.workers() == 1 && o.k() == s.k()).mapToDouble(Split::imagesPerS)
                    .findFirst().orElse(Double.NaN);
            double efficiency = s.imagesPerS() / (s.workers() * one);
            rows.add(new BenchRow("averaging", String.format("%s, local[%d], k=%d, batch %d, %s",
                    f.teacherConfig().architecture(), s.workers(), s.k(), f.batch(), exchange), 100 * s.overhead(), Double.NaN, "% of round", s.load(),
                    String.format("broadcast %.3f s + aggregate %.3f s vs compute %.3f s (round %.3f s, %.0f images/s, "
                                    + "%s); scaling efficiency T_N/(N·T_1) = %.2f",
                            s.broadcast(), s.aggregate(), s.compute(), s.total(), s.imagesPerS(),
                            exchange.startsWith("ring")
                                    ? String.format("%.2f MB of parameter changes per task on the ring",
                                            s.payloadBytes() / 12.0 * (exchange.endsWith("bf16") ? 2 : 4) / 1e6)
                                    : String.format("%.1f MB params+moments", s.payloadBytes() / 1e6),
                            efficiency)));
        }
        return rows;
    }
}
