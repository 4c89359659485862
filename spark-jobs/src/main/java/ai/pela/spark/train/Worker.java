package ai.pela.spark.train;

import ai.pela.spark.gpu.TaskDevice;
import ai.pela.zoo.train.NonFiniteLossException;
import ai.pela.zoo.train.OptimizerState;
import ai.pela.zoo.train.PelaStep;
import ai.pela.zoo.train.StepLosses;
import org.nd4j.linalg.factory.Nd4j;

/** The executor side of a round: import the broadcast state, run k local steps, export the result. */
final class Worker {
    private Worker() {
    }

    static WorkerResult run(RoundTask task, RoundInput input, long fetchNanos, ModelSpec spec, BatchSource source) {
        int device = TaskDevice.bindCurrentTask();
        PelaStep step = WorkerCache.borrow(spec, device);
        try {
            long t0 = System.nanoTime();
            step.importParams(Nd4j.createFromArray(input.params()));
            step.importOptimizer(new OptimizerState(input.step(), Nd4j.createFromArray(input.m()),
                    Nd4j.createFromArray(input.v())));
            WorkerResult r = WorkerResult.zero();
            for (int i = 0; i < task.batches().size(); i++) {
                LoadedBatch batch = source.load(task.batches().get(i), task.seeds()[i]);
                r.skipped.addAll(batch.skipped());
                if (batch.size() == 0) {
                    continue;
                }
                try {
                    StepLosses l = step.step(batch.images(), batch.labels());
                    accumulate(r, l, batch.size());
                } catch (NonFiniteLossException e) {
                    r.nonFinite = e.component();
                    return r;
                } finally {
                    batch.images().close();
                }
            }
            OptimizerState st = step.exportOptimizer();
            // Each worker weighs in by the examples it trained on, so skipped images shift its weight fairly.
            r.params = WorkerResult.weighted(step.exportParams().toFloatVector(), r.examples);
            r.m = WorkerResult.weighted(st.m().toFloatVector(), r.examples);
            r.v = WorkerResult.weighted(st.v().toFloatVector(), r.examples);
            r.maxComputeNanos = System.nanoTime() - t0;
            r.maxBroadcastFetchNanos = fetchNanos;
            return r;
        } finally {
            WorkerCache.giveBack(spec, device, step);
        }
    }

    private static void accumulate(WorkerResult r, StepLosses l, int n) {
        r.examples += n;
        r.lossSums[0] += l.total() * n;
        r.lossSums[1] += l.base() * n;
        r.lossSums[2] += (Double.isNaN(l.fd()) ? 0 : l.fd()) * n;
        r.lossSums[3] += (Double.isNaN(l.rwp()) ? 0 : l.rwp()) * n;
    }
}
