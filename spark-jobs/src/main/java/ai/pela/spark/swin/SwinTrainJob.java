package ai.pela.spark.swin;

import ai.pela.spark.config.ModelSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.Calibration;
import ai.pela.spark.jobs.DataSetup;
import ai.pela.spark.jobs.TrainJob;
import ai.pela.spark.train.ModelSpec;
import ai.pela.spark.train.ParameterAveraging;
import ai.pela.spark.train.RoundMetrics;
import ai.pela.spark.train.TrainRun;
import ai.pela.spark.train.TrainState;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinInit;
import ai.pela.zoo.swin.SwinLayout;
import ai.pela.zoo.swin.SwinLowRank;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code train-teacher} and {@code pretrain} of a Swin, chosen when {@code pela.model.config} is a Swin config.json:
 * the {@link TrainRun} with the Swin's step ({@link ai.pela.zoo.train.SwinPelaStep} through {@link SwinStepFactory})
 * and the image batches every image classifier uses. pretrain compresses the teacher on the driver (κ or a parameter
 * budget, plain or activation-aware SVD) with the Swin omit rules (or {@code model.omit}) and trains the student on
 * CE + α·L_fd + β·L_rwp, L_fd at {@code loss.fd-points}; train-teacher trains a dense Swin (from {@code model.weights}, or seeded random) on CE.
 */
public final class SwinTrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(SwinTrainJob.class);

    /** Everything read and checked on the driver before the cluster is asked for anything. */
    public record Prepared(TrainJob.Mode mode, TrainRun.Prepared run, SwinConfig studentConfig, SwinConfig teacherConfig,
            String teacherWeights) {
    }

    public record Result(Path modelDir, SwinConfig config, TrainState state, List<RoundMetrics> rounds) {
    }

    private SwinTrainJob() {
    }

    public static Prepared prepare(Storage storage, RunConfig config, TrainJob.Mode mode) {
        SwinConfig model = SwinFiles.readConfig(storage, config.model().config());
        if (ModelSpec.checkPrecision(config.gpu().teacherPrecision()).equals("fp16")) {
            // The Swin engine computes in FP32 only; say so rather than ignore the key.
            throw new PelaException("configuration key 'pela.gpu.teacher-precision' is fp16, but a Swin teacher runs"
                    + " in FP32 only; use auto or fp32");
        }
        DataSetup data = DataSetup.forTraining(storage, config.data(), DataSetup.Input.of(model));
        SwinConfig studentConfig;
        SwinConfig teacherConfig = null;
        String teacherWeights = null;
        StateDict initial;
        if (mode == TrainJob.Mode.PRETRAIN) {
            teacherConfig = model;
            teacherWeights = config.model().weights();
            StateDict teacher = SwinFiles.readWeights(storage, teacherWeights, model);
            SwinLowRank.Student s = compress(storage, config, data, model, teacher);
            studentConfig = s.config();
            initial = s.weights();
        } else {
            studentConfig = model;
            String w = config.model().weights();
            initial = w.isBlank() ? SwinInit.random(model, config.seed()) : SwinFiles.readWeights(storage, w, model);
        }
        List<String> order = new ArrayList<>(SwinLayout.parameterShapes(studentConfig).keySet());
        TrainRun.Prepared run = TrainRun.prepare(storage, config,
                new TrainRun.Setup(data.train(), data.source(), initial, order, "the configured Swin student has"));
        return new Prepared(mode, run, studentConfig, teacherConfig, teacherWeights);
    }

    /**
     * The student under the recipe's rank policy and SVD initialisation (activation-aware calibrates on the training
     * listing first), with the Swin omit rules unless {@code model.omit} names others. Deterministic, so a resumed run
     * rebuilds the student its checkpoints belong to.
     */
    private static SwinLowRank.Student compress(Storage storage, RunConfig config, DataSetup data, SwinConfig teacherConfig,
            StateDict teacher) {
        ModelSettings m = config.model();
        Map<String, INDArray> scales = m.activationAware() ? Calibration.inputScales(storage, data.train(),
                m.calibrationImages(), teacherConfig, teacher, config.data().badImagePolicy()) : Map.of();
        SwinLowRank.Student s = SwinLowRank.compress(teacherConfig, teacher, m.rankPolicy(),
                m.omitOr(LowRank.SWIN_OMIT), scales);
        LOG.info("Swin student: {} low-rank Linears, {} ranks, {} SVD (kappa {})", s.config().lowrank().ranks().size(),
                Recipe.spelled(m.ranks()), Recipe.spelled(m.svdInit()), String.format("%.3f", s.config().lowrank().kappa()));
        return s;
    }

    public static Result run(JavaSparkContext sc, Prepared p, ParameterAveraging.RoundListener listener) {
        SwinStepFactory factory = new SwinStepFactory(p.studentConfig(), p.teacherConfig(), p.teacherWeights());
        SerializableConf hadoop = new SerializableConf(sc.hadoopConfiguration());
        boolean pretrain = p.mode() == TrainJob.Mode.PRETRAIN;
        TrainRun.Outcome end = TrainRun.run(sc, p.run(),
                hyper -> new ModelSpec(null, null, p.teacherWeights(), hyper, hadoop, "fp32", factory), pretrain,
                (pretrain ? "pretrain" : "train-teacher") + " Swin " + p.studentConfig().architecture(), listener);
        Path modelDir = new Path(p.run().runDir(), "model");
        SwinFiles.writeModel(p.run().storage(), modelDir, p.studentConfig(), end.weights());
        LOG.info("wrote {}", modelDir);
        return new Result(modelDir, p.studentConfig(), end.state(), end.rounds());
    }
}
