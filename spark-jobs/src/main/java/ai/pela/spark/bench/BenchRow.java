package ai.pela.spark.bench;

/**
 * One result: ours next to a reference measured in the same run (NaN where there is none), the load average
 * while it ran, and a free note (threads, spread, what the reference is).
 *
 * @param section the benchmark ("step", "inference", "peak", "averaging", "data")
 * @param config  what was measured, the row's key within its section
 * @param ratio   ours / reference for throughputs (higher is better for us)
 */
public record BenchRow(String section, String config, double ours, double reference, String unit, double load,
        String note) {
    public double ratio() {
        return ours / reference;
    }

    public String key() {
        return section + " | " + config;
    }
}
