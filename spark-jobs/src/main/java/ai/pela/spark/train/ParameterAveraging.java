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
 * failure; a restarted driver resumes from the last checkpoint and continues as the uninterrupted run would. That is
 * the tree exchange; the ring exchange ({@link Exchange#RING}) keeps the state on the executors between checkpoints.
 */
public final class ParameterAveraging {
    private static final Logger LOG = LoggerFactory.getLogger(ParameterAveraging.class);

    /**
     * How a round's results are combined. TREE: every round broadcasts parameters and AdamW moments and sums them
     * with treeAggregate through the driver (exact, reproducible bit for bit wherever tasks run). RING: the trainers
     * keep their state between rounds and average parameter changes in a ring all-reduce among the tasks (a barrier
     * stage); moments stay local between checkpoints ({@link RingWorker}).
     */
    public enum Exchange {
        TREE, RING;

        public static Exchange parse(String s, String key) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "tree" -> TREE;
                case "ring" -> RING;
                default -> throw new PelaException(key + ": '" + s + "' is not an exchange; use tree or ring");
            };
        }
    }

    /** Run-level settings: the plan's shape, how often to checkpoint, and how workers exchange their results. */
    public record Settings(int workers, int localSteps, int totalRounds, int checkpointEvery, long seed, Exchange exchange,
            WirePrecision precision) {
        public Settings(int workers, int localSteps, int totalRounds, int checkpointEvery, long seed) {
            this(workers, localSteps, totalRounds, checkpointEvery, seed, Exchange.TREE, WirePrecision.FP32);
        }

        /** The recipe's {@code train.exchange} and {@code train.exchange-precision}. */
        public Settings withExchange(Recipe r) {
            return new Settings(workers, localSteps, totalRounds, checkpointEvery, seed,
                    Exchange.parse(r.string("train.exchange"), "train.exchange"),
                    WirePrecision.parse(r.string("train.exchange-precision"), "train.exchange-precision"));
        }
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
    /** Ring exchange: names the trainers' state of this driver's run; a trainer tagged by another run is stale. */
    private final String runId = java.util.UUID.randomUUID().toString();
    /** Ring exchange: no trainer holds the state yet (the run's first round), so the driver broadcasts it. */
    private boolean ringNeedsState = true;
    /**
     * Ring exchange: the last state the driver holds in full — the run's start or its last checkpoint round. Between
     * checkpoints the parameters live on the executors only; the driver's TrainState then carries these (stale)
     * vectors with the current round count, and is never checkpointed.
     */
    private TrainState synced;
    /** Ring exchange: where the round's tasks find each other (started with the first ring round). */
    private RingRendezvous rendezvous;
    /** Ring exchange: times the run went back to {@link #synced} since the last checkpoint. */
    private int rewinds;
    private static final int MAX_REWINDS = 3;
    /** Ring exchange: attempts of one round before its failure ends the run (Spark's spark.task.maxFailures is 4). */
    private static final int MAX_RING_ATTEMPTS = 4;

    /** Ring exchange: no trainer holds the round's state and the driver's is older; go back to {@link #synced}. */
    private static final class Rewind extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Rewind(String message) {
            super(message, null, false, false);
        }
    }

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
        synced = start;
        try {
            return runRounds(start);
        } finally {
            if (rendezvous != null) {
                rendezvous.close();
                rendezvous = null;
            }
        }
    }

    private TrainState runRounds(TrainState start) {
        TrainState state = start;
        int rpe = plan.roundsPerEpoch();
        long runStart = System.nanoTime();
        int firstRound = start.roundsDone();
        while (state.roundsDone() < settings.totalRounds()) {
            int r = state.roundsDone();
            boolean checkpointDue = (r + 1) % settings.checkpointEvery() == 0 || (r + 1) % rpe == 0
                    || r + 1 == settings.totalRounds();
            RoundOutcome out;
            try {
                out = round(r, state, checkpointDue);
            } catch (Rewind e) {
                if (++rewinds > MAX_REWINDS) {
                    throw new PelaException("round " + r + ": " + e.getMessage() + ", for the " + rewinds + "th time since"
                            + " the last checkpoint; the executors do not keep their trainers (check executor losses),"
                            + " or use train.exchange = tree");
                }
                LOG.warn("round {}: {}; going back to round {} (the last state the driver holds) and running rounds {}-{}"
                        + " again", r, e.getMessage(), synced.roundsDone(), synced.roundsDone(), r);
                state = synced;
                metrics.truncate(synced.roundsDone());
                ringNeedsState = true;
                continue;
            }
            state = out.state();
            if (checkpointDue) {
                rewinds = 0;
            }
            metrics.add(out.metrics());
            logProgress(out.metrics(), r - firstRound + 1, runStart);
            if (checkpointDue) {
                LOG.info("checkpoint {}", checkpoints.write(state));
            }
            listener.roundDone(out.metrics(), state);
        }
        return state;
    }

    private record RoundOutcome(TrainState state, RoundMetrics metrics) {
    }

    /** One round; {@code checkpointDue}: its state will be checkpointed (the ring exchange then averages moments too). */
    RoundOutcome round(int r, TrainState state, boolean checkpointDue) {
        long t0 = System.nanoTime();
        int rpe = plan.roundsPerEpoch();
        int epoch = r / rpe;
        int inEpoch = r % rpe;
        List<RoundTask> tasks = tasks(r, epoch, inEpoch);
        long[] broadcastNanos = new long[1];
        boolean ring = settings.exchange() == Exchange.RING;
        WorkerResult sum = ring ? ringStage(r, state, tasks, checkpointDue, broadcastNanos)
                : treeStage(state, tasks, broadcastNanos, t0);
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
        TrainState next = ring ? ringState(sum, state, r, checkpointDue)
                : new TrainState(WorkerResult.average(sum.params, sum.examples), WorkerResult.average(sum.m, sum.examples),
                        WorkerResult.average(sum.v, sum.examples), state.step() + settings.localSteps(), r + 1);
        if (!sum.skipped.isEmpty()) {
            LOG.warn("round {}: skipped {} bad image(s): {}", r, sum.skipped.size(), sum.skipped);
        }
        double total = (System.nanoTime() - t0) / 1e9;
        double bcast = (broadcastNanos[0] + sum.maxBroadcastFetchNanos) / 1e9;
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

    private TrainState ringState(WorkerResult sum, TrainState state, int r, boolean checkpointDue) {
        long step = state.step() + settings.localSteps();
        if (!checkpointDue) {
            return new TrainState(synced.params(), synced.m(), synced.v(), step, r + 1);
        }
        synced = new TrainState(WirePrecision.FP32.unpack(sum.ringParams), WirePrecision.FP32.unpack(sum.ringM),
                WirePrecision.FP32.unpack(sum.ringV), step, r + 1);
        return synced;
    }

    /** The tree exchange: broadcast the state, k steps per task, treeAggregate of the weighted results. */
    private WorkerResult treeStage(TrainState state, List<RoundTask> tasks, long[] broadcastNanos, long t0) {
        Broadcast<RoundInput> b = sc.broadcast(new RoundInput(state.params(), state.m(), state.v(), state.step()));
        broadcastNanos[0] = System.nanoTime() - t0;
        try {
            ModelSpec spec = this.spec;
            BatchSource source = this.source;
            return stageRdd(tasks).map(task -> {
                long f0 = System.nanoTime();
                RoundInput in = b.value();
                return Worker.run(task, in, System.nanoTime() - f0, spec, source);
            }).treeAggregate(WorkerResult.zero(), WorkerResult::add, WorkerResult::add);
        } finally {
            b.destroy();
        }
    }

    /**
     * The ring exchange: a barrier stage whose tasks average among themselves ({@link RingWorker}); the driver gets
     * every task's losses, and the averaged state from rank 0 on checkpoint rounds. The state is broadcast only when
     * no trainer can hold it: on the run's first round and after going back to {@link #synced}. When a round finds
     * no trainer holding its state (all executors replaced) and the driver's copy is older, the rounds since that
     * copy are run again ({@link Rewind}): deterministic seeds make them the same rounds.
     */
    private WorkerResult ringStage(int r, TrainState state, List<RoundTask> tasks, boolean checkpointDue,
            long[] broadcastNanos) {
        for (int attempt = 0; ; attempt++) {
            long b0 = System.nanoTime();
            Broadcast<RoundInput> b = ringNeedsState && synced.roundsDone() == r
                    ? sc.broadcast(new RoundInput(synced.params(), synced.m(), synced.v(), synced.step())) : null;
            broadcastNanos[0] = System.nanoTime() - b0;
            if (rendezvous == null) {
                rendezvous = new RingRendezvous(sc.getConf().get("spark.driver.host", "127.0.0.1"));
            }
            RingWorker.Input in = new RingWorker.Input(runId, r, attempt, state.step(), settings.localSteps(),
                    checkpointDue, settings.precision(), b, rendezvous.address());
            rendezvous.open(RingStage.attemptKey(in));
            try {
                WorkerResult sum = WorkerResult.zero();
                for (WorkerResult w : RingStage.run(stageRdd(tasks), in, spec, source)) {
                    sum.add(w);
                }
                ringNeedsState = false;
                return sum;
            } catch (Exception e) { // Spark's job failure (SparkException) is a checked exception Scala throws unchecked
                rendezvous.abortWaiting();
                String msg = String.valueOf(e.getMessage());
                if (msg.contains("Barrier execution mode does not allow")) {
                    throw new PelaException("train.exchange = ring runs the round's " + tasks.size() + " tasks at once (a"
                            + " barrier stage), but the cluster has fewer task slots; lower train.workers or use"
                            + " train.exchange = tree: " + msg, e);
                }
                if (msg.contains(RingWorker.MISSING_STATE) && b == null) {
                    if (synced.roundsDone() != r) {
                        throw new Rewind("no executor holds the round's state (executors replaced?)");
                    }
                    if (attempt < MAX_RING_ATTEMPTS - 1) {
                        LOG.warn("round {}: no executor holds the round's state (executors replaced?); broadcasting it", r);
                        ringNeedsState = true;
                        continue;
                    }
                }
                // Spark re-runs a failed task, but never a failed barrier result stage: the round is re-run here, as
                // a new job. Survivors put the round's start back (RingWorker), so the state comes from them.
                if (attempt < MAX_RING_ATTEMPTS - 1) {
                    LOG.warn("round {}: attempt {} failed ({}); running the round again", r, attempt + 1, firstLine(msg));
                    continue;
                }
                if (e instanceof RuntimeException re) {
                    throw re;
                }
                throw new PelaException("round " + r + " failed: " + msg, e);
            } finally {
                if (b != null) {
                    b.destroy();
                }
            }
        }
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private JavaRDD<RoundTask> stageRdd(List<RoundTask> tasks) {
        JavaRDD<RoundTask> rdd = sc.parallelize(tasks, tasks.size());
        return resources != null ? rdd.withResources(resources) : rdd;
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
        if (s.ringParams != null) {
            for (float p : WirePrecision.FP32.unpack(s.ringParams)) {
                if (!Float.isFinite(p)) {
                    return "parameters";
                }
            }
            return null;
        }
        if (s.params == null) {
            return null; // a ring round between checkpoints: the parameters stayed on the executors
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
