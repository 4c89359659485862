package ai.pela.spark.albef;

import ai.pela.spark.data.BadImagePolicy;
import ai.pela.spark.data.CaptionBatchLoader;
import ai.pela.spark.data.CaptionSources;
import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.data.ImageTransform;
import ai.pela.spark.data.Sample;
import ai.pela.spark.gpu.GpuProfile;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.JobFiles;
import ai.pela.spark.jobs.TrainJob;
import ai.pela.spark.train.Checkpoints;
import ai.pela.spark.train.MetricsLog;
import ai.pela.spark.train.ModelSpec;
import ai.pela.spark.train.ParameterAveraging;
import ai.pela.spark.train.Recipe;
import ai.pela.spark.train.RoundMetrics;
import ai.pela.spark.train.TrainState;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.albef.AlbefConfig;
import ai.pela.zoo.albef.AlbefInit;
import ai.pela.zoo.albef.AlbefLayout;
import ai.pela.zoo.albef.AlbefLowRank;
import ai.pela.zoo.albef.AlbefPelaStep;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.text.BertTokenizer;
import ai.pela.zoo.train.StepHyper;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code pretrain} and {@code train-teacher} for ALBEF, chosen when {@code pela.model.config} is an ALBEF
 * config.json. The same parameter averaging as the ViT jobs: only the step ({@link AlbefPelaStep}, through
 * {@link AlbefStepFactory}) and the batches ({@link AlbefBatchSource}) differ. pretrain compresses the teacher at κ
 * on the driver with ALBEF's omit rules and trains the student on ITC + ITM + MLM + α·L_fd + β·L_rwp;
 * train-teacher trains a dense ALBEF (from {@code model.weights}, or seeded random) on ITC + ITM + MLM.
 */
