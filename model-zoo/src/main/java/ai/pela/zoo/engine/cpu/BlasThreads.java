package ai.pela.zoo.engine.cpu;

import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs work during which every BLAS call is single-threaded, so that callers on several threads each run their own
 * small products side by side (attention's per-head products) instead of each product waking OpenBLAS's pool: for a
 * 197×64×197 product the hand-off costs about what the product does. OpenBLAS's thread count is process-wide, so
 * nested and concurrent users are counted and the first one in saves the setting that the last one out restores.
 */
final class BlasThreads {
    private static int inside;
    private static int saved;

    private BlasThreads() {
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
