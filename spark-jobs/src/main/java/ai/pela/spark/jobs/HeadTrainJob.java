package ai.pela.spark.jobs;

import ai.pela.spark.data.BadImagePolicy;
import ai.pela.spark.data.DenseTransform;
import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.data.Sample;
import ai.pela.spark.dense.DenseSources;
import ai.pela.spark.dense.DenseStepFactory;
import ai.pela.spark.eval.Ade20kSource;
import ai.pela.spark.eval.CocoInstances;
import ai.pela.spark.eval.SegSample;
import ai.pela.spark.gpu.GpuProfile;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.train.BatchSource;
import ai.pela.spark.train.Checkpoints;
import ai.pela.spark.train.MetricsLog;
import ai.pela.spark.train.ModelSpec;
import ai.pela.spark.train.ParameterAveraging;
import ai.pela.spark.train.Recipe;
import ai.pela.spark.train.RoundMetrics;
import ai.pela.spark.train.TrainState;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.dense.DenseInit;
import ai.pela.zoo.dense.DenseModel;
import ai.pela.zoo.dense.FcosConfig;
import ai.pela.zoo.dense.HeadConfig;
import ai.pela.zoo.dense.UperNetConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.StepHyper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code train-head}: fine-tunes a backbone (a teacher, a naive low-rank or a PELA student, from its model
 * directory) with a dense head on ADE20K or COCO, by the same parameter averaging as pre-training — only the step
 * ({@link ai.pela.zoo.dense.DenseStep}, through {@link DenseStepFactory}) and the batches differ. Checkpoints,
 * resuming, metrics.jsonl and the NaN/Inf guard are the trainer's. The result is a dense model directory
 * ({@link DenseFiles}).
 */
