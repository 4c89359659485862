package ai.pela.spark.train;

import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.data.Sample;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.train.PelaStep;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.resource.ResourceProfile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous parameter averaging on Spark's own primitives (the design of DL4J's ParameterAveragingTrainingMaster,
 * for SameDiff graphs). One round: broadcast the student's parameters and AdamW state; one task per worker runs k
 * local steps on its slice of the round (teacher loaded once per executor, never broadcast or averaged);
 * treeAggregate sums parameters and moments weighted by examples; the driver averages, logs, and checkpoints.
 * A failed task is re-run by Spark from the same broadcast, data and seeds, so its result does not depend on the
 * failure; a restarted driver resumes from the last checkpoint and continues as the uninterrupted run would.
 */
public final class ParameterAveraging {
    private static final Logger LOG = LoggerFactory.getLogger(ParameterAveraging.class);

    /** Run-level settings: the plan's shape and how often to checkpoint. */
    public record Settings(int workers, int localSteps, int totalRounds, int checkpointEvery, long seed) {
    }

    private final JavaSparkContext sc;
    private final ModelSpec spec;
    private final BatchSource source;
    private final EpochPlan plan;
    private final Settings settings;
    private final Checkpoints checkpoints;
    private final MetricsLog metrics;
    private RoundListener listener = (m, s) -> { };
    private ResourceProfile resources;

    /** Called on the driver after each round (and its checkpoint, if one was due). */
    @FunctionalInterface
    public interface RoundListener {
        void roundDone(RoundMetrics metrics, TrainState state);
    }

    public ParameterAveraging listener(RoundListener l) {
        this.listener = l;
        return this;
    }

    /** Runs the training stage under a stage-level resource profile (GPUs per task), or as configured when null. */
    public ParameterAveraging resources(ResourceProfile profile) {
        this.resources = profile;
        return this;
    }

    public ParameterAveraging(JavaSparkContext sc, ModelSpec spec, BatchSource source, EpochPlan plan,
            Settings settings, Checkpoints checkpoints, MetricsLog metrics) {
        this.sc = sc;
        this.spec = spec;
        this.source = source;
        this.plan = plan;
        this.settings = settings;
        this.checkpoints = checkpoints;
        this.metrics = metrics;
    }

    /** Runs rounds from {@code start} until {@code totalRounds} are done; returns the final state. */
    public TrainState run(TrainState start) {
        TrainState state = start;
        int rpe = plan.roundsPerEpoch();
        long runStart = System.nanoTime();
        int firstRound = start.roundsDone();
        while (state.roundsDone() < settings.totalRounds()) {
            int r = state.roundsDone();
            RoundOutcome out = round(r, state);
            state = out.state();
            metrics.add(out.metrics());
            logProgress(out.metrics(), r - firstRound + 1, runStart);
            boolean epochEnd = (r + 1) % rpe == 0;
            if ((r + 1) % settings.checkpointEvery() == 0 || epochEnd || r + 1 == settings.totalRounds()) {
                LOG.info("checkpoint {}", checkpoints.write(state));
            }
            listener.roundDone(out.metrics(), state);
        }
        return state;
    }

    private record RoundOutcome(TrainState state, RoundMetrics metrics) {
    }

    RoundOutcome round(int r, TrainState state) {
        long t0 = System.nanoTime();
        int rpe = plan.roundsPerEpoch();
        int epoch = r / rpe;
        int inEpoch = r % rpe;
        List<RoundTask> tasks = tasks(r, epoch, inEpoch);
        Broadcast<RoundInput> b = sc.broadcast(new RoundInput(state.params(), state.m(), state.v(), state.step()));
        long broadcastNanos = System.nanoTime() - t0;
        WorkerResult sum;
        try {
            ModelSpec spec = this.spec;
            BatchSource source = this.source;
            JavaRDD<RoundTask> rdd = sc.parallelize(tasks, tasks.size());
            if (resources != null) {
                rdd = rdd.withResources(resources);
            }
            sum = rdd.map(task -> {
                long f0 = System.nanoTime();
                RoundInput in = b.value();
                return Worker.run(task, in, System.nanoTime() - f0, spec, source);
            }).treeAggregate(WorkerResult.zero(), WorkerResult::add, WorkerResult::add);
        } finally {
            b.destroy();
        }
        if (sum.nonFinite != null) {
            throw new PelaException("round " + r + " rejected: loss component '" + sum.nonFinite
                    + "' is not finite; no checkpoint was written for it (last good state: round " + state.roundsDone() + ")");
        }
        if (sum.examples == 0) {
            throw new PelaException("round " + r + " had no usable examples: every image of the round was skipped as bad");
        }
        String bad = checkFinite(sum);
        if (bad != null) {
            throw new PelaException("round " + r + " rejected: averaged " + bad + " is not finite; no checkpoint was written");
        }
        TrainState next = new TrainState(WorkerResult.average(sum.params, sum.examples),
                WorkerResult.average(sum.m, sum.examples), WorkerResult.average(sum.v, sum.examples),
                state.step() + settings.localSteps(), r + 1);
        if (!sum.skipped.isEmpty()) {
            LOG.warn("round {}: skipped {} bad image(s): {}", r, sum.skipped.size(), sum.skipped);
        }
        double total = (System.nanoTime() - t0) / 1e9;
        double bcast = (broadcastNanos + sum.maxBroadcastFetchNanos) / 1e9;
        double compute = sum.maxComputeNanos / 1e9;
        double n = sum.examples;
        double lr = spec.hyper().schedule().lr(state.step());
        double aggregate = Math.max(0, total - bcast - compute);
        RoundMetrics m;
        if (sum.names().equals(PelaStep.LOSS_NAMES)) {
            m = new RoundMetrics(r, epoch, inEpoch, sum.examples, sum.lossSums[0] / n, sum.lossSums[1] / n,
                    sum.lossSums[2] / n, sum.lossSums[3] / n, lr, n / total, bcast, compute, aggregate, total,
                    sum.skipped.size());
        } else {
            m = new RoundMetrics(r, epoch, inEpoch, sum.examples, sum.lossSums[0] / n, Double.NaN, Double.NaN,
                    Double.NaN, lr, n / total, bcast, compute, aggregate, total, sum.skipped.size(), components(sum));
        }
        return new RoundOutcome(next, m);
    }

