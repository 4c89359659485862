package ai.pela.spark.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.config.DataSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.family.ModelFamilies;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.swin.SwinEvalRef;
import ai.pela.spark.swin.SwinFiles;
import ai.pela.spark.swin.SwinTrainJob;
import ai.pela.spark.train.ParameterAveraging;
import ai.pela.spark.train.RoundMetrics;
import ai.pela.spark.train.TrainState;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinConfigJson;
import ai.pela.zoo.swin.SwinModel;
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

/**
 * A small Swin (28 px, patch 2: a 14 × 14 grid in 7 × 7 windows with a shifted block, then 7 × 7 in one window)
 * through train-teacher, pretrain (κ = 2, L_fd on the final pooled feature) and evaluate in local mode with
 * 2 workers on real Fashion-MNIST images, and a pretrain that resumes from its checkpoint.
 */
class SwinTrainJobTest {
    @TempDir
    static Path dir;
    static JavaSparkContext sc;
    static Path data;
    static Path swin;
    static Path teacherDir;
    static List<RoundMetrics> teacherRounds;

    @BeforeAll
    static void setUp() throws Exception {
        data = FashionFolders.write(dir.resolve("fmnist"), 128);
        swin = dir.resolve("swin.json");
        Files.writeString(swin, """
                {"architecture": "swin", "img_size": 28, "patch_size": 2, "in_chans": 3, "embed_dim": 16,
                 "depths": [2, 1], "num_heads": [1, 2], "window_size": 7, "mlp_ratio": 2.0, "num_classes": 10}""");
        sc = SparkContexts.create("test", null, 2);
        List<RoundMetrics> rounds = new ArrayList<>();
        teacherDir = run(recipe(dir.resolve("teacher-run"), List.of("model.config=\"" + swin + "\"", "train.epochs=3",
                "train.lr=3e-3")), false, (m, s) -> rounds.add(m));
        teacherRounds = rounds;
    }

    @AfterAll
    static void tearDown() {
        if (sc != null) {
            sc.close();
        }
    }

    /** Through the family door the commands use: the config.json's family picks the job. */
    static Path run(Recipe recipe, boolean pretrain, ParameterAveraging.RoundListener listener) {
        RunConfig config = RunConfig.from(recipe);
        Storage storage = new Storage(sc.hadoopConfiguration());
        return Path.of(ModelFamilies.of(storage, config).prepare(storage, recipe, config, pretrain)
                .run(sc, listener).toUri().getPath());
    }

    static Recipe recipe(Path runDir, List<String> extra) {
        List<String> o = new ArrayList<>(List.of("run-dir=\"" + runDir + "\"", "data.root=\"" + data + "\"",
                "train.workers=2", "train.local-steps=2", "train.batch-size=16", "train.warmup-epochs=0.3",
                "data.crop-scale=[0.85, 1.0]", "checkpoint.every-rounds=1", "seed=5"));
        o.addAll(extra);
        return Recipe.load(null, o);
    }

    private static List<String> pretrainSettings() {
        return List.of("model.config=\"" + teacherDir + "/config.json\"",
                "model.weights=\"" + teacherDir + "/model.safetensors\"", "model.kappa=2", "loss.alpha=1",
                "loss.beta=1", "loss.fd-points=final", "train.epochs=1", "train.lr=1e-3");
    }

    @Test
    void teacherTrainingThenPelaPretrainingThenEvaluation() throws Exception {
        assertThat(teacherRounds).hasSize(6); // 128 / (2 workers x 2 steps x 16) = 2 rounds per epoch, 3 epochs
        assertThat(teacherRounds.get(5).loss()).isLessThan(teacherRounds.get(0).loss());
        assertThat(SwinConfigJson.read(teacherDir.resolve("config.json")).lowrank()).isNull();

        Path run = dir.resolve("pela-run");
        List<RoundMetrics> p = new ArrayList<>();
        Path model = run(recipe(run, pretrainSettings()), true, (m, s) -> p.add(m));
        assertThat(p).hasSize(2);
        assertThat(p.get(0).lossFd()).isPositive();
        assertThat(p.get(0).lossRwp()).isPositive();
        SwinConfig student = SwinConfigJson.read(model.resolve("config.json"));
        assertThat(student.lowrank().kappa()).isEqualTo(2.0);
        // The Swin family's omit list: attn.proj stays dense, qkv and the MLP are decomposed.
        assertThat(student.lowrank().ranks()).containsKeys("layers.0.blocks.1.attn.qkv", "layers.1.blocks.0.mlp.fc2")
                .doesNotContainKeys("layers.0.blocks.0.attn.proj", "layers.0.downsample.reduction", "head");
        var runJson = ConfigJson.readObject(run.resolve("run.json"));
        assertThat(runJson.get("fd_points").asText()).isEqualTo("final");
        assertThat(runJson.get("distil").asBoolean()).isTrue();

        Storage storage = new Storage(sc.hadoopConfiguration());
        DataSetup val = DataSetup.forEvaluation(storage, DataSettings.from(recipe(run, List.of())),
                DataSetup.Input.of(student), "val");
        EvaluateJob.Metrics m = EvaluateJob.run(sc, new SwinEvalRef(student, model + "/model.safetensors",
                new SerializableConf(sc.hadoopConfiguration())), val.train(), val.source(), 32, 2);
        assertThat(m.examples()).isEqualTo(128);
        assertThat(m.top5()).isGreaterThanOrEqualTo(m.top1());
        // The distributed count is the single-process one: the same images through the model loaded here.
        ai.pela.spark.train.LoadedBatch all = val.source().load(val.train(), 0);
        var logits = SwinModel.create(student, SwinFiles.readWeights(storage, model + "/model.safetensors", student),
                "student").logits(all.images(), 32);
        long top1 = 0;
        for (int i = 0; i < all.size(); i++) {
            top1 += logits.getRow(i).argMax().getInt(0) == all.labels()[i] ? 1 : 0;
        }
        assertThat(m.top1()).isEqualTo(top1);
    }

