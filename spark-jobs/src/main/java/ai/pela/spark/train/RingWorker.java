package ai.pela.spark.train;

import ai.pela.spark.gpu.TaskDevice;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.train.OptimizerState;
import ai.pela.zoo.train.TrainStep;
import java.io.Serializable;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The executor side of a round under the ring exchange. The trainer stays on its executor between rounds with the
 * averaged parameters already in place, so nothing is broadcast in the steady state: the task runs its k steps,
 * sums the example-weighted parameter changes with the other tasks in a ring all-reduce and applies the average.
 * AdamW's moments stay with each worker's trainer (local Adam) and are averaged in the ring only on checkpoint
 * rounds; only then does rank 0 send the state — now the same on every worker — to the driver, which checkpoints it.
 *
 * <p>A trainer that does not hold the round's state (a new executor, a retried stage) gets it from a rank that
 * does, along the ring; when no rank holds it (the run's first round, a resumed run) from the driver's broadcast;
 * with neither it fails with {@link #MISSING_STATE}, and the driver goes back to its last checkpointed state (see
 * {@link ParameterAveraging}).
 */
final class RingWorker {
    static final String MISSING_STATE = "no trainer holds the state of round";

    private RingWorker() {
    }

    /** What the driver sends with every ring round: small, except the optional broadcast of the full state. */
    record Input(String runId, int round, int attempt, long step, int localSteps, boolean averageMoments,
            WirePrecision precision, Broadcast<RoundInput> state, String rendezvous, WireSecurity security,
            RingSecret secret) implements Serializable {
    }

    /** The state a trainer holds after round {@code roundsDone} of run {@code runId}. */
    static String tag(String runId, int roundsDone) {
        return runId + "#" + roundsDone;
    }

    static RingResult run(RoundTask task, Input in, int rank, int size, String host, UnaryOperator<String[]> allGather,
            BooleanSupplier killed, Ring.Link link, ModelSpec spec, BatchSource source) {
        int device = TaskDevice.bindCurrentTask();
        TrainStep step = WorkerCache.borrowFor(spec, device, task.worker());
        boolean holds = tag(in.runId(), in.round()).equals(WorkerCache.tag(step));
        // Until this round completes the trainer's state belongs to no round: a failure must not leave it "valid".
        WorkerCache.tag(step, null, task.worker());
        long f0 = System.nanoTime();
        float[][] restore = null;
        try (Ring ring = Ring.join(rank, size, host, holds ? "1" : "0", allGather, killed, link)) {
            receiveState(step, holds, ring.notes(), in, ring);
            long fetchNanos = System.nanoTime() - f0;
            restore = snapshot(step);

            long t0 = System.nanoTime();
            RingResult r = Worker.localSteps(task, step, source, RingResult.zero());
            long computeNanos = System.nanoTime() - t0;

            // Everyone learns the total of examples (the weights' denominator) and whether any worker went non-finite.
            float[] report = {r.examples, r.nonFinite == null ? 0 : 1};
            ring.sumInPlace(report, WirePrecision.FP32);
            long total = (long) report[0];
            if (report[1] > 0 || total == 0) {
                return r; // the driver rejects the round; the trainers stay untagged
            }
            average(step, restore[0], r.examples / (double) total, in, ring);
            restore = null;
            WorkerCache.tag(step, tag(in.runId(), in.round() + 1), task.worker());
            if (rank == 0 && in.averageMoments()) {
                // Checkpoint rounds only: the state every worker now holds, for the driver to checkpoint.
                OptimizerState st = step.exportOptimizer();
                r.params = WirePrecision.FP32.pack(step.exportParams().toFloatVector());
                r.m = WirePrecision.FP32.pack(st.m().toFloatVector());
                r.v = WirePrecision.FP32.pack(st.v().toFloatVector());
            }
            r.maxComputeNanos = computeNanos;
            r.maxBroadcastFetchNanos = fetchNanos;
            return r;
        } catch (RuntimeException | Error e) {
            if (restore != null) {
                // A peer died or the stage was cancelled mid-round: put the round's start back, so that the re-run
                // finds this trainer holding it and nothing has to come from the driver.
                importState(step, restore[0], restore[1], restore[2], in.step());
                WorkerCache.tag(step, tag(in.runId(), in.round()), task.worker());
            }
            throw e;
        } finally {
            WorkerCache.giveBack(spec, device, step);
        }
    }

    /** Parameters, m and v of the trainer as they are now. */
    private static float[][] snapshot(TrainStep step) {
        OptimizerState st = step.exportOptimizer();
        return new float[][] {step.exportParams().toFloatVector(), st.m().toFloatVector(), st.v().toFloatVector()};
    }

    /** Makes the trainer hold the round's starting state: its own, a peer's along the ring, or the broadcast. */
    private static void receiveState(TrainStep step, boolean holds, String[] holders, Input in, Ring ring) {
        int root = -1;
        boolean allHold = true;
        for (int i = 0; i < holders.length; i++) {
            boolean h = holders[i].equals("1");
            allHold &= h;
            if (h && root < 0) {
                root = i;
            }
        }
        if (allHold) {
            return;
        }
        if (root >= 0) {
            int n = (int) step.exportParams().length();
            float[] flat = new float[3 * n];
            if (holds) {
                OptimizerState st = step.exportOptimizer();
                System.arraycopy(step.exportParams().toFloatVector(), 0, flat, 0, n);
                System.arraycopy(st.m().toFloatVector(), 0, flat, n, n);
                System.arraycopy(st.v().toFloatVector(), 0, flat, 2 * n, n);
            }
            ring.broadcast(flat, root);
            if (!holds) {
                importState(step, java.util.Arrays.copyOfRange(flat, 0, n), java.util.Arrays.copyOfRange(flat, n, 2 * n),
                        java.util.Arrays.copyOfRange(flat, 2 * n, 3 * n), in.step());
            }
            return;
        }
        if (in.state() == null) {
            throw new PelaException(MISSING_STATE + " " + in.round() + " on this executor, and the driver sent none");
        }
        RoundInput s = in.state().value();
        importState(step, s.params(), s.m(), s.v(), s.step());
    }

    private static void importState(TrainStep step, float[] params, float[] m, float[] v, long optimizerStep) {
        step.importParams(Nd4j.createFromArray(params));
        step.importOptimizer(new OptimizerState(optimizerStep, Nd4j.createFromArray(m), Nd4j.createFromArray(v)));
    }

    /**
     * Replaces the trainer's parameters by start + Σ_w (weight_w · change_w) — the example-weighted average, summed
     * as changes so that BF16 on the wire rounds the small update rather than the parameter — and on checkpoint
     * rounds its moments by their weighted average. The optimiser step becomes the round's end for everyone.
     */
    private static void average(TrainStep step, float[] start, double weight, Input in, Ring ring) {
        int n = start.length;
        float[] p = step.exportParams().toFloatVector();
        OptimizerState st = step.exportOptimizer();
        float[] buf = new float[in.averageMoments() ? 3 * n : n];
        for (int i = 0; i < n; i++) {
            buf[i] = (float) ((p[i] - start[i]) * weight);
        }
        float[] m = st.m().toFloatVector();
        float[] v = st.v().toFloatVector();
        if (in.averageMoments()) {
            for (int i = 0; i < n; i++) {
                buf[n + i] = (float) (m[i] * weight);
                buf[2 * n + i] = (float) (v[i] * weight);
            }
        }
        ring.sumInPlace(buf, in.precision());
        p = applyDelta(start, java.util.Arrays.copyOf(buf, n));
        if (in.averageMoments()) {
            System.arraycopy(buf, n, m, 0, n);
            System.arraycopy(buf, 2 * n, v, 0, n);
        }
        importState(step, p, m, v, in.step() + in.localSteps());
    }

    private static float[] applyDelta(float[] start, float[] delta) {
        float[] p = new float[start.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = start[i] + delta[i];
        }
        return p;
    }
}
