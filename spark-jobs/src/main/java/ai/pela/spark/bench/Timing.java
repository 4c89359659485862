package ai.pela.spark.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/** Small timing helpers: medians and the alternation of our repetitions with the reference's. */
public final class Timing {
    private Timing() {
    }

    public static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    public static double median(List<Double> values) {
        return median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Seconds of one call of {@code body}. */
    public static double seconds(Runnable body) {
        long t0 = System.nanoTime();
        body.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    /**
     * Runs {@code rounds} rounds, each {@code reps} repetitions of every timer in turn; returns all timings per
     * timer. Alternating in short rounds spreads the load other processes put on the shared cores evenly.
     */
    @SafeVarargs
    public static List<List<Double>> alternate(int rounds, Supplier<double[]>... timers) {
        List<List<Double>> all = new ArrayList<>();
        for (int i = 0; i < timers.length; i++) {
            all.add(new ArrayList<>());
        }
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < timers.length; i++) {
                for (double t : timers[i].get()) {
                    all.get(i).add(t);
                }
            }
        }
        return all;
    }

    /** {@code n} timed calls of {@code body}. */
    public static double[] repeat(int n, Runnable body) {
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = seconds(body);
        }
        return t;
    }
}
