package ai.pela.cli;

import ai.pela.spark.config.DenseSettings;
import ai.pela.spark.config.EvalSettings;
import ai.pela.spark.eval.Ade20kSource;
import ai.pela.spark.eval.CocoDetection;
import ai.pela.spark.eval.CocoStats;
import ai.pela.spark.eval.SegHistogram;
import ai.pela.spark.eval.SegSample;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.DenseEvaluateJob;
import ai.pela.spark.jobs.DenseFiles;
import ai.pela.spark.jobs.DenseTask;
import ai.pela.spark.jobs.JobFiles;
import ai.pela.spark.report.ReportHtml;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.dense.DenseModel;
import ai.pela.zoo.dense.UperNetConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code evaluate --task ade20k | coco-detection} for one dense model or, with {@code --compare}, several (the
 * paper's table: teacher, naive low-rank and PELA backbones side by side): metrics per model, a table on stdout,
 * {@code metrics.json}, and for detection COCO's results file per model.
 */
final class DenseEvaluation {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One evaluated model: its name, directory, backbone size and metrics as JSON. */
    record Row(String name, String dir, long backboneParams, ObjectNode metrics) {
    }

    private final DenseSettings dense;
    private final EvalSettings eval;
    private final Storage storage;
    private final DenseTask task;
    private final String split;

    DenseEvaluation(DenseSettings dense, EvalSettings eval, Storage storage, DenseTask task, String split) {
        this.dense = dense;
        this.eval = eval;
        this.storage = storage;
        this.task = task;
        this.split = split;
    }

    /** The models as name → directory; names are the directory names unless given as name=dir. */
    static Map<String, String> models(String model, String compare) {
        Map<String, String> out = new LinkedHashMap<>();
        if (compare != null) {
            for (String item : compare.split(",")) {
                String t = item.strip();
                int eq = t.indexOf('=');
                String dir = eq > 0 ? t.substring(eq + 1) : t;
                String name = eq > 0 ? t.substring(0, eq) : DenseFiles.nameOf(dir);
                if (out.put(name, dir) != null) {
                    throw new PelaException("--compare: two models named '" + name + "'; name them: name=dir,…");
                }
            }
        } else if (model != null) {
            out.put(DenseFiles.nameOf(model), model);
        } else {
            throw new PelaException("a dense --task needs --model <dense model dir> or --compare dir1,dir2,…");
        }
        return out;
    }

    /** Reads and checks every model and the data listing before any executor work. */
    List<DenseFiles.DenseRef> check(Map<String, String> models) {
        List<DenseFiles.DenseRef> refs = new ArrayList<>();
        for (Map.Entry<String, String> e : models.entrySet()) {
            DenseFiles.DenseRef r = DenseFiles.read(storage, e.getValue());
            boolean seg = r.head() instanceof UperNetConfig;
            if (seg != (task == DenseTask.ADE20K)) {
                throw new PelaException(e.getValue() + ": has a " + r.head().type() + " head, which does not fit --task "
                        + task.cli());
            }
            refs.add(r);
        }
        return refs;
    }

    Row evaluate(JavaSparkContext sc, String name, DenseFiles.DenseRef ref, Path resultsFile) {
        int batch = eval.batchSize();
        int partitions = eval.partitions();
        ObjectNode m = JSON.createObjectNode();
        m.put("model", ref.dir()).put("task", task.cli()).put("split", split);
        if (task == DenseTask.ADE20K) {
            DenseEvaluateJob.SegMode mode = dense.segMode();
            DenseEvaluateJob.SegResult r = DenseEvaluateJob.segmentation(sc, ref, segSamples(), mode,
                    dense.slideStride(), batch, partitions);
            SegHistogram h = r.histogram();
            m.put("mode", mode.name().toLowerCase(Locale.ROOT)).put("images", h.images());
            m.setAll(h.toJson(((UperNetConfig) ref.head()).classNames().isEmpty() ? null
                    : ((UperNetConfig) ref.head()).classNames()));
            m.put("images_per_s", r.imagesPerSecond());
        } else {
            DenseEvaluateJob.DetResult r = DenseEvaluateJob.detection(sc, ref, annotations(), images(), batch, partitions);
            CocoStats stats = r.tally().stats();
            m.put("images", r.tally().images()).put("detections", r.detections().size());
            m.setAll(stats.toJson());
            m.put("images_per_s", r.imagesPerSecond()).put("results", resultsFile.toString());
            writeResults(resultsFile, r.detections());
        }
        return new Row(name, ref.dir(), backboneParams(ref), m);
    }

    private List<SegSample> segSamples() {
        return new Ade20kSource(storage, required(dense.ade20kRoot(), "dense.ade20k-root")).list(split);
    }

    private String annotations() {
        return split.equals("train") ? required(dense.cocoTrainAnnotations(), "dense.coco-train-annotations")
                : required(dense.cocoValAnnotations(), "dense.coco-val-annotations");
    }

    private String images() {
        return split.equals("train") ? required(dense.cocoTrainImages(), "dense.coco-train-images")
                : required(dense.cocoValImages(), "dense.coco-val-images");
    }

    private String required(String v, String key) {
        if (v.isBlank()) {
            throw new PelaException("configuration key 'pela." + key + "' is not set (--task " + task.cli() + ")");
        }
        return v;
    }

    /** COCO's results format: [{image_id, category_id, bbox: [x, y, w, h], score}]. */
    private void writeResults(Path file, List<CocoDetection> dets) {
        ArrayNode a = JSON.createArrayNode();
        for (CocoDetection d : dets) {
            ObjectNode o = a.addObject();
            o.put("image_id", d.imageId()).put("category_id", d.categoryId());
            o.putArray("bbox").add(d.bbox().x()).add(d.bbox().y()).add(d.bbox().w()).add(d.bbox().h());
            o.put("score", d.score());
        }
        JobFiles.writeText(storage, file, a.toString() + "\n");
    }

    static long backboneParams(DenseFiles.DenseRef ref) {
        long n = 0;
        for (Map.Entry<String, long[]> e : DenseModel.parameterShapes(ref.backbone(), ref.head()).entrySet()) {
            if (e.getKey().startsWith("backbone.")) {
                long p = 1;
                for (long d : e.getValue()) {
                    p *= d;
                }
                n += p;
            }
        }
        return n;
    }

    /** The paper's table shape: a row per backbone, its size and the task's headline numbers. */
    void printTable(List<Row> rows, PrintStream out) {
        if (task == DenseTask.ADE20K) {
            out.printf("%-24s %14s %8s %8s %8s %10s%n", "model", "backbone params", "mIoU", "mAcc", "aAcc", "images/s");
            for (Row r : rows) {
                ObjectNode m = r.metrics();
                out.printf(Locale.ROOT, "%-24s %14d %8.2f %8.2f %8.2f %10.1f%n", r.name(), r.backboneParams(),
                        m.path("mIoU").asDouble(Double.NaN), m.path("mAcc").asDouble(Double.NaN),
                        m.path("aAcc").asDouble(Double.NaN), m.path("images_per_s").asDouble());
            }
        } else {
            out.printf("%-24s %14s %7s %7s %7s %7s %7s %7s %10s%n", "model", "backbone params", "AP", "AP50", "AP75",
                    "APs", "APm", "APl", "images/s");
            for (Row r : rows) {
                ObjectNode m = r.metrics();
                out.printf(Locale.ROOT, "%-24s %14d %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f %10.1f%n", r.name(),
                        r.backboneParams(), pct(m, "AP"), pct(m, "AP50"), pct(m, "AP75"), pct(m, "APs"), pct(m, "APm"),
                        pct(m, "APl"), m.path("images_per_s").asDouble());
            }
        }
    }

    /** The run report's section: the same table as on stdout, and where each model came from. */
    String reportSection(List<Row> rows) {
        boolean seg = task == DenseTask.ADE20K;
        List<String> header = seg
                ? List.of("model", "backbone params", "mIoU", "mAcc", "aAcc", "images/s", "directory")
                : List.of("model", "backbone params", "AP", "AP50", "AP75", "APs", "APm", "APl", "images/s", "directory");
        List<List<String>> cells = new ArrayList<>();
        for (Row r : rows) {
            ObjectNode m = r.metrics();
            List<String> row = new ArrayList<>(List.of(r.name(), String.format(Locale.ROOT, "%,d", r.backboneParams())));
            List<Double> values = seg
                    ? List.of(m.path("mIoU").asDouble(Double.NaN), m.path("mAcc").asDouble(Double.NaN),
                            m.path("aAcc").asDouble(Double.NaN))
                    : List.of(pct(m, "AP"), pct(m, "AP50"), pct(m, "AP75"), pct(m, "APs"), pct(m, "APm"), pct(m, "APl"));
            values.forEach(v -> row.add(String.format(Locale.ROOT, "%.2f", v)));
            row.add(String.format(Locale.ROOT, "%.1f", m.path("images_per_s").asDouble()));
            row.add(r.dir());
            cells.add(row);
        }
        String what = seg ? "mmseg's mIoU / mAcc / aAcc in percent" : "COCO box AP in percent (pycocotools' rules)";
        return "<p>" + ReportHtml.escape(task.cli() + " " + split + " split: " + what + ".") + "</p>\n"
                + ReportHtml.table(header, cells);
    }

    /** COCO's stats are fractions, −1 where undefined; the table shows percent, NaN for undefined. */
    private static double pct(ObjectNode m, String key) {
        double v = m.path(key).asDouble(-1);
        return v < 0 ? Double.NaN : 100 * v;
    }

    /** metrics.json: the model's metrics, or with several models {"task", "models": {name: metrics}}. */
    String metricsJson(List<Row> rows) {
        ObjectNode root;
        if (rows.size() == 1) {
            root = rows.get(0).metrics().deepCopy();
            root.put("backbone_params", rows.get(0).backboneParams());
        } else {
            root = JSON.createObjectNode();
            root.put("task", task.cli()).put("split", split);
            ObjectNode models = root.putObject("models");
            for (Row r : rows) {
                models.set(r.name(), r.metrics().deepCopy().put("backbone_params", r.backboneParams()));
            }
        }
        return root.toPrettyString() + "\n";
    }
}
