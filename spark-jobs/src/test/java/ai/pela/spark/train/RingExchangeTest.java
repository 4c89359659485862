package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.Flat;
import ai.pela.zoo.train.PelaStep;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.train.TrainStep;
import ai.pela.zoo.vit.VitInit;
import ai.pela.zoo.vit.VitLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The ring exchange on local Spark with 2 workers (a barrier stage of 2 tasks), on ParameterAveragingTest's toy
 * problem: its first round equals the tree's; a run resumed from a checkpoint ends where the uninterrupted one
 * does; trainers lost between rounds get the state back from the driver; BF16 stays close to FP32.
 */
class RingExchangeTest {
    static JavaSparkContext sc;
    static final StepHyper HYPER = StepHyper.supervised(1e-2, 0.05, 0.1);

    @BeforeAll
    static void start() {
        sc = SparkContexts.create("test", null, 2);
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    static float[] initial() {
        StateDict init = VitInit.random(ParameterAveragingTest.CFG, 11);
        return Flat.flatten(init.asMap(), List.copyOf(VitLayout.parameterShapes(ParameterAveragingTest.CFG).keySet()))
                .toFloatVector();
    }

    static TrainState fresh() {
        float[] p0 = initial();
        return new TrainState(p0, new float[p0.length], new float[p0.length], 0, 0);
    }

    /** 2 workers × 3 local steps × batch 8 over 96 samples: 2 rounds per epoch, so every second round checkpoints. */
    static ParameterAveraging trainer(Path dir, int rounds, int checkpointEvery, ParameterAveraging.Exchange exchange,
            WirePrecision precision) {
        return trainer(dir, 96, rounds, checkpointEvery, exchange, precision);
    }

    static ParameterAveraging trainer(Path dir, int samples, int rounds, int checkpointEvery,
            ParameterAveraging.Exchange exchange, WirePrecision precision) {
        return trainer(dir, samples, rounds, checkpointEvery, exchange, precision, null);
    }

    static ParameterAveraging trainer(Path dir, int samples, int rounds, int checkpointEvery,
            ParameterAveraging.Exchange exchange, WirePrecision precision, StepFactory factory) {
        EpochPlan plan = new EpochPlan(ParameterAveragingTest.samples(samples), 5, 2, 3, 8);
        ModelSpec spec = new ModelSpec(ParameterAveragingTest.CFG, null, null, HYPER,
                new SerializableConf(sc.hadoopConfiguration()), "fp32", factory);
        return new ParameterAveraging(sc, spec, new ParameterAveragingTest.ToySource(0), plan,
                new ParameterAveraging.Settings(2, 3, rounds, checkpointEvery, 5, exchange, precision),
                new Checkpoints(Storage.local(), Storage.path(dir.toString()), 10),
                new MetricsLog(Storage.local(), Storage.path(dir.toString()), 0));
    }

    static float maxAbsDiff(float[] a, float[] b) {
        float d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    @Test
    void theFirstRoundEqualsTheTreeExchangesAverage(@TempDir Path dir) {
        TrainState tree = trainer(dir.resolve("tree"), 1, 1, ParameterAveraging.Exchange.TREE, WirePrecision.FP32).run(fresh());
        TrainState ring = trainer(dir.resolve("ring"), 1, 1, ParameterAveraging.Exchange.RING, WirePrecision.FP32).run(fresh());
        assertThat(maxAbsDiff(ring.params(), initial())).as("the round moved the parameters").isGreaterThan(1e-3f);
        assertThat(maxAbsDiff(ring.params(), tree.params())).isLessThan(1e-6f);
        assertThat(maxAbsDiff(ring.m(), tree.m())).isLessThan(1e-7f);
        assertThat(maxAbsDiff(ring.v(), tree.v())).isLessThan(1e-7f);
        assertThat(ring.step()).isEqualTo(3);
    }

    /**
     * Also shows that the driver's copy (applied from rank 0's averaged change) is bit-identical to what the workers
     * hold: the resumed run starts from the driver's checkpoint, the uninterrupted one from the workers' trainers.
     */
    @ParameterizedTest
    @EnumSource(WirePrecision.class)
    void aRunResumedFromACheckpointEndsBitForBitWhereTheUninterruptedOneDoes(WirePrecision precision, @TempDir Path dir) {
        // 5 rounds, checkpoints after rounds 2 and 4 (and the last): between them the moments stay with each worker.
        TrainState whole = trainer(dir.resolve("whole"), 5, 2, ParameterAveraging.Exchange.RING, precision).run(fresh());
        Path cut = dir.resolve("cut");
        trainer(cut, 2, 2, ParameterAveraging.Exchange.RING, precision).run(fresh());
        TrainState resumed = new Checkpoints(Storage.local(), Storage.path(cut.toString()), 10).latest().orElseThrow();
        assertThat(resumed.roundsDone()).isEqualTo(2);
        TrainState end = trainer(cut, 5, 2, ParameterAveraging.Exchange.RING, precision).run(resumed);
        assertThat(end.roundsDone()).isEqualTo(5);
        assertThat(end.params()).isEqualTo(whole.params());
        assertThat(end.m()).isEqualTo(whole.m());
        assertThat(end.v()).isEqualTo(whole.v());
    }

    /**
     * All trainers lost after round 1 with no checkpoint since the start: the driver goes back to the start and runs
     * rounds 0-1 again; deterministic seeds make the run end where an undisturbed one does.
     */
    @Test
    void trainersLostBetweenCheckpointsMakeTheDriverRunTheRoundsSinceItsLastStateAgain(@TempDir Path dir) {
        // 288 samples: 6 rounds per epoch, so the only checkpoint is the last round's.
        TrainState undisturbed = trainer(dir.resolve("a"), 288, 4, 10, ParameterAveraging.Exchange.RING,
                WirePrecision.FP32).run(fresh());
        List<Integer> cleared = new ArrayList<>();
        ParameterAveraging pa = trainer(dir.resolve("b"), 288, 4, 10, ParameterAveraging.Exchange.RING, WirePrecision.FP32)
                .listener((m, s) -> {
                    if (m.round() == 1 && cleared.isEmpty()) {
                        WorkerCache.clear(); // as if every executor had been replaced
                        cleared.add(m.round());
                    }
                });
        TrainState end = pa.run(fresh());
        assertThat(cleared).containsExactly(1);
        assertThat(end.roundsDone()).isEqualTo(4);
        assertThat(end.params()).isEqualTo(undisturbed.params());
        List<RoundMetrics> log = new MetricsLog(Storage.local(), Storage.path(dir.resolve("b").toString()), 99).rounds();
        assertThat(log).extracting(RoundMetrics::round).containsExactly(0, 1, 2, 3);
    }

    /**
     * Builds the usual step; once armed, rank 1's next build fails at once (its executor is lost) and rank 0's next
     * build is slow, so rank 0 reaches the rendezvous only after the driver has given the attempt up.
     */
    static final class LateAndLostFactory implements StepFactory {
        private static final long serialVersionUID = 1L;
        static final AtomicBoolean LOSE = new AtomicBoolean();
        static final AtomicBoolean DELAY = new AtomicBoolean();

        @Override
        public TrainStep create(ModelSpec spec, int device) {
            int rank = TaskContext.getPartitionId();
            if (rank == 1 && LOSE.compareAndSet(true, false)) {
                throw new IllegalStateException("injected: rank 1's executor is lost");
            }
            if (rank == 0 && DELAY.compareAndSet(true, false)) {
                try {
                    Thread.sleep(4000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return new PelaStep(spec.student(), spec.placeholderStudentWeights(), null, null, spec.hyper());
        }

        @Override
        public String key() {
            return "late-and-lost";
        }
    }

    /**
     * The hang once seen on the standalone cluster, made deterministic: a round's attempt fails while one of its tasks
     * has not reached the rendezvous yet. That task, which Spark marks killed but keeps running, must be turned away
     * when it arrives; before, it waited there for peers of the dead attempt for the 10-minute read timeout, holding
     * the task slot that the re-run barrier stage needed, and the run stood still.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aTaskThatReachesTheRendezvousAfterItsAttemptFailedDoesNotStallTheRerun(@TempDir Path dir) {
        TrainState undisturbed = trainer(dir.resolve("a"), 4, 2, ParameterAveraging.Exchange.RING, WirePrecision.FP32)
                .run(fresh());
        List<Integer> faulted = new ArrayList<>();
        ParameterAveraging pa = trainer(dir.resolve("b"), 96, 4, 2, ParameterAveraging.Exchange.RING, WirePrecision.FP32,
                new LateAndLostFactory()).listener((m, s) -> {
                    if (m.round() == 0 && faulted.isEmpty()) {
                        WorkerCache.clear(); // round 1 builds its trainers again, with the fault armed
                        LateAndLostFactory.LOSE.set(true);
                        LateAndLostFactory.DELAY.set(true);
                        faulted.add(m.round());
                    }
                });
        long t0 = System.nanoTime();
        TrainState end = pa.run(fresh());
        assertThat(faulted).containsExactly(0);
        assertThat(LateAndLostFactory.LOSE.get()).as("rank 1's build failed").isFalse();
        assertThat(LateAndLostFactory.DELAY.get()).as("rank 0's build was late").isFalse();
        assertThat(end.roundsDone()).isEqualTo(4);
        assertThat(end.params()).isEqualTo(undisturbed.params());
        assertThat((System.nanoTime() - t0) / 1e9).as("seconds for the run").isLessThan(120);
    }

    @Test
    void trainersLostRightAfterACheckpointGetTheStateFromTheDriver(@TempDir Path dir) {
        List<Integer> cleared = new ArrayList<>();
        ParameterAveraging pa = trainer(dir, 4, 2, ParameterAveraging.Exchange.RING, WirePrecision.FP32)
                .listener((m, s) -> {
                    if (m.round() == 1) { // round 1 is a checkpoint round (every 2)
                        WorkerCache.clear(); // as if both executors had been replaced
                        cleared.add(m.round());
                    }
                });
        TrainState end = pa.run(fresh());
        assertThat(cleared).containsExactly(1);
        assertThat(end.roundsDone()).isEqualTo(4);
        assertThat(end.step()).isEqualTo(12);
        for (float p : end.params()) {
            assertThat(Float.isFinite(p)).isTrue();
        }
    }

    @Test
    void bf16OnTheWireStaysCloseToFp32(@TempDir Path dir) {
        float[] p0 = initial();
        TrainState fp32 = trainer(dir.resolve("a"), 2, 2, ParameterAveraging.Exchange.RING, WirePrecision.FP32).run(fresh());
        TrainState bf16 = trainer(dir.resolve("b"), 2, 2, ParameterAveraging.Exchange.RING, WirePrecision.BF16).run(fresh());
        float moved = maxAbsDiff(fp32.params(), p0);
        float diff = maxAbsDiff(bf16.params(), fp32.params());
        assertThat(diff).isGreaterThan(0f).isLessThan(0.02f * moved);
    }

    @Test
    void unknownExchangeNamesAreRejected() {
        assertThatThrownBy(() -> ParameterAveraging.Exchange.parse("allreduce", "train.exchange"))
                .isInstanceOf(PelaException.class).hasMessageContaining("train.exchange").hasMessageContaining("tree or ring");
    }
}
