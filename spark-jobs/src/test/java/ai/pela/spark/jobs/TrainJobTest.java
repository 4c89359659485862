package ai.pela.spark.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.config.DataSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.train.Checkpoints;
import ai.pela.spark.train.RoundMetrics;
import ai.pela.spark.train.TrainState;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train-teacher, pretrain and evaluate in local mode with 2 workers on real Fashion-MNIST images. */
class TrainJobTest {
    @TempDir
    static Path dir;
    static JavaSparkContext sc;
    static Path data;
    static Path vit;
    static TrainJob.Result teacher;

    @BeforeAll
    static void setUp() throws Exception {
        data = FashionFolders.write(dir.resolve("fmnist"), 192);
        vit = FashionFolders.tinyVitConfig(dir);
        sc = SparkContexts.create("test", null, 2);
        teacher = TrainJob.run(sc, recipe(dir.resolve("teacher-run"), List.of(
                "model.config=\"" + vit + "\"", "train.epochs=3", "train.lr=3e-3")), TrainJob.Mode.TRAIN_TEACHER);
    }

    @AfterAll
    static void tearDown() {
        if (sc != null) {
            sc.close();
        }
    }

    static Recipe recipe(Path runDir, List<String> extra) {
        List<String> o = new ArrayList<>(List.of("run-dir=\"" + runDir + "\"", "data.root=\"" + data + "\"",
                "train.workers=2", "train.local-steps=2", "train.batch-size=16", "train.warmup-epochs=0.3",
                "data.crop-scale=[0.85, 1.0]", "checkpoint.every-rounds=2", "seed=3"));
        o.addAll(extra);
        return Recipe.load(null, o);
    }

    private static List<String> pretrainSettings(Path runDir) {
        return List.of("model.config=\"" + teacher.modelDir() + "/config.json\"",
                "model.weights=\"" + teacher.modelDir() + "/model.safetensors\"", "loss.alpha=1", "loss.beta=1",
                "train.epochs=2", "train.lr=1e-3");
    }

    @Test
    void teacherTrainingAndPelaPretrainingLowerTheirLosses() {
        List<RoundMetrics> t = teacher.rounds();
        assertThat(t).hasSize(9); // 192 / (2 workers x 2 steps x 16 images) = 3 rounds per epoch, 3 epochs
        assertThat(t.get(t.size() - 1).loss()).isLessThan(t.get(0).loss());

        Path run = dir.resolve("pela-run");
        TrainJob.Result r = TrainJob.run(sc, recipe(run, pretrainSettings(run)), TrainJob.Mode.PRETRAIN);
        List<RoundMetrics> p = r.rounds();
        assertThat(p.get(0).lossFd()).isPositive();
        assertThat(p.get(p.size() - 1).loss()).isLessThan(p.get(0).loss());
        assertThat(r.config().lowrank().kappa()).isEqualTo(2.0);
        assertThat(Files.exists(run.resolve("metrics.jsonl"))).isTrue();
        assertThat(Files.exists(run.resolve("config.conf"))).isTrue();

        ModelConfig cfg = r.config();
        Storage storage = new Storage(sc.hadoopConfiguration());
        DataSetup val = DataSetup.forEvaluation(storage, DataSettings.from(recipe(run, List.of())), cfg, "val");
        EvaluateJob.Metrics m = EvaluateJob.run(sc, new EvaluateJob.ModelRef(cfg, r.modelDir() + "/model.safetensors",
                new SerializableConf(sc.hadoopConfiguration())), val.train(), val.source(), 20, 2);
        assertThat(m.examples()).isEqualTo(64);
        assertThat(m.top5()).isGreaterThanOrEqualTo(m.top1());
    }

    @Test
    void aResumedRunEndsWithTheSameParametersAsAnUninterruptedOne() {
        Path whole = dir.resolve("whole");
        TrainState expected = TrainJob.run(sc, recipe(whole, pretrainSettings(whole)), TrainJob.Mode.PRETRAIN).state();

        Path broken = dir.resolve("broken");
        Recipe r = recipe(broken, pretrainSettings(broken));
        assertThatThrownBy(() -> TrainJob.run(sc, r, TrainJob.Mode.PRETRAIN, (m, s) -> {
            // Killed after round 5; checkpoints exist for rounds 2, 3 (epoch end) and 4, so round 5 is redone.
            if (m.round() == 4) {
                throw new IllegalStateException("driver killed");
            }
        })).hasMessageContaining("driver killed");
        assertThat(new Checkpoints(Storage.local(), Storage.path(broken.toString()), 3).latest().orElseThrow()
                .roundsDone()).isEqualTo(4);
        TrainState resumed = TrainJob.run(sc, r, TrainJob.Mode.PRETRAIN).state();

        assertThat(resumed.roundsDone()).isEqualTo(expected.roundsDone());
        assertThat(resumed.step()).isEqualTo(expected.step());
        assertThat(Fixtures.maxAbsDiff(expected.params(), resumed.params())).isLessThanOrEqualTo(1e-6f);
    }