    /** Mean of each component but the total, by short name ("loss.cls" → "cls"). */
    private static Map<String, Double> components(WorkerResult sum) {
        Map<String, Double> out = new LinkedHashMap<>();
        List<String> names = sum.names();
        for (int i = 1; i < names.size(); i++) {
            out.put(shortName(names.get(i)), sum.lossSums[i] / sum.examples);
        }
        return out;
    }

    static String shortName(String component) {
        return component.startsWith("loss.") ? component.substring(5) : component;
    }

    private static String checkFinite(WorkerResult s) {
        List<String> names = s.names();
        for (int i = 0; i < names.size(); i++) {
            if (!Double.isFinite(s.lossSums[i])) {
                return "loss component '" + names.get(i) + "'";
            }
        }
        for (double p : s.params) {
            if (!Double.isFinite(p)) {
                return "parameters";
            }
        }
        return null;
    }

    private List<RoundTask> tasks(int r, int epoch, int inEpoch) {
        List<List<List<Sample>>> slices = plan.round(epoch, inEpoch);
        List<RoundTask> tasks = new ArrayList<>();
        for (int w = 0; w < slices.size(); w++) {
            List<List<Sample>> batches = slices.get(w);
            long[] seeds = new long[batches.size()];
            for (int s = 0; s < seeds.length; s++) {
                seeds[s] = batchSeed(settings.seed(), r, w, s);
            }
            tasks.add(new RoundTask(r, w, batches, seeds));
        }
        return tasks;
    }

    /** The augmentation seed of one batch: a function of the run seed and the batch's place in the run only. */
    static long batchSeed(long seed, int round, int worker, int step) {
        long h = seed;
        h = h * 0x9E3779B97F4A7C15L + round;
        h = h * 0x9E3779B97F4A7C15L + worker;
        h = h * 0x9E3779B97F4A7C15L + step;
        return new java.util.SplittableRandom(h).nextLong();
    }

    private void logProgress(RoundMetrics m, int doneThisRun, long runStart) {
        double elapsed = (System.nanoTime() - runStart) / 1e9;
        int left = settings.totalRounds() - (m.round() + 1);
        double eta = elapsed / doneThisRun * left;
        if (!m.components().isEmpty()) {
            StringBuilder parts = new StringBuilder();
            m.components().forEach((k, v) -> parts.append(parts.length() == 0 ? "" : " ").append(k)
                    .append(String.format(" %.4f", v)));
            LOG.info(String.format("round %d/%d (epoch %d, %d/%d) loss %.4f [%s] lr %.2e | %.1f img/s | broadcast"
                            + " %.2fs compute %.2fs aggregate %.2fs | ETA %s", m.round() + 1, settings.totalRounds(),
                    m.epoch(), m.roundInEpoch() + 1, plan.roundsPerEpoch(), m.loss(), parts, m.lr(), m.imagesPerS(),
                    m.broadcastS(), m.computeS(), m.aggregateS(), formatDuration(eta)));
            return;
        }
        LOG.info(String.format("round %d/%d (epoch %d, %d/%d) loss %.4f [base %.4f fd %.4f rwp %.5f] lr %.2e | "
                        + "%.1f img/s | broadcast %.2fs compute %.2fs aggregate %.2fs | ETA %s",
                m.round() + 1, settings.totalRounds(), m.epoch(), m.roundInEpoch() + 1, plan.roundsPerEpoch(),
                m.loss(), m.lossBase(), m.lossFd(), m.lossRwp(), m.lr(), m.imagesPerS(), m.broadcastS(),
                m.computeS(), m.aggregateS(), formatDuration(eta)));
    }

    static String formatDuration(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, (t % 3600) / 60) : String.format("%dm%02ds", t / 60, t % 60);
    }
}
