package ai.pela.spark.train;

import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceProfile;

/**
 * How the tasks of a round combine their k local steps into the driver's next state: {@link TreeExchange} (through
 * the driver, every round) or {@link RingExchange} (among the tasks, the state reaching the driver on checkpoint
 * rounds). An exchange owns its state between rounds and its result type; the round loop
 * ({@link ParameterAveraging}) only sees the tally and the vectors.
 */
interface RoundExchange extends AutoCloseable {

    /**
     * A round's combined result.
     *
     * @param params the state's vectors after the round (the ring's last synced ones between its checkpoints)
     * @param fresh  whether the vectors were computed by this round (and so must be checked for NaN/Inf)
     */
    record Combined(LossTally tally, long broadcastNanos, float[] params, float[] m, float[] v, boolean fresh) {
    }

    /** Runs round {@code round} from {@code state}; {@code checkpointDue}: its state will be checkpointed. */
    Combined run(int round, TrainState state, List<RoundTask> tasks, boolean checkpointDue);

    /** The driver accepted the round and its state {@code next} ({@code checkpointDue}: it will be written). */
    default void accepted(TrainState next, boolean checkpointDue) {
    }

    @Override
    void close();

    /** No trainer holds the round's state and the driver's is older: the run goes back to {@link #backTo}. */
    final class Rewind extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient TrainState backTo;

        Rewind(String message, TrainState backTo) {
            super(message, null, false, false);
            this.backTo = backTo;
        }

        TrainState backTo() {
            return backTo;
        }
    }

    /** Where a round's tasks run: one partition per task, under the training stage's resource profile if any. */
    record Stage(JavaSparkContext sc, ResourceProfile resources) {
        JavaRDD<RoundTask> rdd(List<RoundTask> tasks) {
            JavaRDD<RoundTask> rdd = sc.parallelize(tasks, tasks.size());
            return resources != null ? rdd.withResources(resources) : rdd;
        }
    }
}
