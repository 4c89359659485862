package ai.pela.zoo.train;

import org.nd4j.linalg.factory.Nd4j;

/**
 * How many elements an element-wise native op needs before ND4J splits it over threads.
 *
 * <p>Why: a ViT step is hundreds of element-wise ops (LayerNorm, GELU, residuals, their gradients) on arrays of
 * tens of thousands of floats. Below {@value #DEFAULT_ELEMENTWISE_THRESHOLD} elements one thread finishes such an op
 * in microseconds, less than waking a second OpenMP thread costs (tens of microseconds, far more when the cores are
 * shared and that thread has to wait for a time slice). Matrix products are unaffected: BLAS decides its own
 * threads. System property {@code pela.nd4j.elementwise-threshold} overrides the value.
 */
public final class NativeThreads {
    static final int DEFAULT_ELEMENTWISE_THRESHOLD = 32_768;
    private static volatile boolean configured;

    private NativeThreads() {
    }

    /** Applies the threshold once per JVM (it is a process-wide setting of the native library). */
    public static void configure() {
        if (configured) {
            return;
        }
        synchronized (NativeThreads.class) {
            if (!configured) {
                int t = Integer.getInteger("pela.nd4j.elementwise-threshold", DEFAULT_ELEMENTWISE_THRESHOLD);
                Nd4j.getEnvironment().setElementwiseThreshold(t);
                configured = true;
            }
        }
    }
}