    @Test
    void aBudgetActivationAwareStudentPretrainsResumesAndEvaluates() {
        Path run = dir.resolve("budget");
        List<String> settings = new ArrayList<>(pretrainSettings(run));
        settings.addAll(List.of("model.rank-policy=budget", "model.param-budget=0.4", "model.svd-init=activation-aware",
                "model.calibration-images=24", "train.epochs=1"));
        Recipe r = recipe(run, settings);
        assertThatThrownBy(() -> TrainJob.run(sc, r, TrainJob.Mode.PRETRAIN, (m, s) -> {
            if (m.round() == 1) { // 0-based: killed after the second round, checkpointed (every 2 rounds)
                throw new IllegalStateException("driver killed");
            }
        })).hasMessageContaining("driver killed");
        assertThat(new Checkpoints(Storage.local(), Storage.path(run.toString()), 3).latest().orElseThrow()
                .roundsDone()).isEqualTo(2);
        // The resume recompresses the teacher: the same calibration images must give the same ranks and shapes.
        TrainJob.Result resumed = TrainJob.run(sc, r, TrainJob.Mode.PRETRAIN);
        assertThat(resumed.state().roundsDone()).isEqualTo(3);
        assertThat(new java.util.HashSet<>(resumed.config().lowrank().ranks().values())).hasSizeGreaterThan(1);
        assertThat(resumed.config().lowrank().kappa()).isGreaterThanOrEqualTo(1 / 0.4);

        ModelConfig cfg = ai.pela.zoo.config.ConfigJson.read(Path.of(resumed.modelDir().toUri()).resolve("config.json"));
        assertThat(cfg.lowrank().ranks()).isEqualTo(resumed.config().lowrank().ranks());
        Storage storage = new Storage(sc.hadoopConfiguration());
        DataSetup val = DataSetup.forEvaluation(storage, DataSettings.from(recipe(run, List.of())), cfg, "val");
        EvaluateJob.Metrics m = EvaluateJob.run(sc, new EvaluateJob.ModelRef(cfg, resumed.modelDir() + "/model.safetensors",
                new SerializableConf(sc.hadoopConfiguration())), val.train(), val.source(), 20, 2);
        assertThat(m.examples()).isEqualTo(64);
    }

    @Test
    void configurationAndDataProblemsFailBeforeTraining() {
        Path run = dir.resolve("bad");
        assertThatThrownBy(() -> TrainJob.run(sc, recipe(run, List.of("model.config=\"" + vit + "\"",
                "data.root=\"" + dir.resolve("nowhere") + "\"")), TrainJob.Mode.TRAIN_TEACHER))
                .isInstanceOf(PelaException.class).hasMessageContaining("nowhere");
        assertThatThrownBy(() -> TrainJob.run(sc, recipe(run, List.of("model.config=\"" + vit + "\"",
                "train.batch-size=4096")), TrainJob.Mode.TRAIN_TEACHER))
                .isInstanceOf(PelaException.class).hasMessageContaining("too small");
        assertThatThrownBy(() -> TrainJob.run(sc, recipe(run, List.of("model.config=\"" + teacher.modelDir()
                        + "/config.json\"", "model.weights=\"" + teacher.modelDir() + "/model.safetensors\"",
                "model.kappa=0")), TrainJob.Mode.PRETRAIN))
                .isInstanceOf(PelaException.class).hasMessageContaining("kappa must be a positive number");
        assertThatThrownBy(() -> TrainJob.run(sc, recipe(run, List.of("model.config=\"" + teacher.modelDir()
                        + "/config.json\"", "model.weights=\"" + teacher.modelDir() + "/model.safetensors\"",
                "model.rank-policy=budget", "model.param-budget=0.01")), TrainJob.Mode.PRETRAIN))
                .isInstanceOf(PelaException.class).hasMessageContaining("param-budget too small");
        assertThatThrownBy(() -> TrainJob.run(sc, recipe(run, List.of("model.rank-policy=per-layer")),
                TrainJob.Mode.PRETRAIN)).hasMessageContaining("pela.model.rank-policy").hasMessageContaining("budget");
    }
}
