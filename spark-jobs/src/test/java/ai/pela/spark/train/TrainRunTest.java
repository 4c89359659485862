package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.data.DataPosition;
import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.data.Sample;
import ai.pela.zoo.train.CosineSchedule;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The run's length and schedule from where it starts: unchanged for an unchanged plan, continued for another. */
class TrainRunTest {
    static final List<Sample> SAMPLES = samples(6000);

    static List<Sample> samples(int n) {
        List<Sample> s = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            s.add(Sample.file("f" + i, i % 10));
        }
        return s;
    }

    static TrainRun.Prepared prepared(RunConfig c, TrainState start) {
        EpochPlan plan = new EpochPlan(SAMPLES, c.seed(), c.train().workers(), c.train().localSteps(),
                c.train().batchSize());
        return new TrainRun.Prepared(c, null, null, plan, TrainRun.totalRounds(plan, start, c.train()), null, start,
                null);
    }

    static TrainState at(long step, int rounds, DataPosition p) {
        return new TrainState(new float[1], new float[1], new float[1], step, rounds, p);
    }

    static RunConfig config(String... overrides) {
        return RunConfig.from(Recipe.load((java.io.File) null, List.of(overrides)));
    }

    @Test
    void anUnchangedPlanKeepsTheRunsLengthAndSchedule() {
        RunConfig c = config("train.epochs=2", "train.workers=2", "train.local-steps=4", "train.batch-size=64",
                "train.warmup-epochs=0.5");
        // 6000 / 512 = 11 rounds an epoch.
        TrainRun.Prepared fresh = prepared(c, at(0, 0, DataPosition.START));
        TrainRun.Prepared resumed = prepared(c, at(6 * 4, 6, new DataPosition(0, 3072)));
        TrainRun.Prepared legacy = prepared(c, at(6 * 4, 6, null));
        assertThat(fresh.totalRounds()).isEqualTo(22);
        assertThat(resumed.totalRounds()).isEqualTo(22);
        assertThat(legacy.totalRounds()).isEqualTo(22);
        CosineSchedule s = fresh.hyper(true).schedule();
        assertThat(s.totalSteps()).isEqualTo(22 * 4);
        assertThat(s.warmupSteps()).isEqualTo(22);
        assertThat(resumed.hyper(true).schedule()).isEqualTo(s);
        assertThat(legacy.hyper(true).schedule()).isEqualTo(s);
    }

    @Test
    void anotherPlanRunsTheRestOfTheDataAndTheScheduleContinuesInOptimiserSteps() {
        RunConfig one = config("train.epochs=1", "train.workers=1", "train.local-steps=4", "train.batch-size=64");
        // Checkpointed after 6 rounds of 2 workers: 24 optimiser steps, 3072 samples. 2928 left: 11 rounds of 256.
        TrainRun.Prepared p = prepared(one, at(24, 6, new DataPosition(0, 3072)));
        assertThat(p.totalRounds()).isEqualTo(6 + 11);
        assertThat(p.hyper(true).schedule().totalSteps()).isEqualTo(24 + 11 * 4);
        assertThat(prepared(config("train.epochs=1", "train.workers=1", "train.max-rounds=10"),
                at(24, 6, new DataPosition(0, 3072))).totalRounds()).as("max-rounds caps the total").isEqualTo(10);
    }

    @Test
    void distillationWeightsApplyToPretrainOnly() {
        RunConfig c = config("loss.alpha=0.5", "loss.beta=2");
        TrainRun.Prepared p = prepared(c, at(0, 0, DataPosition.START));
        assertThat(p.hyper(true).alpha()).isEqualTo(0.5);
        assertThat(p.hyper(true).beta()).isEqualTo(2.0);
        assertThat(p.hyper(false).alpha()).isZero();
        assertThat(p.hyper(false).beta()).isZero();
    }
}
