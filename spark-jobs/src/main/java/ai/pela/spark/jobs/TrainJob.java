package ai.pela.spark.jobs;

import ai.pela.spark.config.LossSettings;
import ai.pela.spark.config.ModelSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.data.Sample;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.train.ModelSpec;
import ai.pela.spark.train.ParameterAveraging;
import ai.pela.spark.train.RoundMetrics;
import ai.pela.spark.train.TrainRun;
import ai.pela.spark.train.TrainState;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.lowrank.RankPolicy;
import ai.pela.zoo.vit.VitInit;
import ai.pela.zoo.vit.VitLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code train-teacher} and {@code pretrain} of a ViT: the {@link TrainRun} with the ViT's step and image batches.
 * pretrain compresses the teacher at κ on the driver (PELA's surgery) and trains the student with
 * L_base + α·L_fd + β·L_rwp; train-teacher trains a dense model with L_base alone. A run directory that holds a
 * checkpoint is resumed.
 */
public final class TrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

    public enum Mode { TRAIN_TEACHER, PRETRAIN }

    /** Where the run's final model went, and its state. */
    public record Result(Path modelDir, ModelConfig config, TrainState state, List<RoundMetrics> rounds) {
    }

    /**
     * Everything the driver reads and checks before it asks the cluster for anything: the model, the data listing,
     * the teacher and its compression, and the checkpoint to resume from. Bad input fails here, in seconds, without
     * holding executors.
     */
    public record Prepared(Mode mode, TrainRun.Prepared run, ModelConfig studentConfig, ModelConfig teacherConfig,
            String teacherWeights) {
    }

    private TrainJob() {
    }

    public static Result run(JavaSparkContext sc, Recipe recipe, Mode mode) {
        return run(sc, recipe, mode, (m, s) -> { });
    }

    public static Result run(JavaSparkContext sc, Recipe recipe, Mode mode, ParameterAveraging.RoundListener listener) {
        return run(sc, prepare(new Storage(sc.hadoopConfiguration()), RunConfig.from(recipe), mode), listener);
    }

    public static Prepared prepare(Storage storage, RunConfig config, Mode mode) {
        ModelConfig modelConfig = JobFiles.readConfig(storage, config.model().config());
        DataSetup data = DataSetup.forTraining(storage, config.data(), modelConfig);
        ModelConfig studentConfig;
        StateDict initial;
        ModelConfig teacherConfig = null;
        String teacherWeights = null;
        if (mode == Mode.PRETRAIN) {
            teacherConfig = modelConfig;
            teacherWeights = config.model().weights();
            StateDict teacher = JobFiles.readWeights(storage, teacherWeights, teacherConfig);
            LowRank.Student s = compress(storage, config, data::train, teacherConfig, teacher);
            studentConfig = s.config();
            initial = s.weights();
        } else {
            studentConfig = modelConfig;
            String w = config.model().weights();
            initial = w.isBlank() ? VitInit.random(modelConfig, config.seed())
                    : JobFiles.readWeights(storage, w, modelConfig);
        }
        List<String> order = new ArrayList<>(VitLayout.parameterShapes(studentConfig).keySet());
        TrainRun.Prepared run = TrainRun.prepare(storage, config,
                new TrainRun.Setup(data.train(), data.source(), initial, order, "the configured student has"));
        ModelSpec.checkPrecision(config.gpu().teacherPrecision());
        return new Prepared(mode, run, studentConfig, teacherConfig, teacherWeights);
    }

    /**
     * The student under the recipe's rank policy and SVD initialisation; activation-aware calibrates on the training
     * listing first ({@code trainListing} is read only then). Deterministic, so a resumed run rebuilds the student its
     * checkpoints belong to (and the demo's naive row is the student its pretrain starts from).
     */
    public static LowRank.Student compress(Storage storage, RunConfig config, Supplier<List<Sample>> trainListing,
            ModelConfig teacherConfig, StateDict teacher) {
        ModelSettings m = config.model();
        RankPolicy policy = m.rankPolicy();
        Map<String, INDArray> scales = m.activationAware() ? Calibration.inputScales(storage, trainListing.get(),
                m.calibrationImages(), teacherConfig, teacher, config.data().badImagePolicy()) : Map.of();
        LowRank.Student s = LowRank.compress(teacherConfig, teacher, policy, m.omit(), scales);
        LOG.info("student: {} low-rank Linears, {} ranks, {} SVD (kappa {})", s.config().lowrank().ranks().size(),
                Recipe.spelled(m.ranks()), Recipe.spelled(m.svdInit()),
                String.format("%.3f", s.config().lowrank().kappa()));
        return s;
    }

    /**
     * Whether pretrain needs the teacher on the executors: with α = β = 0 (the cross-entropy fine-tuning that PELA's
     * ablation compares against) nothing of it enters the loss, so its weights are not loaded and its forward is
     * not run.
     */
    static boolean usesTeacher(LossSettings loss) {
        return loss.alpha() != 0 || loss.beta() != 0;
    }

    public static Result run(JavaSparkContext sc, Prepared p, ParameterAveraging.RoundListener listener) {
        SerializableConf hadoop = new SerializableConf(sc.hadoopConfiguration());
        boolean pretrain = p.mode() == Mode.PRETRAIN;
        boolean teacher = pretrain && usesTeacher(p.run().config().loss());
        TrainRun.Outcome end = TrainRun.run(sc, p.run(), hyper -> new ModelSpec(p.studentConfig(),
                        teacher ? p.teacherConfig() : null, teacher ? p.teacherWeights() : null, hyper, hadoop,
                        p.run().config().gpu().teacherPrecision()), pretrain,
                pretrain ? (teacher ? "pretrain" : "pretrain (cross-entropy only, no teacher)") : "train-teacher",
                listener);
        Path modelDir = new Path(p.run().runDir(), "model");
        JobFiles.writeModel(p.run().storage(), modelDir, p.studentConfig(), end.weights());
        LOG.info("wrote {}", modelDir);
        return new Result(modelDir, p.studentConfig(), end.state(), end.rounds());
    }
}
