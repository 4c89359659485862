package ai.pela.spark.jobs;

import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
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
import ai.pela.zoo.vit.VitInit;
import ai.pela.zoo.vit.VitLayout;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
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
            LowRank.Student s = LowRank.compress(teacherConfig, teacher, config.model().kappa(), config.model().omit());
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

    public static Result run(JavaSparkContext sc, Prepared p, ParameterAveraging.RoundListener listener) {
        SerializableConf hadoop = new SerializableConf(sc.hadoopConfiguration());
        boolean pretrain = p.mode() == Mode.PRETRAIN;
        TrainRun.Outcome end = TrainRun.run(sc, p.run(), hyper -> new ModelSpec(p.studentConfig(), p.teacherConfig(),
                        p.teacherWeights(), hyper, hadoop, p.run().config().gpu().teacherPrecision()), pretrain,
                pretrain ? "pretrain" : "train-teacher", listener);
        Path modelDir = new Path(p.run().runDir(), "model");
        JobFiles.writeModel(p.run().storage(), modelDir, p.studentConfig(), end.weights());
        LOG.info("wrote {}", modelDir);
        return new Result(modelDir, p.studentConfig(), end.state(), end.rounds());
    }
}
