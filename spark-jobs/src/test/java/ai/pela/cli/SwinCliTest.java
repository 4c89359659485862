package ai.pela.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.cli.PelaCliTest.Run;
import ai.pela.zoo.io.Npy;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinConfigJson;
import ai.pela.zoo.testing.Fixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** model-info, compress and predict on Swin models: the family is told by the config, the layout by the weights. */
class SwinCliTest {
    private static final Path CONFIG = Fixtures.path("swin_io/config.json");
    private static final Path OFFICIAL = Fixtures.path("swin_io/official.safetensors");
    private static final Path TIMM = Fixtures.path("swin_io/timm.safetensors");

    @Test
    void modelInfoOfSwinBaseIsTable1s() throws Exception {
        Run r = PelaCliTest.run("model-info", "--preset", "swin_base_patch4_window7_224", "--kappa", "1.5", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.at("/teacher/params").asLong()).isEqualTo(87_768_224L);
        assertThat(j.at("/student/params").asLong()).isEqualTo(62_164_128L);
        assertThat(j.at("/teacher/gflops_linear").asDouble()).isBetween(30.2, 30.3);
        // patch embedding, 24 blocks x (4 Linears + window attention), 3 patch mergings, head
        assertThat(j.get("layers").size()).isEqualTo(1 + 24 * 5 + 3 + 1);
        Run t = PelaCliTest.run("model-info", "--config", CONFIG.toString());
        assertThat(t.exit()).as(t.err()).isZero();
        assertThat(t.out()).contains("layers.0.blocks.1.attn.matmul").contains("layers.0.downsample.reduction");
    }

    @Test
    void compressAndPredictTakeBothLayoutsAndTheSwinOmitList(@TempDir Path dir) throws Exception {
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 3, 16, 16);
        Path input = dir.resolve("x.npy");
        Npy.write(x, input);
        Run official = PelaCliTest.run("predict", "--config", CONFIG.toString(), "--weights", OFFICIAL.toString(),
                "--input", input.toString(), "--output", dir.resolve("official.npy").toString());
        assertThat(official.exit()).as(official.err()).isZero();
        Run timm = PelaCliTest.run("predict", "--config", CONFIG.toString(), "--weights", TIMM.toString(),
                "--input", input.toString(), "--output", dir.resolve("timm.npy").toString(), "--batch-size", "2");
        assertThat(timm.exit()).as(timm.err()).isZero();
        INDArray a = Npy.read(dir.resolve("official.npy"));
        assertThat(a.shape()).containsExactly(3, 5);
        assertThat(Fixtures.maxAbsDiff(a, Npy.read(dir.resolve("timm.npy")))).isLessThan(1e-6);

        Run c = PelaCliTest.run("compress", "--config", CONFIG.toString(), "--weights", TIMM.toString(), "--kappa", "2",
                "--out", dir.resolve("student").toString());
        assertThat(c.exit()).as(c.err()).isZero();
        SwinConfig s = SwinConfigJson.read(dir.resolve("student/config.json"));
        assertThat(s.lowrank().ranks()).containsKey("layers.0.blocks.0.attn.qkv")
                .doesNotContainKeys("layers.0.blocks.0.attn.proj", "layers.0.downsample.reduction", "head");
        Run p = PelaCliTest.run("predict", "--config", dir.resolve("student/config.json").toString(), "--weights",
                dir.resolve("student/model.safetensors").toString(), "--input", input.toString(), "--output",
                dir.resolve("s.npy").toString());
        assertThat(p.exit()).as(p.err()).isZero();
        assertThat(Npy.read(dir.resolve("s.npy")).shape()).containsExactly(3, 5);

