package ai.pela.cli;

import ai.pela.spark.bench.AveragingBench;
import ai.pela.spark.bench.BenchRow;
import ai.pela.spark.bench.BenchSettings;
import ai.pela.spark.bench.BenchmarksFile;
import ai.pela.spark.bench.CostModel;
import ai.pela.spark.bench.DataBench;
import ai.pela.spark.bench.InferenceBench;
import ai.pela.spark.bench.Machine;
import ai.pela.spark.bench.PeakBench;
import ai.pela.spark.bench.SerialRate;
import ai.pela.spark.bench.StepBench;
import ai.pela.spark.bench.StepFixture;
import ai.pela.spark.bench.Timing;
import ai.pela.spark.train.ParameterAveraging;
import ai.pela.spark.train.WirePrecision;
import ai.pela.spark.train.WireSecurity;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.config.Presets;
import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.swin.SwinPresets;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pela bench}: ours side by side with PyTorch on this machine — the PELA step, student vs teacher inference,
 * sgemm peak and achieved GFLOP/s, parameter-averaging overhead with its cost model, and the data pipeline — as a
 * table on stdout and rows in BENCHMARKS.md.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark against PyTorch on this machine and write the rows into BENCHMARKS.md.")
final class BenchCommand implements Callable<Integer> {
    static final List<String> SECTIONS = List.of("peak", "step", "inference", "data", "averaging", "costmodel");

    @Option(names = "--only", split = ",", description = "Sections to run, of ${COMPLETION-CANDIDATES} (default: all).",
            completionCandidates = Sections.class)
    List<String> only = SECTIONS;

    @Option(names = "--threads", defaultValue = "2", description = "Threads on both sides (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--rounds", defaultValue = "3", description = "Alternating rounds, ours then PyTorch's (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--reps", defaultValue = "1", description = "Repetitions per side per round (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed repetitions first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--step", split = ",", defaultValue = "demo:64,deit_tiny_patch16_224:32",
            description = "Step configurations as model:batch; model is a preset or 'demo' (default: ${DEFAULT-VALUE}).")
    List<String> stepConfigs;

    @Option(names = "--samediff", description = "Step section: also time the SameDiff step the engine replaced, in the "
            + "same alternating rounds (its before/after).")
    boolean samediff;

    @Option(names = "--kappa", defaultValue = "2", description = "Compression ratio of the students (default: ${DEFAULT-VALUE}).")
    double kappa;

    @Option(names = "--inference", split = ",", defaultValue = "deit_base_patch16_224,swin_base_patch4_window7_224",
            description = "Inference section: the teachers to time against their students, batch 8 "
                    + "(default: ${DEFAULT-VALUE}).")
    List<String> inferenceModels;

    @Option(names = "--swin-kappa", defaultValue = "1.5", description = "Compression ratio of the Swin student "
            + "(Table 1's; default: ${DEFAULT-VALUE}).")
    double swinKappa;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python with torch (default: ${DEFAULT-VALUE}).")
    Path python;

    @Option(names = "--script", description = "The PyTorch reference (default: bench/pela_torch.py in the installation).")
    Path script;

    @Option(names = "--out", description = "The benchmarks file to update (default: BENCHMARKS.md in the installation).")
    Path out;

    @Option(names = "--no-write", description = "Print the table only.")
    boolean noWrite;

    @Option(names = "--sgemm", defaultValue = "2048", description = "Matrix size of the peak sgemm (default: ${DEFAULT-VALUE}).")
    int sgemm;

    @Option(names = "--data-images", defaultValue = "48", description = "JPEGs per data-pipeline pass (default: ${DEFAULT-VALUE}).")
    int dataImages;

    @Option(names = "--avg-rounds", defaultValue = "4", description = "Rounds per averaging configuration, the first untimed (default: ${DEFAULT-VALUE}).")
    int avgRounds;

