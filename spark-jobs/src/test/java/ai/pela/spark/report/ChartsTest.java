package ai.pela.spark.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.train.RoundMetrics;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.lowrank.LowRank;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartsTest {
    @TempDir
    Path tmp;

    @Test
    void lossChartIsADecodablePng() throws IOException {
        Path png = Charts.losses(ReportFixtures.rounds(true), tmp.resolve("loss.png"));
        assertDecodable(png, Charts.WIDTH, Charts.HEIGHT);
    }

    @Test
    void lossChartSkipsAbsentComponentsAndToleratesOneRound() throws IOException {
        assertDecodable(Charts.losses(ReportFixtures.rounds(false), tmp.resolve("no-rwp.png")), Charts.WIDTH, Charts.HEIGHT);
        List<RoundMetrics> one = ReportFixtures.rounds(false).subList(0, 1);
        assertDecodable(Charts.losses(one, tmp.resolve("one.png")), Charts.WIDTH, Charts.HEIGHT);
    }

    @Test
    void lossChartWithoutAnyFiniteLossFails() {
        RoundMetrics nan = new RoundMetrics(1, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, 0, 0, 0, 0, 0, 0);
        assertThatThrownBy(() -> Charts.losses(List.of(nan), tmp.resolve("x.png")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x.png").hasMessageContaining("no finite loss");
    }

    @Test
    void accuracyChartIsADecodablePng() throws IOException {
        Path png = Charts.accuracy(ReportFixtures.rows(), tmp.resolve("accuracy.png"));
        assertDecodable(png, Charts.WIDTH, Charts.HEIGHT);
    }

    @Test
    void accuracyChartNeedsAMeasuredRow() {
        List<ModelRow> rows = List.of(new ModelRow("teacher", Double.NaN, Double.NaN, 1, 1, 1));
        assertThatThrownBy(() -> Charts.accuracy(rows, tmp.resolve("a.png")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("top-1");
    }

    @Test
    void accuracyChartTurnsOnlyNamesThatWouldOverlap() throws IOException {
        assertThat(Charts.labelsOverlap(List.of("teacher", "naive_lowrank", "pela"))).isFalse();
        List<ModelRow> ablation = ReportFixtures.ablation().stream().map(AblationRow::model).toList();
        List<String> labels = ReportFixtures.ablation().stream().map(AblationRow::label).toList();
        assertThat(Charts.labelsOverlap(labels)).isTrue();
        assertDecodable(Charts.accuracy(ablation, "Table 7", tmp.resolve("ablation.png")), Charts.WIDTH, Charts.HEIGHT);
    }

    @Test
    void kappaSweepChartIsADecodablePngAndNeedsPoints() throws IOException {
        Path png = Charts.kappaSweep(ReportFixtures.sweep(), ReportFixtures.rows().get(0), tmp.resolve("sweep.png"));
        assertDecodable(png, Charts.WIDTH, Charts.HEIGHT);
        assertThatThrownBy(() -> Charts.kappaSweep(List.of(), null, tmp.resolve("none.png")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("none.png").hasMessageContaining("no point");
    }

    @Test
    void rankChartWithFullRanksWidensForManyLayers() throws IOException {
        ModelConfig vit = ReportFixtures.demoVit();
        LowRankSpec spec = LowRank.plan(vit, 2.0, LowRank.VIT_OMIT);
        assertThat(spec.ranks()).hasSize(16);

        assertDecodable(Charts.ranks(spec, vit, tmp.resolve("ranks.png")), Charts.WIDTH, Charts.HEIGHT);
        ModelConfig deep = ReportFixtures.withDepth(vit, 12);
        LowRankSpec deepSpec = LowRank.plan(deep, 3.0, LowRank.VIT_OMIT);
        BufferedImage wide = assertDecodable(Charts.ranks(deepSpec, deep, tmp.resolve("deep.png")), -1, Charts.HEIGHT);
        assertThat(wide.getWidth()).isGreaterThan(Charts.WIDTH);
    }

    @Test
    void rankChartWithoutLayoutShowsTheSpecAlone() throws IOException {
        LowRankSpec spec = new LowRankSpec(2, List.of("head"), Map.of("blocks.0.attn.qkv", 24, "blocks.0.mlp.fc1", 42));
        assertDecodable(Charts.ranks(spec, tmp.resolve("r.png")), Charts.WIDTH, Charts.HEIGHT);
    }

    @Test
    void rankChartRejectsASpecForAnotherModel() {
        LowRankSpec spec = new LowRankSpec(2, List.of(), Map.of("blocks.9.attn.qkv", 24));
        assertThatThrownBy(() -> Charts.ranks(spec, ReportFixtures.demoVit(), tmp.resolve("r.png")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blocks.9.attn.qkv");
        LowRankSpec none = new LowRankSpec(2, List.of(), Map.of());
        assertThatThrownBy(() -> Charts.ranks(none, tmp.resolve("r.png")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("decomposes no Linear");
    }

    /** Decodes the PNG, checks its size (width -1: any) and that it is not blank. */
    static BufferedImage assertDecodable(Path png, int width, int height) throws IOException {
        assertThat(png).isRegularFile();
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img).as("%s decodes as an image", png).isNotNull();
        if (width > 0) {
            assertThat(img.getWidth()).isEqualTo(width);
        }
        assertThat(img.getHeight()).isEqualTo(height);
        assertThat(distinctColours(img)).as("colours in %s", png).isGreaterThan(4);
        return img;
    }

    private static long distinctColours(BufferedImage img) {
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                colours.add(img.getRGB(x, y));
            }
        }
        return colours.size();
    }
}
