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
        String forced = System.getProperty(Kernels.PROPERTY, "");
        boolean cpuBackend = Nd4j.getExecutioner().getClass().getName().startsWith(CPU_EXECUTIONER)
                || Nd4j.getExecutioner().getClass().getSuperclass().getName().equals(CPU_EXECUTIONER);
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
