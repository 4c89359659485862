package ai.pela.spark.report;

import ai.pela.zoo.io.AtomicFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's {@code report.html}: one self-contained page (inline CSS, no scripts, fonts or other external
 * resources) with the results table, the PNG plots referenced by their names relative to the page, and sections
 * supplied by the caller, such as the run's settings. Copying the directory copies the whole report.
 */
public final class ReportHtml {
    public static final String FILE_NAME = "report.html";

    private static final String CSS = """
            body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1a202c;
                   max-width: 1100px; margin: 2em auto; padding: 0 1.5em; line-height: 1.45; }
            h1 { font-size: 1.7em; margin-bottom: 0.2em; }
            h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #e2e8f0; padding-bottom: 0.2em; }
            .meta { color: #718096; font-size: 0.9em; margin-top: 0; }
            table { border-collapse: collapse; margin: 0.8em 0; font-variant-numeric: tabular-nums; }
            th, td { padding: 0.35em 0.9em; border-bottom: 1px solid #e2e8f0; text-align: right; }
            th { background: #f7fafc; font-weight: 600; }
            th:first-child, td:first-child { text-align: left; }
            table.kv td:first-child { color: #4a5568; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
            table.kv td { text-align: left; }
            figure { margin: 1.2em 0; }
            figure img { max-width: 100%; height: auto; border: 1px solid #e2e8f0; }
            figcaption { color: #4a5568; font-size: 0.9em; }
            code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
            pre { background: #f7fafc; padding: 0.8em; overflow-x: auto; }
            """;

    private ReportHtml() {
    }

