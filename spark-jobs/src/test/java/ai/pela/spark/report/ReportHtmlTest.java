package ai.pela.spark.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportHtmlTest {
    @TempDir
    Path tmp;

    @Test
    void reportHoldsTheRowsThePlotsAndTheSettings() throws IOException {
        Charts.losses(ReportFixtures.rounds(true), tmp.resolve("loss_per_round.png"));
        Charts.accuracy(ReportFixtures.rows(), tmp.resolve("accuracy.png"));
        Map<String, String> sections = new LinkedHashMap<>();
        sections.put("Settings", ReportHtml.keyValueTable(Map.of("train.workers", 2, "model.kappa", 2.0)));

        Path file = ReportHtml.write(tmp, "PELA demo", ReportFixtures.rows(), sections,
                List.of("loss_per_round.png", tmp.resolve("accuracy.png").toString()));

        assertThat(file).isEqualTo(tmp.resolve("report.html"));
        String html = Files.readString(file);
        assertThat(html).startsWith("<!DOCTYPE html>").contains("<title>PELA demo</title>").endsWith("</html>\n");
        assertThat(html).contains("<td>teacher</td>", "<td>naive_lowrank</td>", "<td>pela</td>", "<td>87.12</td>",
                "<td>85.47</td>", "<th>params (M)</th>");
        assertThat(html).contains("<img src=\"loss_per_round.png\"", "<img src=\"accuracy.png\"",
                "<figcaption>loss per round</figcaption>");
        assertThat(html).contains("<h2>Settings</h2>", "<td>train.workers</td><td>2</td>", "<td>model.kappa</td><td>2.0</td>");
        // Self-contained: no scripts and nothing fetched from elsewhere.
        assertThat(html).doesNotContain("<script", "<link", "http://", "https://", "@import");
    }

    @Test
    void textIsEscapedAndFragmentsAreNot() throws IOException {
        Map<String, String> sections = Map.of("Notes <b>", "<p>kept <em>as is</em></p>");
        String html = Files.readString(ReportHtml.write(tmp, "a<b & \"c\"", ReportFixtures.rows(), sections, List.of()));

        assertThat(html).contains("<h1>a&lt;b &amp; &quot;c&quot;</h1>", "<h2>Notes &lt;b&gt;</h2>",
                "<p>kept <em>as is</em></p>");
        assertThat(html).doesNotContain("<h2>Plots</h2>");
        assertThat(ReportHtml.keyValueTable(Map.of("k", "<script>x</script>"))).contains("&lt;script&gt;x&lt;/script&gt;");
    }

    @Test
    void imageNamesArePercentEncoded() throws IOException {
        Path sub = Files.createDirectories(tmp.resolve("plots"));
        Files.write(sub.resolve("top 1 #acc.png"), new byte[] {1});
        String html = Files.readString(ReportHtml.write(tmp, "t", ReportFixtures.rows(), Map.of(),
                List.of("plots/top 1 #acc.png")));
        assertThat(html).contains("src=\"plots/top%201%20%23acc.png\"");
    }

    @Test
    void missingOrOutsideImagesAreNamed() throws IOException {
        List<ModelRow> rows = ReportFixtures.rows();
        assertThatThrownBy(() -> ReportHtml.write(tmp, "t", rows, Map.of(), List.of("nope.png")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nope.png").hasMessageContaining("does not exist");
        Path outside = Files.write(tmp.resolveSibling(tmp.getFileName() + "-other.png"), new byte[] {1});
        try {
            assertThatThrownBy(() -> ReportHtml.write(tmp, "t", rows, Map.of(), List.of("../" + outside.getFileName())))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside the report directory");
        } finally {
            Files.delete(outside);
        }
        assertThat(tmp.resolve("report.html")).doesNotExist();
    }
}
