package ai.pela.spark.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import ai.pela.spark.config.LossSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.FashionFolders;
import ai.pela.spark.jobs.JobFiles;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.spark.report.AblationRow;
import ai.pela.spark.report.ModelRow;
import ai.pela.spark.report.SweepPoint;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.loss.RwpForm;
import ai.pela.zoo.vit.VitInit;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's wiring on a tiny ViT and 256 real Fashion-MNIST items, with the real demo recipe (conf/demo.conf) cut
 * to 3 rounds: the default rows, Table 7's ablation and a κ sweep, their summary.json and report.
 */
class DemoRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static JavaSparkContext sc;
    static Path teacherDir;
    static Path out;
    static DemoRun.Outcome outcome;

    @BeforeAll
    static void runDemoWithAblationAndSweep() throws IOException {
        Path data = FashionFolders.write(dir.resolve("fmnist"), 192);
        teacherDir = randomTeacher(dir.resolve("teacher"));
        out = dir.resolve("out");
        sc = SparkContexts.create("test", null, 2);
        outcome = DemoRun.run(sc, recipe(data), teacherDir, out, new DemoRun.Options(true, List.of(2.0, 3.0)));
    }

    @AfterAll
    static void tearDown() {
        if (sc != null) {
            sc.close();
        }
    }

    /** A tiny ViT with random weights is teacher enough for the wiring (the demo's teacher is trained). */
    private static Path randomTeacher(Path teacher) throws IOException {
        Files.createDirectories(teacher);
        ModelConfig config = ConfigJson.read(FashionFolders.tinyVitConfig(teacher));
        JobFiles.writeModel(Storage.local(), Storage.path(teacher.toString()), config, VitInit.random(config, 5));
        return teacher;
    }

    /** conf/demo.conf as the demo loads it, with the teacher, the data, kappa 2 (the sweep's first) and a short schedule. */
    private static Recipe recipe(Path data) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("data.root", data.toString());
        settings.put("model.config", teacherDir.resolve("config.json").toString());
        settings.put("model.weights", teacherDir.resolve("model.safetensors").toString());
        settings.put("run-dir", out.resolve("pela").toString());
        return Recipe.load(new File("../conf/demo.conf"), settings, List.of("model.kappa=2", "train.batch-size=16",
                "train.local-steps=2", "train.epochs=1", "eval.batch-size=32", "checkpoint.every-rounds=2"));
    }

    @Test
    void ablationHasTable7sRowsAndReusesTheDemosTeacherNaiveAndPelaRows() {
        List<AblationRow> a = outcome.ablation();
        assertThat(a).extracting(AblationRow::label).containsExactly("teacher", "naive low-rank (SVD only)",
                "naive + CE fine-tuning", "PELA, L_fd only (beta = 0)", "PELA, L_rwp only (alpha = 0)",
                "PELA (L_fd + L_rwp)");
        assertThat(a).extracting(AblationRow::fd).containsExactly(null, null, false, true, false, true);
        assertThat(a).extracting(AblationRow::rwp).containsExactly(null, null, false, false, true, true);
        List<ModelRow> rows = outcome.rows();
        assertThat(a.get(0).model()).isEqualTo(rows.get(0));
        assertThat(a.get(1).model()).isEqualTo(rows.get(1));
        assertThat(a.get(5).model()).isEqualTo(rows.get(2));
        for (AblationRow r : a.subList(1, 6)) {
            assertThat(r.model().params()).as(r.label()).isEqualTo(rows.get(2).params()).isLessThan(rows.get(0).params());
        }
    }

    @Test
    void eachAblatedStudentTrainsUnderItsLossesWithTheSameDataRoundsAndSeed() throws IOException {
        List<JsonNode> ce = rounds(out.resolve("ablation/ce-only"));
        List<JsonNode> fd = rounds(out.resolve("ablation/fd-only"));
        List<JsonNode> rwp = rounds(out.resolve("ablation/rwp-only"));
        List<JsonNode> full = rounds(out.resolve("pela"));
        assertThat(full).hasSize(3); // 192 images / (2 workers x 2 steps x 16) = 3 rounds, one epoch
        for (List<JsonNode> run : List.of(ce, fd, rwp)) {
            assertThat(run).hasSameSizeAs(full);
            for (int i = 0; i < run.size(); i++) {
                assertThat(run.get(i).get("examples").asLong()).isEqualTo(full.get(i).get("examples").asLong());
            }
        }
        // The resolved recipes differ in the losses alone: same seed, data, schedule and kappa.
        RunConfig pela = RunConfig.from(Recipe.load(out.resolve("pela/config.conf").toFile(), List.of()));
        for (String run : List.of("ce-only", "fd-only", "rwp-only")) {
            RunConfig r = RunConfig.from(Recipe.load(out.resolve("ablation").resolve(run).resolve("config.conf").toFile(),
                    List.of()));
            assertThat(List.of(r.seed(), r.model(), r.data(), r.train(), r.checkpoint())).as(run)
                    .isEqualTo(List.of(pela.seed(), pela.model(), pela.data(), pela.train(), pela.checkpoint()));
            assertThat(r.loss().rwpEps()).isEqualTo(pela.loss().rwpEps());
        }
        for (int i = 0; i < ce.size(); i++) {
            // CE only: no teacher on the executors, so no feature distillation is even computed.
            assertThat(loss(ce.get(i), "fd")).isZero();
            assertThat(loss(ce.get(i), "total")).isCloseTo(loss(ce.get(i), "base"), offset(1e-6));
            // L_fd only (alpha 1, beta 0): the teacher's features enter, the weight perturbation does not.
            assertThat(loss(fd.get(i), "fd")).isPositive();
            assertThat(loss(fd.get(i), "total")).isCloseTo(loss(fd.get(i), "base") + loss(fd.get(i), "fd"),
                    offset(1e-5));
            // L_rwp only (alpha 0, beta 1): the teacher still runs (its features are reported), but only rwp counts.
            assertThat(loss(rwp.get(i), "total")).isCloseTo(loss(rwp.get(i), "base") + loss(rwp.get(i), "rwp"),
                    offset(1e-5));
            assertThat(loss(rwp.get(i), "total")).isLessThan(loss(rwp.get(i), "base") + loss(rwp.get(i), "fd"));
        }
    }

    @Test
    void sweepReusesTheDemosKappaAndTrainsTheOthers() {
        List<SweepPoint> s = outcome.sweep();
        assertThat(s).extracting(SweepPoint::kappa).containsExactly(2.0, 3.0);
        assertThat(s.get(0).naive()).isEqualTo(outcome.rows().get(1));
        assertThat(s.get(0).pela()).isEqualTo(outcome.rows().get(2));
        assertThat(s.get(1).naive().params()).isEqualTo(s.get(1).pela().params()).isLessThan(s.get(0).pela().params());
        assertThat(out.resolve("sweep/kappa-3/pela/model/model.safetensors")).isRegularFile();
        assertThat(out.resolve("sweep/kappa-3/naive/model.safetensors")).isRegularFile();
    }

    @Test
    void summaryAndReportHoldTheAblationAndTheSweep() throws IOException {
        JsonNode summary = JSON.readTree(outcome.summary().toFile());
        assertThat(summary.get("ablation")).hasSize(6);
        JsonNode ce = summary.get("ablation").get(2);
        assertThat(ce.get("model").asText()).isEqualTo("naive + CE fine-tuning");
        assertThat(ce.get("l_fd").asBoolean(true)).isFalse();
        assertThat(ce.get("top1").asDouble()).isEqualTo(outcome.ablation().get(2).model().top1());
        assertThat(summary.get("ablation").get(0).get("l_fd").isNull()).isTrue();
        assertThat(summary.get("kappa_sweep")).hasSize(2);
        assertThat(summary.get("kappa_sweep").get(1).get("kappa").asDouble()).isEqualTo(3.0);
        assertThat(summary.get("kappa_sweep").get(1).get("pela").get("params").asLong())
                .isEqualTo(outcome.sweep().get(1).pela().params());

        String html = Files.readString(outcome.report());
        assertThat(html).contains("Table 7 ablation").contains("naive + CE fine-tuning").contains("\u2713")
                .contains("\u00d7").contains("Compression ratio sweep").contains("src=\"ablation.png\"")
                .contains("src=\"kappa-sweep.png\"");
        assertThat(out.resolve("ablation.png")).isNotEmptyFile();
        assertThat(out.resolve("kappa-sweep.png")).isNotEmptyFile();
        assertThat(outcome.seconds()).containsOnlyKeys("demo", "ablation", "sweep");
    }

    @Test
    void ablationNeedsBothLossesAndSweepRejectsBadKappas() {
        assertThatThrownBy(() -> DemoRun.checkAblationLosses(new LossSettings(1, 0,
                FdForm.CODE, RwpForm.CODE, 1e-3, FdPoints.BLOCKS)))
                .isInstanceOf(PelaException.class).hasMessageContaining("loss.beta > 0");
        assertThatThrownBy(() -> new DemoRun.Options(false, List.of(2.0, 0.0)))
                .isInstanceOf(PelaException.class).hasMessageContaining("--sweep").hasMessageContaining("got 0");
        assertThatThrownBy(() -> new DemoRun.Options(false, List.of(3.0, 3.0)))
                .isInstanceOf(PelaException.class).hasMessageContaining("given twice");
        // κ sets the ranks under the uniform policy only: a sweep of a budget recipe would repeat one student.
        assertThatThrownBy(() -> DemoRun.checkSweepRanks(ai.pela.spark.config.ModelSettings.from(Recipe.load(null,
                List.of("model.rank-policy=budget", "model.param-budget=0.3")))))
                .isInstanceOf(PelaException.class).hasMessageContaining("--sweep").hasMessageContaining("budget");
        DemoRun.checkSweepRanks(ai.pela.spark.config.ModelSettings.from(Recipe.load(null, List.of("model.kappa=4"))));
    }

    private static List<JsonNode> rounds(Path runDir) throws IOException {
        List<JsonNode> rounds = new ArrayList<>();
        for (String line : Files.readAllLines(runDir.resolve("metrics.jsonl"))) {
            rounds.add(JSON.readTree(line));
        }
        return rounds;
    }

    private static double loss(JsonNode round, String component) {
        return round.get("loss").get(component).asDouble();
    }
}
