package ai.pela.spark.albef;

import ai.pela.spark.config.AlbefSettings;
import ai.pela.spark.config.DataSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.data.BadImagePolicy;
import ai.pela.spark.data.CaptionBatchLoader;
import ai.pela.spark.data.CaptionSources;
import ai.pela.spark.data.ImageTransform;
import ai.pela.spark.data.Sample;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.Calibration;
import ai.pela.spark.jobs.TrainJob;
import ai.pela.spark.train.ModelSpec;
import ai.pela.spark.train.ParameterAveraging;
import ai.pela.spark.train.RoundMetrics;
import ai.pela.spark.train.TrainRun;
import ai.pela.spark.train.TrainState;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.albef.AlbefConfig;
import ai.pela.zoo.albef.AlbefInit;
import ai.pela.zoo.albef.AlbefLayout;
import ai.pela.zoo.albef.AlbefLowRank;
import ai.pela.zoo.albef.AlbefPelaStep;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.text.BertTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code pretrain} and {@code train-teacher} for ALBEF, chosen when {@code pela.model.config} is an ALBEF
 * config.json: the {@link TrainRun} with ALBEF's step ({@link AlbefPelaStep}, through {@link AlbefStepFactory}) and
 * image-text batches ({@link AlbefBatchSource}). pretrain compresses the teacher on the driver with ALBEF's omit
 * rules (uniform κ or a parameter budget; plain or activation-aware SVD, the latter calibrated on
 * {@code model.calibration-images} training pairs by {@link Calibration}) and trains the student on
 * ITC + ITM + MLM + α·L_fd + β·L_rwp; train-teacher trains a dense ALBEF (from {@code model.weights}, or seeded
 * random) on ITC + ITM + MLM.
 */
