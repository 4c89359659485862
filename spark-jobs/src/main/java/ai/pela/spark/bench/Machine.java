package ai.pela.spark.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;

/** What a benchmark row records about where and when it ran. */
public final class Machine {
    private Machine() {
    }

    /** CPU model, cores, memory, OS and JVM, e.g. "AMD EPYC 9B14, 2 cores, 24 GiB, Linux 6.1, Java 17.0.15". */
    public static String describe() {
        return String.format("%s, %d cores, %d GiB, %s %s, Java %s", cpuModel(), Runtime.getRuntime().availableProcessors(),
                memGiB(), System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("java.version"));
    }

    /** The 1-minute load average now (the cores are shared with other jobs; every row carries it). */
    public static double load() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        }
    }

    public static String today() {
        return LocalDate.now().toString();
    }

    private static String cpuModel() {
        return grep("/proc/cpuinfo", "model name").orElse(System.getProperty("os.arch"));
    }

    private static long memGiB() {
        return grep("/proc/meminfo", "MemTotal").map(v -> Long.parseLong(v.replaceAll("[^0-9]", "")) >> 20).orElse(0L);
    }

    private static java.util.Optional<String> grep(String file, String key) {
        try {
            List<String> lines = Files.readAllLines(Path.of(file));
            return lines.stream().filter(l -> l.startsWith(key)).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim());
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }
}
