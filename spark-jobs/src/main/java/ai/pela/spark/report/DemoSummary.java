package ai.pela.spark.report;

import ai.pela.zoo.io.AtomicFile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
 * <pre>{"teacher": {"top1", "top5", "params", "gflops", "images_per_s"}, "naive_lowrank": {...}, "pela": {...},
 *  "ablation": [{"model", "l_fd", "l_rwp", "top1", "top5", "params", "gflops", "images_per_s"}, ...],
 *  "kappa_sweep": [{"kappa", "naive_lowrank": {...}, "pela": {...}}, ...]}</pre>
 * with accuracies as fractions (0–1) and {@code null} for a value that was not measured. {@code ablation} (Table 7:
 * {@code l_fd}/{@code l_rwp} true or false for a trained student, null for an untrained model) and
 * {@code kappa_sweep} are empty lists unless the demo ran them.
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
        writeJson(rows, List.of(), List.of(), file);
    }

    /** As {@link #writeJson(List, Path)}, with the ablation's rows and the κ sweep's points (either may be empty). */
    public static void writeJson(List<ModelRow> rows, List<AblationRow> ablation, List<SweepPoint> sweep, Path file) {
        String json = toJson(rows, ablation, sweep);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            AtomicFile.writeString(file, json + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the demo summary: " + e.getMessage(), e);
        }
    }

    /** The summary JSON as text, with the schema of {@link #writeJson}. */
    public static String toJson(List<ModelRow> rows) {
        return toJson(rows, List.of(), List.of());
    }

    /** The summary JSON with the ablation and the sweep, as {@link #writeJson(List, List, List, Path)} writes it. */
    public static String toJson(List<ModelRow> rows, List<AblationRow> ablation, List<SweepPoint> sweep) {
        Map<String, ModelRow> byName = byName(rows);
        ObjectNode root = JSON.createObjectNode();
        for (String name : MODELS) {
            root.set(name, toJson(byName.get(name)));
        }
        ArrayNode table7 = root.putArray("ablation");
        for (AblationRow a : ablation) {
            ObjectNode o = JSON.createObjectNode().put("model", a.label());
            putFlag(o, "l_fd", a.fd());
            putFlag(o, "l_rwp", a.rwp());
            table7.add(o.setAll(toJson(a.model())));
        }
        ArrayNode points = root.putArray("kappa_sweep");
        for (SweepPoint p : sweep) {
            ObjectNode o = points.addObject().put("kappa", p.kappa());
            o.set("naive_lowrank", toJson(p.naive()));
            o.set("pela", toJson(p.pela()));
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

    private static void putFlag(ObjectNode o, String key, Boolean v) {
        if (v == null) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
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
        return render(cells);
    }

    /** Column headings of {@link #ablationTable}, as the paper's Table 7 (a trained student's two loss columns). */
    static final List<String> ABLATION_COLUMNS = List.of("model", "L_fd", "L_rwp", "top-1 %", "top-5 %", "params (M)");

    /** Table 7 as aligned text: one line per row, "yes"/"no" for the losses of a trained student, blank otherwise. */
    public static String ablationTable(List<AblationRow> rows) {
        List<List<String>> cells = new ArrayList<>();
        cells.add(ABLATION_COLUMNS);
        rows.forEach(r -> cells.add(ablationCells(r, "yes", "no")));
        return render(cells);
    }

    /** The cells of one ablation row, with the given marks for a loss that was / was not used. */
    static List<String> ablationCells(AblationRow r, String used, String unused) {
        ModelRow m = r.model();
        return List.of(r.label(), mark(r.fd(), used, unused), mark(r.rwp(), used, unused),
                format("%.2f", 100 * m.top1()), format("%.2f", 100 * m.top5()), format("%.3f", m.paramsMillions()));
    }

    private static String mark(Boolean v, String used, String unused) {
        return v == null ? "" : v ? used : unused;
    }

    /** Column headings of {@link #sweepTable}. */
    static final List<String> SWEEP_COLUMNS = List.of("kappa", "params (M)", "naive top-1 %", "PELA top-1 %",
            "PELA - naive");

    /** The κ sweep as aligned text, one line per κ in the given order. */
    public static String sweepTable(List<SweepPoint> points) {
        List<List<String>> cells = new ArrayList<>();
        cells.add(SWEEP_COLUMNS);
        points.forEach(p -> cells.add(sweepCells(p)));
        return render(cells);
    }

    static List<String> sweepCells(SweepPoint p) {
        double gain = 100 * (p.pela().top1() - p.naive().top1());
        return List.of(format(p.kappa() == Math.rint(p.kappa()) ? "%.0f" : "%.2f", p.kappa()),
                format("%.3f", p.pela().paramsMillions()), format("%.2f", 100 * p.naive().top1()),
                format("%.2f", 100 * p.pela().top1()), format("%+.2f", gain));
    }

    private static String render(List<List<String>> cells) {
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
        int[] w = new int[cells.get(0).size()];
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