    @Option(names = "--exchange", split = ",", defaultValue = "tree,ring/fp32,ring/bf16", description = "Averaging: the "
            + "exchanges to measure, tree or ring[/fp32|/bf16][/auth|/encrypt|/none] (default: ${DEFAULT-VALUE}; a ring "
            + "without a security mode follows the cluster's settings, README: Security).")
    List<String> exchanges;

    @Option(names = "--avg-k", split = ",", defaultValue = "1,4,16", description = "Averaging: local steps k per "
            + "configuration (default: ${DEFAULT-VALUE}).")
    int[] avgKs;

    @Option(names = "--ring-values", defaultValue = "0", description = "Averaging: also time the ring all-reduce alone "
            + "(2 ranks on loopback) on this many values, for every --exchange ring entry (default: ${DEFAULT-VALUE}, off).")
    int ringValues;

    @Option(names = "--round-latency-s", defaultValue = "0.075", description = "Cost model: fixed seconds per round"
            + " (task scheduling, result collection); replaced by the measured value when the averaging section runs"
            + " (default: ${DEFAULT-VALUE}, measured 2026-11-23 in local mode).")
    double roundLatencyS;

    @Option(names = "--link-gbps", defaultValue = "25", description = "Cost model: link speed in Gb/s (default: ${DEFAULT-VALUE}).")
    double linkGbps;

    @Option(names = "--gpu-images-per-s", defaultValue = "400", description = "Cost model: PELA-step images/s of one "
            + "GPU for DeiT-B (an assumption: no GPU here; default: ${DEFAULT-VALUE}).")
    double gpuImagesPerS;

    @Mixin
    CommonOptions common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    static final class Sections extends ArrayList<String> {
        Sections() {
            super(SECTIONS);
        }
    }

    @Override
    public Integer call() throws Exception {
        Set<String> run = Set.copyOf(only);
        for (String s : run) {
            if (!SECTIONS.contains(s)) {
                throw new PelaException("--only: unknown section '" + s + "', expected one of " + SECTIONS);
            }
        }
        Path home = Path.of(System.getenv().getOrDefault("PELA_HOME", "."));
        Path work = Files.createTempDirectory("pela-bench");
        BenchSettings s = new BenchSettings(python, script != null ? script : home.resolve("bench/pela_torch.py"),
                threads, rounds, reps, warmup, work);
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
        List<BenchRow> rows = new ArrayList<>();
        double peak = Double.NaN;
        if (run.contains("peak") || run.contains("step")) {
            PeakBench.Result p = PeakBench.run(sgemm, s);
            peak = p.nd4jGflops();
            add(rows, run.contains("peak") ? p.rows() : List.of());
        }
        if (run.contains("step")) {
            for (String c : stepConfigs) {
                StepFixture f = StepFixture.of(model(c.substring(0, c.lastIndexOf(':')), home),
                        kappa, Integer.parseInt(c.substring(c.lastIndexOf(':') + 1)), work.resolve("step-" + rows.size()));
                add(rows, StepBench.rows(StepBench.run(f, s, samediff), threads, peak));
            }
        }
        if (run.contains("inference")) {
            for (String m : inferenceModels) {
                if (m.equals("deit_base_patch16_224")) {
                    add(rows, InferenceBench.run(StepFixture.of(Presets.get(m), kappa, 8, work.resolve("inf")), s));
                } else if (m.equals("swin_base_patch4_window7_224")) {
                    add(rows, InferenceBench.runSwin(SwinPresets.get(m), swinKappa, 8, work.resolve("inf-swin"), s));
                } else {
                    throw new PelaException("--inference: expected deit_base_patch16_224 or swin_base_patch4_window7_224,"
                            + " got '" + m + "'");
                }
            }
        }
        if (run.contains("data")) {
            add(rows, DataBench.run(dataImages, 224, s));
        }
        if (run.contains("averaging")) {
            StepFixture demo = StepFixture.of(model("demo", home), kappa, 64, work.resolve("avg"));
            List<Double> latencies = new ArrayList<>();
            for (String e : exchanges) {
                String[] parts = e.split("/");
                ParameterAveraging.Exchange ex = ParameterAveraging.Exchange.parse(parts[0], "--exchange");
                WirePrecision wp = WirePrecision.parse(parts.length > 1 ? parts[1] : "fp32", "--exchange");
                WireSecurity ws = parts.length > 2 ? WireSecurity.parseForBench(parts[2], "--exchange")
                        : WireSecurity.SPARK;
                List<AveragingBench.Split> splits = AveragingBench.run(demo, new int[] {1, 2}, avgKs, avgRounds, work, ex,
                        wp, ws);
                splits.stream().filter(x -> x.workers() == 2).forEach(x -> latencies.add(x.aggregate()));
                add(rows, AveragingBench.rows(demo, splits, e));
                if (ringValues > 0 && ex == ParameterAveraging.Exchange.RING) {
                    add(rows, List.of(AveragingBench.ringAlone(ringValues, wp, ws, e)));
                }
            }
            // The cost model's fixed per-round latency: the aggregate time of the 1 MB model with 2 workers.
            roundLatencyS = Timing.median(latencies.stream().mapToDouble(Double::doubleValue).toArray());
        }
        if (run.contains("costmodel")) {
            add(rows, costModel());
        }
        printTable(rows);
        if (!noWrite) {
            Path file = out != null ? out : home.resolve("BENCHMARKS.md");
            String id = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm", Locale.ROOT));
            BenchmarksFile.update(file, id, Machine.describe(), commandLine(), rows);
            spec.commandLine().getErr().println("pela bench: updated " + file);
        }
        return 0;
    }

