package ai.pela.spark.bench;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.train.LabelledImages;
import ai.pela.zoo.train.PelaStep;
import ai.pela.zoo.train.TrainStep;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * (a) + (c): the PELA training step, ours against the PyTorch reference on the same shapes, batch and threads,
 * in alternating repetitions; images/s and achieved GFLOP/s.
 */
public final class StepBench {
    private StepBench() {
    }

    /**
     * Median seconds per step, ours and PyTorch's (and the SameDiff graph's when it ran, else NaN), with the load
     * average sampled around the runs.
     */
    public record Result(StepFixture fixture, double ours, double torch, double graph, double load, String spread) {
        public double flops() {
            return fixture.stepFlops();
        }
    }

    /**
     * Ours and PyTorch's in alternating rounds; with {@code withGraph} the SameDiff step the engine replaced runs as a
     * third timer in the same rounds (the before/after of the engine, side by side).
     */
    public static Result run(StepFixture f, BenchSettings s, boolean withGraph) {
        PelaStep step = f.newStep();
        TrainStep graph = withGraph ? f.newGraphStep() : null;
        LabelledImages batch = new LabelledImages(f.images(), f.labels());
        try (TorchProcess torch = TorchProcess.start(s.python(), s.script(), s.threads(), f.torchArgs("step"))) {
            checkSameModel(f, torch);
            for (int i = 0; i < s.warmup(); i++) {
                step.step(batch);
                if (graph != null) {
                    graph.step(batch);
                }
            }
            double load0 = Machine.load();
            List<Supplier<double[]>> timers = new ArrayList<>();
            timers.add(() -> Timing.repeat(s.reps(), () -> step.step(batch)));
            timers.add(() -> torch.time(s.reps()).get("step"));
            if (graph != null) {
                timers.add(() -> Timing.repeat(s.reps(), () -> graph.step(batch)));
            }
            @SuppressWarnings("unchecked")
            List<List<Double>> t = Timing.alternate(s.rounds(), timers.toArray(Supplier[]::new));
            double load = (load0 + Machine.load()) / 2;
            double graphMedian = graph != null ? Timing.median(t.get(2)) : Double.NaN;
            return new Result(f, Timing.median(t.get(0)), Timing.median(t.get(1)), graphMedian, load, spread(t));
        }
    }

    /** The reference must have exactly our parameter counts, or it is not the same model. */
    static void checkSameModel(StepFixture f, TorchProcess torch) {
        long teacher = ModelInfo.of(f.teacherConfig()).params();
        long student = ModelInfo.of(f.studentConfig()).params();
        long tt = torch.header().path("params_teacher").asLong();
        long ts = torch.header().path("params_student").asLong();
        if (tt != teacher || ts != student) {
            throw new PelaException(String.format("the PyTorch reference built a different model: %d/%d parameters "
                    + "(teacher/student) against our %d/%d", tt, ts, teacher, student));
        }
    }

    static String spread(List<List<Double>> t) {
        List<String> parts = new ArrayList<>();
        for (List<Double> side : t) {
            parts.add(String.format("%.2f–%.2f s", side.stream().mapToDouble(d -> d).min().orElse(0),
                    side.stream().mapToDouble(d -> d).max().orElse(0)));
        }
        return String.join(" vs ", parts);
    }

    public static List<BenchRow> rows(Result r, int threads, double peakGflops) {
        StepFixture f = r.fixture();
        String cfg = String.format("%s κ=%s batch %d", StepFixture.describe(f.teacherConfig()),
                f.studentConfig().lowrank().kappa(), f.batch());
        String note = String.format("%d threads, OMP_WAIT_POLICY=%s; step %.3f s vs %.3f s (ranges %s)", threads,
                System.getenv().getOrDefault("OMP_WAIT_POLICY", "unset"), r.ours(), r.torch(), r.spread());
        double gOurs = r.flops() / r.ours() / 1e9;
        double gTorch = r.flops() / r.torch() / 1e9;
        List<BenchRow> rows = new ArrayList<>();
        rows.add(new BenchRow("step", cfg, f.batch() / r.ours(), f.batch() / r.torch(), "images/s", r.load(), note));
        if (!Double.isNaN(r.graph())) {
            rows.add(new BenchRow("step", "SameDiff graph (before the engine), " + cfg, f.batch() / r.graph(),
                    f.batch() / r.torch(), "images/s", r.load(), String.format("same rounds; engine/graph %.2f×",
                            r.graph() / r.ours())));
        }
        rows.add(
                new BenchRow("gflops", "PELA step, " + cfg, gOurs, gTorch, "GFLOP/s", r.load(),
                        String.format("%.1f GFLOP/step; ours %.0f %% / PyTorch %.0f %% of ND4J sgemm peak %.0f GFLOP/s",
                                r.flops() / 1e9, 100 * gOurs / peakGflops, 100 * gTorch / peakGflops, peakGflops)));
        return rows;
    }
}
