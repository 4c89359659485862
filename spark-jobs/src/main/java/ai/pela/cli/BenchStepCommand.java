package ai.pela.cli;

import ai.pela.spark.bench.StepMemory;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.Family;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.engine.ProfilingKernels;
import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.loss.RwpForm;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinInit;
import ai.pela.zoo.swin.SwinLowRank;
import ai.pela.zoo.swin.SwinModel;
import ai.pela.zoo.train.AdamW;
import ai.pela.zoo.train.CosineSchedule;
import ai.pela.zoo.train.GraphPelaStep;
import ai.pela.zoo.train.LabelledImages;
import ai.pela.zoo.train.PelaStep;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.train.SwinPelaStep;
import ai.pela.zoo.train.TrainStep;
import ai.pela.zoo.vit.VitInit;
import ai.pela.zoo.vit.VitModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pela bench-step}: times the single-device PELA step (teacher forward + student forward/backward +
 * AdamW) on random weights and inputs of a given architecture, and prints a one-row table.
 */
@Command(name = "bench-step", mixinStandardHelpOptions = true,
        description = "Time the single-device PELA step (teacher fwd + student fwd/bwd + AdamW) and print "
                + "median step time, images/s and achieved GFLOP/s.")
final class BenchStepCommand implements Callable<Integer> {
    @Option(names = "--preset", description = "A preset name, e.g. deit_tiny_patch16_224 or swin_tiny_patch4_window7_224.")
    String preset;

    @Option(names = "--config", description = "A config.json.")
    Path config;

    @Option(names = "--kappa", defaultValue = "2", description = "Student compression ratio (default: ${DEFAULT-VALUE}).")
    double kappa;