    private void add(List<BenchRow> rows, List<BenchRow> more) {
        rows.addAll(more);
        PrintWriter err = spec.commandLine().getErr();
        more.forEach(r -> err.println("  " + BenchmarksFile.format(r, "-")));
        err.flush();
    }

    private List<BenchRow> costModel() {
        ModelConfig deitB = Presets.get("deit_base_patch16_224");
        long params = ModelInfo.of(deitB.withLowRank(LowRank.plan(deitB, kappa, LowRank.VIT_OMIT))).params();
        double serial = SerialRate.measure((int) Math.min(params, 1 << 24), 3);
        double packed = SerialRate.measurePacked((int) Math.min(params, 1 << 24), 3);
        CostModel m = new CostModel(params, linkGbps * 1e9 / 8, serial, packed, gpuImagesPerS, 64, roundLatencyS);
        int checkpointEvery = 500; // conf/deit-base-imagenet.conf's checkpoint.every-rounds
        List<BenchRow> rows = m.rows(new int[] {8, 16, 32, 64}, new int[] {1, 4, 16}, checkpointEvery, Machine.load());
        return rows.stream().map(r -> new BenchRow(r.section(), r.config(), r.ours(), r.reference(), r.unit(), r.load(),
                r.note() + String.format("; Java serialisation measured here: float[] %.2f GB/s, byte[] %.2f GB/s",
                        serial / 1e9, packed / 1e9))).toList();
    }

    private static ModelConfig model(String name, Path home) {
        if (name.equals("demo")) {
            return ModelLoading.config(null, home.resolve("conf/demo/teacher/config.json"));
        }
        return ModelLoading.config(name, null);
    }

    private String commandLine() {
        return "submit/pela " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
    }

    private void printTable(List<BenchRow> rows) {
        PrintWriter o = spec.commandLine().getOut();
        o.printf("load average now %.2f; %s%n", Machine.load(), Machine.describe());
        o.printf("%-10s %-70s %10s %10s %8s %s%n", "section", "configuration", "ours", "reference", "ours/ref", "unit");
        for (BenchRow r : rows) {
            o.printf(Locale.ROOT, "%-10s %-70s %10s %10s %8s %s%n", r.section(), r.config(), BenchmarksFile.num(r.ours()),
                    Double.isNaN(r.reference()) ? "-" : BenchmarksFile.num(r.reference()),
                    Double.isNaN(r.reference()) ? "-" : String.format(Locale.ROOT, "%.2f", r.ratio()), r.unit());
        }
        o.flush();
    }
}
