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
        Storage storage = new Storage(sc.hadoopConfiguration());
        assertThatThrownBy(() -> AlbefTrainJob.run(sc, AlbefTrainJob.prepare(storage, r, TrainJob.Mode.PRETRAIN),
                (m, st) -> {
                    if (m.round() == 0) {
                        throw new IllegalStateException("driver killed"); // after round 1's checkpoint
                    }
                })).hasMessageContaining("driver killed");
        AlbefTrainJob.Result resumed = AlbefTrainJob.run(sc, r, TrainJob.Mode.PRETRAIN);
        assertThat(resumed.rounds()).extracting(RoundMetrics::round).containsExactly(0, 1);
        assertThat(resumed.state().roundsDone()).isEqualTo(expected.roundsDone());
        assertThat(resumed.state().step()).isEqualTo(expected.step());
        float maxDiff = 0;
        for (int i = 0; i < expected.params().length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(expected.params()[i] - resumed.state().params()[i]));
        }
        assertThat(maxDiff).isLessThanOrEqualTo(1e-6f);
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
