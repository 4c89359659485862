package ai.pela.cli;

import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.DataSetup;
import ai.pela.spark.jobs.EvaluateJob;
import ai.pela.spark.jobs.JobFiles;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.spark.train.Recipe;
import ai.pela.zoo.config.ModelConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code evaluate}: top-1/top-5 of a model over a split, distributed over the executors. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Top-1 / top-5 accuracy of a model (teacher or PELA student) over a data split, computed "
                + "on the executors; prints the result and writes it as JSON with --out.")
final class EvaluateCommand implements Callable<Integer> {
    @Mixin
    JobOptions job;

    @Option(names = "--model", description = "A model directory with config.json and model.safetensors "
            + "(default: pela.model.config / pela.model.weights of the recipe).")
    String model;

    @Option(names = "--split", description = "The split to evaluate (default: pela.data.val-split).")
    String split;

    @Option(names = "--out", description = "Write the metrics as JSON to this path.")
    String out;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        Recipe recipe = job.load();
        SparkConf conf = SparkContexts.conf("pela evaluate", job.master, recipe.positive("train.workers"));
        // The model and the data listing are checked before the cluster is asked for executors.
        Storage storage = new Storage(SparkContexts.hadoopConf(conf));
        String configPath = model != null ? model + "/config.json" : recipe.string("model.config");
        String weightsPath = model != null ? model + "/model.safetensors" : recipe.string("model.weights");
        ModelConfig cfg = JobFiles.readConfig(storage, configPath);
        String s = split != null ? split : recipe.string("data.val-split");
        DataSetup data = DataSetup.forEvaluation(storage, recipe, cfg, s);
        try (JavaSparkContext sc = SparkContexts.create(conf)) {
            EvaluateJob.Metrics m = EvaluateJob.run(sc, new EvaluateJob.ModelRef(cfg, weightsPath,
                    new SerializableConf(sc.hadoopConfiguration())), data.train(), data.source(),
                    recipe.positive("eval.batch-size"), 2 * recipe.positive("train.workers"));
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
                JobFiles.writeText(storage, Storage.path(out), n.toPrettyString() + "\n");
            }
        }
        return 0;
    }
}
