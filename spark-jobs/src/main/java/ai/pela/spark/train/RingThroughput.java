package ai.pela.spark.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The ring all-reduce alone, between threads on loopback: what a security mode costs per byte, apart from Spark's
 * scheduling and the training steps (the averaging benchmark's demo model moves too few bytes to show it).
 */
public final class RingThroughput {
    private RingThroughput() {
    }

    /** Untimed all-reduces first: AES-GCM runs interpreted at ~20 MB/s until the JIT compiles it (~600 MB/s here). */
    private static final int WARMUP = 3;

    /** Median seconds of one {@code sumInPlace} of {@code values} floats on {@code ranks} ranks, after a warm-up. */
    public static double seconds(int ranks, int values, WirePrecision precision, WireSecurity security, int reps)
            throws Exception {
        RingSecret secret = RingSecret.Drawn.fresh();
        ThreadGather gather = new ThreadGather(ranks);
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<double[]>> fs = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                int rank = r;
                fs.add(pool.submit(() -> time(rank, ranks, values, precision, new Ring.Link(security, secret,
                        "bench/0/0/0"), gather, reps)));
            }
            double[] t = fs.get(0).get();
            for (Future<double[]> f : fs) {
                f.get();
            }
            Arrays.sort(t);
            return t[t.length / 2];
        } finally {
            pool.shutdownNow();
        }
    }

    private static double[] time(int rank, int ranks, int values, WirePrecision p, Ring.Link link,
            ThreadGather gather, int reps) throws Exception {
        float[] data = new float[values];
        Arrays.fill(data, 1e-3f * (rank + 1));
        double[] t = new double[reps];
        try (Ring ring = Ring.join(rank, ranks, "127.0.0.1", "-", gather.forRank(rank), () -> false, link)) {
            for (int i = 0; i < WARMUP; i++) {
                ring.sumInPlace(data, p);
            }
            for (int i = 0; i < reps; i++) {
                gather.await(); // every rank starts each repetition together
                long t0 = System.nanoTime();
                ring.sumInPlace(data, p);
                t[i] = (System.nanoTime() - t0) / 1e9;
            }
        }
        return t;
    }
}
