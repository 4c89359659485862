package ai.pela.spark.report;

import ai.pela.zoo.io.AtomicFile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's result: {@code summary.json} for machines and an aligned console table for people.
 *
 * <p>The JSON schema is fixed, so that scripts and CI can read it without guessing:
 * <pre>{"teacher": {"top1", "top5", "params", "gflops", "images_per_s"}, "naive_lowrank": {...}, "pela": {...}}</pre>
 * with accuracies as fractions (0–1) and {@code null} for a value that was not measured.
 */
public final class DemoSummary {
    /** The rows the JSON must hold, in the order it holds them. */
    public static final List<String> MODELS = List.of("teacher", "naive_lowrank", "pela");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String NOT_MEASURED = "n/a";

    private DemoSummary() {
    }

    /**
     * Writes the summary JSON (atomically).
     *
     * @throws IllegalArgumentException unless the rows are exactly teacher, naive_lowrank and pela, in any order
     * @throws UncheckedIOException naming the file when it cannot be written
     */
    public static void writeJson(List<ModelRow> rows, Path file) {
        String json = toJson(rows);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            AtomicFile.writeString(file, json + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the demo summary: " + e.getMessage(), e);
        }
    }

    /** The summary JSON as text, with the schema of {@link #writeJson}. */
    public static String toJson(List<ModelRow> rows) {
        Map<String, ModelRow> byName = byName(rows);
        ObjectNode root = JSON.createObjectNode();
        for (String name : MODELS) {
            root.set(name, toJson(byName.get(name)));
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise the demo summary", e);
        }
    }

    private static Map<String, ModelRow> byName(List<ModelRow> rows) {
        Map<String, ModelRow> byName = new LinkedHashMap<>();
        for (ModelRow r : rows) {
            if (!MODELS.contains(r.name())) {
                throw new IllegalArgumentException("demo summary: unknown model row '" + r.name() + "' (expected " + MODELS + ")");
            }
            if (byName.put(r.name(), r) != null) {
                throw new IllegalArgumentException("demo summary: model row '" + r.name() + "' given twice");
            }
        }
        List<String> missing = new ArrayList<>(MODELS);
        missing.removeAll(byName.keySet());
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("demo summary: missing model rows " + missing);
        }
        return byName;
    }

    private static ObjectNode toJson(ModelRow r) {
        ObjectNode o = JSON.createObjectNode();
        putMeasured(o, "top1", r.top1());
        putMeasured(o, "top5", r.top5());
        o.put("params", r.params());
        putMeasured(o, "gflops", r.gflops());
        putMeasured(o, "images_per_s", r.imagesPerS());
        return o;
    }

    /** NaN is not JSON; a value that was not measured is written as null. */
    private static void putMeasured(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }

    // ---------------------------------------------------------------------------------------------- table

    /** Column headings of {@link #table} and of the report's HTML table. */
    static final List<String> COLUMNS = List.of("model", "top-1 %", "top-5 %", "params (M)", "GFLOPs", "images/s");

    /**
     * An aligned plain-text table, one line per row in the given order: model name left-aligned, numbers
     * right-aligned, two spaces between columns, a dashed line under the heading. Ends with a newline.
     */
    public static String table(List<ModelRow> rows) {
        List<List<String>> cells = new ArrayList<>();
        cells.add(COLUMNS);
        rows.forEach(r -> cells.add(cells(r)));
        int[] widths = widths(cells);
        StringBuilder sb = new StringBuilder();
        appendLine(sb, cells.get(0), widths);
        sb.append("-".repeat(totalWidth(widths))).append('\n');
        cells.subList(1, cells.size()).forEach(line -> appendLine(sb, line, widths));
        return sb.toString();
    }

    /** The cells of one row as the table shows them (also used by the HTML report, so both agree). */
    static List<String> cells(ModelRow r) {
        return List.of(r.name(), format("%.2f", 100 * r.top1()), format("%.2f", 100 * r.top5()),
                format("%.3f", r.paramsMillions()), gflops(r.gflops()), format("%.0f", r.imagesPerS()));
    }

    /** Tiny demo models run at a few MFLOPs: three decimals would show 0.000, so small values get more digits. */
    private static String gflops(double v) {
        return format(v != 0 && Math.abs(v) < 0.1 ? "%.4f" : "%.2f", v);
    }

    private static String format(String pattern, double v) {
        return Double.isNaN(v) ? NOT_MEASURED : String.format(Locale.ROOT, pattern, v);
    }

    private static int[] widths(List<List<String>> cells) {
        int[] w = new int[COLUMNS.size()];
        for (List<String> line : cells) {
            for (int i = 0; i < w.length; i++) {
                w[i] = Math.max(w[i], line.get(i).length());
            }
        }
        return w;
    }

    private static int totalWidth(int[] widths) {
        int total = 2 * (widths.length - 1);
        for (int w : widths) {
            total += w;
        }
        return total;
    }

    private static void appendLine(StringBuilder sb, List<String> line, int[] widths) {
        for (int i = 0; i < widths.length; i++) {
            if (i > 0) {
                sb.append("  ");
            }
            String pad = " ".repeat(widths[i] - line.get(i).length());
            sb.append(i == 0 ? line.get(i) + pad : pad + line.get(i));
        }
        sb.append('\n');
    }
}
