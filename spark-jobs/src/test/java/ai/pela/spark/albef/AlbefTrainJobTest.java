package ai.pela.spark.albef;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.config.Recipe;
import ai.pela.spark.demo.ForgedCaptions;
import ai.pela.spark.demo.ForgedFixtures;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.spark.jobs.TrainJob;
import ai.pela.spark.train.RoundMetrics;
import ai.pela.spark.train.TrainState;
import ai.pela.zoo.albef.AlbefConfig;
import ai.pela.zoo.albef.AlbefConfigJson;
import ai.pela.zoo.albef.AlbefPresets;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.testing.Fixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * ALBEF vision-language pre-training through the parameter-averaging trainer, local Spark with 2 workers, on
 * forged captioned Fashion-MNIST scenes: train-teacher makes the teacher (ITC + ITM + MLM), pretrain distils its
 * κ=3 student; both lower their losses, and an interrupted pretrain resumes to the uninterrupted run's weights.
 * Activation-aware SVD (uniform and budget ranks) calibrates on the training pairs and resumes the same way.
 */
class AlbefTrainJobTest {
    @TempDir
    static Path dir;
    static JavaSparkContext sc;
    static ForgedCaptions.Summary data;
    static Path config;
    static AlbefTrainJob.Result teacher;
    static AlbefTrainJob.Result pela;

    @BeforeAll
    static void setUp() throws Exception {
        data = ForgedFixtures.captions(dir.resolve("captions"), 3, 64, 0, 56);
        config = dir.resolve("albef_tiny.json");
        AlbefConfigJson.write(AlbefPresets.get("albef_tiny"), config);
        sc = SparkContexts.create("test", null, 2);
        teacher = AlbefTrainJob.run(sc, recipe(dir.resolve("teacher"), List.of("train.epochs=2", "train.lr=2e-3")),
                TrainJob.Mode.TRAIN_TEACHER);
        pela = AlbefTrainJob.run(sc, recipe(dir.resolve("pela"), pretrain()), TrainJob.Mode.PRETRAIN);
    }

    @AfterAll
    static void tearDown() {
        if (sc != null) {
            sc.close();
        }
    }

    static Recipe recipe(Path runDir, List<String> extra) {
        List<String> o = new ArrayList<>(List.of("run-dir=\"" + runDir + "\"", "model.config=\"" + config + "\"",
                "data.format=albef-pretrain", "data.annotations=[\"" + data.pretrainJson() + "\"]",
                "data.hflip=false", "data.crop-scale=[0.8, 1.0]", "albef.text-tokens=16", "train.workers=2",
                "train.local-steps=2", "train.batch-size=8", "train.warmup-epochs=0", "train.weight-decay=0.02",
                "train.min-lr=1e-4", "checkpoint.every-rounds=1", "seed=5"));
        o.addAll(extra);
        return Recipe.load(null, o);
    }

    private static List<String> pretrain() {
        return List.of("model.config=\"" + teacher.modelDir() + "/config.json\"",
                "model.weights=\"" + teacher.modelDir() + "/model.safetensors\"", "model.kappa=3", "loss.alpha=0.1",
                "loss.beta=1", "train.lr=1e-3", "train.epochs=1");
    }

    @Test
    void teacherTrainingAndPelaPretrainingLowerTheirLosses() throws Exception {
        List<RoundMetrics> t = teacher.rounds();
        assertThat(t).hasSize(4); // 64 / (2 workers x 2 steps x 8 pairs) = 2 rounds per epoch, 2 epochs
        assertThat(last(t).loss()).isLessThan(0.9 * t.get(0).loss());
        assertThat(last(t).components().get("mlm")).isLessThan(t.get(0).components().get("mlm"));
        assertThat(t.get(0).components()).containsOnlyKeys("itc", "itm", "mlm");

        Path run = dir.resolve("pela");
        AlbefTrainJob.Result r = pela;
        List<RoundMetrics> p = r.rounds();
        assertThat(p).hasSize(2);
        assertThat(p.get(0).components()).containsOnlyKeys("itc", "itm", "mlm", "fd", "rwp");
        assertThat(p.get(0).components().get("fd")).isPositive();
        assertThat(last(p).loss()).isLessThan(p.get(0).loss());
        assertThat(r.config().lowrank().kappa()).isEqualTo(3.0);
        // The student starts where the teacher ended: its first losses are near the teacher's last, not at chance.
        assertThat(p.get(0).components().get("mlm")).isLessThan(t.get(0).components().get("mlm"));

        JsonNode line = new ObjectMapper().readTree(Files.readAllLines(run.resolve("metrics.jsonl")).get(0));
        for (String k : List.of("total", "itc", "itm", "mlm", "fd", "rwp")) {
            assertThat(line.path("loss").path(k).isNumber()).as(k).isTrue();
        }
        AlbefConfig written = AlbefFiles.readConfig(new Storage(sc.hadoopConfiguration()), r.modelDir() + "/config.json");
        assertThat(written).isEqualTo(r.config());
        AlbefFiles.readWeights(new Storage(sc.hadoopConfiguration()), r.modelDir() + "/model.safetensors", written);
    }

    @Test
    void anInterruptedPretrainResumesToTheUninterruptedRunsWeights() {
        TrainState expected = pela.state();
        Path broken = dir.resolve("broken");
        Recipe r = recipe(broken, pretrain());
        killAfterTheFirstRound(r);
        AlbefTrainJob.Result resumed = AlbefTrainJob.run(sc, r, TrainJob.Mode.PRETRAIN);
        assertThat(resumed.rounds()).extracting(RoundMetrics::round).containsExactly(0, 1);
        assertThat(resumed.state().roundsDone()).isEqualTo(expected.roundsDone());
        assertThat(resumed.state().step()).isEqualTo(expected.step());
        assertThat(Fixtures.maxAbsDiff(expected.params(), resumed.state().params())).isLessThanOrEqualTo(1e-6f);
    }