    @Option(names = "--batch", defaultValue = "64", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", defaultValue = "5", description = "Timed steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed warm-up steps (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--engine", defaultValue = "engine", description = "engine (the service's) or samediff (the "
            + "graph it replaced, for side-by-side runs) (default: ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--fd-points", description = "Where L_fd compares: blocks or final (default: blocks for a ViT, "
            + "final for a Swin, as the released code).", converter = FdPointsConverter.class)
    FdPoints fdPoints;

    @Option(names = "--profile", description = "With --engine samediff: write SameDiff's op profile of the student's "
            + "timed steps (Chrome trace JSON) here. The engine's kernel profile is printed with "
            + "PELA_JAVA_OPTS=-Dpela.engine.profile=true.")
    Path profile;

    @Mixin
    CommonOptions common;

    static final class FdPointsConverter extends Choice<FdPoints> {
        FdPointsConverter() {
            super(FdPoints.class);
        }
    }

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (batch < 1 || steps < 1 || warmup < 0) {
            throw new PelaException("--batch and --steps must be >= 1 and --warmup >= 0");
        }
        if (!engine.equals("engine") && !engine.equals("samediff")) {
            throw new PelaException("--engine: expected engine or samediff, got '" + engine + "'");
        }
        if (profile != null && !engine.equals("samediff")) {
            throw new PelaException("--profile records SameDiff's ops: use it with --engine samediff");
        }
        Bench b = ModelLoading.family(preset, config) == Family.SWIN ? swin() : vit();
        TrainStep step = b.step();
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, b.inChans(), b.imgSize(), b.imgSize());
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = i % b.numClasses();
        }
        LabelledImages batchOfImages = new LabelledImages(x, labels);
        for (int i = 0; i < warmup; i++) {
            step.step(batchOfImages);
        }
        ProfilingKernels kernelProfile = ProfilingKernels.active();
        if (kernelProfile != null) {
            kernelProfile.reset();
        }
        if (profile != null) {
            // Attached after the warm-up so only timed steps are traced.
            ((GraphPelaStep) step).addListeners(new org.nd4j.autodiff.listeners.profiler.ProfilingListener.Builder(profile.toFile())
                    .recordAll().build());
        }
        double[] seconds = new double[steps];
        System.gc(); // an empty young generation, so no collection frees native buffers while allocation is counted
        StepMemory memory = StepMemory.start();
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            step.step(batchOfImages);
            seconds[i] = (System.nanoTime() - t0) / 1e9;
            if (common.verbose) {
                spec.commandLine().getErr().printf("step %d: %.3f s, off-heap %d MB, resident %d MB%n", i, seconds[i],
                        org.bytedeco.javacpp.Pointer.totalBytes() >> 20, org.bytedeco.javacpp.Pointer.physicalBytes() >> 20);
                spec.commandLine().getErr().flush();
            }
        }
        Arrays.sort(seconds);
        double median = seconds[steps / 2];
        double flops = batch * b.gflopsPerImage() * 1e9;
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%-28s %6s %6s %12s %10s %10s%n", "model", "kappa", "batch", "step s (med)", "images/s", "GFLOP/s");
        out.printf("%-28s %6s %6d %12.3f %10.1f %10.1f%n", b.name(), kappa, batch, median,
                batch / median, flops / median / 1e9);
        out.printf("(min %.3f s, max %.3f s over %d steps after %d warm-up; threads: %s; %s)%n", seconds[0],
                seconds[steps - 1], steps, warmup, System.getenv().getOrDefault("OMP_NUM_THREADS", "default"), engine);
        out.println(memory.report(steps));
        if (kernelProfile != null && engine.equals("engine")) {
            out.print(kernelProfile.report(warmup + steps > 0 ? steps : 1));
        }
        out.flush();
        return 0;
    }

    /** The step to time, and what the timing needs of its model: input shape, classes, GFLOPs per image. */
    private record Bench(TrainStep step, String name, int inChans, int imgSize, int numClasses, double gflopsPerImage) {
    }

    // Teacher forward (1×) + student forward and backward (≈ 3× its forward).
    private static double stepGflops(ModelInfo.Summary teacher, ModelInfo.Summary student) {
        return teacher.gflops() + 3 * student.gflops();
    }

    private StepHyper hyper(FdPoints points) {
        return new StepHyper(1, 1, 0.1, FdForm.CODE, RwpForm.CODE, 1e-3, 5, AdamW.Config.defaults(0.05),
                CosineSchedule.constant(1e-4), points);
    }

    private Bench vit() {
        ModelConfig teacherConfig = ModelLoading.config(preset, config);
        StateDict teacherWeights = VitInit.random(teacherConfig, 1);
        LowRank.Student student = LowRank.compress(teacherConfig, teacherWeights, kappa, LowRank.VIT_OMIT);
        VitModel teacher = VitModel.create(teacherConfig, teacherWeights, "teacher");
        StepHyper hyper = hyper(fdPoints == null ? FdPoints.BLOCKS : fdPoints);
        TrainStep step = engine.equals("samediff")
                ? new GraphPelaStep(student.config(), student.weights(), teacher, teacherWeights, hyper)
                : new PelaStep(student.config(), student.weights(), teacher, teacherWeights, hyper);
        return new Bench(step, teacherConfig.architecture(), teacherConfig.inChans(), teacherConfig.imgSize(),
                teacherConfig.numClasses(), stepGflops(ModelInfo.of(teacherConfig), ModelInfo.of(student.config())));
    }

    /** A Swin on the engine, L_fd at --fd-points (default: the released Swin code's final pooled feature). */
    private Bench swin() {
        if (!engine.equals("engine")) {
            throw new PelaException("--engine samediff: the Swin runs on the engine only");
        }
        SwinConfig teacherConfig = ModelLoading.swinConfig(preset, config);
        StateDict teacherWeights = SwinInit.random(teacherConfig, 1);
        SwinLowRank.Student student = SwinLowRank.compress(teacherConfig, teacherWeights, kappa, LowRank.SWIN_OMIT);
        SwinModel teacher = SwinModel.create(teacherConfig, teacherWeights, "teacher");
        TrainStep step = new SwinPelaStep(student.config(), student.weights(), teacher, teacherWeights,
                hyper(fdPoints == null ? FdPoints.FINAL : fdPoints));
        return new Bench(step, teacherConfig.architecture(), teacherConfig.inChans(), teacherConfig.imgSize(),
                teacherConfig.numClasses(), stepGflops(ModelInfo.of(teacherConfig), ModelInfo.of(student.config())));
    }
}
