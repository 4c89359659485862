package ai.pela.zoo.train;

import java.lang.reflect.Field;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process-wide settings of the native library for training, applied once per JVM by every training step.
 *
 * <ul>
 *   <li><b>Element-wise threshold.</b> A ViT step is hundreds of element-wise ops (LayerNorm, GELU, residuals,
 *       their gradients) on arrays of tens of thousands of floats. Below {@value #DEFAULT_ELEMENTWISE_THRESHOLD}
 *       elements one thread finishes such an op in microseconds, less than waking a second OpenMP thread costs
 *       (tens of microseconds, far more when the cores are shared and that thread has to wait for a time slice).
 *       Matrix products are unaffected: BLAS decides its own threads. System property
 *       {@code pela.nd4j.elementwise-threshold} overrides the value.</li>
 *   <li><b>Gradient kernels</b> ({@code ai.pela.zoo.train.cpu.GradientKernels}): on the CPU backend, ND4J's op
 *       executioner is replaced by one that runs faster versions of two slow M2.1 gradient kernels. ND4J reads the
 *       executioner's class from its backend properties (key {@code opexec}) only while it starts, so the instance
 *       is set on its static field. The class is named, not referenced, because the CUDA build
 *       ({@code -Pcuda}) compiles without the CPU backend; a CUDA executioner is left alone. System property
 *       {@code pela.nd4j.library-gradients=true} keeps ND4J's own kernels (for side-by-side measurements).</li>
 * </ul>
 */
public final class NativeSetup {
    static final int DEFAULT_ELEMENTWISE_THRESHOLD = 32_768;
    private static final String CPU_EXECUTIONER = "org.nd4j.linalg.cpu.nativecpu.ops.NativeOpExecutioner";
    private static final String GRADIENT_KERNELS = "ai.pela.zoo.train.cpu.GradientKernels";
    private static final Logger LOG = LoggerFactory.getLogger(NativeSetup.class);
    private static volatile boolean configured;

    private NativeSetup() {
    }

    /** Applies both settings once per JVM (they are process-wide settings of the native library). */
    public static void configure() {
        if (configured) {
            return;
        }
        synchronized (NativeSetup.class) {
            if (!configured) {
                int t = Integer.getInteger("pela.nd4j.elementwise-threshold", DEFAULT_ELEMENTWISE_THRESHOLD);
                Nd4j.getEnvironment().setElementwiseThreshold(t);
                if (!Boolean.getBoolean("pela.nd4j.library-gradients")) {
                    installGradientKernels();
                }
                configured = true;
            }
        }
    }

    private static void installGradientKernels() {
        OpExecutioner current = Nd4j.getExecutioner();
        if (!current.getClass().getName().equals(CPU_EXECUTIONER)) {
            return;
        }
        try {
            OpExecutioner kernels = (OpExecutioner) Class.forName(GRADIENT_KERNELS).getConstructor().newInstance();
            kernels.setProfilingMode(current.getProfilingMode());
            Field instance = Nd4j.class.getDeclaredField("OP_EXECUTIONER_INSTANCE");
            instance.setAccessible(true);
            instance.set(null, kernels);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.warn("ND4J's op executioner could not be replaced ({}); gradients use the library's kernels", e.toString());
        }
    }
}
