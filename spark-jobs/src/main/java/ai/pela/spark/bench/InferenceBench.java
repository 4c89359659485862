package ai.pela.spark.bench;

import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinConfigJson;
import ai.pela.zoo.swin.SwinInit;
import ai.pela.zoo.swin.SwinLowRank;
import ai.pela.zoo.swin.SwinModel;
import ai.pela.zoo.vit.VitModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * (b) The point of PELA: the κ-student's inference speed against its teacher's, ours and PyTorch's, next to the
 * FLOP ratio. Four timers alternate: our teacher, our student, PyTorch's teacher, PyTorch's student. For a ViT
 * (DeiT-B at κ = 2) and a Swin (Swin-B at κ = 1.5, the Swin omit list).
 */
public final class InferenceBench {
    /** One teacher/student pair, whichever family: our two forwards and how PyTorch rebuilds the same models. */
    private record Pair(String name, int batch, double kappa, double teacherGflops, double studentGflops,
            Runnable ourTeacher, Runnable ourStudent, Function<String, List<String>> torchArgs) {
    }

    private InferenceBench() {
    }

    public static List<BenchRow> run(StepFixture f, BenchSettings s) {
        VitModel teacher = VitModel.create(f.teacherConfig(), f.teacherWeights(), "teacher");
        VitModel student = VitModel.create(f.studentConfig(), f.studentWeights(), "student");
        return run(new Pair(f.teacherConfig().architecture(), f.batch(), f.studentConfig().lowrank().kappa(),
                ModelInfo.of(f.teacherConfig()).gflops(), ModelInfo.of(f.studentConfig()).gflops(),
                () -> teacher.logits(f.images()).close(), () -> student.logits(f.images()).close(), f::torchArgs), s);
    }

    /**
     * A Swin teacher and its κ-student with random weights (speed does not depend on the values; the student's
     * shapes come from the plan, no SVD), written as config.json files for the PyTorch side.
     */
    public static List<BenchRow> runSwin(SwinConfig teacherConfig, double kappa, int batch, Path workDir,
            BenchSettings s) {
        SwinConfig studentConfig = teacherConfig.withLowRank(SwinLowRank.plan(teacherConfig, kappa, LowRank.SWIN_OMIT));
        Path tj = workDir.resolve("swin-teacher.json");
        Path sj = workDir.resolve("swin-student.json");
        try {
            Files.createDirectories(workDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SwinConfigJson.write(teacherConfig, tj);
        SwinConfigJson.write(studentConfig, sj);
        SwinModel teacher = SwinModel.create(teacherConfig, SwinInit.random(teacherConfig, 1), "teacher");
        SwinModel student = SwinModel.create(studentConfig, SwinInit.random(studentConfig, 2), "student");
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, teacherConfig.inChans(), teacherConfig.imgSize(),
                teacherConfig.imgSize());
        return run(new Pair(teacherConfig.architecture(), batch, kappa, ModelInfo.of(teacherConfig).gflops(),
                ModelInfo.of(studentConfig).gflops(), () -> teacher.logits(x).close(), () -> student.logits(x).close(),
                mode -> List.of("--mode", mode, "--teacher", tj.toString(), "--student", sj.toString(), "--batch",
                        Integer.toString(batch))), s);
    }

    private static List<BenchRow> run(Pair p, BenchSettings s) {
        try (TorchProcess tt = TorchProcess.start(s.python(), s.script(), s.threads(), p.torchArgs().apply("teacher"));
             TorchProcess ts = TorchProcess.start(s.python(), s.script(), s.threads(), p.torchArgs().apply("student"))) {
            for (int i = 0; i < s.warmup(); i++) {
                p.ourTeacher().run();
                p.ourStudent().run();
            }
            double load0 = Machine.load();
            List<List<Double>> t = Timing.alternate(s.rounds(),
                    () -> Timing.repeat(s.reps(), p.ourTeacher()),
                    () -> Timing.repeat(s.reps(), p.ourStudent()),
                    () -> tt.time(s.reps()).get("teacher"),
                    () -> ts.time(s.reps()).get("student"));
            double load = (load0 + Machine.load()) / 2;
            return rows(p, t, load, s.threads());
        }
    }

    private static List<BenchRow> rows(Pair p, List<List<Double>> t, double load, int threads) {
        int n = p.batch();
        double ot = n / Timing.median(t.get(0));
        double os = n / Timing.median(t.get(1));
        double pt = n / Timing.median(t.get(2));
        double ps = n / Timing.median(t.get(3));
        String batch = " batch " + n;
        String note = threads + " threads; ranges " + StepBench.spread(t);
        return List.of(
                new BenchRow("inference", p.name() + " teacher" + batch, ot, pt, "images/s", load, note),
                new BenchRow("inference", p.name() + " κ=" + p.kappa() + " student" + batch, os, ps, "images/s", load,
                        note),
                new BenchRow("inference", p.name() + " student/teacher speed-up", os / ot, ps / pt, "×", load,
                        String.format("FLOP ratio %.2f× (%.1f → %.1f GFLOP/image); reference column = PyTorch's speed-up",
                                p.teacherGflops() / p.studentGflops(), p.teacherGflops(), p.studentGflops())));
    }
}