        Run all = PelaCliTest.run("compress", "--config", CONFIG.toString(), "--weights", OFFICIAL.toString(), "--kappa",
                "2", "--omit", "norm,head", "--out", dir.resolve("all").toString());
        assertThat(all.exit()).as(all.err()).isZero();
        // --omit replaces the family's list (stage 0's attn.proj stays dense anyway: d_out 8 < 10)
        assertThat(Files.readString(dir.resolve("all/config.json"))).contains("\"layers.1.blocks.0.attn.proj\"")
                .contains("\"layers.0.downsample.reduction\"");
    }

    /**
     * Issue 24's options on a Swin: a parameter budget spread by the spectra (plain, then activation-aware on a
     * calibration folder), the same ranks in model-info, and a student that predicts.
     */
    @Test
    void compressAndModelInfoTakeABudgetAndActivationAwareSvd(@TempDir Path dir) throws Exception {
        String cfg = CONFIG.toString();
        String w = TIMM.toString();
        Run c = PelaCliTest.run("compress", "--config", cfg, "--weights", w, "--rank-policy", "budget", "--param-budget",
                "0.5", "--out", dir.resolve("budget").toString());
        assertThat(c.exit()).as(c.err()).isZero();
        assertThat(c.out()).contains("budget ranks, plain SVD");
        SwinConfig budget = SwinConfigJson.read(dir.resolve("budget/config.json"));
        assertThat(budget.lowrank().ranks()).containsKey("layers.1.blocks.0.mlp.fc1")
                .doesNotContainKeys("layers.1.blocks.0.attn.proj", "layers.0.downsample.reduction", "head");
        assertThat(new java.util.HashSet<>(budget.lowrank().ranks().values())).as("per-Linear ranks").hasSizeGreaterThan(1);
        long dense = 0;
        long factors = 0;
        for (var l : ai.pela.zoo.swin.SwinLayout.linears(SwinConfigJson.read(CONFIG))) {
            Integer r = budget.lowrank().ranks().get(l.name());
            if (r != null) {
                dense += (long) l.dIn() * l.dOut();
                factors += (long) r * (l.dIn() + l.dOut());
            }
        }
        assertThat(factors).isPositive().isLessThanOrEqualTo(dense / 2);

        Run info = PelaCliTest.run("model-info", "--config", cfg, "--weights", w, "--rank-policy", "budget",
                "--param-budget", "0.5", "--json");
        assertThat(info.exit()).as(info.err()).isZero();
        int shown = 0;
        for (JsonNode l : new ObjectMapper().readTree(info.out()).get("layers")) {
            if (l.has("rank")) {
                assertThat(l.get("rank").asInt()).as(l.get("name").asText())
                        .isEqualTo(budget.lowrank().ranks().get(l.get("name").asText()));
                shown++;
            }
        }
        assertThat(shown).isEqualTo(budget.lowrank().ranks().size());

        Path calibration = PelaCliTest.randomImages(dir.resolve("images/train"));
        Run aware = PelaCliTest.run("compress", "--config", cfg, "--weights", w, "--rank-policy", "budget",
                "--param-budget", "0.5", "--svd-init", "activation-aware", "--calibration", calibration.toString(),
                "--calibration-images", "6", "--out", dir.resolve("aware").toString());
        assertThat(aware.exit()).as(aware.err()).isZero();
        assertThat(aware.out()).contains("budget ranks, activation-aware SVD");
        assertThat(Files.readAllBytes(dir.resolve("aware/model.safetensors")))
                .isNotEqualTo(Files.readAllBytes(dir.resolve("budget/model.safetensors")));
        Path input = dir.resolve("x.npy");
        Npy.write(Nd4j.randn(DataType.FLOAT, 2, 3, 16, 16), input);
        Run p = PelaCliTest.run("predict", "--config", dir.resolve("aware/config.json").toString(), "--weights",
                dir.resolve("aware/model.safetensors").toString(), "--input", input.toString(), "--output",
                dir.resolve("y.npy").toString());
        assertThat(p.exit()).as(p.err()).isZero();
        assertThat(Npy.read(dir.resolve("y.npy")).shape()).containsExactly(2, 5);
    }

    @Test
    void aCheckpointForAnotherWindowFailsWithOneLineNamingTheBuffer(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, Files.readString(CONFIG).replace("\"window_size\": 4", "\"window_size\": 2"));
        Run r = PelaCliTest.run("compress", "--config", cfg.toString(), "--weights", OFFICIAL.toString(), "--kappa", "2",
                "--out", dir.resolve("s").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("layers.0.blocks.0.attn.relative_position_index").contains("[16, 16]")
                .contains("[4, 4]").hasLineCount(1);
    }
}
