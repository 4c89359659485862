package ai.pela.cli;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.RwpForm;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.train.AdamW;
import ai.pela.zoo.train.CosineSchedule;
import ai.pela.zoo.train.PelaStep;
import ai.pela.zoo.train.StepHyper;
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
    @Option(names = "--preset", description = "A preset name, e.g. deit_tiny_patch16_224.")
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

    @Option(names = "--profile", description = "Write SameDiff's op profile of the student's timed steps (Chrome trace JSON) here.")
    Path profile;

    @Mixin
    CommonOptions common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (batch < 1 || steps < 1 || warmup < 0) {
            throw new PelaException("--batch and --steps must be >= 1 and --warmup >= 0");
        }
        ModelConfig teacherConfig = ModelLoading.config(preset, config);
        StateDict teacherWeights = VitInit.random(teacherConfig, 1);
        LowRank.Student student = LowRank.compress(teacherConfig, teacherWeights, kappa, LowRank.VIT_OMIT);
        VitModel teacher = VitModel.create(teacherConfig, teacherWeights, "teacher");
        StepHyper hyper = new StepHyper(1, 1, 0.1, FdForm.CODE, RwpForm.CODE, 1e-3, 5, AdamW.Config.defaults(0.05),
                CosineSchedule.constant(1e-4));
        PelaStep step = new PelaStep(student.config(), student.weights(), teacher, teacherWeights, hyper);
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, teacherConfig.inChans(), teacherConfig.imgSize(), teacherConfig.imgSize());
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = i % teacherConfig.numClasses();
        }
        for (int i = 0; i < warmup; i++) {
            step.step(x, labels);
        }
        if (profile != null) {
            // Attached after the warm-up so only timed steps are traced.
            step.addListeners(new org.nd4j.autodiff.listeners.profiler.ProfilingListener.Builder(profile.toFile())
                    .recordAll().build());
        }
        double[] seconds = new double[steps];
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            step.step(x, labels);
            seconds[i] = (System.nanoTime() - t0) / 1e9;
            if (common.verbose) {
                spec.commandLine().getErr().printf("step %d: %.3f s, off-heap %d MB, resident %d MB%n", i, seconds[i],
                        org.bytedeco.javacpp.Pointer.totalBytes() >> 20, org.bytedeco.javacpp.Pointer.physicalBytes() >> 20);
                spec.commandLine().getErr().flush();
            }
        }
        Arrays.sort(seconds);
        double median = seconds[steps / 2];
        // Teacher forward (1×) + student forward and backward (≈ 3× its forward).
        double flops = batch * (ModelInfo.of(teacherConfig).gflops() + 3 * ModelInfo.of(student.config()).gflops()) * 1e9;
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%-28s %6s %6s %12s %10s %10s%n", "model", "kappa", "batch", "step s (med)", "images/s", "GFLOP/s");
        out.printf("%-28s %6s %6d %12.3f %10.1f %10.1f%n", teacherConfig.architecture(), kappa, batch, median,
                batch / median, flops / median / 1e9);
        out.printf("(min %.3f s, max %.3f s over %d steps after %d warm-up; threads: %s)%n", seconds[0],
                seconds[steps - 1], steps, warmup, System.getenv().getOrDefault("OMP_NUM_THREADS", "default"));
        out.flush();
        return 0;
    }
}
