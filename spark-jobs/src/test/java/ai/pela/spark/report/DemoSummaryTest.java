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
        assertThat(fieldNames(root)).containsExactly("teacher", "naive_lowrank", "pela");
        for (JsonNode model : root) {
            assertThat(fieldNames(model)).containsExactly("top1", "top5", "params", "gflops", "images_per_s");
        }
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
    void rowOrderDoesNotMatterAndUnmeasuredValuesAreNull() throws IOException {
        List<ModelRow> rows = new ArrayList<>(ReportFixtures.rows());
        rows.set(1, new ModelRow("naive_lowrank", 0.43, Double.NaN, 120_970, 0.0071, Double.NaN));
        java.util.Collections.reverse(rows);

        JsonNode root = new ObjectMapper().readTree(DemoSummary.toJson(rows));
        assertThat(fieldNames(root)).containsExactly("teacher", "naive_lowrank", "pela");
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
