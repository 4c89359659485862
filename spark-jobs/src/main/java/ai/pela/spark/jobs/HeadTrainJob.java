package ai.pela.spark.jobs;

import ai.pela.spark.config.DenseSettings;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.data.DenseTransform;
import ai.pela.spark.data.Sample;
import ai.pela.spark.dense.DenseSources;
import ai.pela.spark.dense.DenseStepFactory;
import ai.pela.spark.eval.Ade20kSource;
import ai.pela.spark.eval.CocoInstances;
import ai.pela.spark.eval.SegSample;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.train.BatchSource;
import ai.pela.spark.train.ModelSpec;
import ai.pela.spark.train.ParameterAveraging;
import ai.pela.spark.train.RoundMetrics;
import ai.pela.spark.train.TrainRun;
import ai.pela.spark.train.TrainState;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.dense.DenseInit;
import ai.pela.zoo.dense.DenseModel;
import ai.pela.zoo.dense.FcosConfig;
import ai.pela.zoo.dense.HeadConfig;
import ai.pela.zoo.dense.UperNetConfig;
import ai.pela.zoo.io.StateDict;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code train-head}: fine-tunes a backbone (a teacher, a naive low-rank or a PELA student, from its model
 * directory) with a dense head on ADE20K or COCO: the {@link TrainRun} with the dense step
 * ({@link ai.pela.zoo.dense.DenseStep}, through {@link DenseStepFactory}) and dense batches, without distillation.
 * Checkpoints, resuming, metrics.jsonl and the NaN/Inf guard are the run's. The result is a dense model directory
 * ({@link DenseFiles}).
 */
public final class HeadTrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(HeadTrainJob.class);

    /** Everything read and checked on the driver before the cluster is asked for anything. */
    public record Prepared(DenseTask task, TrainRun.Prepared run, ModelConfig backbone, HeadConfig head,
            double backboneLrScale) {
    }

    public record Result(Path modelDir, TrainState state, List<RoundMetrics> rounds) {
    }

    private HeadTrainJob() {
    }

    public static Prepared prepare(Storage storage, RunConfig config, DenseSettings dense, DenseTask task) {
        ModelConfig backbone = JobFiles.readConfig(storage, config.model().config());
        StateDict weights = JobFiles.readWeights(storage, config.model().weights(), backbone);
        List<Sample> samples;
        HeadConfig head;
        BatchSource source;
        DenseTransform transform = transform(dense, backbone);
        var policy = config.data().badImagePolicy();
        SerializableConf hadoop = new SerializableConf(storage.conf());
        if (task == DenseTask.ADE20K) {
            head = head(storage, dense, backbone, task, List.of());
            samples = adeSamples(storage, dense);
            source = new DenseSources.Segmentation(hadoop, transform, policy);
        } else {
            String annotations = dense.requiredCocoTrainAnnotations();
            CocoInstances coco = CocoInstances.read(storage, annotations);
            samples = cocoSamples(coco, dense.requiredCocoTrainImages());
            head = head(storage, dense, backbone, task, Arrays.stream(coco.categoryIds()).boxed().toList());
            checkCategories((FcosConfig) head, coco);
            source = new DenseSources.Detection(hadoop, transform, policy, annotations, ((FcosConfig) head).categoryIds());
        }
        head.checkBackbone(backbone, dense.head().isBlank() ? "the default head" : dense.head());
        double lrScale = dense.checkedBackboneLrScale();
        samples = config.data().limited(samples);
        StateDict initial = DenseInit.initial(backbone, weights, head, config.seed(), config.model().weights());
        List<String> order = new ArrayList<>(DenseModel.parameterShapes(backbone, head).keySet());
        TrainRun.Prepared run = TrainRun.prepare(storage, config,
                new TrainRun.Setup(samples, source, initial, order, "the configured backbone and head have"));
        return new Prepared(task, run, backbone, head, lrScale);
    }

    public static Result run(JavaSparkContext sc, Prepared p, ParameterAveraging.RoundListener listener) {
        SerializableConf hadoop = new SerializableConf(sc.hadoopConfiguration());
        DenseStepFactory factory = new DenseStepFactory(p.head(), p.backboneLrScale());
        TrainRun.Outcome end = TrainRun.run(sc, p.run(),
                hyper -> new ModelSpec(p.backbone(), null, null, hyper, hadoop, "fp32", factory), false,
                "train-head " + p.task().cli() + ": " + p.head().type() + " head", listener);
        Path modelDir = new Path(p.run().runDir(), "model");
        DenseFiles.write(p.run().storage(), modelDir, p.backbone(), p.head(), end.weights());
        LOG.info("wrote {}", modelDir);
        return new Result(modelDir, end.state(), end.rounds());
    }

    static DenseTransform transform(DenseSettings dense, ModelConfig backbone) {
        double[] r = dense.checkedScaleRange();
        return new DenseTransform(dense.imgSize(), array(backbone.mean()), array(backbone.std()), r[0], r[1]);
    }

    static double[] array(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static List<Sample> adeSamples(Storage storage, DenseSettings dense) {
        Ade20kSource ade = new Ade20kSource(storage, dense.requiredAde20kRoot());
        List<Sample> out = new ArrayList<>();
        for (SegSample s : ade.list(dense.ade20kTrainSplit())) {
            out.add(Sample.file(s.image(), 0));
        }
        return out;
    }

    /** One sample per image of the instances file; its label is the image's index in the file. */
    static List<Sample> cocoSamples(CocoInstances coco, String imagesDir) {
        String dir = imagesDir.endsWith("/") ? imagesDir.substring(0, imagesDir.length() - 1) : imagesDir;
        List<Sample> out = new ArrayList<>();
        List<CocoInstances.Image> images = coco.images();
        for (int i = 0; i < images.size(); i++) {
            out.add(Sample.file(dir + "/" + images.get(i).fileName(), i));
        }
        return out;
    }

    /** The head of {@code dense.head}, or the task's default sized from the backbone. */
    static HeadConfig head(Storage storage, DenseSettings dense, ModelConfig backbone, DenseTask task,
            List<Integer> categoryIds) {
        String file = dense.head();
        int imgSize = dense.imgSize();
        if (!file.isBlank()) {
            HeadConfig h = DenseFiles.readHead(storage, file);
            if (h.imgSize() != imgSize) {
                throw new PelaException(file + ": field 'img_size' is " + h.imgSize() + " but pela.dense.img-size is "
                        + imgSize + "; set one to the other");
            }
            boolean seg = h instanceof UperNetConfig;
            if (seg != (task == DenseTask.ADE20K)) {
                throw new PelaException(file + ": a " + h.type() + " head does not fit --task " + task.cli());
            }
            return h;
        }
        return task == DenseTask.ADE20K ? UperNetConfig.defaults(backbone, imgSize, Ade20kSource.NUM_CLASSES)
                : FcosConfig.defaults(backbone, imgSize, categoryIds);
    }

    static void checkCategories(FcosConfig head, CocoInstances coco) {
        for (int id : head.categoryIds()) {
            if (!coco.hasCategory(id)) {
                throw new PelaException("head field 'category_ids' has " + id + ", which " + coco.source()
                        + " does not define");
            }
        }
    }
}