    /**
     * Activation-aware SVD on ALBEF: 16 training pairs calibrate the teacher's Linears on the driver; the student
     * has the plain student's ranks but other factors (the image encoder's, the text layers' and the fusion
     * layers'), and it pre-trains.
     */
    @Test
    void anActivationAwareStudentStartsFromOtherFactorsAndPretrains() {
        Storage storage = new Storage(sc.hadoopConfiguration());
        AlbefTrainJob.Prepared plain = AlbefTrainJob.prepare(storage, recipe(dir.resolve("plain-init"), pretrain()),
                TrainJob.Mode.PRETRAIN);
        List<String> settings = new ArrayList<>(pretrain());
        settings.addAll(List.of("model.svd-init=activation-aware", "model.calibration-images=16"));
        AlbefTrainJob.Prepared aware = AlbefTrainJob.prepare(storage, recipe(dir.resolve("aware"), settings),
                TrainJob.Mode.PRETRAIN);
        assertThat(aware.studentConfig()).isEqualTo(plain.studentConfig());
        StateDict a = aware.run().setup().initial();
        StateDict p = plain.run().setup().initial();
        for (String linear : List.of("visual_encoder.blocks.0.attn.qkv", "visual_encoder.blocks.1.mlp.fc2",
                "text_encoder.bert.encoder.layer.0.attention.self.query",
                "text_encoder.bert.encoder.layer.3.crossattention.self.key")) {
            assertThat(a.get(linear + ".0.weight").shape()).isEqualTo(p.get(linear + ".0.weight").shape());
            assertThat(a.get(linear + ".0.weight")).as(linear).isNotEqualTo(p.get(linear + ".0.weight"));
        }
        assertThat(a.get("text_encoder.bert.embeddings.word_embeddings.weight"))
                .isEqualTo(p.get("text_encoder.bert.embeddings.word_embeddings.weight"));

        AlbefTrainJob.Result r = AlbefTrainJob.run(sc, aware, (m, st) -> { });
        assertThat(r.rounds()).hasSize(2);
        assertThat(r.rounds()).allSatisfy(m -> assertThat(m.loss()).isFinite());
        assertThat(AlbefFiles.readConfig(storage, r.modelDir() + "/config.json")).isEqualTo(r.config());
    }

    /**
     * A budget + activation-aware ALBEF student, killed after its first round and resumed: the resume calibrates
     * and compresses the teacher again, so the same pairs must give the same ranks and factors, and the run ends
     * where the uninterrupted one does.
     */
    @Test
    void aBudgetActivationAwarePretrainResumesToTheUninterruptedRunsWeights() {
        List<String> settings = new ArrayList<>(pretrain());
        settings.addAll(List.of("model.rank-policy=budget", "model.param-budget=0.4", "model.svd-init=activation-aware",
                "model.calibration-images=16"));
        AlbefTrainJob.Result whole = AlbefTrainJob.run(sc, recipe(dir.resolve("budget-aware"), settings),
                TrainJob.Mode.PRETRAIN);
        assertThat(new java.util.HashSet<>(whole.config().lowrank().ranks().values())).hasSizeGreaterThan(1);
        assertThat(whole.config().lowrank().kappa()).isGreaterThanOrEqualTo(1 / 0.4);

        Recipe r = recipe(dir.resolve("budget-aware-broken"), settings);
        killAfterTheFirstRound(r);
        AlbefTrainJob.Result resumed = AlbefTrainJob.run(sc, r, TrainJob.Mode.PRETRAIN);
        assertThat(resumed.config()).isEqualTo(whole.config());
        assertThat(resumed.state().roundsDone()).isEqualTo(whole.state().roundsDone());
        assertThat(Fixtures.maxAbsDiff(whole.state().params(), resumed.state().params())).isLessThanOrEqualTo(1e-6f);
    }

    /** Runs {@code r} until the driver is killed after round 1's checkpoint. */
    private static void killAfterTheFirstRound(Recipe r) {
        Storage storage = new Storage(sc.hadoopConfiguration());
        assertThatThrownBy(() -> AlbefTrainJob.run(sc, AlbefTrainJob.prepare(storage, r, TrainJob.Mode.PRETRAIN),
                (m, st) -> {
                    if (m.round() == 0) {
                        throw new IllegalStateException("driver killed");
                    }
                })).hasMessageContaining("driver killed");
    }

    /** The ALBEF graph is FP32 only: an FP16 teacher request fails before any data is read, not silently ignored. */
    @Test
    void anFp16TeacherRequestIsRefusedNamingTheKey() {
        Recipe r = recipe(dir.resolve("fp16"), List.of("model.weights=\"" + teacher.modelDir() + "/model.safetensors\"",
                "model.kappa=3", "gpu.teacher-precision=fp16"));
        assertThatThrownBy(() -> AlbefTrainJob.prepare(new Storage(sc.hadoopConfiguration()), r, TrainJob.Mode.PRETRAIN))
                .isInstanceOf(ai.pela.zoo.PelaException.class).hasMessageContaining("pela.gpu.teacher-precision")
                .hasMessageContaining("FP32 only");
    }

    private static RoundMetrics last(List<RoundMetrics> m) {
        return m.get(m.size() - 1);
    }
}
