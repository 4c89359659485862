package ai.pela.cli;

import ai.pela.spark.config.RetrievalSettings;
import ai.pela.spark.data.KarpathySource;
import ai.pela.spark.data.RetrievalEvalSet;
import ai.pela.spark.data.RetrievalJsonSource;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.RetrievalEvaluateJob;
import ai.pela.spark.report.ReportHtml;
import ai.pela.spark.report.RunReport;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.albef.AlbefConfig;
import ai.pela.zoo.albef.AlbefConfigJson;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code evaluate --task coco-retrieval} for one ALBEF model directory (config.json + model.safetensors) or, with
 * {@code --compare}, several: ALBEF's recall numbers per model, a table on stdout, {@code metrics.json} and a
 * "COCO retrieval" section in {@code report.html} beside it.
 */
final class RetrievalEvaluation {
    static final String TASK = "coco-retrieval";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One evaluated model. */
    record Row(String name, String dir, ObjectNode metrics) {
    }

    private final RetrievalSettings retrieval;
    private final Storage storage;

    RetrievalEvaluation(RetrievalSettings retrieval, Storage storage) {
        this.retrieval = retrieval;
        this.storage = storage;
    }

    /** The test set from the recipe's retrieval block, listed and checked on the driver. */
    RetrievalEvalSet evalSet(String splitOverride) {
        String annotations = retrieval.annotations();
        if (annotations.isBlank()) {
            throw new PelaException("configuration key 'pela.retrieval.annotations' is not set (--task " + TASK + ")");
        }
        String root = retrieval.imageRoot();
        String format = retrieval.format();
        return switch (format) {
            case "retrieval-json" -> new RetrievalJsonSource(storage, root).eval(annotations);
            case "karpathy" -> new KarpathySource(storage, annotations, root)
                    .eval(splitOverride != null ? splitOverride : retrieval.split());
            default -> throw new PelaException("pela.retrieval.format '" + format + "' is not one of: retrieval-json, karpathy");
        };
    }

    /** Reads every model's config before any executor work. */
    Map<String, RetrievalEvaluateJob.ModelRef> check(Map<String, String> models, Configuration hadoop) {
        Map<String, RetrievalEvaluateJob.ModelRef> refs = new LinkedHashMap<>();
        models.forEach((name, dir) -> {
            AlbefConfig cfg = readConfig(dir + "/config.json");
            Path weights = Storage.path(dir + "/model.safetensors");
            if (!storage.exists(weights)) {
                throw new PelaException(weights + ": not found (an ALBEF model directory holds config.json and "
                        + "model.safetensors)");
            }
            refs.put(name, new RetrievalEvaluateJob.ModelRef(cfg, weights.toString(), new SerializableConf(hadoop)));
        });
        return refs;
    }

    private AlbefConfig readConfig(String location) {
        Path p = Storage.path(location);
        try (InputStream in = storage.open(p)) {
            return AlbefConfigJson.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), location);
        } catch (IOException e) {
            throw new PelaException(location + ": cannot read: " + e.getMessage(), e);
        }
    }

    RetrievalEvaluateJob.Settings settings(int workers) {
        return new RetrievalEvaluateJob.Settings(retrieval.batchSize(), 2 * workers, retrieval.kTest(),
                retrieval.textLength(), retrieval.maxWords());
    }

    Row evaluate(JavaSparkContext sc, String name, String dir, RetrievalEvaluateJob.ModelRef ref, RetrievalEvalSet set,
            RetrievalEvaluateJob.Settings s) {
        RetrievalEvaluateJob.Result r = RetrievalEvaluateJob.run(sc, ref, set, s);
        ObjectNode m = JSON.createObjectNode();
        m.put("model", dir).put("task", TASK).put("annotations", retrieval.annotations());
        m.put("ranking", r.ranking()).put("k_test", s.kTest());
        m.setAll(r.metrics().toJson());
        m.put("encode_s", r.encodeSeconds()).put("rank_s", r.rankSeconds()).put("seconds", r.seconds());
        return new Row(name, dir, m);
    }

    void printTable(List<Row> rows, PrintStream out) {
        out.printf("%-20s %7s %7s %7s %7s %7s %7s %7s %18s%n", "model", "txt_r1", "txt_r5", "txt_r10", "img_r1",
                "img_r5", "img_r10", "r_mean", "ranking");
        for (Row r : rows) {
            ObjectNode m = r.metrics();
            out.printf(Locale.ROOT, "%-20s %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f %18s%n", r.name(),
                    m.get("txt_r1").asDouble(), m.get("txt_r5").asDouble(), m.get("txt_r10").asDouble(),
                    m.get("img_r1").asDouble(), m.get("img_r5").asDouble(), m.get("img_r10").asDouble(),
                    m.get("r_mean").asDouble(), m.get("ranking").asText());
        }
    }

    /** metrics.json: one model's metrics, or {"task", "models": {name: metrics}} for several. */
    static String metricsJson(List<Row> rows) {
        if (rows.size() == 1) {
            return rows.get(0).metrics().toPrettyString() + "\n";
        }
        ObjectNode root = JSON.createObjectNode().put("task", TASK);
        ObjectNode models = root.putObject("models");
        rows.forEach(r -> models.set(r.name(), r.metrics()));
        return root.toPrettyString() + "\n";
    }

    /** The run report's "COCO retrieval" section beside metrics.json: the numbers per model and the settings. */
    Path writeReport(Path metrics, List<Row> rows, RetrievalEvalSet set, RetrievalEvaluateJob.Settings s,
            String splitOverride) {
        List<String> keys = List.of("txt_r1", "txt_r5", "txt_r10", "txt_r_mean", "img_r1", "img_r5", "img_r10",
                "img_r_mean", "r_mean");
        List<String> header = new ArrayList<>(List.of("model"));
        header.addAll(keys);
        List<List<String>> cells = new ArrayList<>();
        for (Row r : rows) {
            List<String> row = new ArrayList<>(List.of(r.name()));
            keys.forEach(k -> row.add(String.format(Locale.ROOT, "%.2f", r.metrics().get(k).asDouble())));
            cells.add(row);
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("annotations", retrieval.annotations());
        settings.put("images", set.images().size());
        settings.put("texts", set.texts().size());
        settings.put("ranking", s.kTest() > 0 ? "ITC, then ITM re-ranking of the top " + s.kTest() : "ITC");
        settings.put("text length / max words", s.textLength() + " / " + s.maxWords());
        rows.forEach(r -> settings.put("model " + r.name(), r.dir()));
        Path dir = metrics.getParent() != null ? metrics.getParent() : new Path(".");
        String testSet = new Path(retrieval.annotations()).getName();
        if (retrieval.karpathy()) {
            testSet += " " + (splitOverride != null ? splitOverride : retrieval.split());
        }
        return RunReport.addSection(storage, dir, TASK + "/" + testSet, "COCO retrieval (" + testSet + ")",
                ReportHtml.table(header, cells) + "\n" + ReportHtml.keyValueTable(settings));
    }

    static Map<String, String> models(String model, String compare) {
        if (model == null && compare == null) {
            throw new PelaException("--task " + TASK + " needs --model <ALBEF model dir> or --compare dir1,dir2,…");
        }
        return DenseEvaluation.models(model, compare);
    }
}
