package ai.pela.zoo.engine.cpu;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Splits a kernel's rows into contiguous chunks run side by side: the calling thread runs the first chunk, a shared
 * pool of daemon threads the others. Arrays under {@link #INLINE_ELEMENTS} run inline, where handing work to another
 * thread (some microseconds) would cost more than it saves.
 */
final class Rows {
    static final long INLINE_ELEMENTS = 32_768;
    private static final int THREADS = Runtime.getRuntime().availableProcessors();
    private static final ExecutorService POOL = Executors.newFixedThreadPool(THREADS, daemonThreads());

    /** A kernel's work on rows {@code [from, to)}, the {@code chunk}-th of {@link #chunks} (for per-chunk partial sums). */
    @FunctionalInterface
    interface Chunk {
        void run(int chunk, int from, int to);
    }

    private Rows() {
    }

    /** How many chunks {@link #run} makes of {@code rows} rows of {@code rowLength} elements. */
    static int chunks(int rows, long rowLength) {
        if (rows * rowLength < INLINE_ELEMENTS) {
            return 1;
        }
        return Math.max(1, Math.min(threads(), rows));
    }

    /**
     * The threads a kernel may use: ND4J's own setting (OMP_NUM_THREADS, or what a job or benchmark set), so that
     * Spark tasks that each get one native thread (the launcher's local mode) run their kernels inline too instead
     * of oversubscribing the cores; never more than the pool.
     */
    private static int threads() {
        return Math.max(1, Math.min(THREADS, Nd4j.getEnvironment().maxThreads()));
    }

    /** Runs {@code body} over {@link #chunks} equal row ranges and waits for all of them. */
    static void run(int rows, long rowLength, Chunk body) {
        int chunks = chunks(rows, rowLength);
        if (chunks == 1) {
            body.run(0, 0, rows);
            return;
        }
        Future<?>[] others = new Future<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int chunk = c;
            others[c - 1] = POOL.submit(() -> body.run(chunk, start(chunk, chunks, rows), start(chunk + 1, chunks, rows)));
        }
        RuntimeException failure = null;
        try {
            body.run(0, 0, start(1, chunks, rows));
        } catch (RuntimeException e) {
            failure = e;
        }
        for (Future<?> f : others) {
            failure = join(f, failure);
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static int start(int chunk, int chunks, int rows) {
        return (int) ((long) rows * chunk / chunks);
    }

    /** Waits for {@code f} even after a failure (its chunk still writes the caller's arrays); keeps the first failure. */
    private static RuntimeException join(Future<?> f, RuntimeException failure) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    f.get();
                    return failure;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (failure != null) {
                        return failure;
                    }
                    Throwable cause = e.getCause();
                    if (cause instanceof Error error) {
                        throw error;
                    }
                    return cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static java.util.concurrent.ThreadFactory daemonThreads() {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread t = new Thread(task, "pela-kernels-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
