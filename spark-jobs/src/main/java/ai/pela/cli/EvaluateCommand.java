package ai.pela.cli;

import ai.pela.spark.config.DataSettings;
import ai.pela.spark.config.DenseSettings;
import ai.pela.spark.config.EvalSettings;
import ai.pela.spark.config.ModelSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RetrievalSettings;
import ai.pela.spark.data.RetrievalEvalSet;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.DataSetup;
import ai.pela.spark.jobs.DenseFiles;
import ai.pela.spark.jobs.DenseTask;
import ai.pela.spark.jobs.EvaluateJob;
import ai.pela.spark.jobs.JobFiles;
import ai.pela.spark.jobs.RetrievalEvaluateJob;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.spark.report.ReportHtml;
import ai.pela.spark.report.RunReport;
import ai.pela.spark.swin.SwinEvalRef;
import ai.pela.spark.swin.SwinFiles;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.Family;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.swin.SwinConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code evaluate}: top-1/top-5 of a classifier, or a dense model's mIoU / COCO AP, distributed over the executors. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Evaluates on the executors: --task imagenet (default): top-1 / top-5 accuracy of a model "
                + "(teacher or PELA student) over a data split; --task ade20k: mIoU / mAcc / aAcc of a dense model "
                + "(train-head) over ADE20K; --task coco-detection: COCO's 12 box AP/AR numbers, and the results file. "
                + "--task coco-retrieval: ALBEF's image-text retrieval recall (txt_r1/5/10, img_r1/5/10, r_mean) of an "
                + "ALBEF model, ITC ranking with ITM re-ranking of the top pela.retrieval.k-test. "
                + "--compare evaluates several models and prints them side by side.")
final class EvaluateCommand implements Callable<Integer> {
    @Mixin
    JobOptions job;

    @Option(names = "--task", defaultValue = "imagenet", description = "imagenet, ade20k, coco-detection or "
            + "coco-retrieval (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = "--model", description = "A model directory with config.json and model.safetensors (and "
            + "head.json for a dense task); default for imagenet: pela.model.config / pela.model.weights.")
    String model;

    @Option(names = "--compare", description = "Dense tasks: several model directories, comma-separated, each "
            + "optionally named: teacher=runs/t/model,naive=runs/n/model,pela=runs/p/model.")
    String compare;

    @Option(names = "--split", description = "The split to evaluate (default: pela.data.val-split; ade20k: "
            + "pela.dense.ade20k-val-split; coco-detection: val, or train).")
    String split;

    @Option(names = "--out", description = "Write the metrics as JSON to this path (dense tasks: default "
            + "metrics.json; COCO results go next to it as coco_results[_<name>].json).")
    String out;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        if (task.equals(RetrievalEvaluation.TASK)) {
            return retrieval();
        }
        if (!task.equals("imagenet")) {
            return dense(DenseTask.parse(task));
        }
        if (compare != null) {
            throw new PelaException("--compare is for the dense tasks (--task ade20k or coco-detection)");
        }
        Recipe recipe = job.load();
        EvalSettings eval = EvalSettings.from(recipe);
        ModelSettings modelSettings = ModelSettings.from(recipe);
        DataSettings dataSettings = DataSettings.from(recipe);
        SparkConf conf = SparkContexts.conf("pela evaluate", job.master, eval.workers());
        // The model and the data listing are checked before the cluster is asked for executors.
        Storage storage = new Storage(SparkContexts.hadoopConf(conf));
        String configPath = model != null ? model + "/config.json" : modelSettings.config();
        String weightsPath = model != null ? model + "/model.safetensors" : modelSettings.weights();
        String s = split != null ? split : dataSettings.valSplit();
        Function<SerializableConf, EvaluateJob.Ref> ref;
        DataSetup data;
        if (SwinFiles.family(storage, configPath) == Family.SWIN) {
            SwinConfig cfg = SwinFiles.readConfig(storage, configPath);
            data = DataSetup.forEvaluation(storage, dataSettings, DataSetup.Input.of(cfg), s);
            ref = hadoop -> new SwinEvalRef(cfg, weightsPath, hadoop);
        } else {
            ModelConfig cfg = JobFiles.readConfig(storage, configPath);
            data = DataSetup.forEvaluation(storage, dataSettings, cfg, s);
            ref = hadoop -> new EvaluateJob.ModelRef(cfg, weightsPath, hadoop);
        }
        try (JavaSparkContext sc = SparkContexts.create(conf)) {
            EvaluateJob.Metrics m = EvaluateJob.run(sc, ref.apply(new SerializableConf(sc.hadoopConfiguration())),
                    data.train(), data.source(), eval.batchSize(), eval.partitions());
            System.out.printf("%s on %s: top-1 %.2f %%, top-5 %.2f %% over %d images (%d skipped), %.1f images/s%n",
                    weightsPath, s, 100 * m.top1Accuracy(), 100 * m.top5Accuracy(), m.examples(), m.skipped(),
                    m.imagesPerSecond());
            if (out != null) {
                ObjectNode n = new ObjectMapper().createObjectNode();
                n.put("model", weightsPath);
                n.put("split", s);
                n.put("examples", m.examples());
                n.put("top1", m.top1Accuracy());
                n.put("top5", m.top5Accuracy());
                n.put("skipped", m.skipped());
                n.put("images_per_s", m.imagesPerSecond());
                Path metrics = Storage.path(out);
                JobFiles.writeText(storage, metrics, n.toPrettyString() + "\n");
                RunReport.addSection(storage, reportDir(metrics), "imagenet/" + s, "Image classification (" + s + ")",
                        ReportHtml.table(List.of("model", "images", "skipped", "top-1 %", "top-5 %", "images/s"),
                                List.of(List.of(weightsPath, String.valueOf(m.examples()), String.valueOf(m.skipped()),
                                        String.format(Locale.ROOT, "%.2f", 100 * m.top1Accuracy()),
                                        String.format(Locale.ROOT, "%.2f", 100 * m.top5Accuracy()),
                                        String.format(Locale.ROOT, "%.1f", m.imagesPerSecond())))));
            }
        }
        return 0;
    }

