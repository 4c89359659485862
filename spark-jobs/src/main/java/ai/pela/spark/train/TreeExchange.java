package ai.pela.spark.train;

import java.util.List;
import org.apache.spark.broadcast.Broadcast;

/**
 * The tree exchange: broadcast the parameters and AdamW moments, k steps per task, treeAggregate of the
 * example-weighted results through the driver. Exact and reproducible bit for bit wherever the tasks run; holds no
 * state between rounds.
 */
final class TreeExchange implements RoundExchange {
    private final Stage stage;
    private final ModelSpec spec;
    private final BatchSource source;

    TreeExchange(Stage stage, ModelSpec spec, BatchSource source) {
        this.stage = stage;
        this.spec = spec;
        this.source = source;
    }

    @Override
    public Combined run(int round, TrainState state, List<RoundTask> tasks, boolean checkpointDue) {
        long b0 = System.nanoTime();
        Broadcast<RoundInput> b = stage.sc().broadcast(new RoundInput(state.params(), state.m(), state.v(), state.step()));
        long broadcastNanos = System.nanoTime() - b0;
        try {
            ModelSpec spec = this.spec;
            BatchSource source = this.source;
            TreeResult sum = stage.rdd(tasks).map(task -> {
                long f0 = System.nanoTime();
                RoundInput in = b.value();
                return Worker.run(task, in, System.nanoTime() - f0, spec, source);
            }).treeAggregate(TreeResult.zero(), TreeResult::add, TreeResult::add);
            if (sum.params == null || sum.examples == 0) {
                return new Combined(sum, broadcastNanos, null, null, null, false);
            }
            return new Combined(sum, broadcastNanos, TreeResult.average(sum.params, sum.examples),
                    TreeResult.average(sum.m, sum.examples), TreeResult.average(sum.v, sum.examples), true);
        } finally {
            b.destroy();
        }
    }

    @Override
    public void close() {
    }
}
