package ai.pela.spark.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoSummaryTest {
    @TempDir
    Path tmp;

    @Test
    void jsonHasExactlyTheSchemaAndTheValues() throws IOException {
        Path file = tmp.resolve("out/summary.json");
        DemoSummary.writeJson(ReportFixtures.rows(), file);

        JsonNode root = new ObjectMapper().readTree(file.toFile());
        assertThat(fieldNames(root)).containsExactly("teacher", "naive_lowrank", "pela", "ablation", "kappa_sweep");
        for (String name : DemoSummary.MODELS) {
            assertThat(fieldNames(root.get(name))).containsExactly("top1", "top5", "params", "gflops", "images_per_s");
        }
        assertThat(root.get("ablation").isArray()).isTrue();
        assertThat(root.get("ablation")).isEmpty();
        assertThat(root.get("kappa_sweep")).isEmpty();
        JsonNode teacher = root.get("teacher");
        assertThat(teacher.get("top1").asDouble()).isEqualTo(0.8712);
        assertThat(teacher.get("top5").asDouble()).isEqualTo(0.9961);
        assertThat(teacher.get("params").isIntegralNumber()).isTrue();
        assertThat(teacher.get("params").asLong()).isEqualTo(214_538);
        assertThat(teacher.get("gflops").asDouble()).isEqualTo(0.0123);
        assertThat(teacher.get("images_per_s").asDouble()).isEqualTo(5321.4);
        assertThat(root.get("pela").get("top1").asDouble()).isEqualTo(0.8547);
        assertThat(tmp.resolve("out")).isDirectoryNotContaining("glob:**.tmp-*");
    }

    @Test
    void jsonHoldsTheAblationRowsAndTheSweepPoints() throws IOException {
        List<ModelRow> rows = ReportFixtures.rows();
        JsonNode root = new ObjectMapper().readTree(DemoSummary.toJson(rows, ReportFixtures.ablation(),
                ReportFixtures.sweep()));

        JsonNode table7 = root.get("ablation");
        assertThat(table7).hasSize(6);
        assertThat(fieldNames(table7.get(2))).containsExactly("model", "l_fd", "l_rwp", "top1", "top5", "params",
                "gflops", "images_per_s");
        assertThat(table7.get(0).get("model").asText()).isEqualTo("teacher");
        assertThat(table7.get(0).get("l_fd").isNull()).isTrue();
        assertThat(table7.get(2).get("l_fd").isBoolean()).isTrue();
        assertThat(table7.get(2).get("l_fd").asBoolean(true)).isFalse();
        assertThat(table7.get(3).get("l_fd").asBoolean()).isTrue();
        assertThat(table7.get(3).get("l_rwp").asBoolean(true)).isFalse();
        assertThat(table7.get(2).get("top1").asDouble()).isEqualTo(0.7011);
        JsonNode sweep = root.get("kappa_sweep");
        assertThat(sweep).hasSize(2);
        assertThat(fieldNames(sweep.get(1))).containsExactly("kappa", "naive_lowrank", "pela");
        assertThat(sweep.get(1).get("kappa").asDouble()).isEqualTo(4.0);
        assertThat(sweep.get(1).get("pela").get("top1").asDouble()).isEqualTo(0.8102);
        assertThat(sweep.get(1).get("naive_lowrank").get("params").asLong()).isEqualTo(63_210);
    }

    @Test
    void ablationTableIsThePapersLayoutAndSweepTableShowsTheGain() {
        List<String> lines = DemoSummary.ablationTable(ReportFixtures.ablation()).lines().toList();
        assertThat(lines).hasSize(8);
        assertThat(lines.get(0)).startsWith("model").contains("L_fd").contains("L_rwp").contains("top-1 %");
        assertThat(lines.get(2)).startsWith("teacher").contains("87.12").doesNotContain("yes").doesNotContain("no ");
        assertThat(lines.get(4)).startsWith("naive + CE fine-tuning").containsPattern("\\bno\\s+no\\b").contains("70.11");
        assertThat(lines.get(5)).containsPattern("\\byes\\s+no\\b");
        assertThat(lines.get(6)).containsPattern("\\bno\\s+yes\\b");
        assertThat(lines.get(7)).containsPattern("\\byes\\s+yes\\b").contains("85.47");
        assertThat(lines.stream().map(String::length).distinct()).hasSize(1);

        List<String> sweep = DemoSummary.sweepTable(ReportFixtures.sweep()).lines().toList();
        assertThat(sweep).hasSize(4);
        assertThat(sweep.get(2)).startsWith("2").contains("0.121").contains("43.05").contains("85.47").contains("+42.42");
        assertThat(sweep.get(3)).startsWith("4").contains("+13.92");
    }

    @Test
    void rowOrderDoesNotMatterAndUnmeasuredValuesAreNull() throws IOException {
        List<ModelRow> rows = new ArrayList<>(ReportFixtures.rows());
        rows.set(1, new ModelRow("naive_lowrank", 0.43, Double.NaN, 120_970, 0.0071, Double.NaN));
        java.util.Collections.reverse(rows);

        JsonNode root = new ObjectMapper().readTree(DemoSummary.toJson(rows));
        assertThat(fieldNames(root)).containsExactly("teacher", "naive_lowrank", "pela", "ablation", "kappa_sweep");
        assertThat(root.get("naive_lowrank").get("top5").isNull()).isTrue();
        assertThat(root.get("naive_lowrank").get("images_per_s").isNull()).isTrue();
        assertThat(root.get("naive_lowrank").get("top1").asDouble()).isEqualTo(0.43);
    }

    @Test
    void jsonNeedsExactlyTheThreeModels() {
        List<ModelRow> rows = ReportFixtures.rows();
        assertThatThrownBy(() -> DemoSummary.toJson(rows.subList(0, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing model rows [pela]");
        List<ModelRow> twice = List.of(rows.get(0), rows.get(1), rows.get(2), rows.get(2));
        assertThatThrownBy(() -> DemoSummary.toJson(twice))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'pela' given twice");
        List<ModelRow> odd = List.of(rows.get(0), rows.get(1), new ModelRow("student", 0.5, 0.9, 1, 0.1, 1));
        assertThatThrownBy(() -> DemoSummary.toJson(odd))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown model row 'student'");
    }

    @Test
    void rowRejectsPercentagesAndNegativeCounts() {
        assertThatThrownBy(() -> new ModelRow("pela", 85.4, 0.99, 1, 0.1, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pela: top1 must be a fraction");
        assertThatThrownBy(() -> new ModelRow("pela", 0.8, 0.99, -1, 0.1, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("params");
        assertThatThrownBy(() -> new ModelRow("pela", 0.8, 0.99, 1, Double.POSITIVE_INFINITY, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gflops");
    }

    @Test
    void tableIsAlignedAndShowsPercentagesMillionsAndThroughput() {
        String table = DemoSummary.table(ReportFixtures.rows());
        List<String> lines = table.lines().toList();

        assertThat(lines).hasSize(5);
        assertThat(lines.get(0)).startsWith("model").contains("top-1 %", "top-5 %", "params (M)", "GFLOPs", "images/s");
        assertThat(lines.get(1)).matches("-+");
        assertThat(lines.stream().map(String::length).distinct()).hasSize(1);
        assertThat(lines.get(2)).startsWith("teacher ").contains("87.12", "99.61", "0.215", "0.0123").endsWith("5321");
        assertThat(lines.get(3)).startsWith("naive_lowrank").contains("43.05", "0.121", "0.0071").endsWith("7010");
        assertThat(lines.get(4)).startsWith("pela ").contains("85.47", "99.50").endsWith("6988");
        // Right-aligned numbers: every row's top-1 ends in the column where the heading ends.
        int end = lines.get(0).indexOf("top-1 %") + "top-1 %".length();
        assertThat(lines.get(2).substring(end - 5, end)).isEqualTo("87.12");
    }

    @Test
    void tableShowsUnmeasuredValuesAsNotAvailable() {
        String table = DemoSummary.table(List.of(new ModelRow("teacher", 0.9, Double.NaN, 5_720_000, 2.5, Double.NaN)));
        assertThat(table).contains("90.00").contains("n/a").contains("5.720").contains("2.50");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
