package ai.pela.spark.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunReportTest {
    @TempDir
    Path dir;

    private Path add(String id, String heading, String value) {
        String html = ReportHtml.table(List.of("model", "value"), List.of(List.of("m<1>", value)));
        return Path.of(RunReport.addSection(Storage.local(), new org.apache.hadoop.fs.Path(dir.toUri()), id, heading,
                html).toUri());
    }

    @Test
    void evaluationsAccumulateAndARerunReplacesItsOwnSection() throws Exception {
        add("ade20k/validation", "ADE20K (validation)", "11.5");
        add("coco-detection/val", "COCO (val)", "0.25");
        Path page = add("ade20k/validation", "ADE20K (validation)", "42.0");

        String html = Files.readString(page);
        assertThat(html).contains("<h2>ADE20K (validation)</h2>").contains("<h2>COCO (val)</h2>")
                .contains("<td>42.0</td>").doesNotContain("11.5").contains("<td>m&lt;1&gt;</td>");
        // Replaced in place: the first evaluation's section stays first.
        assertThat(html.indexOf("ADE20K (validation)</h2>")).isLessThan(html.indexOf("COCO (val)</h2>"));
        assertThat(html.split("<h2>ADE20K").length - 1).isEqualTo(1);
    }

    @Test
    void aDamagedSectionsFileIsNamedNotOverwritten() throws Exception {
        Path sections = dir.resolve(RunReport.SECTIONS_FILE);
        Files.writeString(sections, "{\"sections\": [ {\"id\": 1");
        assertThatThrownBy(() -> add("a", "A", "1")).isInstanceOf(PelaException.class)
                .hasMessageContaining(RunReport.SECTIONS_FILE).hasMessageContaining("malformed");
        Files.writeString(sections, "{\"pages\": []}");
        assertThatThrownBy(() -> add("a", "A", "1")).isInstanceOf(PelaException.class)
                .hasMessageContaining("no \"sections\" array");
        assertThat(Files.readString(sections)).isEqualTo("{\"pages\": []}");
    }
}