public final class AlbefTrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(AlbefTrainJob.class);

    /** Everything read and checked on the driver before the cluster is asked for anything. */
    public record Prepared(TrainJob.Mode mode, TrainRun.Prepared run, AlbefConfig studentConfig,
            AlbefConfig teacherConfig, String teacherWeights, int textLength, AlbefPelaStep.Negatives negatives) {
    }

    public record Result(Path modelDir, AlbefConfig config, TrainState state, List<RoundMetrics> rounds) {
    }

    private AlbefTrainJob() {
    }

    public static Result run(JavaSparkContext sc, Recipe recipe, TrainJob.Mode mode) {
        return run(sc, prepare(new Storage(sc.hadoopConfiguration()), recipe, mode), (m, s) -> { });
    }

    public static Prepared prepare(Storage storage, Recipe recipe, TrainJob.Mode mode) {
        return prepare(storage, RunConfig.from(recipe), AlbefSettings.from(recipe), mode);
    }

    public static Prepared prepare(Storage storage, RunConfig config, AlbefSettings albef, TrainJob.Mode mode) {
        String configFile = config.model().config();
        AlbefConfig model = AlbefFiles.readConfig(storage, configFile);
        checkVocabulary(model, configFile);
        int textLength = albef.checkedTextTokens(model.text().maxPositionEmbeddings(), configFile);
        if (mode == TrainJob.Mode.TRAIN_TEACHER && albef.negatives() == AlbefPelaStep.Negatives.TEACHER) {
            throw new PelaException("configuration key 'pela.albef.negatives' is teacher, but train-teacher has no "
                    + "teacher; use student");
        }
        if (ModelSpec.checkPrecision(config.gpu().teacherPrecision()).equals("fp16")) {
            // ALBEF's graph (ViT + BERT with cross-attention) is built in FP32 only; say so rather than ignore the key.
            throw new PelaException("configuration key 'pela.gpu.teacher-precision' is fp16, but an ALBEF teacher runs"
                    + " in FP32 only; use auto or fp32");
        }
        if (config.loss().fdPoints() != ai.pela.zoo.loss.FdPoints.BLOCKS) {
            throw new PelaException("configuration key 'pela.loss.fd-points' is " + config.loss().fdPoints()
                    .name().toLowerCase(java.util.Locale.ROOT) + ", but ALBEF distils every block (blocks) only");
        }
        List<Sample> samples = samples(storage, config.data());
        AlbefBatchSource source = source(storage, config.data(), albef, model, textLength);

        AlbefConfig studentConfig;
        AlbefConfig teacherConfig = null;
        String teacherWeights = null;
        StateDict initial;
        if (mode == TrainJob.Mode.PRETRAIN) {
            teacherConfig = model;
            teacherWeights = config.model().weights();
            StateDict teacher = AlbefFiles.readWeights(storage, teacherWeights, model);
            Map<String, INDArray> scales = config.model().activationAware() ? Calibration.inputScales(storage, samples,
                    config.model().calibrationImages(), model, teacher, textSpec(albef, textLength),
                    config.data().badImagePolicy()) : Map.of();
            AlbefLowRank.Student s = AlbefLowRank.compress(model, teacher, config.model().rankPolicy(), albef.omit(),
                    scales);
            studentConfig = s.config();
            initial = s.weights();
            LOG.info("teacher {}: {} low-rank Linears at kappa {} ({} SVD)", teacherWeights,
                    s.config().lowrank().ranks().size(), String.format("%.3f", s.config().lowrank().kappa()),
                    scales.isEmpty() ? "plain" : "activation-aware");
        } else {
            studentConfig = model;
            String w = config.model().weights();
            initial = w.isBlank() ? AlbefInit.random(model, config.seed()) : AlbefFiles.readWeights(storage, w, model);
        }
        List<String> order = new ArrayList<>(AlbefLayout.parameterShapes(studentConfig).keySet());
        TrainRun.Prepared run = TrainRun.prepare(storage, config,
                new TrainRun.Setup(samples, source, initial, order, "the configured ALBEF student has"));
        return new Prepared(mode, run, studentConfig, teacherConfig, teacherWeights, textLength, albef.negatives());
    }

    public static Result run(JavaSparkContext sc, Prepared p, ParameterAveraging.RoundListener listener) {
        AlbefStepFactory factory = new AlbefStepFactory(p.studentConfig(), p.teacherConfig(), p.teacherWeights(),
                p.textLength(), p.negatives());
        SerializableConf hadoop = new SerializableConf(sc.hadoopConfiguration());
        boolean pretrain = p.mode() == TrainJob.Mode.PRETRAIN;
        TrainRun.Outcome end = TrainRun.run(sc, p.run(),
                hyper -> new ModelSpec(null, null, p.teacherWeights(), hyper, hadoop, "fp32", factory), pretrain,
                (pretrain ? "pretrain" : "train-teacher") + " ALBEF " + p.studentConfig().architecture(), listener);
        Path modelDir = new Path(p.run().runDir(), "model");
        AlbefFiles.writeModel(p.run().storage(), modelDir, p.studentConfig(), end.weights());
        LOG.info("wrote {}", modelDir);
        return new Result(modelDir, p.studentConfig(), end.state(), end.rounds());
    }

    /** The annotation files of {@code data.annotations} in {@code data.format}, listed once on the driver. */
    static List<Sample> samples(Storage storage, DataSettings data) {
        CaptionSources.Format format;
        try {
            format = CaptionSources.Format.parse(data.format());
        } catch (PelaException e) {
            throw new PelaException("configuration key 'pela.data.format': " + e.getMessage()
                    + " (the model is an ALBEF, which trains on image-text pairs)", e);
        }
        if (data.annotations().isEmpty()) {
            throw new PelaException("configuration key 'pela.data.annotations' is not set: give the " + format.key()
                    + " annotation JSON file(s)");
        }
        return data.limited(CaptionSources.train(storage, format, data.annotations(), data.imageRoot()));
    }

    static AlbefBatchSource source(Storage storage, DataSettings data, AlbefSettings albef, AlbefConfig config,
            int textLength) {
        double[] scale = data.checkedCropScale();
        ImageTransform t = ImageTransform.train(config.vision().imgSize(), array(config.vision().mean()),
                array(config.vision().std()), scale[0], scale[1]);
        if (!data.hflip()) {
            t = t.withoutFlip();
        }
        double p = albef.checkedMaskProb();
        BadImagePolicy policy = data.badImagePolicy();
        return new AlbefBatchSource(new SerializableConf(storage.conf()), t, policy, textSpec(albef, textLength), p);
    }

    /** Captions as training and calibration tokenise them: ALBEF's word limit, padded to the text length. */
    private static CaptionBatchLoader.TextSpec textSpec(AlbefSettings albef, int textLength) {
        return new CaptionBatchLoader.TextSpec(albef.maxWords(), textLength, BertTokenizer.Padding.MAX_LENGTH);
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
