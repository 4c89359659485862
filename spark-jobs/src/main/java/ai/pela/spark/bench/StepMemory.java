package ai.pela.spark.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a run of training steps costs in memory, measured around the timed steps: Java heap bytes the stepping
 * thread allocated, native bytes ND4J allocated through JavaCPP (the net growth of its tracked total, meaningful
 * only when no garbage collection freed buffers meanwhile, so reported as such), and the process's peak resident
 * set. libnd4j's internal temporaries are not JavaCPP allocations and are not counted.
 */
public final class StepMemory {
    private final long heap0;
    private final long native0;
    private final long gc0;

    private StepMemory() {
        this.gc0 = collections();
        this.heap0 = threadAllocatedBytes();
        this.native0 = org.bytedeco.javacpp.Pointer.totalBytes();
    }

    public static StepMemory start() {
        return new StepMemory();
    }

    /** One line: per-step heap and native allocation over {@code steps} steps, and the peak resident set. */
    public String report(int steps) {
        long heap = (threadAllocatedBytes() - heap0) / steps;
        long nativeGrowth = (org.bytedeco.javacpp.Pointer.totalBytes() - native0) / steps;
        boolean collected = collections() != gc0;
        return String.format("memory: heap %.1f MB/step allocated, native %s, peak resident %s", heap / 1e6,
                collected ? "n/a (a collection ran during the steps)" : String.format("%.1f MB/step allocated", nativeGrowth / 1e6),
                peakResident());
    }

    /** VmHWM of this process (Linux), e.g. "2,345 MB". */
    public static String peakResident() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return String.format("%,d MB", kb / 1024);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux: nothing to read
        }
        return "unknown";
    }

    private static long threadAllocatedBytes() {
        java.lang.management.ThreadMXBean t = ManagementFactory.getThreadMXBean();
        if (t instanceof com.sun.management.ThreadMXBean sun) {
            return sun.getThreadAllocatedBytes(Thread.currentThread().getId());
        }
        return 0;
    }

    private static long collections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }
}
