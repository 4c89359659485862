package ai.pela.spark.config;

import ai.pela.zoo.PelaException;
import java.util.List;

/** The checks the sections share, with the messages the recipe's own getters use (they name the full key). */
final class Checks {
    private Checks() {
    }

    static PelaException invalid(String key, String what) {
        return new PelaException("configuration key 'pela." + key + "' " + what);
    }

    static int nonNegative(Recipe r, String key) {
        int v = r.integer(key);
        if (v < 0) {
            throw invalid(key, "must be >= 0, got " + v);
        }
        return v;
    }

    static String required(String value, String key) {
        if (value.isBlank()) {
            throw invalid(key, "is not set");
        }
        return value;
    }

    static double[] array(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
