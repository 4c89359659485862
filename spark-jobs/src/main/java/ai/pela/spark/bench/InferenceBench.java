package ai.pela.spark.bench;

import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.vit.VitModel;
import java.util.List;

/**
 * (b) The point of PELA: the κ-student's inference speed against its teacher's, ours and PyTorch's, next to the
 * FLOP ratio. Four timers alternate: our teacher, our student, PyTorch's teacher, PyTorch's student.
 */
public final class InferenceBench {
    private InferenceBench() {
    }

    public static List<BenchRow> run(StepFixture f, BenchSettings s) {
        VitModel teacher = VitModel.create(f.teacherConfig(), f.teacherWeights(), "teacher");
        VitModel student = VitModel.create(f.studentConfig(), f.studentWeights(), "student");
        Runnable ourTeacher = () -> forward(teacher, f);
        Runnable ourStudent = () -> forward(student, f);
        try (TorchProcess tt = TorchProcess.start(s.python(), s.script(), s.threads(), f.torchArgs("teacher"));
             TorchProcess ts = TorchProcess.start(s.python(), s.script(), s.threads(), f.torchArgs("student"))) {
            for (int i = 0; i < s.warmup(); i++) {
                ourTeacher.run();
                ourStudent.run();
            }
            double load0 = Machine.load();
            List<List<Double>> t = Timing.alternate(s.rounds(),
                    () -> Timing.repeat(s.reps(), ourTeacher),
                    () -> Timing.repeat(s.reps(), ourStudent),
                    () -> tt.time(s.reps()).get("teacher"),
                    () -> ts.time(s.reps()).get("student"));
            double load = (load0 + Machine.load()) / 2;
            return rows(f, t, load, s.threads());
        }
    }

    private static void forward(VitModel m, StepFixture f) {
        m.logits(f.images()).close();
    }

    private static List<BenchRow> rows(StepFixture f, List<List<Double>> t, double load, int threads) {
        int n = f.batch();
        double ot = n / Timing.median(t.get(0));
        double os = n / Timing.median(t.get(1));
        double pt = n / Timing.median(t.get(2));
        double ps = n / Timing.median(t.get(3));
        double flopRatio = ModelInfo.of(f.teacherConfig()).gflops() / ModelInfo.of(f.studentConfig()).gflops();
        String name = f.teacherConfig().architecture();
        String batch = " batch " + n;
        String note = threads + " threads; ranges " + StepBench.spread(t);
        return List.of(
                new BenchRow("inference", name + " teacher" + batch, ot, pt, "images/s", load, note),
                new BenchRow("inference", name + " κ=" + f.studentConfig().lowrank().kappa() + " student" + batch, os, ps,
                        "images/s", load, note),
                new BenchRow("inference", name + " student/teacher speed-up", os / ot, ps / pt, "×", load,
                        String.format("FLOP ratio %.2f× (%.1f → %.1f GFLOP/image); reference column = PyTorch's speed-up",
                                flopRatio, ModelInfo.of(f.teacherConfig()).gflops(), ModelInfo.of(f.studentConfig()).gflops())));
    }
}
