package ai.pela.spark.train;

import ai.pela.zoo.PelaException;
import java.util.List;
import java.util.UUID;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ring exchange: a barrier stage whose tasks average their parameter changes among themselves
 * ({@link RingWorker}); the driver gets every task's losses, and the averaged state from rank 0 on checkpoint rounds.
 * Between checkpoints the state lives on the executors; the driver keeps the last state it holds in full
 * ({@code synced}: the run's start or its last checkpoint round).
 *
 * <p>The state is broadcast only when no trainer can hold it: on the run's first round and after going back to
 * {@code synced}. When a round finds no trainer holding its state (all executors replaced) and the driver's copy is
 * older, the rounds since that copy are run again ({@link Rewind}): deterministic seeds make them the same rounds.
 */
final class RingExchange implements RoundExchange {
    private static final Logger LOG = LoggerFactory.getLogger(RingExchange.class);
    /** Times a run may go back to {@code synced} between two checkpoints before it gives up. */
    private static final int MAX_REWINDS = 3;
    /** Attempts of one round before its failure ends the run (Spark's spark.task.maxFailures is 4). */
    private static final int MAX_ATTEMPTS = 4;

    private final Stage stage;
    private final ModelSpec spec;
    private final BatchSource source;
    private final int localSteps;
    private final WirePrecision precision;
    /** How the round's connections prove themselves (and whether they encrypt), resolved from the cluster's settings. */
    private final WireSecurity security;
    /** Names the trainers' state of this driver's run; a trainer tagged by another run is stale. */
    private final String runId = UUID.randomUUID().toString();
    private final RingSecret secret;
    /** No trainer holds the state yet (the run's first round, or after a rewind), so the driver broadcasts it. */
    private boolean needsState = true;
    private TrainState synced;
    /** Where the round's tasks find each other (started with the first round). */
    private RingRendezvous rendezvous;
    private int rewinds;

    RingExchange(Stage stage, ModelSpec spec, BatchSource source, int localSteps, WirePrecision precision,
            WireSecurity security, TrainState start) {
        this.stage = stage;
        this.spec = spec;
        this.source = source;
        this.localSteps = localSteps;
        this.precision = precision;
        this.synced = start;
        this.security = security.resolve(stage.sc().getConf());
        this.secret = RingSecret.forRun(stage.sc().getConf(), runId);
        if (this.security == WireSecurity.NONE) {
            LOG.warn("ring exchange without authentication (a benchmark baseline): any connection is trusted");
        } else {
            LOG.info("ring exchange: connections {} with {}", this.security == WireSecurity.ENCRYPT
                    ? "authenticated and AES-GCM encrypted" : "authenticated (not encrypted)", secret);
        }
    }

    /** Tests only: runs after each attempt's rendezvous opens and before its tasks start. */
    interface RendezvousProbe {
        void opened(String address, WireSecurity security, RingSecret secret, int size, String keyPrefix);
    }

    static volatile RendezvousProbe rendezvousProbe;

    @Override
    public Combined run(int round, TrainState state, List<RoundTask> tasks, boolean checkpointDue) {
        long[] broadcastNanos = new long[1];
        RingResult sum = stage(round, state, tasks, checkpointDue, broadcastNanos);
        if (sum.params == null) {
            // Between checkpoints the parameters stay on the executors; the driver's state carries synced's vectors.
            return new Combined(sum, broadcastNanos[0], synced.params(), synced.m(), synced.v(), false);
        }
        return new Combined(sum, broadcastNanos[0], WirePrecision.FP32.unpack(sum.params),
                WirePrecision.FP32.unpack(sum.m), WirePrecision.FP32.unpack(sum.v), true);
    }

    @Override
    public void accepted(TrainState next, boolean checkpointDue) {
        if (checkpointDue) {
            synced = next;
            rewinds = 0;
        }
    }

    @Override
    public void close() {
        if (rendezvous != null) {
            rendezvous.close();
            rendezvous = null;
        }
    }

    private RingResult stage(int r, TrainState state, List<RoundTask> tasks, boolean checkpointDue,
            long[] broadcastNanos) {
        for (int attempt = 0; ; attempt++) {
            long b0 = System.nanoTime();
            Broadcast<RoundInput> b = needsState && synced.roundsDone() == r
                    ? stage.sc().broadcast(new RoundInput(synced.params(), synced.m(), synced.v(), synced.step())) : null;
            broadcastNanos[0] = System.nanoTime() - b0;
            if (rendezvous == null) {
                rendezvous = new RingRendezvous(stage.sc().getConf().get("spark.driver.host", "127.0.0.1"), security,
                        secret);
            }
            RingWorker.Input in = new RingWorker.Input(runId, r, attempt, state.step(), localSteps, checkpointDue,
                    precision, b, rendezvous.address(), security, secret);
            rendezvous.open(RingStage.attemptKey(in), tasks.size());
            RendezvousProbe probe = rendezvousProbe;
            if (probe != null) {
                probe.opened(rendezvous.address(), security, secret, tasks.size(), RingStage.attemptKey(in));
            }
            try {
                RingResult sum = RingResult.zero();
                for (RingResult w : RingStage.run(stage.rdd(tasks), in, spec, source)) {
                    sum.add(w);
                }
                needsState = false;
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
                        throw rewind(r, "no executor holds the round's state (executors replaced?)");
                    }
                    if (attempt < MAX_ATTEMPTS - 1) {
                        LOG.warn("round {}: no executor holds the round's state (executors replaced?); broadcasting it", r);
                        needsState = true;
                        continue;
                    }
                }
                // Spark re-runs a failed task, but never a failed barrier result stage: the round is re-run here, as
                // a new job. Survivors put the round's start back (RingWorker), so the state comes from them.
                if (attempt < MAX_ATTEMPTS - 1) {
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

    /** Back to {@code synced}, or the end of the run when that keeps happening between two checkpoints. */
    private RuntimeException rewind(int r, String why) {
        if (++rewinds > MAX_REWINDS) {
            return new PelaException("round " + r + ": " + why + ", for the " + rewinds + "th time since the last"
                    + " checkpoint; the executors do not keep their trainers (check executor losses), or use"
                    + " train.exchange = tree");
        }
        LOG.warn("round {}: {}; going back to round {} (the last state the driver holds) and running rounds {}-{}"
                + " again", r, why, synced.roundsDone(), synced.roundsDone(), r);
        needsState = true;
        return new Rewind(why, synced);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
