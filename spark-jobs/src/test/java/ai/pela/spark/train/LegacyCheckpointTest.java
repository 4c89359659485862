package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.config.TrainSettings;
import ai.pela.spark.data.DataPosition;
import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.zoo.train.StepHyper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint written before checkpoints kept a data position (fixtures/checkpoint-v1, see its README) resumes
 * under today's code, at its rounds of the plan (the rule before positions were kept).
 */
class LegacyCheckpointTest {
    static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = SparkContexts.create("test", null, 2);
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    static Path copyOfFixture(Path to) throws IOException, URISyntaxException {
        Path from = Path.of(LegacyCheckpointTest.class.getResource("/fixtures/checkpoint-v1/checkpoints").toURI());
        Path dir = to.resolve("checkpoints");
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path target = dir.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
        return to;
    }

    static Checkpoints checkpoints(Path run) {
        return new Checkpoints(Storage.local(), Storage.path(run.toString()), 10);
    }

    /** The fixture's run: 96 toy samples, 2 workers × k 3 × batch 8, seed 5, tree exchange. */
    static ParameterAveraging trainer(Path run, int totalRounds) {
        EpochPlan plan = new EpochPlan(ParameterAveragingTest.samples(96), 5, 2, 3, 8);
        ModelSpec spec = new ModelSpec(ParameterAveragingTest.CFG, null, null, StepHyper.supervised(1e-2, 0.05, 0.1),
                new SerializableConf(sc.hadoopConfiguration()), "fp32", null);
        return new ParameterAveraging(sc, spec, new ParameterAveragingTest.ToySource(0), plan,
                new ParameterAveraging.Settings(2, 3, totalRounds, 3, 5), checkpoints(run),
                new MetricsLog(Storage.local(), Storage.path(run.toString()), 0));
    }

    @Test
    void aCheckpointWithoutADataPositionResumesAtItsRoundsOfThePlan(@TempDir Path dir) throws Exception {
        Path run = copyOfFixture(dir.resolve("legacy"));
        TrainState legacy = checkpoints(run).latest().orElseThrow();
        assertThat(legacy.roundsDone()).isEqualTo(3);
        assertThat(legacy.step()).isEqualTo(9);
        assertThat(legacy.position()).isNull();

        EpochPlan plan = new EpochPlan(ParameterAveragingTest.samples(96), 5, 2, 3, 8);
        TrainSettings twoEpochs = new TrainSettings(2, 8, 2, 3, ParameterAveraging.Exchange.TREE, WirePrecision.FP32,
                WireSecurity.SPARK, 0,
                1e-2, 1e-5, 1e-6, 0, 0.05, 0, 0.1);
        assertThat(TrainRun.totalRounds(plan, legacy, twoEpochs)).as("epochs × rounds per epoch, as before").isEqualTo(4);
        assertThat(plan.atRound(legacy.roundsDone())).isEqualTo(new DataPosition(1, 48));

        // It resumes as a checkpoint of today's at sample 48 of epoch 1 does, bit for bit (same JVM, same code); a
        // resume at another sample would not.
        TrainState positioned = trainer(dir.resolve("positioned"), 5).run(legacy.at(new DataPosition(1, 48)));
        TrainState wrong = trainer(dir.resolve("wrong"), 5).run(legacy.at(new DataPosition(0, 0)));
        TrainState resumed = trainer(run, 5).run(legacy);
        assertThat(resumed.roundsDone()).isEqualTo(5);
        assertThat(resumed.step()).isEqualTo(positioned.step()).isEqualTo(9 + 2 * 3);
        assertThat(resumed.params()).isEqualTo(positioned.params());
        assertThat(resumed.m()).isEqualTo(positioned.m());
        assertThat(resumed.v()).isEqualTo(positioned.v());
        assertThat(RingExchangeTest.maxAbsDiff(wrong.params(), positioned.params())).isGreaterThan(1e-3f);
        assertThat(checkpoints(run).latest().orElseThrow().position()).as("new checkpoints keep the position")
                .isEqualTo(new DataPosition(2, 48));
    }
}
