package ai.pela.spark.jobs;

import ai.pela.spark.data.Sample;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.train.BatchSource;
import ai.pela.spark.train.Fingerprint;
import ai.pela.spark.train.LoadedBatch;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.vit.VitModel;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code evaluate}: top-1 / top-5 accuracy of a model over a split, distributed. Each task loads the model once
 * per executor (from its Hadoop path), runs its slice in batches and returns counts; the driver sums them.
 */
public final class EvaluateJob {
    /** Accuracy over a split, and the evaluation's throughput. */
    public record Metrics(long examples, long top1, long top5, int skipped, double seconds) implements Serializable {
        public double top1Accuracy() {
            return examples == 0 ? 0 : (double) top1 / examples;
        }

        public double top5Accuracy() {
            return examples == 0 ? 0 : (double) top5 / examples;
        }

        public double imagesPerSecond() {
            return examples / Math.max(1e-9, seconds);
        }

        Metrics plus(Metrics o) {
            return new Metrics(examples + o.examples, top1 + o.top1, top5 + o.top5, skipped + o.skipped,
                    Math.max(seconds, o.seconds));
        }
    }

    /** A classifier an executor loads once (from its Hadoop path) and runs: images [N, C, H, W] → logits [N, classes]. */
    public interface Classifier {
        INDArray logits(INDArray images);
    }

    /** The model to evaluate, whichever family: how an executor loads it, and a key for its cache. */
    public interface Ref extends Serializable {
        String key();

        Classifier load();
    }

    /** A ViT to evaluate: its architecture and the Hadoop path of its checkpoint. */
    public record ModelRef(ModelConfig config, String weights, SerializableConf hadoop) implements Ref {
        @Override
        public String key() {
            return "vit|" + weights + "|" + Fingerprint.of(config);
        }

        @Override
        public Classifier load() {
            StateDict sd = JobFiles.readWeights(hadoop.storage(), weights, config);
            return VitModel.create(config, sd, weights)::logits;
        }
    }

    private static final Map<String, Classifier> MODELS = new ConcurrentHashMap<>();

    private EvaluateJob() {
    }

    public static Metrics run(JavaSparkContext sc, Ref model, List<Sample> samples, BatchSource source,
            int batchSize, int partitions) {
        long t0 = System.nanoTime();
        List<List<Sample>> chunks = new ArrayList<>();
        for (int i = 0; i < samples.size(); i += batchSize) {
            chunks.add(List.copyOf(samples.subList(i, Math.min(samples.size(), i + batchSize))));
        }
        Metrics m = sc.parallelize(chunks, Math.max(1, Math.min(partitions, chunks.size())))
                .mapPartitions(it -> {
                    Classifier classifier = model(model);
                    Metrics acc = new Metrics(0, 0, 0, 0, 0);
                    while (it.hasNext()) {
                        acc = acc.plus(evaluate(classifier, it.next(), source));
                    }
                    return List.of(acc).iterator();
                })
                .reduce(Metrics::plus);
        return new Metrics(m.examples(), m.top1(), m.top5(), m.skipped(), (System.nanoTime() - t0) / 1e9);
    }

    private static Classifier model(Ref ref) {
        // One model per executor and checkpoint; the models serialise their own passes.
        return MODELS.computeIfAbsent(ref.key(), k -> ref.load());
    }

    static Metrics evaluate(Classifier classifier, List<Sample> chunk, BatchSource source) {
        LoadedBatch b = source.load(chunk, 0);
        if (b.size() == 0) {
            return new Metrics(0, 0, 0, b.skipped().size(), 0);
        }
        INDArray logits = classifier.logits(b.images());
        long top1 = 0;
        long top5 = 0;
        int classes = (int) logits.size(1);
        for (int i = 0; i < b.size(); i++) {
            float[] row = logits.getRow(i).toFloatVector();
            int label = b.labels()[i];
            int rank = 0;
            for (int c = 0; c < classes; c++) {
                if (row[c] > row[label]) {
                    rank++;
                }
            }
            top1 += rank == 0 ? 1 : 0;
            top5 += rank < 5 ? 1 : 0;
        }
        logits.close();
        b.images().close();
        return new Metrics(b.size(), top1, top5, b.skipped().size(), 0);
    }
}
