package ai.pela.spark.jobs;

import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.gpu.GpuProfile;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.train.Checkpoints;
import ai.pela.spark.train.MetricsLog;
import ai.pela.spark.train.ModelSpec;
import ai.pela.spark.train.ParameterAveraging;
import ai.pela.spark.train.Recipe;
import ai.pela.spark.train.TrainState;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.train.AdamW;
import ai.pela.zoo.train.CosineSchedule;
import ai.pela.zoo.train.Flat;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.vit.VitInit;
import ai.pela.zoo.vit.VitLayout;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceProfile;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code train-teacher} and {@code pretrain}: the same parameter-averaging machinery, with or without a teacher.
 * pretrain compresses the teacher at κ on the driver (PELA's surgery) and trains the student with
 * L_base + α·L_fd + β·L_rwp; train-teacher trains a dense model with L_base alone. A run directory that holds a
 * checkpoint is resumed.
 */
public final class TrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

    public enum Mode { TRAIN_TEACHER, PRETRAIN }

    /** Where the run's final model went, and its state. */
    public record Result(Path modelDir, ModelConfig config, TrainState state, List<ai.pela.spark.train.RoundMetrics> rounds) {
    }

    private TrainJob() {
    }

    /**
     * Everything the driver reads and checks before it asks the cluster for anything: the model, the data listing,
     * the teacher and its compression, and the checkpoint to resume from. Bad input fails here, in seconds, without
     * holding executors.
     */
    public record Prepared(Recipe recipe, Mode mode, Storage storage, Path runDir, DataSetup data, EpochPlan plan,
            int totalRounds, ModelConfig studentConfig, ModelConfig teacherConfig, String teacherWeights,
            StateDict initial, List<String> order, Checkpoints checkpoints, TrainState start, ResourceProfile gpus) {
    }

    public static Result run(JavaSparkContext sc, Recipe recipe, Mode mode) {
        return run(sc, recipe, mode, (m, s) -> { });
    }

    public static Result run(JavaSparkContext sc, Recipe recipe, Mode mode, ParameterAveraging.RoundListener listener) {
        return run(sc, prepare(new Storage(sc.hadoopConfiguration()), recipe, mode), listener);
    }

    public static Prepared prepare(Storage storage, Recipe recipe, Mode mode) {
        Path runDir = Storage.path(recipe.string("run-dir"));
        ModelConfig modelConfig = JobFiles.readConfig(storage, recipe.string("model.config"));
        int workers = recipe.positive("train.workers");
        int k = recipe.positive("train.local-steps");
        int batch = recipe.positive("train.batch-size");
        long seed = recipe.longValue("seed");

        DataSetup data = DataSetup.forTraining(storage, recipe, modelConfig);
        EpochPlan plan = new EpochPlan(data.train(), seed, workers, k, batch);
        int totalRounds = plan.roundsPerEpoch() * recipe.positive("train.epochs");
        int maxRounds = recipe.integer("train.max-rounds");
        if (maxRounds > 0) {
            totalRounds = Math.min(totalRounds, maxRounds);
        }

        ModelConfig studentConfig;
        StateDict initial;
        ModelConfig teacherConfig = null;
        String teacherWeights = null;
        if (mode == Mode.PRETRAIN) {
            teacherConfig = modelConfig;
            teacherWeights = recipe.string("model.weights");
            StateDict teacher = JobFiles.readWeights(storage, teacherWeights, teacherConfig);
            LowRank.Student s = LowRank.compress(teacherConfig, teacher, recipe.number("model.kappa"),
                    recipe.strings("model.omit"));
            studentConfig = s.config();
            initial = s.weights();
        } else {
            studentConfig = modelConfig;
            String w = recipe.string("model.weights");
            initial = w.isBlank() ? VitInit.random(modelConfig, seed) : JobFiles.readWeights(storage, w, modelConfig);
        }

        List<String> order = new ArrayList<>(VitLayout.parameterShapes(studentConfig).keySet());
        Checkpoints checkpoints = new Checkpoints(storage, runDir, recipe.positive("checkpoint.keep"));
        TrainState start = checkpoints.resumeOrStart(initial, order, "the configured student has");
        ResourceProfile gpus = GpuProfile.build(GpuProfile.Settings.from(recipe)).orElse(null);
        ModelSpec.checkPrecision(recipe.string("gpu.teacher-precision"));
        return new Prepared(recipe, mode, storage, runDir, data, plan, totalRounds, studentConfig, teacherConfig,
                teacherWeights, initial, order, checkpoints, start, gpus);
    }

    public static Result run(JavaSparkContext sc, Prepared p, ParameterAveraging.RoundListener listener) {
        Recipe recipe = p.recipe();
        int workers = recipe.positive("train.workers");
        int k = recipe.positive("train.local-steps");
        Storage storage = p.storage();
        storage.mkdirs(p.runDir());
        JobFiles.writeText(storage, new Path(p.runDir(), "config.conf"), recipe.render());

        StepHyper hyper = hyper(recipe, p.mode(), p.totalRounds(), p.plan().roundsPerEpoch(), k);
        ModelSpec spec = new ModelSpec(p.studentConfig(), p.teacherConfig(), p.teacherWeights(), hyper,
                new SerializableConf(sc.hadoopConfiguration()), recipe.string("gpu.teacher-precision"));
        LOG.info("{}: {} training samples, {} workers x {} local steps x batch {} -> {} rounds/epoch, {} rounds",
                p.mode() == Mode.PRETRAIN ? "pretrain" : "train-teacher", p.data().train().size(), workers, k,
                recipe.positive("train.batch-size"), p.plan().roundsPerEpoch(), p.totalRounds());

        MetricsLog metrics = new MetricsLog(storage, p.runDir(), p.start().roundsDone());
        ParameterAveraging trainer = new ParameterAveraging(sc, spec, p.data().source(), p.plan(),
                new ParameterAveraging.Settings(workers, k, p.totalRounds(), recipe.positive("checkpoint.every-rounds"),
                        recipe.longValue("seed")).withExchange(recipe), p.checkpoints(), metrics).listener(listener)
                .resources(p.gpus());
        TrainState end = trainer.run(p.start());

        StateDict finalWeights = unflatten(end.params(), p.initial(), p.order());
        Path modelDir = new Path(p.runDir(), "model");
        JobFiles.writeModel(storage, modelDir, p.studentConfig(), finalWeights);
        LOG.info("wrote {}", modelDir);
        return new Result(modelDir, p.studentConfig(), end, metrics.rounds());
    }

    public static StateDict unflatten(float[] flat, StateDict like, List<String> order) {
        java.util.Map<String, INDArray> arrays = new java.util.LinkedHashMap<>();
        for (String key : order) {
            arrays.put(key, like.get(key).dup());
        }
        Flat.unflattenInto(org.nd4j.linalg.factory.Nd4j.createFromArray(flat), arrays, order);
        return new StateDict(arrays);
    }

    public static StepHyper hyper(Recipe r, Mode mode, int totalRounds, int roundsPerEpoch, int k) {
        long totalSteps = Math.max(1, (long) totalRounds * k);
        long warmup = Math.min(totalSteps, Math.round(r.number("train.warmup-epochs") * roundsPerEpoch * k));
        CosineSchedule schedule = new CosineSchedule(r.number("train.lr"), r.number("train.min-lr"),
                r.number("train.warmup-lr"), warmup, totalSteps);
        double alpha = mode == Mode.PRETRAIN ? r.number("loss.alpha") : 0;
        double beta = mode == Mode.PRETRAIN ? r.number("loss.beta") : 0;
        return new StepHyper(alpha, beta, r.number("train.label-smoothing"), r.fdForm(), r.rwpForm(),
                r.number("loss.rwp-eps"), r.number("train.clip-grad"),
                AdamW.Config.defaults(r.number("train.weight-decay")), schedule);
    }
}
