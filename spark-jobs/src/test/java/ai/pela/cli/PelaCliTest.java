package ai.pela.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.io.Npy;
import ai.pela.zoo.testing.Fixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command-line contract: outputs, and one clear stderr line with a non-zero exit for every failure. */
class PelaCliTest {
    record Run(int exit, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = PelaCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void modelInfoJsonGivesThePapersFigures() throws Exception {
        Run r = run("model-info", "--preset", "deit_base_patch16_224", "--kappa", "2", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.at("/teacher/params").asLong()).isBetween(86_150_000L, 87_050_000L);
        assertThat(j.at("/student/params").asLong()).isBetween(43_880_000L, 44_320_000L);
        assertThat(j.at("/student/gflops_linear").asDouble()).isBetween(16.9, 17.1);
        assertThat(j.get("layers").size()).isEqualTo(1 + 12 * 5 + 1);
    }

    @Test
    void modelInfoForAlbefCountsTheReleasedModelAndItsKappa3Student() throws Exception {
        Run r = run("model-info", "--preset", "albef_base", "--kappa", "3", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.at("/teacher/params").asLong()).isEqualTo(209_891_645L);
        assertThat(j.at("/student/params").asLong()).isEqualTo(87_060_797L);
        assertThat(j.at("/student/gflops").asDouble()).isLessThan(j.at("/teacher/gflops").asDouble() / 2);

        Run t = run("model-info", "--config", Fixtures.path("albef/student_config.json").toString());
        assertThat(t.exit()).as(t.err()).isZero();
        assertThat(t.out()).contains("text_encoder.bert.encoder.layer.3.crossattention.self.key").contains("lowrank");
    }

    @Test
    void modelInfoTableWithoutKappaHasNoStudent() {
        Run r = run("model-info", "--preset", "deit_tiny_patch16_224");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("blocks.11.mlp.fc2").contains("teacher: 5.72 M params").doesNotContain("student:");
    }

    @Test
    void compressThenPredictReproducesPyTorchsStudent(@TempDir Path dir) throws Exception {
        Path cfg = Fixtures.path("vit_token/config.json");
        Path weights = Fixtures.path("vit_token/model.safetensors");
        Path input = Fixtures.path("vit_token/input.npy");
        Run c = run("compress", "--config", cfg.toString(), "--weights", weights.toString(), "--kappa", "2",
                "--out", dir.resolve("student").toString());
        assertThat(c.exit()).as(c.err()).isZero();
        assertThat(Files.readString(dir.resolve("student/config.json"))).contains("\"lowrank\"").contains("\"blocks.0.attn.qkv\" : 18");

        Run p = run("predict", "--config", dir.resolve("student/config.json").toString(), "--weights",
                dir.resolve("student/model.safetensors").toString(), "--input", input.toString(), "--output",
                dir.resolve("y.npy").toString());
        assertThat(p.exit()).as(p.err()).isZero();
        assertThat(Fixtures.relativeError(Npy.read(dir.resolve("y.npy")), Fixtures.npy("vit_token_lowrank_k2/logits.npy")))
                .isLessThan(1e-3);

        Run t = run("predict", "--config", cfg.toString(), "--weights", weights.toString(), "--input", input.toString(),
                "--output", dir.resolve("t.npy").toString(), "--batch-size", "3");
        assertThat(t.exit()).as(t.err()).isZero();
        assertThat(Fixtures.relativeError(Npy.read(dir.resolve("t.npy")), Fixtures.npy("vit_token/logits.npy")))
                .isLessThan(1e-4);
    }

    @Test
    void compressAndModelInfoUnderABudgetGivePerLinearRanks(@TempDir Path dir) throws Exception {
        String cfg = Fixtures.path("vit_token/config.json").toString();
        String w = Fixtures.path("vit_token/model.safetensors").toString();
        Run c = run("compress", "--config", cfg, "--weights", w, "--rank-policy", "budget", "--param-budget", "0.5",
                "--out", dir.resolve("budget").toString());
        assertThat(c.exit()).as(c.err()).isZero();
        assertThat(c.out()).contains("budget ranks, plain SVD");
        JsonNode ranks = new ObjectMapper().readTree(dir.resolve("budget/config.json").toFile()).at("/lowrank/ranks");
        assertThat(ranks.size()).isEqualTo(8);

        Run info = run("model-info", "--config", cfg, "--weights", w, "--rank-policy", "budget", "--param-budget", "0.5",
                "--json");
        assertThat(info.exit()).as(info.err()).isZero();
        java.util.Set<Integer> distinct = new java.util.HashSet<>();
        for (JsonNode l : new ObjectMapper().readTree(info.out()).get("layers")) {
            if (l.has("rank")) {
                assertThat(l.get("rank").asInt()).as(l.get("name").asText()).isEqualTo(ranks.get(l.get("name").asText()).asInt());
                distinct.add(l.get("rank").asInt());
            }
        }
        assertThat(distinct).as("per-Linear ranks").hasSizeGreaterThan(1);

        Path calibration = randomImages(dir.resolve("images/train"));
        Run aware = run("compress", "--config", cfg, "--weights", w, "--rank-policy", "budget", "--param-budget", "0.5",
                "--svd-init", "activation-aware", "--calibration", calibration.toString(), "--calibration-images", "6",
                "--out", dir.resolve("aware").toString());
        assertThat(aware.exit()).as(aware.err()).isZero();
        assertThat(aware.out()).contains("activation-aware SVD");
        Run p = run("predict", "--config", dir.resolve("aware/config.json").toString(), "--weights",
                dir.resolve("aware/model.safetensors").toString(), "--input", Fixtures.path("vit_token/input.npy").toString(),
                "--output", dir.resolve("y.npy").toString());
        assertThat(p.exit()).as(p.err()).isZero();
    }

    @Test
    void surgeryOptionsThatDoNotFitFailWithOneLine() {
        String cfg = Fixtures.path("vit_token/config.json").toString();
        String w = Fixtures.path("vit_token/model.safetensors").toString();
        Run r = run("compress", "--config", cfg, "--weights", w, "--out", "x");
        assertThat(r.err()).contains("--kappa is required with --rank-policy uniform").hasLineCount(1);
        r = run("compress", "--config", cfg, "--weights", w, "--rank-policy", "budget", "--out", "x");
        assertThat(r.err()).contains("--param-budget is required").hasLineCount(1);
        r = run("compress", "--config", cfg, "--weights", w, "--kappa", "2", "--svd-init", "activation-aware", "--out", "x");
        assertThat(r.err()).contains("needs --calibration").hasLineCount(1);
        r = run("model-info", "--config", cfg, "--rank-policy", "budget", "--param-budget", "0.5");
        assertThat(r.exit()).isEqualTo(PelaCli.EXIT_USER_ERROR);
        assertThat(r.err()).contains("give --weights").hasLineCount(1);
        r = run("compress", "--config", cfg, "--weights", w, "--kappa", "2", "--svd-init", "activation_awre", "--out", "x");
        assertThat(r.exit()).isEqualTo(PelaCli.EXIT_USER_ERROR);
        assertThat(r.err()).contains("--svd-init").contains("expected one of [plain, activation-aware], got 'activation_awre'")
                .hasLineCount(1);
    }

    /** Two class folders of three random 28×28 RGB PNGs each. */
    static Path randomImages(Path split) throws java.io.IOException {
        java.util.Random rng = new java.util.Random(24);
        for (String c : new String[] {"a", "b"}) {
            Path d = Files.createDirectories(split.resolve(c));
            for (int i = 0; i < 3; i++) {
                java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(28, 28,
                        java.awt.image.BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 28; y++) {
                    for (int x = 0; x < 28; x++) {
                        img.setRGB(x, y, rng.nextInt(1 << 24));
                    }
                }
                javax.imageio.ImageIO.write(img, "png", d.resolve(i + ".png").toFile());
            }
        }
        return split;
    }

    @Test
    void badKappaFailsWithOneLine(@TempDir Path dir) {
        String cfg = Fixtures.path("vit_token/config.json").toString();
        String w = Fixtures.path("vit_token/model.safetensors").toString();
        for (String k : new String[] {"0", "-1.5"}) {
            Run r = run("compress", "--config", cfg, "--weights", w, "--kappa", k, "--out", dir.toString());
            assertThat(r.exit()).isEqualTo(PelaCli.EXIT_USER_ERROR);
            assertThat(r.err()).contains("kappa must be a positive number").hasLineCount(1);
        }
        Run r = run("model-info", "--preset", "deit_tiny_patch16_224", "--kappa", "two");
        assertThat(r.exit()).isEqualTo(PelaCli.EXIT_USER_ERROR);
        assertThat(r.err()).contains("'--kappa'").contains("'two'").hasLineCount(1);
    }

    @Test
    void unknownPresetMissingFilesAndDamagedCheckpointsFailNamingTheProblem(@TempDir Path dir) throws Exception {
        Run r = run("model-info", "--preset", "vit_giant");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("unknown preset 'vit_giant'").hasLineCount(1);

        String cfg = Fixtures.path("vit_token/config.json").toString();
        r = run("predict", "--config", cfg, "--weights", dir.resolve("nope.safetensors").toString(),
                "--input", "x.npy", "--output", "y.npy");
        assertThat(r.err()).contains("nope.safetensors").contains("does not exist").hasLineCount(1);

        byte[] good = Files.readAllBytes(Fixtures.path("vit_token/model.safetensors"));
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(good, good.length - 1000));
        r = run("compress", "--config", cfg, "--weights", cut.toString(), "--kappa", "2", "--out", dir.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("cut.safetensors").contains("truncated").hasLineCount(1);

        // A student checkpoint with the teacher's config: keys do not match.
        Run c = run("predict", "--config", cfg, "--weights", Fixtures.path("vit_token_lowrank_k2/model.safetensors").toString(),
                "--input", Fixtures.path("vit_token/input.npy").toString(), "--output", dir.resolve("y.npy").toString());
        assertThat(c.exit()).isEqualTo(2);
        assertThat(c.err()).contains("missing keys [blocks.0.attn.qkv.weight").contains("unexpected keys [blocks.0.attn.qkv.0.weight")
                .hasLineCount(1);
    }

    @Test
    void wrongInputShapeIsNamed(@TempDir Path dir) {
        Path x = dir.resolve("x.npy");
        Npy.write(org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 3, 28, 28), x);
        Run r = run("predict", "--config", Fixtures.path("vit_token/config.json").toString(), "--weights",
                Fixtures.path("vit_token/model.safetensors").toString(), "--input", x.toString(), "--output",
                dir.resolve("y.npy").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("x.npy").contains("[2, 3, 28, 28]").contains("[N, 3, 32, 32]");
    }

    @Test
    void jobConfigurationErrorsExitWithOneLine() {
        Run r = run("pretrain", "--set", "train.epoch=3");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("unknown configuration key").contains("pela.train.epoch").hasLineCount(1);
        r = run("train-teacher", "--recipe", "/nonexistent/recipe.conf");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("/nonexistent/recipe.conf").contains("does not exist").hasLineCount(1);
        r = run("evaluate", "--set", "data.on-bad-image=ignore", "--set", "model.config=\"" + Fixtures.path("vit_token/config.json") + "\"");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).hasLineCount(1);
    }

    @Test
    void executorSideInputErrorsAreUnwrappedFromSparkExceptions() {
        Exception wrapped = new org.apache.spark.SparkException("Job aborted due to stage failure: Task 1 in stage 3.0"
                + " failed 2 times, most recent failure: Lost task 1.1 (TID 9) (127.0.0.1 executor driver): "
                + "ai.pela.zoo.PelaException: /data/train/c/x.jpg: corrupt image (Unsupported Image Type)\n"
                + "\tat ai.pela.spark.data.BatchLoader.assemble(BatchLoader.java:120)");
        assertThat(PelaCli.userError(wrapped)).isEqualTo("/data/train/c/x.jpg: corrupt image (Unsupported Image Type)");
        assertThat(PelaCli.userError(new RuntimeException("x", new ai.pela.zoo.PelaException("inner")))).isEqualTo("inner");
        assertThat(PelaCli.userError(new IllegalStateException("bug"))).isNull();
    }

    @Test
    void benchStepRunsAndPrintsARow() {
        Run r = run("bench-step", "--config", Fixtures.path("vit_token/config.json").toString(), "--batch", "4",
                "--steps", "1", "--warmup", "0");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("images/s").contains("GFLOP/s");
    }
}
