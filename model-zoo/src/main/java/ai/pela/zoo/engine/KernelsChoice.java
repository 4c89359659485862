package ai.pela.zoo.engine;

import org.nd4j.linalg.factory.Nd4j;

/** Picks {@link Kernels#forBackend()}'s implementation once per JVM. */
final class KernelsChoice {
    private static final String CPU_EXECUTIONER = "org.nd4j.linalg.cpu.nativecpu.ops.NativeOpExecutioner";
    private static final String CPU_KERNELS = "ai.pela.zoo.engine.cpu.CpuKernels";

    static final Kernels INSTANCE = choose();

    private KernelsChoice() {
    }

    private static Kernels choose() {
        Kernels k = choose(System.getProperty(Kernels.PROPERTY, ""), cpuBackend());
        return Boolean.getBoolean(ProfilingKernels.PROPERTY) ? new ProfilingKernels(k) : k;
    }

    /** True on nd4j-native, whose executioner may be wrapped in a subclass (GradientKernels). */
    static boolean cpuBackend() {
        return Nd4j.getExecutioner().getClass().getName().startsWith(CPU_EXECUTIONER)
                || Nd4j.getExecutioner().getClass().getSuperclass().getName().equals(CPU_EXECUTIONER);
    }

    /**
     * The implementation for a value of {@value Kernels#PROPERTY} ({@code cpu}, {@code portable}, or empty for the
     * backend's default); any other value is refused, so a misspelt override does not pass unnoticed.
     */
    static Kernels choose(String forced, boolean cpuBackend) {
        if (!forced.isEmpty() && !forced.equals("cpu") && !forced.equals("portable")) {
            throw new IllegalArgumentException(Kernels.PROPERTY + " must be cpu or portable, got '" + forced + "'");
        }
        if (forced.equals("portable") || (!forced.equals("cpu") && !cpuBackend)) {
            return new PortableKernels();
        }
        try {
            // Named, not referenced: the CUDA build (-Pcuda) compiles without the CPU backend and this class.
            return (Kernels) Class.forName(CPU_KERNELS).getConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            if (forced.equals("cpu")) {
                throw new IllegalStateException(Kernels.PROPERTY + "=cpu but " + CPU_KERNELS + " cannot load", e);
            }
            return new PortableKernels();
        }
    }
}
