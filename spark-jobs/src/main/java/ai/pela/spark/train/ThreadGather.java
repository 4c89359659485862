package ai.pela.spark.train;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.function.UnaryOperator;

/**
 * The allGather a ring needs, for {@code n} threads of one JVM (the role BarrierTaskContext plays on Spark): each rank
 * contributes one string and gets all of them in rank order. For the ring's throughput benchmark and its tests.
 */
final class ThreadGather {
    private final String[] slots;
    private final CyclicBarrier barrier;

    ThreadGather(int n) {
        slots = new String[n];
        barrier = new CyclicBarrier(n);
    }

    UnaryOperator<String[]> forRank(int rank) {
        return mine -> {
            try {
                slots[rank] = mine[0];
                barrier.await();
                String[] all = slots.clone();
                barrier.await(); // nobody overwrites a slot before every rank has copied them
                return all;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    /** Waits until every rank gets here (e.g. to start each timed repetition together). */
    void await() throws InterruptedException, BrokenBarrierException {
        barrier.await();
    }
}