    /**
     * Writes {@code dir/report.html} (atomically) and returns its path.
     *
     * @param title    the page title, as text (escaped here)
     * @param rows     the results table, in the order given
     * @param sections heading (text, escaped here) → HTML fragment (inserted as is: the caller builds it, e.g.
     *                 with {@link #keyValueTable} and {@link #escape}); shown after the plots, in map order
     * @param pngFiles images in {@code dir}, by name relative to it; each must exist
     * @throws IllegalArgumentException naming the image when one is missing or lies outside {@code dir}
     * @throws UncheckedIOException naming the file when it cannot be written
     */
    public static Path write(Path dir, String title, List<ModelRow> rows, Map<String, String> sections,
            List<String> pngFiles) {
        Path base = dir.toAbsolutePath().normalize();
        List<String> images = new ArrayList<>();
        for (String png : pngFiles) {
            images.add(relativeImage(base, png));
        }
        Path file = base.resolve(FILE_NAME);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            AtomicFile.writeString(file, page(title, rows, sections, images));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the report: " + e.getMessage(), e);
        }
    }

    /** The image's path relative to {@code base}, with '/' separators, after checking that it is there. */
    private static String relativeImage(Path base, String png) {
        Path p = Path.of(png);
        Path resolved = (p.isAbsolute() ? p : base.resolve(p)).normalize();
        if (!resolved.startsWith(base)) {
            throw new IllegalArgumentException(png + ": report image lies outside the report directory " + base);
        }
        if (!Files.isRegularFile(resolved)) {
            throw new IllegalArgumentException(resolved + ": report image does not exist");
        }
        return base.relativize(resolved).toString().replace('\\', '/');
    }

    static String page(String title, List<ModelRow> rows, Map<String, String> sections, List<String> images) {
        StringBuilder h = head(title);
        appendResults(h, rows);
        appendFigures(h, images);
        appendSections(h, sections);
        return h.append("</body>\n</html>\n").toString();
    }

    /** A page of sections only (heading → HTML fragment, in map order), as the evaluation jobs' run report. */
    public static String sectionsPage(String title, Map<String, String> sections) {
        StringBuilder h = head(title);
        appendSections(h, sections);
        return h.append("</body>\n</html>\n").toString();
    }

    /** A table with a header row; every cell is escaped here. */
    public static String table(List<String> header, List<List<String>> rows) {
        StringBuilder h = new StringBuilder("<table>\n<thead><tr>");
        header.forEach(c -> h.append("<th>").append(escape(c)).append("</th>"));
        h.append("</tr></thead>\n<tbody>\n");
        for (List<String> row : rows) {
            h.append("<tr>");
            row.forEach(c -> h.append("<td>").append(escape(c)).append("</td>"));
            h.append("</tr>\n");
        }
        return h.append("</tbody>\n</table>").toString();
    }

    /** The demo's Table 7 ablation as an HTML table, with the paper's ✓ and × for the losses of each student. */
    public static String ablationTable(List<AblationRow> rows) {
        List<List<String>> cells = new ArrayList<>();
        rows.forEach(r -> cells.add(DemoSummary.ablationCells(r, "\u2713", "\u00d7")));
        return table(DemoSummary.ABLATION_COLUMNS, cells);
    }

    /** The demo's κ sweep as an HTML table, one row per κ. */
    public static String sweepTable(List<SweepPoint> points) {
        List<List<String>> cells = new ArrayList<>();
        points.forEach(p -> cells.add(DemoSummary.sweepCells(p)));
        return table(DemoSummary.SWEEP_COLUMNS, cells);
    }

    private static StringBuilder head(String title) {
        StringBuilder h = new StringBuilder(8192);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(escape(title)).append("</title>\n")
                .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n")
                .append("<h1>").append(escape(title)).append("</h1>\n")
                .append("<p class=\"meta\">Generated ")
                .append(escape(ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME))).append("</p>\n");
        return h;
    }

    private static void appendSections(StringBuilder h, Map<String, String> sections) {
        sections.forEach((heading, fragment) -> h.append("<h2>").append(escape(heading)).append("</h2>\n")
                .append(fragment).append('\n'));
    }

    private static void appendResults(StringBuilder h, List<ModelRow> rows) {
        h.append("<h2>Results</h2>\n<table>\n<thead><tr>");
        DemoSummary.COLUMNS.forEach(c -> h.append("<th>").append(escape(c)).append("</th>"));
        h.append("</tr></thead>\n<tbody>\n");
        for (ModelRow r : rows) {
            h.append("<tr>");
            DemoSummary.cells(r).forEach(c -> h.append("<td>").append(escape(c)).append("</td>"));
            h.append("</tr>\n");
        }
        h.append("</tbody>\n</table>\n");
    }

    private static void appendFigures(StringBuilder h, List<String> images) {
        if (images.isEmpty()) {
            return;
        }
        h.append("<h2>Plots</h2>\n");
        for (String img : images) {
            String caption = caption(img);
            h.append("<figure><img src=\"").append(escape(urlPath(img))).append("\" alt=\"").append(escape(caption))
                    .append("\"><figcaption>").append(escape(caption)).append("</figcaption></figure>\n");
        }
    }

    /** "loss_per_round.png" → "loss per round": a readable caption from the file name alone. */
    static String caption(String relativePath) {
        String name = relativePath.substring(relativePath.lastIndexOf('/') + 1);
        int dot = name.lastIndexOf('.');
        return (dot > 0 ? name.substring(0, dot) : name).replace('_', ' ').replace('-', ' ');
    }

    /**
     * A two-column table of settings (name → value, both escaped), for a "Settings" section. Values are shown
     * with {@code String.valueOf}, so numbers, booleans and lists may be passed as they are.
     */
    public static String keyValueTable(Map<String, ?> settings) {
        StringBuilder h = new StringBuilder("<table class=\"kv\">\n<tbody>\n");
        settings.forEach((k, v) -> h.append("<tr><td>").append(escape(k)).append("</td><td>")
                .append(escape(String.valueOf(v))).append("</td></tr>\n"));
        return h.append("</tbody>\n</table>").toString();
    }

    /** Text made safe for HTML element content and quoted attribute values. */
    public static String escape(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * A relative path as a URL path: every byte outside the unreserved set and '/' is percent-encoded, so a name
     * with spaces, '#' or '?' still points at its file.
     */
    static String urlPath(String relativePath) {
        StringBuilder sb = new StringBuilder();
        for (byte b : relativePath.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (isUnreserved(c) || c == '/') {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format(Locale.ROOT, "%02X", c));
            }
        }
        return sb.toString();
    }

    private static boolean isUnreserved(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '.' || c == '_' || c == '~';
    }
}