public final class HeadTrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(HeadTrainJob.class);

    /** Everything read and checked on the driver before the cluster is asked for anything. */
    public record Prepared(Recipe recipe, DenseTask task, Storage storage, Path runDir, ModelConfig backbone,
            HeadConfig head, List<Sample> samples, BatchSource source, EpochPlan plan, int totalRounds,
            StateDict initial, List<String> order, Checkpoints checkpoints, TrainState start) {
    }

    public record Result(Path modelDir, TrainState state, List<RoundMetrics> rounds) {
    }

    private HeadTrainJob() {
    }

    public static Prepared prepare(Storage storage, Recipe recipe, DenseTask task) {
        ModelConfig backbone = JobFiles.readConfig(storage, recipe.string("model.config"));
        StateDict weights = JobFiles.readWeights(storage, recipe.string("model.weights"), backbone);
        int imgSize = recipe.positive("dense.img-size");
        List<Sample> samples;
        HeadConfig head;
        BatchSource source;
        DenseTransform transform = transform(recipe, backbone, imgSize);
        BadImagePolicy policy = BadImagePolicy.parse(recipe.string("data.on-bad-image"));
        SerializableConf hadoop = new SerializableConf(storage.conf());
        if (task == DenseTask.ADE20K) {
            head = head(storage, recipe, backbone, imgSize, task, List.of());
            samples = adeSamples(storage, recipe);
            source = new DenseSources.Segmentation(hadoop, transform, policy);
        } else {
            String annotations = required(recipe, "dense.coco-train-annotations");
            CocoInstances coco = CocoInstances.read(storage, annotations);
            samples = cocoSamples(coco, required(recipe, "dense.coco-train-images"));
            head = head(storage, recipe, backbone, imgSize, task, Arrays.stream(coco.categoryIds()).boxed().toList());
            checkCategories((FcosConfig) head, coco);
            source = new DenseSources.Detection(hadoop, transform, policy, annotations, ((FcosConfig) head).categoryIds());
        }
        head.checkBackbone(backbone, head(recipe));
        backboneLrScale(recipe);
        int limit = recipe.integer("data.limit");
        if (limit > 0 && limit < samples.size()) {
            samples = List.copyOf(samples.subList(0, limit));
        }
        return plan(storage, recipe, task, backbone, head, weights, samples, source);
    }

    private static Prepared plan(Storage storage, Recipe recipe, DenseTask task, ModelConfig backbone, HeadConfig head,
            StateDict weights, List<Sample> samples, BatchSource source) {
        long seed = recipe.longValue("seed");
        EpochPlan plan = new EpochPlan(samples, seed, recipe.positive("train.workers"),
                recipe.positive("train.local-steps"), recipe.positive("train.batch-size"));
        int totalRounds = plan.roundsPerEpoch() * recipe.positive("train.epochs");
        int maxRounds = recipe.integer("train.max-rounds");
        if (maxRounds > 0) {
            totalRounds = Math.min(totalRounds, maxRounds);
        }
        StateDict initial = DenseInit.initial(backbone, weights, head, seed, recipe.string("model.weights"));
        List<String> order = new ArrayList<>(DenseModel.parameterShapes(backbone, head).keySet());
        Path runDir = Storage.path(recipe.string("run-dir"));
        Checkpoints checkpoints = new Checkpoints(storage, runDir, recipe.positive("checkpoint.keep"));
        TrainState start = checkpoints.resumeOrStart(initial, order, "the configured backbone and head have");
        return new Prepared(recipe, task, storage, runDir, backbone, head, samples, source, plan, totalRounds, initial,
                order, checkpoints, start);
    }

    public static Result run(JavaSparkContext sc, Prepared p, ParameterAveraging.RoundListener listener) {
        Recipe recipe = p.recipe();
        int k = recipe.positive("train.local-steps");
        p.storage().mkdirs(p.runDir());
        JobFiles.writeText(p.storage(), new Path(p.runDir(), "config.conf"), recipe.render());
        StepHyper hyper = TrainJob.hyper(recipe, TrainJob.Mode.TRAIN_TEACHER, p.totalRounds(), p.plan().roundsPerEpoch(), k);
        ModelSpec spec = new ModelSpec(p.backbone(), null, null, hyper, new SerializableConf(sc.hadoopConfiguration()), "fp32",
                new DenseStepFactory(p.head(), backboneLrScale(recipe)));
        LOG.info("train-head {}: {} head, {} training images, {} workers x {} local steps x batch {} -> {} rounds/epoch,"
                        + " {} rounds", p.task().cli(), p.head().type(), p.samples().size(), recipe.positive("train.workers"), k,
                recipe.positive("train.batch-size"), p.plan().roundsPerEpoch(), p.totalRounds());
        MetricsLog metrics = new MetricsLog(p.storage(), p.runDir(), p.start().roundsDone());
        ParameterAveraging trainer = new ParameterAveraging(sc, spec, p.source(), p.plan(),
                new ParameterAveraging.Settings(recipe.positive("train.workers"), k, p.totalRounds(),
                        recipe.positive("checkpoint.every-rounds"), recipe.longValue("seed")).withExchange(recipe), p.checkpoints(), metrics)
                .listener(listener)
                .resources(GpuProfile.build(GpuProfile.Settings.from(recipe)).orElse(null));
        TrainState end = trainer.run(p.start());
        StateDict finalWeights = TrainJob.unflatten(end.params(), p.initial(), p.order());
        Path modelDir = new Path(p.runDir(), "model");
        DenseFiles.write(p.storage(), modelDir, p.backbone(), p.head(), finalWeights);
        LOG.info("wrote {}", modelDir);
        return new Result(modelDir, end, metrics.rounds());
    }

    static double backboneLrScale(Recipe recipe) {
        double s = recipe.number("dense.backbone-lr-scale");
        if (!(s >= 0)) {
            throw new PelaException("configuration key 'pela.dense.backbone-lr-scale' must be >= 0, got " + s);
        }
        return s;
    }

    static DenseTransform transform(Recipe recipe, ModelConfig backbone, int imgSize) {
        List<Double> r = recipe.numbers("dense.scale-range");
        if (r.size() != 2 || !(r.get(0) >= 1) || r.get(0) > r.get(1)) {
            throw new PelaException("configuration key 'pela.dense.scale-range' must be [min, max] with 1 <= min <= max,"
                    + " got " + r);
        }
        return new DenseTransform(imgSize, array(backbone.mean()), array(backbone.std()), r.get(0), r.get(1));
    }

    static double[] array(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static List<Sample> adeSamples(Storage storage, Recipe recipe) {
        Ade20kSource ade = new Ade20kSource(storage, required(recipe, "dense.ade20k-root"));
        List<Sample> out = new ArrayList<>();
        for (SegSample s : ade.list(recipe.string("dense.ade20k-train-split"))) {
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
    static HeadConfig head(Storage storage, Recipe recipe, ModelConfig backbone, int imgSize, DenseTask task,
            List<Integer> categoryIds) {
        String file = recipe.string("dense.head");
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

    private static String head(Recipe recipe) {
        String f = recipe.string("dense.head");
        return f.isBlank() ? "the default head" : f;
    }

    static void checkCategories(FcosConfig head, CocoInstances coco) {
        for (int id : head.categoryIds()) {
            if (!coco.hasCategory(id)) {
                throw new PelaException("head field 'category_ids' has " + id + ", which " + coco.source()
                        + " does not define");
            }
        }
    }

    static String required(Recipe recipe, String key) {
        String v = recipe.string(key);
        if (v.isBlank()) {
            throw new PelaException("configuration key 'pela." + key + "' is not set");
        }
        return v;
    }
}
