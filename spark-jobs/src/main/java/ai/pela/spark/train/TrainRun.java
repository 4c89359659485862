package ai.pela.spark.train;

import ai.pela.spark.config.RunConfig;
import ai.pela.spark.config.TrainSettings;
import ai.pela.spark.data.DataPosition;
import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.data.Sample;
import ai.pela.spark.gpu.GpuProfile;
import ai.pela.spark.io.Storage;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.AdamW;
import ai.pela.zoo.train.CosineSchedule;
import ai.pela.zoo.train.Flat;
import ai.pela.zoo.train.StepHyper;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceProfile;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one shape of every training command (train-teacher, pretrain, train-head; ViT, ALBEF, dense): the family
 * lists its samples and makes its initial weights; the run plans the epochs, resumes from the newest checkpoint,
 * sets the schedule, runs the parameter-averaging rounds and hands back the final weights for the family to write.
 *
 * <p>Everything the driver can check is checked in {@link #prepare}, before the cluster is asked for executors.
 */
public final class TrainRun {
    private static final Logger LOG = LoggerFactory.getLogger(TrainRun.class);

    /**
     * What a model family brings to a run.
     *
     * @param initial    the weights a fresh run starts from (the compressed student, random or given weights)
     * @param order      the parameter order of the flat vectors
     * @param configured how a mismatch names the configured model, e.g. "the configured student has"
     */
    public record Setup(List<Sample> samples, BatchSource source, StateDict initial, List<String> order,
            String configured) {
    }

    /** A planned run: its plan and rounds, where it starts, and what it was set up with. */
    public record Prepared(RunConfig config, Storage storage, Setup setup, EpochPlan plan, int totalRounds,
            Checkpoints checkpoints, TrainState start, ResourceProfile gpus) {
        public Path runDir() {
            return config.runPath();
        }

        /**
         * The schedule and losses, in optimiser steps: the cosine runs from the start's step over the rounds left
         * under this plan, so a resumed run's schedule ends where its data does, whatever plan it resumes under.
         *
         * @param distil pretrain: L_fd and L_rwp weighted by loss.alpha and loss.beta; otherwise L_base alone
         */
        public StepHyper hyper(boolean distil) {
            TrainSettings t = config.train();
            int k = t.localSteps();
            long totalSteps = Math.max(1, start.step() + (long) (totalRounds - start.roundsDone()) * k);
            long warmup = Math.min(totalSteps, Math.round(t.warmupEpochs() * plan.roundsPerEpoch() * k));
            CosineSchedule schedule = new CosineSchedule(t.lr(), t.minLr(), t.warmupLr(), warmup, totalSteps);
            var loss = config.loss();
            return new StepHyper(distil ? loss.alpha() : 0, distil ? loss.beta() : 0, t.labelSmoothing(),
                    loss.fdForm(), loss.rwpForm(), loss.rwpEps(), t.clipGrad(), AdamW.Config.defaults(t.weightDecay()),
                    schedule, loss.fdPoints());
        }
    }

    /** The run's end: the final state, its weights unflattened like the initial ones, and every round's metrics. */
    public record Outcome(TrainState state, StateDict weights, List<RoundMetrics> rounds) {
    }

    private TrainRun() {
    }

    public static Prepared prepare(Storage storage, RunConfig config, Setup setup) {
        TrainSettings t = config.train();
        EpochPlan plan = new EpochPlan(setup.samples(), config.seed(), t.workers(), t.localSteps(), t.batchSize());
        Checkpoints checkpoints = new Checkpoints(storage, config.runPath(), config.checkpoint().keep());
        TrainState start = checkpoints.resumeOrStart(setup.initial(), setup.order(), setup.configured());
        ResourceProfile gpus = GpuProfile.build(config.gpu().profile()).orElse(null);
        return new Prepared(config, storage, setup, plan, totalRounds(plan, start, t), checkpoints, start, gpus);
    }

    /**
     * The rounds done plus the rounds this plan needs from the start's data position to the end of the last epoch,
     * capped by train.max-rounds. Under the plan the run began with, that is epochs × rounds per epoch.
     */
    static int totalRounds(EpochPlan plan, TrainState start, TrainSettings t) {
        DataPosition at = start.position() == null ? plan.atRound(start.roundsDone()) : start.position();
        long total = start.roundsDone() + plan.roundsUntil(at, t.epochs());
        if (t.maxRounds() > 0) {
            total = Math.min(total, t.maxRounds());
        }
        return (int) Math.min(total, Integer.MAX_VALUE);
    }

    /**
     * Runs the prepared rounds: writes the resolved recipe into the run directory, then trains.
     *
     * @param spec  the family's step for this run's schedule
     * @param label how the log names the run, e.g. "pretrain" or "train-head ade20k: upernet head"
     */
    public static Outcome run(JavaSparkContext sc, Prepared p, Function<StepHyper, ModelSpec> spec, boolean distil,
            String label, ParameterAveraging.RoundListener listener) {
        Storage storage = p.storage();
        storage.mkdirs(p.runDir());
        String recipe = p.config().recipe().render();
        storage.writeAtomically(new Path(p.runDir(), "config.conf"), out -> out.write(recipe.getBytes(StandardCharsets.UTF_8)));
        StepHyper hyper = p.hyper(distil);
        writeRunJson(storage, p.runDir(), label, hyper, distil);
        TrainSettings t = p.config().train();
        LOG.info("{}: {} training samples, {} workers x {} local steps x batch {} -> {} rounds/epoch, {} rounds", label,
                p.setup().samples().size(), t.workers(), t.localSteps(), t.batchSize(), p.plan().roundsPerEpoch(),
                p.totalRounds());
        MetricsLog metrics = new MetricsLog(storage, p.runDir(), p.start().roundsDone());
        ParameterAveraging.Settings settings = new ParameterAveraging.Settings(t.workers(), t.localSteps(),
                p.totalRounds(), p.config().checkpoint().everyRounds(), p.config().seed(), t.exchange(), t.precision(),
                t.security());
        TrainState end = new ParameterAveraging(sc, spec.apply(hyper), p.setup().source(), p.plan(), settings,
                p.checkpoints(), metrics).listener(listener).resources(p.gpus()).run(p.start());
        return new Outcome(end, unflatten(end.params(), p.setup().initial(), p.setup().order()), metrics.rounds());
    }

    /**
     * {@code <run-dir>/run.json}: what ran, beside the resolved recipe — the command and, when distilling, the losses'
     * weights and where L_fd compared student and teacher ({@code fd_points}), taken from the step's own settings.
     */
    static void writeRunJson(Storage storage, Path runDir, String label, StepHyper hyper, boolean distil) {
        com.fasterxml.jackson.databind.node.ObjectNode n = new com.fasterxml.jackson.databind.ObjectMapper()
                .createObjectNode();
        n.put("run", label);
        n.put("distil", distil);
        if (distil) {
            n.put("alpha", hyper.alpha());
            n.put("beta", hyper.beta());
            n.put("fd_form", hyper.fdForm().name().toLowerCase(java.util.Locale.ROOT));
            n.put("fd_points", hyper.fdPoints().name().toLowerCase(java.util.Locale.ROOT));
        }
        byte[] json = (n.toPrettyString() + "\n").getBytes(StandardCharsets.UTF_8);
        storage.writeAtomically(new Path(runDir, "run.json"), out -> out.write(json));
    }

    /** The flat vector back into named arrays shaped like {@code like}'s. */
    public static StateDict unflatten(float[] flat, StateDict like, List<String> order) {
        Map<String, INDArray> arrays = new LinkedHashMap<>();
        for (String key : order) {
            arrays.put(key, like.get(key).dup());
        }
        Flat.unflattenInto(Nd4j.createFromArray(flat), arrays, order);
        return new StateDict(arrays);
    }
}
