package ai.pela.spark.train;

import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import scala.collection.Iterator;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag$;
import scala.reflect.ClassTag;
import scala.runtime.AbstractFunction1;

/**
 * Runs a ring round as a Spark barrier stage: all tasks start together (the ring needs every rank) and, if one
 * fails, Spark re-runs them all. Java has no barrier() on JavaRDD, so this is the Scala API with a serialisable
 * function.
 */
final class RingStage {
    private RingStage() {
    }

    static List<RingResult> run(JavaRDD<RoundTask> tasks, RingWorker.Input in, ModelSpec spec, BatchSource source) {
        int size = tasks.getNumPartitions();
        ClassTag<RingResult> tag = ClassTag$.MODULE$.apply(RingResult.class);
        return tasks.rdd().barrier().mapPartitions(new RoundFunction(in, size, spec, source), false, tag).toJavaRDD()
                .collect();
    }

    /** The rendezvous key prefix of one attempt of a round (the stage attempt number follows). */
    static String attemptKey(RingWorker.Input in) {
        return in.runId() + "/" + in.round() + "/" + in.attempt() + "/";
    }

    private static final class RoundFunction extends AbstractFunction1<Iterator<RoundTask>, Iterator<RingResult>>
            implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        private final RingWorker.Input in;
        private final int size;
        private final ModelSpec spec;
        private final BatchSource source;

        RoundFunction(RingWorker.Input in, int size, ModelSpec spec, BatchSource source) {
            this.in = in;
            this.size = size;
            this.spec = spec;
            this.source = source;
        }

        @Override
        public Iterator<RingResult> apply(Iterator<RoundTask> it) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            RoundTask task = it.next();
            // The address Spark itself uses for this executor, so the ring follows spark.driver/executor host settings.
            String host = SparkEnv.get().blockManager().blockManagerId().host();
            int rank = ctx.partitionId();
            // A re-run round (a new job) or stage is a new attempt: its tasks must not meet a dead attempt's.
            String key = attemptKey(in) + ctx.stageAttemptNumber();
            // Spark marks the other tasks of a failed barrier stage killed without interrupting them; every wait of
            // the ring polls this flag, so a killed task gives its slot back to the re-run within a second.
            BooleanSupplier killed = ctx::isInterrupted;
            RingResult r = RingWorker.run(task, in, rank, size, host,
                    mine -> RingRendezvous.gather(in.rendezvous(), key, rank, size, mine[0], killed, in.security(),
                            in.secret()), killed, new Ring.Link(in.security(), in.secret(), key), spec, source);
            return JavaConverters.asScalaIterator(List.of(r).iterator());
        }
    }
}
