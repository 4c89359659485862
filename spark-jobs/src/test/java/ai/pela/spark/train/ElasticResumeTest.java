package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.data.DataPosition;
import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.data.Sample;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.vit.VitInit;
import ai.pela.zoo.vit.VitLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The repro at toy size, for both exchanges: a run checkpointed with 2 workers and resumed with 1 goes on at
 * the sample where the checkpointed run stopped (not at "its round count of the new plan"), sees every sample of the
 * epoch once, and its optimiser step keeps counting.
 */
class ElasticResumeTest {
    static JavaSparkContext sc;
    static final StepHyper HYPER = StepHyper.supervised(1e-2, 0.05, 0.1);
    /** Offsets of every sample loaded, in local mode (tasks run in this JVM). */
    static final List<Long> SEEN = Collections.synchronizedList(new ArrayList<>());
    static final int SAMPLES = 192;
    static final int BATCH = 8;
    static final int K = 2;

    /** The toy images of ParameterAveragingTest, with every loaded sample's offset recorded. */
    static final class RecordingSource implements BatchSource {
        private final ParameterAveragingTest.ToySource toy = new ParameterAveragingTest.ToySource(0);

        @Override
        public LoadedBatch load(List<Sample> samples, long seed) {
            samples.forEach(s -> SEEN.add(s.offset()));
            return toy.load(samples, seed);
        }
    }

    @BeforeAll
    static void start() {
        sc = SparkContexts.create("test", null, 2);
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    static EpochPlan plan(int workers) {
        return new EpochPlan(ParameterAveragingTest.samples(SAMPLES), 5, workers, K, BATCH);
    }

    static ParameterAveraging trainer(Path dir, int workers, int totalRounds, ParameterAveraging.Exchange exchange) {
        ModelSpec spec = new ModelSpec(ParameterAveragingTest.CFG, null, null, HYPER,
                new SerializableConf(sc.hadoopConfiguration()), "fp32", null);
        return new ParameterAveraging(sc, spec, new RecordingSource(), plan(workers),
                new ParameterAveraging.Settings(workers, K, totalRounds, 1, 5, exchange, WirePrecision.FP32),
                new Checkpoints(Storage.local(), Storage.path(dir.toString()), 10),
                new MetricsLog(Storage.local(), Storage.path(dir.toString()), 0));
    }

    @ParameterizedTest
    @EnumSource(ParameterAveraging.Exchange.class)
    void aRunResumedUnderFewerWorkersContinuesAtTheSampleWhereItStopped(ParameterAveraging.Exchange exchange,
            @TempDir Path dir) {
        // 2 workers × k 2 × batch 8 = 32 samples a round: 3 rounds consume samples 0..95 of epoch 0's order.
        Checkpoints checkpoints = new Checkpoints(Storage.local(), Storage.path(dir.toString()), 10);
        TrainState start = checkpoints.resumeOrStart(
                VitInit.random(ParameterAveragingTest.CFG, 11),
                List.copyOf(VitLayout.parameterShapes(ParameterAveragingTest.CFG).keySet()), "toy has");
        SEEN.clear();
        trainer(dir, 2, 3, exchange).run(start);
        TrainState saved = checkpoints.latest().orElseThrow();
        assertThat(saved.roundsDone()).isEqualTo(3);
        assertThat(saved.position()).isEqualTo(new DataPosition(0, 96));
        List<Long> before = List.copyOf(SEEN);

        // 1 worker: 16 samples a round, so the rest of the epoch (96 samples) is 6 rounds; the old rule (round 3 of
        // the new plan) would have started at sample 48 and seen samples 48..95 twice.
        int left = (int) plan(1).roundsUntil(saved.position(), 1);
        assertThat(left).isEqualTo(6);
        SEEN.clear();
        TrainState end = trainer(dir, 1, saved.roundsDone() + left, exchange).run(saved);
        List<Long> after = List.copyOf(SEEN);

        List<Sample> order = plan(1).order(0);
        assertThat(after.get(0)).as("the first sample after the resume").isEqualTo(order.get(96).offset());
        Set<Long> epoch = new TreeSet<>(before);
        epoch.addAll(after);
        assertThat(before.size() + after.size()).as("no sample seen twice").isEqualTo(epoch.size());
        assertThat(epoch).hasSize(SAMPLES);
        assertThat(end.roundsDone()).isEqualTo(9);
        assertThat(end.step()).as("optimiser steps keep counting").isEqualTo(3 * K + 6 * K);
        assertThat(end.position()).isEqualTo(new DataPosition(1, 0));
    }
}
