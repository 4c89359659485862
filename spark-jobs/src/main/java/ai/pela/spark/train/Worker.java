package ai.pela.spark.train;

import ai.pela.spark.gpu.TaskDevice;
import ai.pela.zoo.train.NonFiniteLossException;
import ai.pela.zoo.train.OptimizerState;
import ai.pela.zoo.train.StepReport;
import ai.pela.zoo.train.TrainStep;
import org.apache.spark.TaskContext;
import org.nd4j.linalg.factory.Nd4j;

/** The executor side of a round: import the broadcast state, run k local steps, export the result. */
final class Worker {
    private Worker() {
    }

    static TreeResult run(RoundTask task, RoundInput input, long fetchNanos, ModelSpec spec, BatchSource source) {
        int device = TaskDevice.bindCurrentTask();
        TrainStep step = WorkerCache.borrow(spec, device);
        try {
            long t0 = System.nanoTime();
            step.importParams(Nd4j.createFromArray(input.params()));
            step.importOptimizer(new OptimizerState(input.step(), Nd4j.createFromArray(input.m()),
                    Nd4j.createFromArray(input.v())));
            TreeResult r = localSteps(task, step, source, TreeResult.zero());
            if (r.nonFinite != null) {
                return r;
            }
            OptimizerState st = step.exportOptimizer();
            // Each worker weighs in by the examples it trained on, so skipped images shift its weight fairly.
            r.params = TreeResult.weighted(step.exportParams().toFloatVector(), r.examples);
            r.m = TreeResult.weighted(st.m().toFloatVector(), r.examples);
            r.v = TreeResult.weighted(st.v().toFloatVector(), r.examples);
            r.maxComputeNanos = System.nanoTime() - t0;
            r.maxBroadcastFetchNanos = fetchNanos;
            return r;
        } finally {
            WorkerCache.giveBack(spec, device, step);
        }
    }

    /**
     * The task's k batches through {@code step}, tallied into {@code r}: examples, loss sums, skipped samples, or the
     * non-finite component.
     */
    static <T extends LossTally> T localSteps(RoundTask task, TrainStep step, BatchSource source, T r) {
        r.lossNames = step.lossNames();
        TaskContext ctx = TaskContext.get();
        for (int i = 0; i < task.batches().size(); i++) {
            if (ctx != null) {
                // A task Spark killed (its barrier stage failed) stops here instead of computing the rest of the round
                // in a slot the re-run needs; Spark marks the task, it does not interrupt the thread.
                ctx.killTaskIfInterrupted();
            }
            LoadedBatch batch = source.load(task.batches().get(i), task.seeds()[i]);
            r.skipped.addAll(batch.skipped());
            if (batch.size() == 0) {
                continue;
            }
            try {
                accumulate(r, step.step(batch.batch()), batch.size());
            } catch (NonFiniteLossException e) {
                r.nonFinite = e.component();
                return r;
            } finally {
                batch.batch().close();
            }
        }
        return r;
    }

    /** Loss sums weighted by batch size; a term the step did not compute (NaN) adds 0. */
    private static void accumulate(LossTally r, StepReport l, int n) {
        r.examples += n;
        r.ensureLosses(l.losses().length);
        for (int i = 0; i < l.losses().length; i++) {
            double v = l.losses()[i];
            r.lossSums[i] += (Double.isNaN(v) ? 0 : v) * n;
        }
    }
}