    private int retrieval() {
        Recipe recipe = job.load();
        int workers = EvalSettings.from(recipe).workers();
        SparkConf conf = SparkContexts.conf("pela evaluate", job.master, workers);
        Storage storage = new Storage(SparkContexts.hadoopConf(conf));
        RetrievalEvaluation eval = new RetrievalEvaluation(RetrievalSettings.from(recipe), storage);
        Map<String, String> models = RetrievalEvaluation.models(model, compare);
        // The models and the test set are read and checked before the cluster is asked for executors.
        Map<String, RetrievalEvaluateJob.ModelRef> refs = eval.check(models, SparkContexts.hadoopConf(conf));
        RetrievalEvalSet set = eval.evalSet(split);
        RetrievalEvaluateJob.Settings settings = eval.settings(workers);
        Path metrics = Storage.path(out != null ? out : "metrics.json");
        List<RetrievalEvaluation.Row> rows = new ArrayList<>();
        try (JavaSparkContext sc = SparkContexts.create(conf)) {
            refs.forEach((name, ref) -> rows.add(eval.evaluate(sc, name, models.get(name), ref, set, settings)));
        }
        eval.printTable(rows, System.out);
        JobFiles.writeText(storage, metrics, RetrievalEvaluation.metricsJson(rows));
        System.out.println("metrics written to " + metrics);
        System.out.println("report section added to " + eval.writeReport(metrics, rows, set, settings, split));
        return 0;
    }

    private int dense(DenseTask t) {
        Recipe recipe = job.load();
        EvalSettings evalSettings = EvalSettings.from(recipe);
        DenseSettings dense = DenseSettings.from(recipe);
        SparkConf conf = SparkContexts.conf("pela evaluate", job.master, evalSettings.workers());
        Storage storage = new Storage(SparkContexts.hadoopConf(conf));
        String s = split != null ? split : t == DenseTask.ADE20K ? dense.ade20kValSplit() : "val";
        DenseEvaluation eval = new DenseEvaluation(dense, evalSettings, storage, t, s);
        Map<String, String> models = DenseEvaluation.models(model, compare);
        // Every model directory is read and checked before the cluster is asked for executors.
        List<DenseFiles.DenseRef> refs = eval.check(models);
        Path metrics = Storage.path(out != null ? out : "metrics.json");
        List<String> names = List.copyOf(models.keySet());
        List<DenseEvaluation.Row> rows = new ArrayList<>();
        try (JavaSparkContext sc = SparkContexts.create(conf)) {
            for (int i = 0; i < refs.size(); i++) {
                String file = refs.size() == 1 ? "coco_results.json" : "coco_results_" + names.get(i) + ".json";
                Path results = metrics.getParent() == null ? new Path(file) : new Path(metrics.getParent(), file);
                rows.add(eval.evaluate(sc, names.get(i), refs.get(i), results));
            }
        }
        eval.printTable(rows, System.out);
        JobFiles.writeText(storage, metrics, eval.metricsJson(rows));
        System.out.println("metrics written to " + metrics);
        Path report = RunReport.addSection(storage, reportDir(metrics), t.cli() + "/" + s,
                t.title() + " (" + s + ")", eval.reportSection(rows));
        System.out.println("report section added to " + report);
        return 0;
    }

    /** The report lives beside metrics.json (the working directory when --out is a bare file name). */
    private static Path reportDir(Path metrics) {
        return metrics.getParent() != null ? metrics.getParent() : new Path(".");
    }
}