    @Test
    void aResumedPretrainEndsWithTheSameParametersAsAnUninterruptedOne() {
        Path whole = dir.resolve("whole");
        List<String> twoEpochs = new ArrayList<>(pretrainSettings());
        twoEpochs.add("train.epochs=2");
        Storage storage = new Storage(sc.hadoopConfiguration());
        TrainState expected = SwinTrainJob.run(sc, SwinTrainJob.prepare(storage, RunConfig.from(recipe(whole, twoEpochs)),
                TrainJob.Mode.PRETRAIN), (m, s) -> { }).state();

        Path broken = dir.resolve("broken");
        Recipe r = recipe(broken, twoEpochs);
        assertThatThrownBy(() -> run(r, true, (m, s) -> {
            if (m.round() == 2) {
                throw new IllegalStateException("driver killed");
            }
        })).hasMessageContaining("driver killed");
        TrainState resumed = SwinTrainJob.run(sc, SwinTrainJob.prepare(storage, RunConfig.from(r),
                TrainJob.Mode.PRETRAIN), (m, s) -> { }).state();
        assertThat(resumed.roundsDone()).isEqualTo(expected.roundsDone()).isEqualTo(4);
        assertThat(resumed.step()).isEqualTo(expected.step());
        assertThat(Fixtures.maxAbsDiff(expected.params(), resumed.params())).isLessThanOrEqualTo(1e-6f);
    }

    /**
     * A budget + activation-aware Swin student (issue 24): calibrated on the training listing, pre-trained, killed
     * after its first round and resumed — the resume recompresses the teacher, so the same images must give the
     * same ranks and shapes — then written with its per-Linear ranks.
     */
    @Test
    void aBudgetActivationAwareSwinStudentPretrainsAndResumes() {
        Path run = dir.resolve("budget");
        List<String> settings = new ArrayList<>(pretrainSettings());
        settings.addAll(List.of("model.rank-policy=budget", "model.param-budget=0.5", "model.svd-init=activation-aware",
                "model.calibration-images=24"));
        Recipe r = recipe(run, settings);
        assertThatThrownBy(() -> run(r, true, (m, s) -> {
            if (m.round() == 0) {
                throw new IllegalStateException("driver killed"); // after round 1's checkpoint
            }
        })).hasMessageContaining("driver killed");
        Storage storage = new Storage(sc.hadoopConfiguration());
        SwinTrainJob.Result resumed = SwinTrainJob.run(sc, SwinTrainJob.prepare(storage, RunConfig.from(r),
                TrainJob.Mode.PRETRAIN), (m, s) -> { });
        assertThat(resumed.state().roundsDone()).isEqualTo(2);
        SwinConfig student = SwinConfigJson.read(Path.of(resumed.modelDir().toUri()).resolve("config.json"));
        assertThat(student.lowrank().ranks()).isEqualTo(resumed.config().lowrank().ranks())
                .containsKey("layers.1.blocks.0.mlp.fc1").doesNotContainKey("layers.0.blocks.0.attn.proj");
        assertThat(new java.util.HashSet<>(student.lowrank().ranks().values())).hasSizeGreaterThan(1);
        assertThat(student.lowrank().kappa()).isGreaterThanOrEqualTo(2.0);
    }

    @Test
    void badSwinSettingsFailBeforeTraining() {
        Path run = dir.resolve("bad");
        List<String> fp16 = new ArrayList<>(pretrainSettings());
        fp16.add("gpu.teacher-precision=fp16");
        assertThatThrownBy(() -> run(recipe(run, fp16), true, (m, s) -> { })).isInstanceOf(PelaException.class)
                .hasMessageContaining("teacher-precision").hasMessageContaining("Swin");
        List<String> points = new ArrayList<>(pretrainSettings());
        points.add("loss.fd-points=everywhere");
        assertThatThrownBy(() -> run(recipe(run, points), true, (m, s) -> { })).isInstanceOf(PelaException.class)
                .hasMessageContaining("loss.fd-points").hasMessageContaining("blocks");
        // ViT-only paths (the demo, dense heads) say what the config is rather than misreading it as a ViT.
        assertThatThrownBy(() -> JobFiles.readConfig(new Storage(sc.hadoopConfiguration()), swin.toString()))
                .isInstanceOf(PelaException.class).hasMessageContaining(swin.toString())
                .hasMessageContaining("a Swin config.json, but this takes a ViT");
    }
}
