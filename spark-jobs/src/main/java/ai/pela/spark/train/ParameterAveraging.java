package ai.pela.spark.train;

import ai.pela.spark.data.DataPosition;
import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.data.Sample;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.train.PelaStep;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceProfile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous parameter averaging on Spark's own primitives (the design of DL4J's ParameterAveragingTrainingMaster):
 * the round loop. Each round cuts its slice of the data from the run's data position, has the exchange run one task
 * per worker (k local steps each; teacher loaded once per executor, never broadcast or averaged) and combine their
 * results ({@link TreeExchange} through the driver, {@link RingExchange} among the tasks), rejects a round whose
 * losses or parameters are not finite, logs it to metrics.jsonl, and checkpoints when due (every N rounds, at each
 * epoch's end and at the run's). A failed task is re-run by Spark from the same data and seeds, so its result does
 * not depend on the failure; a restarted driver resumes from the last checkpoint and continues as the uninterrupted
 * run would.
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
            WirePrecision precision, WireSecurity security) {
        public Settings(int workers, int localSteps, int totalRounds, int checkpointEvery, long seed) {
            this(workers, localSteps, totalRounds, checkpointEvery, seed, Exchange.TREE, WirePrecision.FP32);
        }

        /** The ring's connections as the cluster's settings ask ({@link WireSecurity#SPARK}). */
        public Settings(int workers, int localSteps, int totalRounds, int checkpointEvery, long seed, Exchange exchange,
                WirePrecision precision) {
            this(workers, localSteps, totalRounds, checkpointEvery, seed, exchange, precision, WireSecurity.SPARK);
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
    /** How this run's rounds combine their workers' results (made when the run starts). */
    private RoundExchange exchange;

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
        TrainState from = start.at(start.position() == null ? plan.atRound(start.roundsDone())
                : plan.normalise(start.position()));
        RoundExchange.Stage stage = new RoundExchange.Stage(sc, resources);
        exchange = settings.exchange() == Exchange.RING
                ? new RingExchange(stage, spec, source, settings.localSteps(), settings.precision(),
                        settings.security(), from)
                : new TreeExchange(stage, spec, source);
        try {
            return runRounds(from);
        } finally {
            exchange.close();
        }
    }

    private TrainState runRounds(TrainState start) {
        TrainState state = start;
        long runStart = System.nanoTime();
        int firstRound = start.roundsDone();
        while (state.roundsDone() < settings.totalRounds()) {
            int r = state.roundsDone();
            boolean checkpointDue = (r + 1) % settings.checkpointEvery() == 0 || endsEpoch(state.position())
                    || r + 1 == settings.totalRounds();
            RoundOutcome out;
            try {
                out = round(r, state, checkpointDue);
            } catch (RoundExchange.Rewind e) {
                state = e.backTo();
                metrics.truncate(state.roundsDone());
                continue;
            }
            state = out.state();
            metrics.add(out.metrics());
            logProgress(out.metrics(), r - firstRound + 1, runStart);
            if (checkpointDue) {
                LOG.info("checkpoint {}", checkpoints.write(state));
            }
            listener.roundDone(out.metrics(), state);
        }
        return state;
    }

    /** True when the round that starts at {@code p} is its epoch's last. */
    private boolean endsEpoch(DataPosition p) {
        return plan.after(p).epoch() != p.epoch();
    }

    private record RoundOutcome(TrainState state, RoundMetrics metrics) {
    }

    /** One round; {@code checkpointDue}: its state will be checkpointed (the ring exchange then averages moments too). */
    RoundOutcome round(int r, TrainState state, boolean checkpointDue) {
        long t0 = System.nanoTime();
        DataPosition at = state.position();
        RoundExchange.Combined c = exchange.run(r, state, tasks(r, at), checkpointDue);
        LossTally sum = c.tally();
        check(r, state, c);
        TrainState next = new TrainState(c.params(), c.m(), c.v(), state.step() + settings.localSteps(), r + 1,
                plan.after(at));
        exchange.accepted(next, checkpointDue);
        if (!sum.skipped.isEmpty()) {
            LOG.warn("round {}: skipped {} bad image(s): {}", r, sum.skipped.size(), sum.skipped);
        }
        return new RoundOutcome(next, metrics(r, at, state.step(), sum, c.broadcastNanos(), t0));
    }

    /** Rejects a round whose losses or averaged parameters are not finite, or that trained on nothing. */
    private static void check(int r, TrainState state, RoundExchange.Combined c) {
        LossTally sum = c.tally();
        if (sum.nonFinite != null) {
            throw new PelaException("round " + r + " rejected: loss component '" + sum.nonFinite
                    + "' is not finite; no checkpoint was written for it (last good state: round " + state.roundsDone() + ")");
        }
        if (sum.examples == 0) {
            throw new PelaException("round " + r + " had no usable examples: every image of the round was skipped as bad");
        }
        String bad = checkFinite(sum, c.fresh() ? c.params() : null);
        if (bad != null) {
            throw new PelaException("round " + r + " rejected: averaged " + bad + " is not finite; no checkpoint was written");
        }
    }

    private RoundMetrics metrics(int r, DataPosition at, long step, LossTally sum, long broadcastNanos, long t0) {
        int epoch = at.epoch();
        int inEpoch = plan.roundInEpoch(at);
        double total = (System.nanoTime() - t0) / 1e9;
        double bcast = (broadcastNanos + sum.maxBroadcastFetchNanos) / 1e9;
        double compute = sum.maxComputeNanos / 1e9;
        double n = sum.examples;
        double lr = spec.hyper().schedule().lr(step);
        double aggregate = Math.max(0, total - bcast - compute);
        if (sum.names().equals(PelaStep.LOSS_NAMES)) {
            return new RoundMetrics(r, epoch, inEpoch, sum.examples, sum.lossSums[0] / n, sum.lossSums[1] / n,
                    sum.lossSums[2] / n, sum.lossSums[3] / n, lr, n / total, bcast, compute, aggregate, total,
                    sum.skipped.size());
        }
        return new RoundMetrics(r, epoch, inEpoch, sum.examples, sum.lossSums[0] / n, Double.NaN, Double.NaN,
                Double.NaN, lr, n / total, bcast, compute, aggregate, total, sum.skipped.size(), components(sum));
    }

    /** Mean of each component but the total, by short name ("loss.cls" → "cls"). */
    private static Map<String, Double> components(LossTally sum) {
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

    /** The first non-finite loss component or, when given, non-finite averaged parameters; null when all are finite. */
    private static String checkFinite(LossTally s, float[] params) {
        List<String> names = s.names();
        for (int i = 0; i < names.size(); i++) {
            if (!Double.isFinite(s.lossSums[i])) {
                return "loss component '" + names.get(i) + "'";
            }
        }
        if (params != null) {
            for (float p : params) {
                if (!Float.isFinite(p)) {
                    return "parameters";
                }
            }
        }
        return null;
    }

    private List<RoundTask> tasks(int r, DataPosition at) {
        List<List<List<Sample>>> slices = plan.slice(at);
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