public final class AlbefTrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(AlbefTrainJob.class);

    /** Everything read and checked on the driver before the cluster is asked for anything. */
    public record Prepared(Recipe recipe, TrainJob.Mode mode, Storage storage, Path runDir, List<Sample> samples,
            AlbefBatchSource source, EpochPlan plan, int totalRounds, AlbefConfig studentConfig,
            AlbefConfig teacherConfig, String teacherWeights, int textLength, AlbefPelaStep.Negatives negatives,
            StateDict initial, List<String> order, Checkpoints checkpoints, TrainState start) {
    }

    public record Result(Path modelDir, AlbefConfig config, TrainState state, List<RoundMetrics> rounds) {
    }

    private AlbefTrainJob() {
    }

    /** True when the recipe's model is an ALBEF (its config.json names an ALBEF preset or has a bert_config). */
    public static boolean applies(Storage storage, Recipe recipe) {
        return AlbefFiles.isAlbef(storage, recipe.string("model.config"));
    }

    public static Result run(JavaSparkContext sc, Recipe recipe, TrainJob.Mode mode) {
        return run(sc, prepare(new Storage(sc.hadoopConfiguration()), recipe, mode), (m, s) -> { });
    }

    public static Prepared prepare(Storage storage, Recipe recipe, TrainJob.Mode mode) {
        String configFile = recipe.string("model.config");
        AlbefConfig config = AlbefFiles.readConfig(storage, configFile);
        checkVocabulary(config, configFile);
        int textLength = textLength(recipe, config, configFile);
        AlbefPelaStep.Negatives negatives = recipe.choice("albef.negatives", AlbefPelaStep.Negatives.class);
        if (mode == TrainJob.Mode.TRAIN_TEACHER && negatives == AlbefPelaStep.Negatives.TEACHER) {
            throw new PelaException("configuration key 'pela.albef.negatives' is teacher, but train-teacher has no "
                    + "teacher; use student");
        }
        if (ModelSpec.checkPrecision(recipe.string("gpu.teacher-precision")).equals("fp16")) {
            // ALBEF's graph (ViT + BERT with cross-attention) is built in FP32 only; say so rather than ignore the key.
            throw new PelaException("configuration key 'pela.gpu.teacher-precision' is fp16, but an ALBEF teacher runs"
                    + " in FP32 only; use auto or fp32");
        }
        List<Sample> samples = samples(storage, recipe);
        AlbefBatchSource source = source(storage, recipe, config, textLength);

        AlbefConfig studentConfig;
        AlbefConfig teacherConfig = null;
        String teacherWeights = null;
        StateDict initial;
        if (mode == TrainJob.Mode.PRETRAIN) {
            teacherConfig = config;
            teacherWeights = recipe.string("model.weights");
            StateDict teacher = AlbefFiles.readWeights(storage, teacherWeights, config);
            AlbefLowRank.Student s = AlbefLowRank.compress(config, teacher, recipe.number("model.kappa"),
                    recipe.strings("albef.omit"));
            studentConfig = s.config();
            initial = s.weights();
            LOG.info("teacher {}: {} low-rank Linears at kappa {}", teacherWeights, s.config().lowrank().ranks().size(),
                    recipe.number("model.kappa"));
        } else {
            studentConfig = config;
            String w = recipe.string("model.weights");
            initial = w.isBlank() ? AlbefInit.random(config, recipe.longValue("seed"))
                    : AlbefFiles.readWeights(storage, w, config);
        }
        return plan(storage, recipe, mode, samples, source, studentConfig, teacherConfig, teacherWeights, textLength,
                negatives, initial);
    }

    private static Prepared plan(Storage storage, Recipe recipe, TrainJob.Mode mode, List<Sample> samples,
            AlbefBatchSource source, AlbefConfig studentConfig, AlbefConfig teacherConfig, String teacherWeights,
            int textLength, AlbefPelaStep.Negatives negatives, StateDict initial) {
        EpochPlan plan = new EpochPlan(samples, recipe.longValue("seed"), recipe.positive("train.workers"),
                recipe.positive("train.local-steps"), recipe.positive("train.batch-size"));
        int totalRounds = plan.roundsPerEpoch() * recipe.positive("train.epochs");
        int maxRounds = recipe.integer("train.max-rounds");
        if (maxRounds > 0) {
            totalRounds = Math.min(totalRounds, maxRounds);
        }
        List<String> order = new ArrayList<>(AlbefLayout.parameterShapes(studentConfig).keySet());
        Path runDir = Storage.path(recipe.string("run-dir"));
        Checkpoints checkpoints = new Checkpoints(storage, runDir, recipe.positive("checkpoint.keep"));
        TrainState start = checkpoints.resumeOrStart(initial, order, "the configured ALBEF student has");
        return new Prepared(recipe, mode, storage, runDir, samples, source, plan, totalRounds, studentConfig,
                teacherConfig, teacherWeights, textLength, negatives, initial, order, checkpoints, start);
    }

    public static Result run(JavaSparkContext sc, Prepared p, ParameterAveraging.RoundListener listener) {
        Recipe recipe = p.recipe();
        int k = recipe.positive("train.local-steps");
        p.storage().mkdirs(p.runDir());
        JobFiles.writeText(p.storage(), new Path(p.runDir(), "config.conf"), recipe.render());
        StepHyper hyper = TrainJob.hyper(recipe, p.mode(), p.totalRounds(), p.plan().roundsPerEpoch(), k);
        AlbefStepFactory factory = new AlbefStepFactory(p.studentConfig(), p.teacherConfig(), p.teacherWeights(),
                p.textLength(), p.negatives());
        ModelSpec spec = new ModelSpec(null, null, p.teacherWeights(), hyper,
                new SerializableConf(sc.hadoopConfiguration()), "fp32", factory);
        LOG.info("{} ALBEF {}: {} image-text pairs, {} workers x {} local steps x batch {} -> {} rounds/epoch, {} rounds",
                p.mode() == TrainJob.Mode.PRETRAIN ? "pretrain" : "train-teacher", p.studentConfig().architecture(),
                p.samples().size(), recipe.positive("train.workers"), k, recipe.positive("train.batch-size"),
                p.plan().roundsPerEpoch(), p.totalRounds());
        MetricsLog metrics = new MetricsLog(p.storage(), p.runDir(), p.start().roundsDone());
        ParameterAveraging trainer = new ParameterAveraging(sc, spec, p.source(), p.plan(),
                new ParameterAveraging.Settings(recipe.positive("train.workers"), k, p.totalRounds(),
                        recipe.positive("checkpoint.every-rounds"), recipe.longValue("seed")).withExchange(recipe), p.checkpoints(), metrics)
                .listener(listener)
                .resources(GpuProfile.build(GpuProfile.Settings.from(recipe)).orElse(null));
        TrainState end = trainer.run(p.start());
        StateDict finalWeights = TrainJob.unflatten(end.params(), p.initial(), p.order());
        Path modelDir = new Path(p.runDir(), "model");
        AlbefFiles.writeModel(p.storage(), modelDir, p.studentConfig(), finalWeights);
        LOG.info("wrote {}", modelDir);
        return new Result(modelDir, p.studentConfig(), end, metrics.rounds());
    }

    /** The annotation files of {@code data.annotations} in {@code data.format}, listed once on the driver. */
    static List<Sample> samples(Storage storage, Recipe recipe) {
        CaptionSources.Format format;
        try {
            format = CaptionSources.Format.parse(recipe.string("data.format"));
        } catch (PelaException e) {
            throw new PelaException("configuration key 'pela.data.format': " + e.getMessage()
                    + " (the model is an ALBEF, which trains on image-text pairs)", e);
        }
        List<String> files = recipe.strings("data.annotations");
        if (files.isEmpty()) {
            throw new PelaException("configuration key 'pela.data.annotations' is not set: give the " + format.key()
                    + " annotation JSON file(s)");
        }
        List<Sample> samples = CaptionSources.train(storage, format, files, recipe.string("data.image-root"));
        int limit = recipe.integer("data.limit");
        return limit > 0 && limit < samples.size() ? List.copyOf(samples.subList(0, limit)) : samples;
    }

    static AlbefBatchSource source(Storage storage, Recipe recipe, AlbefConfig config, int textLength) {
        List<Double> scale = recipe.numbers("data.crop-scale");
        if (scale.size() != 2 || !(scale.get(0) > 0) || scale.get(0) > scale.get(1) || scale.get(1) > 1) {
            throw new PelaException("configuration key 'pela.data.crop-scale' must be [min, max] with 0 < min <= max <= 1, got " + scale);
        }
        ImageTransform t = ImageTransform.train(config.vision().imgSize(), array(config.vision().mean()),
                array(config.vision().std()), scale.get(0), scale.get(1));
        if (!recipe.flag("data.hflip")) {
            t = t.withoutFlip();
        }
        double p = recipe.number("albef.mask-prob");
        if (!(p > 0 && p <= 1)) {
            throw new PelaException("configuration key 'pela.albef.mask-prob' must be in (0, 1], got " + p);
        }
        BadImagePolicy policy;
        try {
            policy = BadImagePolicy.parse(recipe.string("data.on-bad-image"));
        } catch (IllegalArgumentException | PelaException e) {
            throw new PelaException("configuration key 'pela.data.on-bad-image': " + e.getMessage(), e);
        }
        CaptionBatchLoader.TextSpec text = new CaptionBatchLoader.TextSpec(recipe.positive("albef.max-words"), textLength,
                BertTokenizer.Padding.MAX_LENGTH);
        return new AlbefBatchSource(new SerializableConf(storage.conf()), t, policy, text, p);
    }

    private static int textLength(Recipe recipe, AlbefConfig config, String configFile) {
        int l = recipe.integer("albef.text-tokens");
        int max = config.text().maxPositionEmbeddings();
        if (l < 3 || l > max) {
            throw new PelaException("configuration key 'pela.albef.text-tokens' must be in [3, " + max
                    + "] (max_position_embeddings of " + configFile + "), got " + l);
        }
        return l;
    }

    /** Captions are tokenised with bert-base-uncased's vocabulary: the model's word table must have its size. */
    private static void checkVocabulary(AlbefConfig config, String configFile) {
        int vocab = BertTokenizer.bertBaseUncased().vocabSize();
        if (config.text().vocabSize() != vocab) {
            throw new PelaException(configFile + ": field 'bert_config.vocab_size' is " + config.text().vocabSize()
                    + ", but captions are tokenised with bert-base-uncased's " + vocab + "-token vocabulary");
        }
    }

    private static double[] array(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
