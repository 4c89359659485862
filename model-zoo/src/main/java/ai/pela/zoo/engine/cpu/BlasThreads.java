package ai.pela.zoo.engine.cpu;

import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs work during which every BLAS call is single-threaded, so that the kernels' own threads each run a share of a
 * product (a row block, an attention head) side by side. OpenBLAS's own threads spin in {@code sched_yield} between
 * products and take the cores from the element-wise kernels in between; ours park. OpenBLAS's thread count is
 * process-wide and switching it costs ~0.5 ms (measured: 1,000 switches to 1 and back took 0.9–1.6 s), so it is
 * switched once per model pass ({@link CpuKernels#pass}): nested and concurrent users are counted, the first one in
 * saves the setting that the last one out restores.
 */
final class BlasThreads {
    private static int inside;
    private static int saved;

    private BlasThreads() {
    }

    /** True inside {@link #singleThreaded}: BLAS calls run on their caller's thread only. */
    static synchronized boolean active() {
        return inside > 0;
    }

    static void singleThreaded(Runnable work) {
        enter();
        try {
            work.run();
        } finally {
            leave();
        }
    }

    private static synchronized void enter() {
        if (inside++ == 0) {
            saved = Nd4j.factory().blas().getMaxThreads();
            if (saved != 1) {
                Nd4j.factory().blas().setMaxThreads(1);
            }
        }
    }

    private static synchronized void leave() {
        if (--inside == 0 && saved != 1) {
            Nd4j.factory().blas().setMaxThreads(saved);
        }
    }
}
