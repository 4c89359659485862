package ai.pela.spark.report;

import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.JobFiles;
import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.fs.Path;

/**
 * The run report of an output directory on any Hadoop path: {@code report.html} with one section per evaluation.
 * Each evaluation adds its section, or replaces its own from an earlier run (same id: task and split), so the ImageNet,
 * ADE20K, COCO and retrieval evaluations written next to each other read as one report. The sections are kept as
 * JSON beside the page ({@value #SECTIONS_FILE}) because HTML is not a format to parse back.
 */
public final class RunReport {
    public static final String SECTIONS_FILE = "report-sections.json";
    private static final long MAX_SECTIONS_BYTES = 64L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private RunReport() {
    }

    /**
     * Adds or replaces the section {@code id} of the report in {@code dir} and rewrites the page.
     *
     * @param html the section's body, already escaped by the caller (e.g. with {@link ReportHtml#table})
     * @return the page's path
     * @throws PelaException naming the sections file when an existing one is not this report's JSON
     */
    public static Path addSection(Storage storage, Path dir, String id, String heading, String html) {
        Path sectionsFile = new Path(dir, SECTIONS_FILE);
        ArrayNode sections = read(storage, sectionsFile);
        ObjectNode section = JSON.createObjectNode().put("id", id).put("heading", heading).put("html", html);
        boolean replaced = false;
        for (int i = 0; i < sections.size(); i++) {
            if (sections.get(i).path("id").asText().equals(id)) {
                sections.set(i, section);
                replaced = true;
            }
        }
        if (!replaced) {
            sections.add(section);
        }
        ObjectNode root = JSON.createObjectNode();
        root.set("sections", sections);
        JobFiles.writeText(storage, sectionsFile, root.toPrettyString() + "\n");
        Map<String, String> bodies = new LinkedHashMap<>();
        sections.forEach(s -> bodies.put(s.get("heading").asText(), s.get("html").asText()));
        Path page = new Path(dir, ReportHtml.FILE_NAME);
        JobFiles.writeText(storage, page, ReportHtml.sectionsPage("PELA evaluation report", bodies));
        return page;
    }

    private static ArrayNode read(Storage storage, Path file) {
        if (!storage.exists(file)) {
            return JSON.createArrayNode();
        }
        String text = new String(storage.readAll(file, MAX_SECTIONS_BYTES), StandardCharsets.UTF_8);
        try {
            JsonNode sections = JSON.readTree(text).path("sections");
            if (!sections.isArray()) {
                throw new PelaException(file + ": not a report sections file (no \"sections\" array)");
            }
            for (JsonNode s : sections) {
                if (!s.path("id").isTextual() || !s.path("heading").isTextual() || !s.path("html").isTextual()) {
                    throw new PelaException(file + ": a section lacks its text fields id, heading and html");
                }
            }
            return (ArrayNode) sections;
        } catch (JsonProcessingException e) {
            throw new PelaException(file + ": malformed report sections JSON: " + e.getOriginalMessage());
        }
    }
}
